//! ting-web

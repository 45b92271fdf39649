//! ting-store

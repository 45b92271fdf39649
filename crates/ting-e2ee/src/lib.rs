//! ting-e2ee

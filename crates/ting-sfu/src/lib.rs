//! Ting SFU (sans-IO media router).
#![deny(missing_docs)]

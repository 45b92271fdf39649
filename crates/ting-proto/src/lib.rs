//! ting-proto

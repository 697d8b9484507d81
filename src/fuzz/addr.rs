//! stub

/// The fuzz entry point.
pub fn run(_data: &[u8]) {}

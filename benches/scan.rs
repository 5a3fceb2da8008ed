//! Scanner benchmark (work in progress).
fn main() {}

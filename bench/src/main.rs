//! Comparison runner (placeholder until the runner lands).
fn main() {}

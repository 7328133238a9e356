//! `cargo xtask`: placeholder until the test command lands.
fn main() {}

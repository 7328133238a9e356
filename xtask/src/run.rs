//! `cargo xtask run`: Lots on this machine, with synthetic demo data on first start.

use anyhow::Result;
use xshell::{Shell, cmd};

/// Builds and starts the server with SQLite in `./data`; extra arguments go to the server
/// (`cargo xtask run -- --help` lists them). Ctrl-C stops it; the data stays for next time.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let args: Vec<&String> = args.iter().filter(|arg| *arg != "--").collect();
    crate::tools::step("building and starting the server (the first build takes a few minutes)");
    cmd!(
        sh,
        "cargo run --package lots-server -- --demo --data-dir data --dist dist {args...}"
    )
    .run()?;
    Ok(())
}

//! `cargo xtask bench-server`: the sync server under load, against the reference
//! automerge-repo server in the same run (figures in BENCHMARKS.md).
//!
//! Builds `lots-server` and the load generator (`tests/src/bin/bench-server/`) with
//! `--release`, installs the reference server's npm packages when they are missing, raises the
//! open-file limit to what a thousand sockets on each side need, and runs the load generator,
//! which starts both servers itself.

use std::path::PathBuf;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::tools;

/// The open-file limit asked for: a socket per client on each side, and room to spare.
const OPEN_FILES: u32 = 8192;

/// Builds and runs the load benchmark; `args` go to the load generator (`--help` lists them).
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let mut args: Vec<String> = args.iter().filter(|arg| *arg != "--").cloned().collect();
    // `--city-postgres throwaway`: a PostgreSQL made for the run, as the tests make one,
    // stopped and deleted when the run ends.
    let mut _postgres = None;
    if let Some(position) = args.iter().position(|arg| arg == "--city-postgres")
        && args.get(position + 1).map(String::as_str) == Some("throwaway")
    {
        let postgres = crate::postgres::TestPostgres::start(sh)?;
        args[position + 1] = postgres.url.clone();
        _postgres = Some(postgres);
    }
    tools::node_packages(sh)?;
    eprintln!(
        "xtask: building lots-server and the load generator (the server profile; a few minutes)"
    );
    cmd!(
        sh,
        "cargo build --profile server -p lots-server -p lots-tests --bin lots-server --bin bench-server"
    )
    .run()?;
    // The server profile: release, unwinding (see the root Cargo.toml).
    let release = target_dir(sh).join("server");
    let bench = release.join("bench-server");
    let server = release.join("lots-server");
    // The limit is raised in a shell that then becomes the load generator, so the two
    // servers it starts inherit it too; where the hard limit is lower, up to the hard limit.
    let script = format!(
        "ulimit -n {OPEN_FILES} 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec \"$0\" \"$@\""
    );
    cmd!(
        sh,
        "sh -c {script} {bench} --server-binary {server} --node-dir tests/node {args...}"
    )
    .run()
    .context("the server benchmark failed")?;
    Ok(())
}

/// Where cargo puts build output: `CARGO_TARGET_DIR`, or `target/` in the workspace.
fn target_dir(sh: &Shell) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => sh.current_dir().join(dir),
        None => sh.current_dir().join("target"),
    }
}

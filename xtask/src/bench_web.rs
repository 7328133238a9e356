//! `cargo xtask bench-web`: the field app's budgets in Chromium with CDP throttling (wasm
//! size, cold and warm start, the caseload list from IndexedDB, saving a visit, the first
//! sync), measured by tests/e2e/bench-web.mjs against the release server.

use std::path::Path;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::{tools, web};

/// Builds what the benchmark runs and runs it; `args` are unused options, refused.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        anyhow::bail!("bench-web takes no options (got {arg:?}); LOTS_BENCH_RUNS sets the runs");
    }
    tools::ensure_all(sh)?;
    web::build(sh)?;
    cmd!(sh, "cargo build --release -p lots-server").run()?;
    tools::npm_install(
        sh,
        Path::new("tests/e2e"),
        "the browser tests' npm packages",
    )?;
    let root = sh.current_dir();
    let _server = sh.push_env("LOTS_SERVER_BIN", root.join("target/release/lots-server"));
    let _dist = sh.push_env("LOTS_DIST", root.join("dist"));
    cmd!(sh, "node tests/e2e/bench-web.mjs")
        .run()
        .context("the web benchmark failed")
}

//! `cargo xtask bench-web`: the field app's budgets in Chromium with CDP throttling (wasm
//! size, cold and warm start, the caseload list from IndexedDB, saving a visit, the first
//! sync), measured by tests/e2e/bench-web.mjs against the release server.
//! `cargo xtask bench-web --desk`: the supervisor's desk over 500 two-year households
//! (overview, tertial reports) with the CPU slowed 4×, by tests/e2e/desk-speed.mjs.

use std::path::Path;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use crate::{tools, web};

/// Builds what the benchmark runs and runs it: the field app's budgets, or with `--desk`
/// the desk's.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let script = match args {
        [] => "tests/e2e/bench-web.mjs",
        [desk] if desk == "--desk" => "tests/e2e/desk-speed.mjs",
        _ => anyhow::bail!(
            "bench-web takes only --desk (got {args:?}); LOTS_BENCH_RUNS sets the field \
             app's runs, LOTS_DEMO_HOUSEHOLDS the desk's households per staff member"
        ),
    };
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
    cmd!(sh, "node {script}")
        .run()
        .context("the web benchmark failed")
}

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

/// `cargo xtask bench-wasm`: the phone's whole app (and the desk's, and the sign-in) beside
/// the least Automerge and Yew weigh on their own (`xtask/floors/`), all built the same way
/// in the same run and compressed as the server sends them.
pub fn wasm_sizes(sh: &Shell) -> Result<()> {
    web::build(sh)?;
    let dist = sh.current_dir().join("dist");
    let app = web::wasm_brotli_bytes(&dist, web::APP)?;
    let sign_in = web::wasm_brotli_bytes(&dist, web::SIGN_IN)?;
    let desk = web::wasm_brotli_bytes(&dist, web::DESK)?;
    tools::step("building the floors: Automerge alone and Yew alone (release, wasm32)");
    // One build each, so that neither carries features the other turns on.
    let floor = |package: &str| -> Result<u64> {
        cmd!(
            sh,
            "cargo build --release --offline --target wasm32-unknown-unknown -p {package}"
        )
        .run()
        .with_context(|| format!("building {package} failed"))?;
        let (_, optimised) = web::bind_and_optimise(sh, &package.replace('-', "_"))?;
        Ok(web::brotli(&std::fs::read(optimised)?)?.len() as u64)
    };
    let automerge = floor("floor-automerge")?;
    let yew = floor("floor-yew")?;
    let both = automerge + yew;
    let kb = |bytes: u64| bytes as f64 / 1024.0;
    println!();
    println!("wasm, brotli (quality 11), as the server sends it");
    println!("  the phone's whole app (lots-web)    {:7.1} KB", kb(app));
    println!(
        "  the sign-in alone (lots-signin)     {:7.1} KB",
        kb(sign_in)
    );
    println!("  the desk's app (lots-desk)          {:7.1} KB", kb(desk));
    println!(
        "  Automerge alone (floor-automerge)   {:7.1} KB",
        kb(automerge)
    );
    println!("  Yew and its router (floor-yew)      {:7.1} KB", kb(yew));
    println!("  the two floors together             {:7.1} KB", kb(both));
    println!(
        "  the phone's whole app / the floors: {:.2}; the desk's / the floors: {:.2}; \
         the floors / a 350 KB budget: {:.2}",
        app as f64 / both as f64,
        desk as f64 / both as f64,
        kb(both) / 350.0
    );
    Ok(())
}

//! `cargo xtask test`: every test, in the order that fails fastest.

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

use std::path::Path;

use crate::postgres::TestPostgres;
use crate::tools::step;
use crate::{fuzz, tools, web};

/// Runs every test; the first failure stops the run with a non-zero exit.
pub fn run(sh: &Shell) -> Result<()> {
    step("formatting and lints");
    cmd!(sh, "cargo fmt --all -- --check")
        .run()
        .context("code is not formatted: run `cargo fmt --all`")?;
    cmd!(sh, "cargo clippy --workspace --all-targets -- -D warnings").run()?;

    step("native tests");
    // The durability test runs the server binary as a process it can SIGKILL.
    cmd!(sh, "cargo build -p lots-server").run()?;
    {
        // The storage suite and the scale-out test run against PostgreSQL too.
        let postgres = TestPostgres::start(sh)?;
        let _url = sh.push_env("LOTS_TEST_POSTGRES_URL", &postgres.url);
        // Never skipped here, whatever the caller's environment says.
        let _never_skipped = sh.push_env("LOTS_SKIP_POSTGRES", "0");
        cmd!(sh, "cargo test --workspace").run()?;
    }

    step("fuzzing the trust boundary briefly (libFuzzer, nightly), kept crashes first");
    fuzz::short(sh).context("fuzzing found a crash")?;

    // core and the web app build for WebAssembly in the two browser test runs and the web
    // build below, each of which fails on a build error.
    step("core's tests in headless Chromium");
    {
        let _dir = sh.push_dir("core");
        cmd!(sh, "wasm-pack test --headless --chrome --mode no-install")
            .run()
            .context("core's browser tests failed")?;
    }

    {
        // The app as released, but linked without LTO in 16 codegen units: the tests drive
        // the same code, built in half the time (its size is measured by `bench-wasm` and
        // `bench-web`, on the release profile as it is).
        let _lto = sh.push_env("CARGO_PROFILE_RELEASE_LTO", "false");
        let _units = sh.push_env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
        web::build(sh)?;
    }
    tools::npm_install(
        sh,
        Path::new("tests/e2e"),
        "the end-to-end tests' npm packages",
    )?;
    let root = sh.current_dir();
    let artifacts = root.join("target/e2e");
    let _server = sh.push_env("LOTS_SERVER_BIN", root.join("target/debug/lots-server"));
    let _dist = sh.push_env("LOTS_DIST", root.join("dist"));
    let _artifacts = sh.push_env("LOTS_ARTIFACTS", &artifacts);

    step("the web app's storage and sync client in headless Chromium");
    // The script starts the server the sync tests talk to and runs `wasm-pack test` in web/.
    cmd!(sh, "node tests/e2e/web-sync.mjs")
        .run()
        .context("the web app's browser tests failed")?;

    step(
        "the web app end to end: phone, desk, console and sign-in with an identity provider (Playwright, Chromium, the real server, oidc-provider)",
    );
    cmd!(
        sh,
        "node --test --test-reporter=spec tests/e2e/field.test.mjs tests/e2e/desk.test.mjs tests/e2e/admin.test.mjs tests/e2e/oidc.test.mjs tests/e2e/lock.test.mjs"
    )
    .run()
    .context("the end-to-end tests failed")?;
    step(&format!(
        "all tests passed; screenshots in {}",
        artifacts.display()
    ));
    Ok(())
}

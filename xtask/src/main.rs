//! `cargo xtask`: Lots' project tooling, in Rust instead of shell scripts and Makefiles.
//!
//! - `cargo xtask run`   installs what is missing and runs Lots locally with demo data.
//! - `cargo xtask test`  installs what is missing, then runs every test.
//! - `cargo xtask bench` runs the benchmarks whose figures go in BENCHMARKS.md.
//! - `cargo xtask bench-server` loads the sync server and the reference automerge-repo server.
//! - `cargo xtask bench-web` measures the web app's budgets in throttled Chromium.
//! - `cargo xtask bench-wasm` sets the web app's wasm size beside Automerge's and Yew's own.
//! - `cargo xtask fuzz` fuzzes the trust boundary: message decoding, document load, vetting.
//! - `cargo xtask setup` only installs the tools.

mod bench;
mod bench_server;
mod bench_web;
mod fuzz;
mod postgres;
mod run;
mod test;
mod tidy;
mod tools;
mod web;

use anyhow::{Result, bail};
use xshell::Shell;

const HELP: &str = "\
cargo xtask <command>

Commands:
  run     start Lots on http://127.0.0.1:8080: the sync server with embedded SQLite in ./data,
          the web app from ./dist, and on first start synthetic demo data and demo logins
  test    install missing tools, then run every test: formatting and lints, native
          (cargo test --workspace, with a throwaway PostgreSQL for the server's storage and
          scale-out tests), a short fuzz run, core's and the web app's browser tests
          (wasm-pack test --headless --chrome), and the web app end to end (Playwright)
  build-web  build the web app into ./dist (Trunk, release), as `run` does first
  bench   run core's criterion benchmarks (figures go in BENCHMARKS.md)
  bench-server [--clients 100,500,1000] [--seconds N]
          the sync server under load: pairs of clients sync their caseloads and record
          visits; changes/s, p50/p99 propagation latency and server memory, against the
          reference automerge-repo server (Node) in the same run (about fifteen minutes;
          `cargo xtask bench-server --help` lists every option)
  bench-web
          the web app's budgets in Chromium with CDP throttling (Fast 3G, 4x CPU): wasm
          size, cold and warm start, a 60-household caseload list from IndexedDB, saving a
          visit, the first sync of that caseload (about five minutes); with --desk, the
          supervisor's desk over 500 two-year households with 4x CPU: the overview and the
          tertial reports (about fifteen minutes)
  bench-wasm
          the web app's wasm size (brotli) beside Automerge alone and Yew alone, built the
          same way in the same run (xtask/floors/): the least an app on both can weigh
  fuzz [--seconds N] [target]
          seed the corpora, then fuzz each target of core/fuzz (wire messages, document
          load, change vetting, the server's sync peer) for N seconds (default 60) on a
          nightly toolchain; a crash's input is kept in core/fuzz/regressions/<target>/
  fuzz-regressions
          every kept crash input and seed through the fuzz targets on stable; fails today
          on panics inside Automerge 0.12 (BENCHMARKS.md), which the server survives by
          catching them per connection
  data-map
          write docs/data-map.md (for the municipality's DPIA) from core/src/data_map.rs
  setup   install missing tools only
  help    show this

Environment:
  LOTS_TEST_POSTGRES_URL
          a PostgreSQL server for the tests to use instead of starting a throwaway one
  LOTS_SKIP_POSTGRES=1
          for a bare `cargo test` on a machine without PostgreSQL: skip the PostgreSQL halves
          (they fail otherwise; `cargo xtask test` never skips them)
  LOTS_CONVERGENCE_SEED, LOTS_CONVERGENCE_CASES, LOTS_CONVERGENCE_STEPS
          replay or enlarge the convergence property test
";

fn main() -> Result<()> {
    tools::start_clock();
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => {
            tools::ensure_all(&sh)?;
            test::run(&sh)
        }
        Some("run") => {
            web::build(&sh)?;
            run::run(&sh, &args[1..])
        }
        Some("build-web") => web::build(&sh),
        Some("bench") => bench::run(&sh, &args[1..]),
        Some("bench-server") => bench_server::run(&sh, &args[1..]),
        Some("bench-web") => bench_web::run(&sh, &args[1..]),
        Some("bench-wasm") => bench_web::wasm_sizes(&sh),
        Some("fuzz") => fuzz::run(&sh, &args[1..]),
        Some("fuzz-regressions") => fuzz::regressions(&sh),
        Some("setup") => tools::ensure_all(&sh),
        Some("data-map") => {
            let map =
                xshell::cmd!(sh, "cargo run --quiet -p lots-core --example data_map").read()?;
            sh.write_file("docs/data-map.md", format!("{map}\n"))?;
            tools::step("wrote docs/data-map.md");
            Ok(())
        }
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{HELP}"),
    }
}

/// The workspace root: xtask lives one level below it.
///
/// Read at run time (`cargo run` sets it), so that two checkouts sharing one target
/// directory each work on their own tree; the path compiled in is the fallback.
fn project_root() -> std::path::PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    );
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), std::path::Path::to_path_buf)
}

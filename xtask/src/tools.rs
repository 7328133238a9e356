//! Installing the tools the tests need, exactly as `../shared/toolchain.md` found works on a
//! machine with no access to GitHub: everything comes from crates.io, Debian or npm.
//!
//! Each step checks first and does nothing when the right version is already there, so the
//! test command is fast on a machine that has run it before.

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

/// wasm-pack's version; 0.15 runs with `--mode no-install`, so it never downloads.
const WASM_PACK_VERSION: &str = "0.15.1";

/// cargo-fuzz's version: 0.13 takes `--fuzz-dir` and `--sanitizer none`.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Installs everything the tests need that is missing.
pub fn ensure_all(sh: &Shell) -> Result<()> {
    wasm_target(sh)?;
    chromium(sh)?;
    wasm_bindgen_cli(sh)?;
    wasm_pack(sh)?;
    node_packages(sh)?;
    nightly(sh)?;
    cargo_fuzz(sh)?;
    crate::web::ensure_tools(sh)?;
    forget_tool_builds(sh)
}

/// The npm packages of the interop test (the JavaScript automerge-repo client) and of the
/// server benchmark's reference server.
pub fn node_packages(sh: &Shell) -> Result<()> {
    npm_install(
        sh,
        std::path::Path::new("tests/node"),
        "tests/node's npm packages (automerge-repo client and reference server)",
    )
}

/// Installs the npm packages of `dir` from its lockfile; again when the lockfile is newer
/// than the installed tree.
pub fn npm_install(sh: &Shell, dir: &std::path::Path, what: &str) -> Result<()> {
    let installed = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let modified = |path: &std::path::Path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    if modified(&installed).is_some() && modified(&installed) >= modified(&lock) {
        return Ok(());
    }
    step(&format!("installing {what}"));
    let _dir = sh.push_dir(dir);
    // Not `npm ci`: npm 11 leaves the other platforms' optional packages of cbor-extract out of
    // a lockfile written without registry addresses, and `npm ci` then refuses the lockfile.
    // `npm install --no-save` installs the locked versions and leaves the lockfile as it is.
    cmd!(sh, "npm install --no-save --no-audit --no-fund")
        .run()
        .with_context(|| format!("installing {what} failed; is Node.js with npm installed?"))?;
    Ok(())
}

/// When xtask started, for the minutes and seconds in front of each step.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Starts the clock [`step`] reads; called first thing in `main`.
pub fn start_clock() {
    STARTED.get_or_init(std::time::Instant::now);
}

/// Says what xtask is doing, and how long after its start: a CI log then shows where the
/// time went.
pub fn step(what: &str) {
    let elapsed = STARTED
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs();
    eprintln!("xtask [{:02}:{:02}]: {what}", elapsed / 60, elapsed % 60);
}

/// Where `cargo install` builds the tools: one folder for all of them, so that what they
/// share (serde, clap, tokio …) is built once, removed by [`forget_tool_builds`] afterwards.
const TOOL_BUILDS: &str = "target/tool-builds";

/// `cargo install`s a tool from crates.io, built for a fast build rather than a fast tool:
/// without LTO, in 16 codegen units, at opt-level 1. The tools only drive rustc, wasm-opt
/// and Chromium, and their own speed does not show in a test run; their builds were most of
/// a fresh machine's test run (Trunk alone 13 minutes at its own release settings).
/// `args` are `cargo install`'s, such as `["--locked", "trunk", "--version", "0.21.14"]`.
pub fn cargo_install(sh: &Shell, args: &[&str]) -> Result<()> {
    let _lto = sh.push_env("CARGO_PROFILE_RELEASE_LTO", "false");
    let _units = sh.push_env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    let _opt = sh.push_env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1");
    let _debug = sh.push_env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    let _incremental = sh.push_env("CARGO_INCREMENTAL", "0");
    let target_dir = sh.current_dir().join(TOOL_BUILDS);
    cmd!(sh, "cargo install --target-dir {target_dir} {args...}")
        .run()
        .with_context(|| format!("cargo install {} failed", args.join(" ")))?;
    Ok(())
}

/// Removes the tools' build folder (gigabytes) once they are installed.
pub fn forget_tool_builds(sh: &Shell) -> Result<()> {
    let dir = sh.current_dir().join(TOOL_BUILDS);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
    }
    Ok(())
}

/// The wasm32 target of rustc.
pub fn wasm_target(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "rustup target list --installed").quiet().read()?;
    if !installed
        .lines()
        .any(|line| line.trim() == "wasm32-unknown-unknown")
    {
        step("adding the wasm32-unknown-unknown target");
        cmd!(sh, "rustup target add wasm32-unknown-unknown").run()?;
    }
    Ok(())
}

fn chromium(sh: &Shell) -> Result<()> {
    let present = |path: &str| std::path::Path::new(path).exists();
    // chromium-l10n holds Swedish: without it Chromium shows dates the American way,
    // whatever locale the tests and screenshots ask for.
    if present("/usr/bin/chromium")
        && present("/usr/bin/chromedriver")
        && present("/usr/lib/chromium/locales/sv.pak")
    {
        return Ok(());
    }
    step("installing Debian's chromium, chromium-driver (same version) and chromium-l10n");
    apt_install(sh, &["chromium", "chromium-driver", "chromium-l10n"]).context(
        "installing chromium; without apt, install Chromium and ChromeDriver of one version at /usr/bin",
    )
}

/// Installs Debian packages, through sudo unless this is root.
pub fn apt_install(sh: &Shell, packages: &[&str]) -> Result<()> {
    let _noninteractive = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    if is_root(sh) {
        cmd!(sh, "apt-get update").run()?;
        cmd!(sh, "apt-get install -y {packages...}").run()?;
    } else {
        cmd!(sh, "sudo apt-get update").run()?;
        cmd!(sh, "sudo -E apt-get install -y {packages...}").run()?;
    }
    Ok(())
}

/// Whether this runs as root.
pub fn is_root(sh: &Shell) -> bool {
    cmd!(sh, "id -u")
        .quiet()
        .read()
        .map(|uid| uid.trim() == "0")
        .unwrap_or(false)
}

/// The version of `package` that Cargo.lock pins.
pub fn locked_version(sh: &Shell, package: &str) -> Result<String> {
    let lock = sh.read_file("Cargo.lock")?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').context("Cargo.lock is malformed")? + start;
    Ok(lock[start..end].to_owned())
}

/// The version a program reports, if it runs.
pub fn installed_version(sh: &Shell, program: &str) -> Option<String> {
    let output = cmd!(sh, "{program} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .ok()?;
    output.split_whitespace().nth(1).map(str::to_owned)
}

/// wasm-bindgen-cli at the version of Cargo.lock.
pub fn wasm_bindgen_cli(sh: &Shell) -> Result<()> {
    let wanted = locked_version(sh, "wasm-bindgen")?;
    if installed_version(sh, "wasm-bindgen").as_deref() == Some(wanted.as_str())
        && installed_version(sh, "wasm-bindgen-test-runner").as_deref() == Some(wanted.as_str())
    {
        return Ok(());
    }
    step(&format!(
        "installing wasm-bindgen-cli {wanted} (a few minutes)"
    ));
    // Not `--locked`: its lockfile pins a crate version this registry lacks. Without its
    // default features: they are TLS (rustls, ring) for downloads it never makes here.
    cargo_install(
        sh,
        &[
            "wasm-bindgen-cli",
            "--version",
            &wanted,
            "--no-default-features",
        ],
    )?;
    Ok(())
}

fn wasm_pack(sh: &Shell) -> Result<()> {
    if installed_version(sh, "wasm-pack").as_deref() == Some(WASM_PACK_VERSION) {
        return Ok(());
    }
    step(&format!(
        "installing wasm-pack {WASM_PACK_VERSION} (a few minutes)"
    ));
    cargo_install(
        sh,
        &["--locked", "wasm-pack", "--version", WASM_PACK_VERSION],
    )?;
    if installed_version(sh, "wasm-pack").as_deref() != Some(WASM_PACK_VERSION) {
        bail!(
            "wasm-pack {WASM_PACK_VERSION} was installed but another wasm-pack comes first on PATH"
        );
    }
    Ok(())
}

/// A nightly toolchain beside the stable one, for cargo-fuzz; the workspace stays on stable.
pub fn nightly(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "rustup toolchain list").quiet().read()?;
    if installed.lines().any(|line| line.starts_with("nightly")) {
        return Ok(());
    }
    step("installing a nightly toolchain (minimal profile), for cargo-fuzz");
    cmd!(sh, "rustup toolchain install nightly --profile minimal").run()?;
    Ok(())
}

/// cargo-fuzz, from crates.io.
pub fn cargo_fuzz(sh: &Shell) -> Result<()> {
    if installed_version(sh, "cargo-fuzz").as_deref() == Some(CARGO_FUZZ_VERSION) {
        return Ok(());
    }
    step(&format!(
        "installing cargo-fuzz {CARGO_FUZZ_VERSION} (about 2 minutes)"
    ));
    cargo_install(
        sh,
        &["--locked", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION],
    )?;
    if installed_version(sh, "cargo-fuzz").as_deref() != Some(CARGO_FUZZ_VERSION) {
        bail!(
            "cargo-fuzz {CARGO_FUZZ_VERSION} was installed but another cargo-fuzz comes first on PATH"
        );
    }
    Ok(())
}

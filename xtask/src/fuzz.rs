//! `cargo xtask fuzz`: the trust boundary's fuzz targets (`core/fuzz/`: cargo-fuzz and
//! libFuzzer on a nightly toolchain), each for a while, from seeds the project makes itself.
//!
//! The seeds are written under `target/fuzz/corpus/` (where libFuzzer also keeps what it
//! finds) and read together with the small committed set in `core/fuzz/seeds/`. A crash
//! fails the run, after one input for each distinct panic is copied into
//! `core/fuzz/regressions/<target>/`, which `cargo test --manifest-path core/fuzz/Cargo.toml`
//! (part of `cargo xtask test`) runs on stable from then on.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::tools;

/// The fuzz crate, a workspace of its own.
const FUZZ_DIR: &str = "core/fuzz";

/// Where the generated seeds and libFuzzer's growing corpus live.
const CORPUS_DIR: &str = "target/fuzz/corpus";

/// Where libFuzzer writes the inputs it crashed on, before one per panic is kept.
const ARTIFACTS_DIR: &str = "target/fuzz/artifacts";

/// How long each target runs by default, in seconds.
const DEFAULT_SECONDS: u64 = 60;

/// One input this long is a hang: libFuzzer reports it as a timeout, and it is kept.
const TIMEOUT_SECONDS: u64 = 30;

const USAGE: &str = "\
cargo xtask fuzz [--seconds N] [target]

Writes the seed corpora, then runs each fuzz target of core/fuzz (or only `target`) for N
seconds (default 60) on a nightly toolchain. A crash's input is copied into
core/fuzz/regressions/<target>/ and fails the run.
";

/// `cargo xtask fuzz [--seconds N] [target]`.
pub fn run(sh: &Shell, args: &[String]) -> Result<()> {
    let mut seconds = DEFAULT_SECONDS;
    let mut only = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().context("--seconds needs a number")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds {value:?} is not a whole number"))?;
            }
            "--help" | "-h" => {
                print!("{USAGE}");
                return Ok(());
            }
            target if !target.starts_with('-') && only.is_none() => only = Some(target),
            other => bail!("unknown argument {other:?}\n\n{USAGE}"),
        }
    }
    tools::nightly(sh)?;
    tools::cargo_fuzz(sh)?;
    fuzz(sh, seconds, only)
}

/// Seeds the corpora and runs every target (or only `only`) for `seconds` each; fails after
/// the last one when any of them crashed.
pub fn fuzz(sh: &Shell, seconds: u64, only: Option<&str>) -> Result<()> {
    let targets = targets(sh)?;
    if let Some(only) = only
        && !targets.iter().any(|target| target == only)
    {
        bail!(
            "there is no fuzz target {only:?}; the targets are {}",
            targets.join(", ")
        );
    }
    tools::step("writing the fuzz targets' seed corpora");
    cmd!(
        sh,
        "cargo run --quiet --manifest-path {FUZZ_DIR}/Cargo.toml --example seed -- {CORPUS_DIR}"
    )
    .run()?;
    let mut summary = Vec::new();
    let mut failures = Vec::new();
    for target in targets
        .iter()
        .filter(|target| only.is_none_or(|only| only == target.as_str()))
    {
        tools::step(&format!("fuzzing {target} for {seconds} s"));
        let outcome = fuzz_target(sh, target, seconds)?;
        let executions = outcome
            .executions
            .map_or_else(|| "? executions".to_owned(), |n| format!("{n} executions"));
        summary.push(format!(
            "  {target}: {executions} in {seconds} s, {} failing inputs",
            outcome.failing_inputs
        ));
        if let Some(report) = outcome.report {
            failures.push(report);
        }
    }
    tools::step(&format!("fuzzing done:\n{}", summary.join("\n")));
    if !failures.is_empty() {
        bail!(
            "{}\nKept inputs fail `cargo test --manifest-path {FUZZ_DIR}/Cargo.toml` until \
             fixed; replay one with `cargo +nightly fuzz run --fuzz-dir {FUZZ_DIR} \
             --sanitizer none <target> <file>`.",
            failures.join("\n")
        );
    }
    Ok(())
}

/// How long each target runs inside `cargo xtask test`, in seconds.
const SHORT_SECONDS: u64 = 15;

/// The short run inside `cargo xtask test`: every target for [`SHORT_SECONDS`], from the
/// committed seeds and every kept crash input (the generated seeds need a build of their
/// own, which `cargo xtask fuzz` makes). Fails on any crash, as a long run does.
pub fn short(sh: &Shell) -> Result<()> {
    let manifest = format!("{FUZZ_DIR}/Cargo.toml");
    cmd!(sh, "cargo fmt --manifest-path {manifest} -- --check")
        .run()
        .with_context(|| format!("{FUZZ_DIR} is not formatted: run `cargo fmt` in it"))?;
    let mut failures = Vec::new();
    for target in targets(sh)? {
        tools::step(&format!("fuzzing {target} for {SHORT_SECONDS} s"));
        if let Some(report) = fuzz_target(sh, &target, SHORT_SECONDS)?.report {
            failures.push(report);
        }
    }
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    Ok(())
}

/// What fuzzing one target came to.
struct Outcome {
    /// How many inputs libFuzzer ran, when it said.
    executions: Option<u64>,
    /// How many inputs it failed on.
    failing_inputs: usize,
    /// Where it failed, when it did.
    report: Option<String>,
}

/// Runs every kept crash input and every seed through the targets on stable, with the fuzz
/// crate's formatting and lints.
pub fn regressions(sh: &Shell) -> Result<()> {
    let manifest = format!("{FUZZ_DIR}/Cargo.toml");
    cmd!(sh, "cargo fmt --manifest-path {manifest} -- --check")
        .run()
        .with_context(|| format!("{FUZZ_DIR} is not formatted: run `cargo fmt` in it"))?;
    cmd!(
        sh,
        "cargo clippy --manifest-path {manifest} --all-targets -- -D warnings"
    )
    .run()?;
    cmd!(sh, "cargo test --manifest-path {manifest}")
        .run()
        .context("a fuzz target fails on a kept crash input or a seed (see above)")?;
    Ok(())
}

/// The fuzz targets, as cargo-fuzz lists them.
fn targets(sh: &Shell) -> Result<Vec<String>> {
    let listed = cmd!(sh, "cargo +nightly fuzz list --fuzz-dir {FUZZ_DIR}")
        .quiet()
        .read()?;
    let targets: Vec<String> = listed
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if targets.is_empty() {
        bail!("cargo fuzz lists no targets in {FUZZ_DIR}");
    }
    Ok(targets)
}

/// Fuzzes one target, then keeps what it crashed on. Without a sanitizer: core and the fuzz
/// crate forbid unsafe code, and AddressSanitizer would halve the executions on a small
/// machine; the build keeps debug assertions and overflow checks on (cargo-fuzz's default),
/// as the regression test has. In fork mode a crash ends one child process, not the run, so
/// a run finds every crash it can in its time.
fn fuzz_target(sh: &Shell, target: &str, seconds: u64) -> Result<Outcome> {
    let root = sh.current_dir();
    let corpus = format!("{CORPUS_DIR}/{target}");
    std::fs::create_dir_all(root.join(&corpus))
        .with_context(|| format!("cannot create {corpus}"))?;
    // The seeds and the kept crash inputs are run first: libFuzzer reads every corpus
    // folder before it mutates, and writes what it finds only into the first.
    let folders: Vec<String> = std::iter::once(corpus)
        .chain(
            ["seeds", "regressions"]
                .iter()
                .map(|kind| format!("{FUZZ_DIR}/{kind}/{target}"))
                .filter(|folder| root.join(folder).is_dir()),
        )
        .collect();
    let artifacts = root.join(ARTIFACTS_DIR).join(target);
    std::fs::create_dir_all(&artifacts)
        .with_context(|| format!("cannot create {}", artifacts.display()))?;
    let before = files(&artifacts);
    let max_total_time = format!("-max_total_time={seconds}");
    let timeout = format!("-timeout={TIMEOUT_SECONDS}");
    let artifact_prefix = format!("-artifact_prefix={}/", artifacts.display());
    let fuzzer = cmd!(
        sh,
        "cargo +nightly fuzz run --fuzz-dir {FUZZ_DIR} --sanitizer none {target} {folders...}
            -- {max_total_time} {timeout} {artifact_prefix}
            -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1"
    );
    eprintln!("$ {fuzzer}");
    let (status, executions) = run_counting(fuzzer.into())?;
    // libFuzzer names what it keeps after what went wrong.
    let found: Vec<PathBuf> = files(&artifacts)
        .difference(&before)
        .filter(|path| {
            path.file_name().is_some_and(|name| {
                let name = name.to_string_lossy();
                ["crash-", "oom-", "timeout-", "leak-"]
                    .iter()
                    .any(|kind| name.starts_with(kind))
            })
        })
        .cloned()
        .collect();
    if found.is_empty() {
        if !status.success() {
            bail!("fuzzing {target} failed ({status}; see above)");
        }
        return Ok(Outcome {
            executions,
            failing_inputs: 0,
            report: None,
        });
    }
    Ok(Outcome {
        executions,
        failing_inputs: found.len(),
        report: Some(keep(sh, target, &found)?),
    })
}

/// Runs libFuzzer, passing its output on, and reads from its status lines (`#<n>: cov: …`
/// in fork mode, `#<n>\t…` otherwise) how many inputs it ran.
fn run_counting(mut command: Command) -> Result<(ExitStatus, Option<u64>)> {
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start cargo fuzz")?;
    let mut executions = None;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line.context("reading cargo fuzz's output")?;
            eprintln!("{line}");
            if let Some(count) = line
                .strip_prefix('#')
                .and_then(|rest| rest.split([':', '\t', ' ']).next())
                .and_then(|count| count.parse::<u64>().ok())
            {
                executions = Some(count);
            }
        }
    }
    let status = child.wait().context("waiting for cargo fuzz")?;
    Ok((status, executions))
}

/// Keeps one input per distinct panic among `found` in `core/fuzz/regressions/<target>/`
/// (none for a panic an input kept there already has); returns where each panic is.
fn keep(sh: &Shell, target: &str, found: &[PathBuf]) -> Result<String> {
    let root = sh.current_dir();
    let relative = |path: &Path| {
        path.strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let regressions = root.join(FUZZ_DIR).join("regressions").join(target);
    std::fs::create_dir_all(&regressions)
        .with_context(|| format!("cannot create {}", regressions.display()))?;
    let known: Vec<PathBuf> = files(&regressions).into_iter().collect();
    let all: Vec<PathBuf> = known.iter().chain(found).cloned().collect();
    let sites = replay(sh, target, &all)?;
    let site_of = |path: &PathBuf| sites.get(path).cloned().unwrap_or_default();
    // Distinct panics, each with the smallest input found for it.
    let mut distinct: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in found {
        let size = |path: &Path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0);
        let entry = distinct
            .entry(site_of(path))
            .or_insert_with(|| path.clone());
        if size(path) < size(entry) {
            *entry = path.clone();
        }
    }
    let mut report = Vec::new();
    for (site, input) in distinct {
        if let Some(kept) = known.iter().find(|kept| site_of(kept) == site) {
            report.push(format!("{site}\n    already kept as {}", relative(kept)));
            continue;
        }
        let name = input.file_name().context("an artifact has a name")?;
        let destination = regressions.join(name);
        std::fs::copy(&input, &destination)
            .with_context(|| format!("cannot copy {}", input.display()))?;
        report.push(format!("{site}\n    kept as {}", relative(&destination)));
    }
    Ok(format!(
        "fuzz target {target} failed on {} inputs, at {} distinct places:\n  {}",
        found.len(),
        report.len(),
        report.join("\n  ")
    ))
}

/// Where each input panics, replayed on stable (`core/fuzz/examples/replay.rs`): the panic's
/// location and message, or, for an input that runs clean there (a timeout, running out of
/// memory), the kind of failure libFuzzer named it after.
fn replay(sh: &Shell, target: &str, inputs: &[PathBuf]) -> Result<BTreeMap<PathBuf, String>> {
    let output = cmd!(
        sh,
        "cargo run --quiet --manifest-path {FUZZ_DIR}/Cargo.toml --example replay -- {target} {inputs...}"
    )
    .read()?;
    let mut sites = BTreeMap::new();
    for line in output.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(path), Some(location)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = PathBuf::from(path);
        let site = match (location, fields.next()) {
            ("ok" | "unreadable", _) => {
                let name = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let kind = name.split('-').next().unwrap_or_default();
                format!("a {kind} that does not panic on stable (slow or memory-hungry input?)")
            }
            (location, message) => format!("{location}: {}", message.unwrap_or_default()),
        };
        sites.insert(path, site);
    }
    Ok(sites)
}

/// The files in `dir` (none when it does not exist).
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect()
}

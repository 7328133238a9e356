//! Every input a fuzz target ever crashed on (`regressions/<target>/`), every committed seed
//! (`seeds/<target>/`) and every generated seed, run through the targets' bodies on stable.
//! A crash kept here fails this test until the code it crashed is fixed.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Once;

fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(folder)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && !path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

thread_local! {
    /// Whether this thread is running an input, whose panic is expected and reported.
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    /// Where the last such panic happened, as the panic hook saw it.
    static PANICKED_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `target` on `data`; where and with what message it panics, when it does.
fn run(target: &str, data: &[u8]) -> Result<(), String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !RUNNING.get() {
                return default(info);
            }
            let location = info
                .location()
                .map(|location| format!("{}:{}", location.file(), location.line()))
                .unwrap_or_default();
            PANICKED_AT.with(|at| *at.borrow_mut() = location);
        }));
    });
    RUNNING.set(true);
    let outcome = catch_unwind(AssertUnwindSafe(|| lots_fuzz::run(target, data)));
    RUNNING.set(false);
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!("there is no fuzz target {target}")),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_else(|| "a panic without a message".into());
            let at = PANICKED_AT.with(|at| at.borrow().clone());
            Err(format!("panicked at {at}: {message}"))
        }
    }
}

fn run_folder(folder: &str) -> (usize, Vec<String>) {
    let mut ran = 0;
    let mut failures = Vec::new();
    for target in lots_fuzz::TARGETS {
        for path in inputs(folder, target) {
            let Ok(data) = std::fs::read(&path) else {
                failures.push(format!("{}: unreadable", path.display()));
                continue;
            };
            ran += 1;
            if let Err(message) = run(target, &data) {
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    (ran, failures)
}

#[test]
fn every_kept_crash_input_runs_clean() {
    let (ran, failures) = run_folder("regressions");
    eprintln!(
        "{ran} kept inputs; {} panics inside Automerge contained so far",
        lots_fuzz::contained()
    );
    assert!(
        failures.is_empty(),
        "fuzz targets still panic on kept inputs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_committed_seed_runs_clean() {
    let (ran, failures) = run_folder("seeds");
    assert!(ran > 0, "no committed seeds in core/fuzz/seeds/");
    assert!(
        failures.is_empty(),
        "fuzz targets panic on committed seeds:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_generated_seed_runs_clean() {
    let seeds = lots_fuzz::seeds::seeds();
    for target in lots_fuzz::TARGETS {
        assert!(
            seeds.iter().any(|seed| seed.target == *target),
            "no seeds for {target}"
        );
    }
    let failures: Vec<String> = seeds
        .iter()
        .filter_map(|seed| {
            run(seed.target, &seed.bytes)
                .err()
                .map(|message| format!("{}/{}: {message}", seed.target, seed.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "fuzz targets panic on generated seeds:\n{}",
        failures.join("\n")
    );
}

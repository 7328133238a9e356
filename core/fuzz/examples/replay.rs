//! Replays inputs through a fuzz target's body on stable and says where each one panics:
//! `replay <target> <file>...` prints one line per file, `<file>\t<panic location>\t<message>`,
//! or `<file>\tok` when it runs clean. `cargo xtask fuzz` uses it to keep one input per
//! distinct panic out of the many libFuzzer writes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::sync::Mutex;

/// Where the last panic happened, as the panic hook saw it.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(target) = args.next() else {
        eprintln!("usage: replay <target> <file>...");
        return ExitCode::FAILURE;
    };
    std::panic::set_hook(Box::new(|info| {
        // Dependencies' files by crate and path, without where Cargo keeps its registry.
        let location = info
            .location()
            .map(|location| {
                let file = location.file();
                let file = file
                    .split_once("/registry/src/")
                    .and_then(|(_, rest)| rest.split_once('/'))
                    .map_or(file, |(_, path)| path);
                format!("{file}:{}", location.line())
            })
            .unwrap_or_else(|| "an unknown place".into());
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(location);
        }
    }));
    for file in args {
        let Ok(data) = std::fs::read(&file) else {
            println!("{file}\tunreadable");
            continue;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| lots_fuzz::run(&target, &data)));
        match outcome {
            Ok(true) => println!("{file}\tok"),
            Ok(false) => {
                eprintln!("there is no fuzz target {target}");
                return ExitCode::FAILURE;
            }
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                    .unwrap_or_default();
                let location = LAST_PANIC
                    .lock()
                    .ok()
                    .and_then(|last| last.clone())
                    .unwrap_or_default();
                // One line per file: the message's first line only.
                let message = message.lines().next().unwrap_or_default();
                println!("{file}\t{location}\t{message}");
            }
        }
    }
    ExitCode::SUCCESS
}

//! Panics inside Automerge, contained as Lots' server contains them.
//!
//! Automerge 0.12 (and its `hexane` column store) panics on some malformed input: its own
//! assertions and `unwrap`s, reached from bytes a device sends or storage returns
//! (BENCHMARKS.md, "Fuzzing", lists the places). No release fixes them yet. The server is
//! built to unwind (`[profile.server]`) and catches such a panic around every received
//! message and every load: the sender's connection is closed and the documents are read
//! again from disk (`server/src/sync/hub.rs`). The targets do the same, so that they keep
//! finding what matters: a panic anywhere else — in Lots' code, or in the standard library
//! on Lots' behalf — still crashes the target, and one inside Automerge is counted.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    /// Whether this thread is inside [`contain`].
    static INSIDE: Cell<bool> = const { Cell::new(false) };
    /// Whether the panic being unwound began inside Automerge.
    static UPSTREAM: Cell<bool> = const { Cell::new(false) };
}

/// How many panics inside Automerge were contained, in this process.
static CONTAINED: AtomicU64 = AtomicU64::new(0);

/// The crates whose panics are contained: Automerge and its column store, by the source
/// path the panic's location names (`…/automerge-0.12.0/src/…`).
const UPSTREAM_CRATES: &[&str] = &["/automerge-", "/hexane-"];

/// Whether a panic at `file` began inside Automerge.
fn upstream(file: &str) -> bool {
    UPSTREAM_CRATES.iter().any(|krate| file.contains(krate))
}

/// Runs `body`; a panic inside Automerge ends it quietly (and is counted), any other panic
/// goes on as if nothing caught it: the hook that was set before (libFuzzer's, which
/// aborts, or a test's) sees it.
pub fn contain(body: impl FnOnce()) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map_or("", |location| location.file());
            if INSIDE.get() && upstream(file) {
                UPSTREAM.set(true);
                return;
            }
            before(info);
        }));
    });
    let outer = INSIDE.replace(true);
    UPSTREAM.set(false);
    let outcome = catch_unwind(AssertUnwindSafe(body));
    INSIDE.set(outer);
    if let Err(panic) = outcome {
        if UPSTREAM.take() {
            CONTAINED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        resume_unwind(panic);
    }
}

/// How many panics inside Automerge [`contain`] has ended quietly in this process.
pub fn contained() -> u64 {
    CONTAINED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_automerges_own_source_counts_as_upstream() {
        assert!(upstream(
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/automerge-0.12.0/src/change.rs"
        ));
        assert!(upstream(
            "/root/.cargo/registry/src/x/hexane-1.0.0-alpha.5/src/lib.rs"
        ));
        assert!(!upstream("/work/main/core/src/validation.rs"));
        assert!(!upstream("/rustc/abc/library/core/src/slice/index.rs"));
    }
}

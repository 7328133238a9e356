//! The bodies of Lots' fuzz targets, callable on stable: the targets in `fuzz_targets/` pass
//! libFuzzer's input here, and `tests/regressions.rs` passes every kept crash input and every
//! seed, so a crash found once is checked on every `cargo xtask test`.
//!
//! Each body feeds its input to the code that faces the network or storage, exactly as the
//! server and the app call it, and must never panic. Where a target also states a property
//! (a decoded message encodes to itself; a vetted household still reads), a broken property
//! panics with a message that says which.

#![forbid(unsafe_code)]

mod chunks;
mod document_load;
pub mod seeds;
mod server_peer;
mod vet_change;
mod vet_edits;
mod wire_message;
pub mod world;

pub use document_load::document_load;
pub use server_peer::{frame, frames, serve, server_peer};
pub use vet_change::vet_change;
pub use vet_edits::vet_edits;
pub use wire_message::wire_message;

/// Every fuzz target, by the name of its binary in `fuzz_targets/`.
pub const TARGETS: &[&str] = &[
    "wire_message",
    "document_load",
    "vet_change",
    "vet_edits",
    "server_peer",
];

/// Runs the body of the target named `target` on `data`; `false` when there is no such target.
pub fn run(target: &str, data: &[u8]) -> bool {
    match target {
        "wire_message" => wire_message(data),
        "document_load" => document_load(data),
        "vet_change" => vet_change(data),
        "vet_edits" => vet_edits(data),
        "server_peer" => server_peer(data),
        _ => return false,
    }
    true
}

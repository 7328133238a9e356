//! The bodies of Lots' fuzz targets, callable on stable: the targets in `fuzz_targets/` pass
//! libFuzzer's input here, and `tests/regressions.rs` passes every kept crash input and every
//! seed, so a crash found once is checked on every `cargo xtask test`.
//!
//! Each body feeds its input to the code that faces the network or storage, exactly as the
//! server and the app call it, and must never panic, but inside Automerge, whose panics are
//! contained as the server contains them ([`contain`]). Where a target also states a property
//! (a decoded message encodes to itself; a vetted household still reads), a broken property
//! panics with a message that says which.

#![forbid(unsafe_code)]

mod chunks;
mod contain;
mod document_load;
pub mod seeds;
mod server_peer;
mod vet_change;
mod vet_edits;
mod wire_message;
pub mod world;

pub use contain::{contain, contained};
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

/// Runs the body of the target named `target` on `data`, with a panic inside Automerge
/// contained as the server contains it ([`contain`]); `false` when there is no such target.
pub fn run(target: &str, data: &[u8]) -> bool {
    let body: fn(&[u8]) = match target {
        "wire_message" => wire_message,
        "document_load" => document_load,
        "vet_change" => vet_change,
        "vet_edits" => vet_edits,
        "server_peer" => server_peer,
        _ => return false,
    };
    contain(|| body(data));
    true
}

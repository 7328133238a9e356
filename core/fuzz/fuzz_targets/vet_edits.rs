//! Fuzz target `vet_edits`: structured edits of the fixture household, vetted as a device's changes (`lots_fuzz::vet_edits`).

#![no_main]

// A panic inside Automerge is contained as the server contains it (`lots_fuzz::contain`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::contain(|| lots_fuzz::vet_edits(data)));

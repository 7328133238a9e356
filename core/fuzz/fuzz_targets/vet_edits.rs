//! Fuzz target `vet_edits`: structured edits of the fixture household, vetted as a device's changes (`lots_fuzz::vet_edits`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::vet_edits(data));

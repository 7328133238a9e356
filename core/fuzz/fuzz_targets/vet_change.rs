//! Fuzz target `vet_change`: bytes as change chunks from a device, vetted against the fixture household (`lots_fuzz::vet_change`).

#![no_main]

// A panic inside Automerge is contained as the server contains it (`lots_fuzz::contain`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::contain(|| lots_fuzz::vet_change(data)));

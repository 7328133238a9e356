//! Fuzz target `document_load`: bytes from storage, loaded as a household and read (`lots_fuzz::document_load`).

#![no_main]

// A panic inside Automerge is contained as the server contains it (`lots_fuzz::contain`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::contain(|| lots_fuzz::document_load(data)));

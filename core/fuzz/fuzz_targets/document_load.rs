//! Fuzz target `document_load`: bytes from storage, loaded as a household and read (`lots_fuzz::document_load`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::document_load(data));

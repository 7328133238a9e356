//! Fuzz target `wire_message`: bytes from a WebSocket, through the wire message and sync payload decoders (`lots_fuzz::wire_message`).

#![no_main]

// A panic inside Automerge is contained as the server contains it (`lots_fuzz::contain`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::contain(|| lots_fuzz::wire_message(data)));

//! Fuzz target `server_peer`: messages on a joined connection to the server's vetting sync peer (`lots_fuzz::server_peer`).

#![no_main]

// A panic inside Automerge is contained as the server contains it (`lots_fuzz::contain`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::contain(|| lots_fuzz::server_peer(data)));

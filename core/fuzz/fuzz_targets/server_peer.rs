//! Fuzz target `server_peer`: messages on a joined connection to the server's vetting sync peer (`lots_fuzz::server_peer`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lots_fuzz::server_peer(data));

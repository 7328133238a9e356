//! Syncing over WebSocket: one hub task owns core's sans-IO peer and every document; each
//! socket has a reader that feeds the hub and a writer that the hub feeds.

pub mod hub;
pub mod policy;
pub mod socket;

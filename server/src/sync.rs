//! Syncing over WebSocket: the hub's partitions each own core's sans-IO peer and the documents
//! that fall to them; each partition's decisions are a pure engine, and each socket has a
//! reader that feeds the hub and a writer that the hub feeds.

pub mod engine;
pub mod hub;
pub mod policy;
pub mod socket;

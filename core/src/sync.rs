//! Syncing households: the automerge-repo protocol (version 1) as a sans-IO peer.

pub(crate) mod bloom;
pub(crate) mod chunks;
pub(crate) mod document_id;
pub(crate) mod dormant;
pub(crate) mod message;
pub(crate) mod peer;
pub(crate) mod testnet;

//! `wire_message`: bytes as they arrive on a WebSocket, through both decoders the server
//! runs on them (the automerge-repo CBOR message, and Automerge's sync payload inside it),
//! then, for a sync payload, what the sync peer does with one: receive it into the fixture
//! household with a fresh sync state, keep the state and answer.

use lots_core::Message;
use lots_core::automerge::sync::{self, SyncDoc as _};

use crate::world::world;

/// Decodes `data` as a wire message and as a sync payload. A message that decodes must
/// encode to bytes that decode to the same message; a sync payload that decodes goes where
/// the server's peer sends one.
pub fn wire_message(data: &[u8]) {
    if let Ok(message) = Message::decode(data) {
        let again = Message::decode(&message.encode());
        assert_eq!(
            again.as_ref(),
            Ok(&message),
            "a decoded wire message does not survive encoding"
        );
        if let Message::Sync { data, .. } | Message::Request { data, .. } = &message {
            sync_payload(data);
        }
    }
    sync_payload(data);
}

/// As `SyncPeer::receive_sync` and `SyncPeer::offer` do, without vetting (`vet_change` and
/// `server_peer` cover that): receive, encode the state to persist it, generate the answer
/// and encode it for the wire.
fn sync_payload(data: &[u8]) {
    let Ok(message) = sync::Message::decode(data) else {
        return;
    };
    // As the sync peer does before Automerge uses a filter (`lots_core::check_bloom_filters`).
    if lots_core::check_bloom_filters(&message).is_err() {
        return;
    }
    let mut doc = world().household.clone();
    let mut state = sync::State::new();
    if doc.receive_sync_message(&mut state, message).is_err() {
        return;
    }
    let persisted = state.encode();
    let _ = sync::State::decode(&persisted);
    if let Some(answer) = doc.generate_sync_message(&mut state) {
        let _ = answer.encode();
    }
}

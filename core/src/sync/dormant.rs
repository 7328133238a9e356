//! Answering a peer about a document that is not in memory, when the peer already holds
//! exactly what is stored: the reconnect of a phone that changed nothing overnight.
//!
//! A server that keeps only its working set in memory would otherwise read and load every
//! document of every reconnecting phone (milliseconds each, tens of thousands in a city's
//! morning) only to learn that both sides agree. Automerge has no way to answer a sync message
//! without the document, so [`settle`] does, for the one case where the answer does not depend
//! on the document's contents: the message brings no changes, needs nothing, and its heads and
//! every Bloom filter's starting point equal the stored heads. It moves the sync state and
//! builds the reply exactly as `receive_sync_message` followed by `generate_sync_message`
//! would (automerge 0.12, `sync.rs`); the tests below hold it to that, field by field and byte
//! by byte, against the real document. Written by hand because Automerge offers no such call.

use std::collections::BTreeSet;

use automerge::ChangeHash;
use automerge::sync::{self, BloomFilter, Capability, Have, MessageFlags, MessageVersion};

/// Whether a sync message about a document whose stored heads are `heads` can be answered
/// without the document (see the module documentation). `heads` must be sorted.
pub fn settles(message: &sync::Message, heads: &[ChangeHash]) -> bool {
    // Equal as lists, in order: Automerge compares them so.
    !heads.is_empty()
        && message.changes.iter().all(<[u8]>::is_empty)
        && message.need.is_empty()
        && message.heads == heads
        && message.have.iter().all(|have| have.last_sync == heads)
}

/// Moves `state` as receiving `message` and answering it would on a document whose heads are
/// `heads`, and returns the answer (`None` when Automerge would send none). Only for a message
/// that [`settles`] and a state that is neither read-only nor about to ask for a reset; any
/// other is handed back (`Err`), and nothing changed.
pub fn settle(
    state: &mut sync::State,
    message: sync::Message,
    heads: &[ChangeHash],
) -> Result<Option<sync::Message>, sync::Message> {
    if !settles(&message, heads) || state.read_only || state.needs_reset {
        return Err(message);
    }
    // receive_sync_message
    state.in_flight = false;
    if let Some(flags) = message.flags {
        let mut capabilities = vec![Capability::MessageV2];
        if flags.contains(MessageFlags::SUPPORTS_SYNC_RESET) {
            capabilities.push(Capability::SyncReset);
        }
        state.their_capabilities = Some(capabilities);
        state.peer_read_only = flags.contains(MessageFlags::READ_ONLY);
    }
    // Every hash sent was one of this document's, so an ancestor of the heads the peer now
    // has: none is left to filter.
    state.sent_hashes = BTreeSet::new();
    // No changes, and the peer's heads are ours.
    state.last_sent_heads = heads.to_vec();
    state.shared_heads = message.heads.clone();
    state.their_have = Some(message.have);
    state.their_heads = Some(message.heads);
    state.their_need = Some(message.need);

    // generate_sync_message: we need nothing, they need nothing, and the heads we last sent
    // are ours; an answer goes only if we never answered on this connection.
    if state.have_responded {
        return Ok(None);
    }
    state.have_responded = true;
    state.last_sent_heads = heads.to_vec();
    let mut flags = MessageFlags::new();
    flags.set(MessageFlags::SUPPORTS_SYNC_RESET);
    state.in_flight = true;
    let version = if state
        .their_capabilities
        .as_ref()
        .is_some_and(|capabilities| capabilities.contains(&Capability::MessageV2))
    {
        MessageVersion::V2
    } else {
        MessageVersion::V1
    };
    Ok(Some(sync::Message {
        heads: heads.to_vec(),
        need: Vec::new(),
        have: vec![Have {
            last_sync: state.shared_heads.clone(),
            bloom: BloomFilter::from_hashes(std::iter::empty::<ChangeHash>()),
        }],
        changes: sync::ChunkList::empty(),
        flags: Some(flags),
        version,
    }))
}

#[cfg(test)]
mod tests {
    use automerge::sync::SyncDoc as _;
    use automerge::transaction::Transactable as _;
    use automerge::{AutoCommit, Automerge, ROOT};

    use super::*;

    fn document(changes: usize) -> Automerge {
        let mut doc = AutoCommit::new();
        for index in 0..changes {
            doc.put(ROOT, format!("key-{index}"), index as i64).unwrap();
            doc.commit();
        }
        doc.document().clone()
    }

    /// Receives `message` on the real document and on none, and checks that both leave the
    /// same state and answer with the same bytes.
    fn same_as_automerge(doc: &Automerge, state: &sync::State, message: &sync::Message) {
        let mut real = state.clone();
        let mut copy = doc.clone();
        copy.receive_sync_message(&mut real, message.clone())
            .unwrap();
        let expected = copy.generate_sync_message(&mut real);
        let mut settled = state.clone();
        let mut heads = doc.get_heads();
        heads.sort();
        let answer = settle(&mut settled, message.clone(), &heads).expect("it settles");
        assert_eq!(settled, real);
        assert_eq!(
            answer.map(sync::Message::encode),
            expected.map(sync::Message::encode)
        );
    }

    /// A phone's first message after a reconnect, from its persisted state.
    fn reconnect_message(doc: &Automerge) -> (Automerge, sync::Message) {
        let phone = doc.clone();
        let mut persisted = sync::State::new();
        persisted.shared_heads = phone.get_heads();
        let mut state = sync::State::decode(&persisted.encode()).unwrap();
        let message = phone.generate_sync_message(&mut state).unwrap();
        (phone, message)
    }

    #[test]
    fn a_reconnect_with_nothing_new_is_answered_as_automerge_answers_it() {
        let doc = document(12);
        let (_, message) = reconnect_message(&doc);
        // The server's state after a reconnect: only the shared heads survive.
        let mut persisted = sync::State::new();
        persisted.shared_heads = doc.get_heads();
        let fresh = sync::State::decode(&persisted.encode()).unwrap();
        same_as_automerge(&doc, &fresh, &message);
        // And a peer never synced before.
        same_as_automerge(&doc, &sync::State::new(), &message);
    }

    #[test]
    fn a_second_message_in_one_session_gets_no_answer_as_with_automerge() {
        let doc = document(5);
        let (_, message) = reconnect_message(&doc);
        let mut state = sync::State::new();
        settle(&mut state, message.clone(), &doc.get_heads()).unwrap();
        same_as_automerge(&doc, &state, &message);
    }

    #[test]
    fn changes_sent_before_and_now_held_by_the_peer_are_forgotten_as_with_automerge() {
        // The server sent the phone its changes, the phone took them and now says so.
        let server = document(8);
        let mut phone = Automerge::new();
        let mut server_state = sync::State::new();
        let mut phone_state = sync::State::new();
        for _ in 0..10 {
            if let Some(message) = server.generate_sync_message(&mut server_state) {
                phone
                    .receive_sync_message(&mut phone_state, message)
                    .unwrap();
            }
            let Some(message) = phone.generate_sync_message(&mut phone_state) else {
                break;
            };
            if phone.get_heads() == server.get_heads() && settles(&message, &server.get_heads()) {
                same_as_automerge(&server, &server_state, &message);
                return;
            }
            let mut copy = server.clone();
            copy.receive_sync_message(&mut server_state, message)
                .unwrap();
        }
        panic!("the phone never reported holding the server's heads");
    }

    #[test]
    fn a_message_that_brings_or_needs_anything_is_left_to_automerge() {
        let doc = document(4);
        let heads = doc.get_heads();
        let (mut phone, message) = reconnect_message(&doc);
        assert!(settles(&message, &heads));
        // The phone changed something offline.
        let mut changed = AutoCommit::load(&phone.save()).unwrap();
        changed.put(ROOT, "offline", 1).unwrap();
        changed.commit();
        phone = changed.document().clone();
        let mut state = sync::State::new();
        state.shared_heads = heads.clone();
        let newer = phone.generate_sync_message(&mut state).unwrap();
        assert!(!settles(&newer, &heads));
        // Heads equal but asking for something, or starting its filter elsewhere.
        let mut needy = message.clone();
        needy.need = vec![heads[0]];
        assert!(!settles(&needy, &heads));
        let mut elsewhere = message.clone();
        elsewhere.have = vec![Have::default()];
        assert!(!settles(&elsewhere, &heads));
        // An empty document is never settled this way.
        assert!(!settles(&message, &[]));
        let mut untouched = sync::State::new();
        assert!(settle(&mut untouched, needy, &heads).is_err());
        assert_eq!(untouched, sync::State::new());
    }
}

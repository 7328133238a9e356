//! `server_peer`: the server's sync peer, vetting every change, with a phone's connection
//! that has joined; then whatever bytes arrive on it, message after message.

use std::collections::HashSet;

use lots_core::automerge::{Automerge, Change};
use lots_core::{
    ConnectionId, DocumentId, HouseholdDoc, Input, Message, Output, PROTOCOL_VERSION, PeerConfig,
    PeerId, PeerMetadata, Role, SharePolicy, SyncPeer, Timestamp, Vetting, vet_changes,
};

use crate::world::{FOREIGN, HOUSEHOLD, PHONE_PEER, SERVER_PEER, Tables, anna, now, world};

/// The most messages one input is read as.
const MAX_MESSAGES: usize = 32;

/// The server's policy, as the real server's caseload policy decides for one user: Anna,
/// joined as [`PHONE_PEER`], reads and writes the fixture household and what she brings,
/// not [`FOREIGN`]; every change she sends is vetted with core's `vet_changes`, new actors
/// are bound to her device and refused changes quarantined, as the server's tables are.
#[derive(Debug)]
pub struct VettingPolicy {
    readable: HashSet<DocumentId>,
    tables: Tables,
}

impl VettingPolicy {
    fn new() -> Self {
        Self {
            readable: [HOUSEHOLD].into_iter().collect(),
            tables: Tables::for_fixture(),
        }
    }

    fn is_anna(peer: &PeerId) -> bool {
        peer.as_str() == PHONE_PEER
    }
}

impl SharePolicy for VettingPolicy {
    fn may_read(&self, peer: &PeerId, document: &DocumentId) -> bool {
        Self::is_anna(peer) && self.readable.contains(document)
    }

    fn may_write(&self, peer: &PeerId, document: &DocumentId) -> bool {
        self.may_read(peer, document)
    }

    fn may_create(&self, peer: &PeerId, document: &DocumentId) -> bool {
        Self::is_anna(peer) && !self.readable.contains(document) && *document != FOREIGN
    }

    fn may_join(&self, peer: &PeerId, _: ConnectionId) -> bool {
        Self::is_anna(peer)
    }

    fn created(&mut self, _: &PeerId, document: &DocumentId) {
        self.readable.insert(*document);
    }

    fn vets_changes(&self) -> bool {
        true
    }

    fn vet(
        &mut self,
        now: Timestamp,
        peer: &PeerId,
        _: &DocumentId,
        doc: &Automerge,
        changes: Vec<Change>,
    ) -> Vetting {
        if !Self::is_anna(peer) {
            return Vetting::default();
        }
        let writer = anna();
        let vetting = vet_changes(doc, changes, &writer, &self.tables, now);
        for actor in &vetting.new_actors {
            self.tables
                .actors
                .insert(actor.clone(), writer.device.clone());
        }
        for refused in &vetting.refused {
            self.tables.quarantined.insert(refused.hash);
        }
        vetting
    }
}

/// Splits an input into messages: each is a little-endian `u32` length and that many bytes
/// (fewer when the input ends first); a tail shorter than a length is one last message.
pub fn frames(mut data: &[u8]) -> Vec<&[u8]> {
    let mut messages = Vec::new();
    while !data.is_empty() && messages.len() < MAX_MESSAGES {
        let Some((len, rest)) = data.split_first_chunk::<4>() else {
            messages.push(data);
            break;
        };
        let len = usize::try_from(u32::from_le_bytes(*len))
            .unwrap_or(usize::MAX)
            .min(rest.len());
        let (message, rest) = rest.split_at(len);
        messages.push(message);
        data = rest;
    }
    messages
}

/// Frames messages as [`frames`] splits them.
pub fn frame(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut data = Vec::new();
    for message in messages {
        let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
        data.extend_from_slice(&len.to_le_bytes());
        data.extend_from_slice(message);
    }
    data
}

/// A server holding the fixture household (and one the phone may not read), a phone's
/// connection joined as [`PHONE_PEER`], then each message of `data`. When the server closes
/// the connection, or a message is empty, the phone connects and joins again, and the rest
/// arrives on the new connection.
/// Afterwards every document the messages changed must read as a household.
pub fn server_peer(data: &[u8]) {
    serve(data);
}

/// [`server_peer`], returning everything the server asked its driver to do.
pub fn serve(data: &[u8]) -> Vec<Output> {
    let now = now();
    let mut all = Vec::new();
    let peer_id = PeerId::new(SERVER_PEER).unwrap_or_else(|| unreachable!("a short id"));
    let mut server =
        SyncPeer::with_policy(PeerConfig::new(peer_id, Role::Server), VettingPolicy::new());
    server.insert_document(HOUSEHOLD, world().household.clone());
    server.insert_document(FOREIGN, world().foreign.clone());
    let mut connection = ConnectionId(1);
    join(&mut server, connection);
    let mut changed: HashSet<DocumentId> = HashSet::new();
    for message in frames(data) {
        // An empty message stands for the phone reconnecting: no transport delivers one.
        if message.is_empty() {
            server.handle(now, Input::Disconnected { connection });
            connection = ConnectionId(connection.0 + 1);
            join(&mut server, connection);
            continue;
        }
        let outputs = server.handle(
            now,
            Input::Received {
                connection,
                bytes: message.to_vec(),
            },
        );
        let mut closed = false;
        for output in &outputs {
            match output {
                Output::DocumentChanged { document } => {
                    changed.insert(*document);
                }
                Output::Close {
                    connection: which, ..
                } if *which == connection => closed = true,
                _ => {}
            }
        }
        all.extend(outputs);
        if closed {
            server.handle(now, Input::Disconnected { connection });
            connection = ConnectionId(connection.0 + 1);
            join(&mut server, connection);
        }
    }
    server.handle(now, Input::Disconnected { connection });
    for document in changed {
        let Some(doc) = server.document(&document) else {
            continue;
        };
        if let Err(error) = HouseholdDoc::new(doc).household() {
            panic!("the server took changes to {document} after which it does not read: {error}");
        }
    }
    all
}

fn join(server: &mut SyncPeer<VettingPolicy>, connection: ConnectionId) {
    let now = now();
    server.handle(now, Input::Connected { connection });
    let join = Message::Join {
        sender: PeerId::new(PHONE_PEER).unwrap_or_else(|| unreachable!("a short id")),
        metadata: PeerMetadata::default(),
        supported_versions: vec![PROTOCOL_VERSION.to_owned()],
    };
    server.handle(
        now,
        Input::Received {
            connection,
            bytes: join.encode(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framed_messages_split_back() {
        let messages = vec![b"one".to_vec(), Vec::new(), b"three".to_vec()];
        assert_eq!(frames(&frame(&messages)), vec![&b"one"[..], b"", b"three"]);
        assert_eq!(frames(b"ab"), vec![&b"ab"[..]]);
        assert_eq!(frames(&[9, 0, 0, 0, 1, 2]), vec![&[1, 2][..]]);
    }
}

//! A sans-IO automerge-repo peer: it holds many documents, speaks the protocol over any
//! number of connections, and never touches a socket, a disk or the clock.
//!
//! The driver (the browser's WebSocket loop, a server task, or a test network) feeds it
//! [`Input`]s with the current time and carries out the [`Output`]s it returns: bytes to send,
//! connections to close, documents to save, sync states to persist. The same logic therefore
//! runs in a phone, in the server and in a deterministic in-memory network.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::sync::{self, SyncDoc as _};
use automerge::{Automerge, Change, ChangeHash};

use super::document_id::DocumentId;
use super::message::{Message, MessageError, PROTOCOL_VERSION, PeerId, PeerMetadata};
use crate::calendar::Timestamp;
use crate::validation::{RefusedChange, Vetting};

/// The default limit on one incoming message: generous for a household's whole history,
/// small enough that one client cannot make the server buffer without end.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// The default limit on what one message's changes inflate to, for a peer that vets
/// changes: compressed chunks are measured before Automerge inflates them.
pub const DEFAULT_MAX_INFLATED_BYTES: usize = 16 * 1024 * 1024;

/// How many documents one connection may be offering that this peer has not taken yet
/// (empty placeholders waiting for their first changes).
const MAX_PLACEHOLDERS_PER_CONNECTION: usize = 64;

/// How many vetted-later changes (their dependencies not yet here) one document keeps aside.
const MAX_WAITING_PER_PEER: usize = 1024;

/// A document to fill from a peer's data, counting text as the schema does.
fn empty_document() -> Automerge {
    Automerge::new_with_encoding(crate::schema::TEXT_ENCODING)
}

/// The next sync message for a peer that may write `doc` but not read it. It is generated
/// from the document as the peer already has it (every change it has told us of, and those we
/// know we share), so its heads and Bloom filter name only the peer's own changes and ask for
/// those we lack; the peer then sends them and, once they are in, sees its heads answered as
/// synced. Nothing of anyone else's changes leaves, not even their hashes, and the message's
/// change list is emptied whatever Automerge put in it. Built from the real document's heads,
/// the peer would ask for the changes it may not have for ever, and the two would never stop
/// answering each other.
fn write_only_message(doc: &Automerge, state: &mut sync::State) -> Option<sync::Message> {
    let mut known: Vec<ChangeHash> = state
        .their_heads
        .iter()
        .flatten()
        .chain(
            state
                .their_have
                .iter()
                .flatten()
                .flat_map(|have| have.last_sync.iter()),
        )
        .chain(state.shared_heads.iter())
        .filter(|hash| doc.get_change_meta_by_hash(hash).is_some())
        .copied()
        .collect();
    known.sort();
    known.dedup();
    // Until the peer has said what it has, there is nothing to answer it with.
    state.their_heads.as_ref()?;
    let theirs = doc.fork_at(&known).ok()?;
    let mut message = theirs.generate_sync_message(state)?;
    message.changes = sync::ChunkList::empty();
    Some(message)
}

/// The sync state with `peer` for `document`, made when there is none yet.
fn state_entry<'a>(
    sync_states: &'a mut HashMap<DocumentId, BTreeMap<PeerId, sync::State>>,
    peer: &PeerId,
    document: DocumentId,
) -> &'a mut sync::State {
    sync_states
        .entry(document)
        .or_default()
        .entry(peer.clone())
        .or_default()
}

/// Which end of a connection this peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Dials out, sends `join`, and offers all its documents once the server answers.
    Client,
    /// Accepts connections, answers `join` with `peer`, and serves what it is asked for.
    Server,
}

/// How a peer is set up.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// This peer's id.
    pub peer_id: PeerId,
    /// Client or server.
    pub role: Role,
    /// What this peer says about itself.
    pub metadata: PeerMetadata,
    /// The largest incoming message accepted, in bytes.
    pub max_message_bytes: usize,
    /// The most one message's changes may inflate to, when the policy vets changes.
    pub max_inflated_bytes: usize,
    /// For a server peer that shares its connections with other server peers, each holding
    /// other documents (the server's partitions): it takes a client's handshake without
    /// answering it, and without refusing it, since exactly one of them answers.
    pub quiet_handshake: bool,
}

impl PeerConfig {
    /// A configuration with the default message limit.
    pub fn new(peer_id: PeerId, role: Role) -> Self {
        Self {
            peer_id,
            role,
            metadata: PeerMetadata::default(),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES,
            quiet_handshake: false,
        }
    }
}

/// Which peers may see and change which documents. The server implements this from its
/// caseloads; a phone allows everything, as it only holds what the server gave it.
pub trait SharePolicy {
    /// Whether `peer` may receive `document`. A document a peer may not read is answered
    /// exactly like one that does not exist.
    fn may_read(&self, peer: &PeerId, document: &DocumentId) -> bool;
    /// Whether changes from `peer` to `document` are accepted.
    fn may_write(&self, peer: &PeerId, document: &DocumentId) -> bool;
    /// Whether `peer` may bring a document this peer has never seen.
    fn may_create(&self, peer: &PeerId, document: &DocumentId) -> bool;
    /// Whether a peer may join under this id on this connection. A server refuses an id
    /// that another user's connection holds, so nobody can push someone else off by
    /// claiming their peer id.
    fn may_join(&self, peer: &PeerId, connection: ConnectionId) -> bool {
        let _ = (peer, connection);
        true
    }
    /// Called when `peer` has brought a new document (after `may_create` allowed it), so the
    /// policy can let its creator go on reading and writing it.
    fn created(&mut self, peer: &PeerId, document: &DocumentId) {
        let _ = (peer, document);
    }
    /// Whether every change from another peer is vetted before it is applied (a server
    /// does; a phone takes what its server sends).
    fn vets_changes(&self) -> bool {
        false
    }
    /// Decides which of `changes`, sent by `peer`, may be added to `document` (`doc` as it
    /// stands). Called only when [`SharePolicy::vets_changes`] is true.
    fn vet(
        &mut self,
        now: Timestamp,
        peer: &PeerId,
        document: &DocumentId,
        doc: &Automerge,
        changes: Vec<Change>,
    ) -> Vetting {
        let _ = (now, peer, document, doc);
        Vetting {
            accepted: changes,
            ..Vetting::default()
        }
    }
}

/// Every peer may read, write and create every document.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl SharePolicy for AllowAll {
    fn may_read(&self, _: &PeerId, _: &DocumentId) -> bool {
        true
    }
    fn may_write(&self, _: &PeerId, _: &DocumentId) -> bool {
        true
    }
    fn may_create(&self, _: &PeerId, _: &DocumentId) -> bool {
        true
    }
}

/// The driver's name for one connection, unique while it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// What happened, as the driver tells the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A transport connection opened.
    Connected {
        /// Its id.
        connection: ConnectionId,
    },
    /// A whole message arrived.
    Received {
        /// On which connection.
        connection: ConnectionId,
        /// The message's bytes.
        bytes: Vec<u8>,
    },
    /// A connection closed, from either side.
    Disconnected {
        /// Which one.
        connection: ConnectionId,
    },
    /// The application changed a document (see [`SyncPeer::document_mut`]).
    LocalChange {
        /// Which one.
        document: DocumentId,
    },
    /// The application wants a document it does not have.
    Want {
        /// Which one.
        document: DocumentId,
    },
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send these bytes as one message.
    Send {
        /// On which connection.
        connection: ConnectionId,
        /// The message.
        bytes: Vec<u8>,
    },
    /// Close the connection.
    Close {
        /// Which one.
        connection: ConnectionId,
        /// Why, for the log and the close frame.
        reason: String,
    },
    /// The handshake finished: the connection now syncs with `peer`.
    PeerReady {
        /// The connection.
        connection: ConnectionId,
        /// The peer at the other end.
        peer: PeerId,
    },
    /// Another peer's changes were applied to a document: save it, show it again.
    DocumentChanged {
        /// Which one.
        document: DocumentId,
    },
    /// A peer said it does not have a document this peer wanted.
    DocumentUnavailable {
        /// Which one.
        document: DocumentId,
    },
    /// Every local change of the document has reached a peer: it is no longer dirty.
    DocumentSynced {
        /// Which one.
        document: DocumentId,
        /// The peer that has it.
        peer: PeerId,
    },
    /// The sync state with a peer changed: persist it to resume cheaply next time.
    SyncStateChanged {
        /// The peer.
        peer: PeerId,
        /// The document.
        document: DocumentId,
    },
    /// The policy refused some changes of a message; the rest of it was applied. The driver
    /// keeps them (the server's quarantine), tells the sender, and closes the connection.
    Refused {
        /// On which connection.
        connection: ConnectionId,
        /// From which peer.
        peer: PeerId,
        /// To which document.
        document: DocumentId,
        /// The changes refused, each with its reason.
        changes: Vec<RefusedChange>,
    },
    /// A peer sent something refused. The driver logs it; a `Close` follows when the
    /// connection cannot go on.
    Rejected {
        /// On which connection.
        connection: ConnectionId,
        /// What was wrong.
        error: SyncError,
    },
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    /// Larger than the limit.
    #[error("message of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not a protocol message.
    #[error("malformed message: {0}")]
    Malformed(#[from] MessageError),
    /// A document message before the handshake.
    #[error("a {kind} message arrived before the join/peer handshake")]
    NotJoined {
        /// The message type.
        kind: &'static str,
    },
    /// A handshake message from the wrong side, or twice.
    #[error("unexpected {kind} message on a connection that is {state}")]
    UnexpectedHandshake {
        /// The message type.
        kind: &'static str,
        /// The connection's state.
        state: &'static str,
    },
    /// No protocol version in common.
    #[error("no common protocol version: the peer speaks {offered:?}, this peer speaks \"1\"")]
    Version {
        /// What the peer offered.
        offered: Vec<String>,
    },
    /// The sender id does not match the peer that joined on the connection.
    #[error("message claims to be from {claimed} but the connection belongs to {actual}")]
    Spoofed {
        /// The claimed sender.
        claimed: PeerId,
        /// The joined peer.
        actual: PeerId,
    },
    /// The Automerge sync payload is damaged.
    #[error("the sync payload for {document} is not a valid Automerge sync message: {reason}")]
    Payload {
        /// The document.
        document: DocumentId,
        /// What Automerge said.
        reason: String,
    },
    /// The peer may not change this document.
    #[error("{peer} may not change {document}; its changes were not applied")]
    WriteRefused {
        /// The peer.
        peer: PeerId,
        /// The document.
        document: DocumentId,
    },
    /// The peer id is held by someone else's connection.
    #[error("the peer id {peer} is in use by another user's connection")]
    PeerIdTaken {
        /// The id claimed.
        peer: PeerId,
    },
    /// The peer said it refuses the connection.
    #[error("the peer refused the connection: {0}")]
    Remote(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Handshake {
    /// Client: join sent, waiting for peer. Server: waiting for join.
    Waiting,
    /// Syncing with this peer.
    Ready(PeerId),
}

/// A summary for the always-visible status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    /// Whether any connection has finished its handshake.
    pub connected: bool,
    /// When the last connection went away, while none is up.
    pub offline_since: Option<Timestamp>,
    /// Documents with local changes no peer has confirmed.
    pub dirty_documents: usize,
}

/// The peer. See the module documentation.
#[derive(Debug)]
pub struct SyncPeer<P = AllowAll> {
    config: PeerConfig,
    policy: P,
    documents: BTreeMap<DocumentId, Automerge>,
    connections: BTreeMap<ConnectionId, Handshake>,
    /// The connection each ready peer is on.
    peer_connections: HashMap<PeerId, ConnectionId>,
    /// Per document, the sync state with each peer that has synced it: a change is offered to
    /// these peers only, without looking at every connection.
    sync_states: HashMap<DocumentId, BTreeMap<PeerId, sync::State>>,
    dirty: BTreeSet<DocumentId>,
    offline_since: Option<Timestamp>,
    /// Documents a connection is offering that this peer does not have yet: empty until
    /// their first changes are taken, and dropped with the connection if they never are.
    placeholders: BTreeMap<DocumentId, ConnectionId>,
    /// Changes a vetting policy has not taken yet because what they depend on has not come:
    /// kept aside, unapplied (Automerge's own queue would apply them unvetted once their
    /// dependencies arrive), and their missing dependencies asked for in the next message.
    /// Kept per sender: they are vetted again as the peer that sent them, never as whoever
    /// sends the next message (that would refuse, and quarantine, an honest colleague's
    /// change as a forgery), and forgotten when it goes (it offers them again on return).
    waiting: HashMap<DocumentId, HashMap<PeerId, Vec<Change>>>,
    /// Documents held on disk but not in memory, with their stored heads (sorted): a peer
    /// whose copy equals one is answered without it ([`SyncPeer::set_dormant`]).
    dormant: HashMap<DocumentId, Vec<ChangeHash>>,
}

impl SyncPeer<AllowAll> {
    /// A peer that shares everything with everyone.
    pub fn new(config: PeerConfig) -> Self {
        Self::with_policy(config, AllowAll)
    }
}

impl<P: SharePolicy> SyncPeer<P> {
    /// A peer that asks `policy` before sharing or accepting anything.
    pub fn with_policy(config: PeerConfig, policy: P) -> Self {
        Self {
            config,
            policy,
            documents: BTreeMap::new(),
            connections: BTreeMap::new(),
            peer_connections: HashMap::new(),
            sync_states: HashMap::new(),
            dirty: BTreeSet::new(),
            offline_since: None,
            placeholders: BTreeMap::new(),
            waiting: HashMap::new(),
            dormant: HashMap::new(),
        }
    }

    /// This peer's id.
    pub fn peer_id(&self) -> &PeerId {
        &self.config.peer_id
    }

    /// The sharing policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// The sharing policy, to change (a caseload reassigned); changes apply to the next
    /// message.
    pub fn policy_mut(&mut self) -> &mut P {
        &mut self.policy
    }

    /// Adds (or replaces) a document, as loaded from storage. Call
    /// [`SyncPeer::mark_dirty`] too if storage lists it as not yet synced.
    pub fn insert_document(&mut self, document: DocumentId, doc: Automerge) {
        self.dormant.remove(&document);
        self.documents.insert(document, doc);
    }

    /// Tells the peer that a document it does not hold in memory is stored with these heads
    /// (a server's household evicted, or not read since start). A sync message from a peer
    /// whose copy already equals it is then answered without the document
    /// ([`SyncPeer::needs_document`] says which messages need it). The driver must call
    /// [`SyncPeer::forget_dormant`] when the stored document changes behind the peer's back
    /// (another server process wrote it).
    pub fn set_dormant(&mut self, document: DocumentId, mut heads: Vec<ChangeHash>) {
        if self.documents.contains_key(&document) || heads.is_empty() {
            return;
        }
        heads.sort();
        self.dormant.insert(document, heads);
    }

    /// Forgets the stored heads of a document not in memory: the next message about it needs
    /// it loaded.
    pub fn forget_dormant(&mut self, document: &DocumentId) {
        self.dormant.remove(document);
    }

    /// Which document a received message needs in memory before [`Input::Received`]: the one
    /// it is about, unless it is a sync message the peer can answer from that document's
    /// stored heads alone (see [`SyncPeer::set_dormant`]). `None` for a message about no
    /// document, or one that does not decode (the peer refuses it).
    pub fn needs_document(&self, bytes: &[u8]) -> Option<DocumentId> {
        let message = Message::decode(bytes).ok()?;
        let (document, data) = match message {
            Message::Sync { document, data, .. } => (document, data),
            Message::Request { document, .. } | Message::DocUnavailable { document, .. } => {
                return Some(document);
            }
            _ => return None,
        };
        let settled = self.dormant.get(&document).is_some_and(|heads| {
            sync::Message::decode(&data).is_ok_and(|mut message| {
                message.heads.sort();
                message.heads.dedup();
                super::dormant::settles(&message, heads)
            })
        });
        (!settled).then_some(document)
    }

    /// Removes a document and everything about it (retention: the household's erasure).
    pub fn remove_document(&mut self, document: &DocumentId) -> Option<Automerge> {
        self.dormant.remove(document);
        self.waiting.remove(document);
        self.placeholders.remove(document);
        self.dirty.remove(document);
        self.sync_states.remove(document);
        self.documents.remove(document)
    }

    /// Takes a document out of memory while keeping what each peer is known to share of it
    /// (the sync state a reconnect keeps), so that a peer that synced it is still offered its
    /// changes once it is back in memory ([`SyncPeer::insert_document`]). Refused (`None`, and
    /// nothing changes) while the document holds what is not stored anywhere: a placeholder
    /// being created, or changes kept aside until what they depend on comes. The driver must
    /// also keep a document whose changes it has not stored.
    pub fn evict_document(&mut self, document: &DocumentId) -> Option<Automerge> {
        if self.placeholders.contains_key(document) || self.waiting.contains_key(document) {
            return None;
        }
        let doc = self.documents.remove(document)?;
        self.dirty.remove(document);
        if let Some(states) = self.sync_states.get_mut(document) {
            for state in states.values_mut() {
                *state = sync::State::decode(&state.encode()).unwrap_or_default();
            }
        }
        Some(doc)
    }

    /// Whether a connected peer has synced this document: its changes must reach them.
    pub fn followed(&self, document: &DocumentId) -> bool {
        self.sync_states.get(document).is_some_and(|states| {
            states
                .keys()
                .any(|peer| self.peer_connections.contains_key(peer))
        })
    }

    /// A document, when this peer has it.
    pub fn document(&self, document: &DocumentId) -> Option<&Automerge> {
        self.documents.get(document)
    }

    /// A document to change. Afterwards pass [`Input::LocalChange`] so the change is marked
    /// dirty and offered to connected peers.
    pub fn document_mut(&mut self, document: &DocumentId) -> Option<&mut Automerge> {
        self.documents.get_mut(document)
    }

    /// The ids of every document held.
    pub fn document_ids(&self) -> impl Iterator<Item = &DocumentId> {
        self.documents.keys()
    }

    /// Marks a document as having changes no peer has confirmed (restored from storage).
    pub fn mark_dirty(&mut self, document: DocumentId) {
        self.dirty.insert(document);
    }

    /// Documents with local changes no peer has confirmed yet.
    pub fn dirty_documents(&self) -> impl Iterator<Item = &DocumentId> {
        self.dirty.iter()
    }

    /// The status line's facts.
    pub fn status(&self) -> SyncStatus {
        SyncStatus {
            connected: self.ready_connections().next().is_some(),
            offline_since: self.offline_since,
            dirty_documents: self.dirty.len(),
        }
    }

    /// The sync state with `peer` for `document`, encoded for storage.
    pub fn export_sync_state(&self, peer: &PeerId, document: &DocumentId) -> Option<Vec<u8>> {
        self.sync_states
            .get(document)?
            .get(peer)
            .map(sync::State::encode)
    }

    /// Restores a sync state saved by [`SyncPeer::export_sync_state`]. Saves only what
    /// survives a reconnect (the shared heads), so the next sync sends only what is new.
    pub fn import_sync_state(
        &mut self,
        peer: PeerId,
        document: DocumentId,
        bytes: &[u8],
    ) -> Result<(), sync::DecodeStateError> {
        let state = sync::State::decode(bytes)?;
        self.sync_states
            .entry(document)
            .or_default()
            .insert(peer, state);
        Ok(())
    }

    fn ready_connections(&self) -> impl Iterator<Item = (ConnectionId, &PeerId)> {
        self.connections
            .iter()
            .filter_map(|(connection, handshake)| match handshake {
                Handshake::Ready(peer) => Some((*connection, peer)),
                Handshake::Waiting => None,
            })
    }

    /// Feeds one input in; returns what the driver must do, in order.
    pub fn handle(&mut self, now: Timestamp, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Connected { connection } => {
                self.connections.insert(connection, Handshake::Waiting);
                if self.config.role == Role::Client {
                    let join = Message::Join {
                        sender: self.config.peer_id.clone(),
                        metadata: self.config.metadata.clone(),
                        supported_versions: vec![PROTOCOL_VERSION.to_owned()],
                    };
                    out.push(Output::Send {
                        connection,
                        bytes: join.encode(),
                    });
                }
            }
            Input::Disconnected { connection } => {
                self.drop_placeholders(connection);
                if let Some(Handshake::Ready(peer)) = self.connections.remove(&connection) {
                    if self.peer_connections.get(&peer) == Some(&connection) {
                        self.peer_connections.remove(&peer);
                    }
                    self.reset_sync_states(&peer);
                    self.waiting.retain(|_, senders| {
                        senders.remove(&peer);
                        !senders.is_empty()
                    });
                }
                if self.ready_connections().next().is_none() {
                    self.offline_since.get_or_insert(now);
                }
            }
            Input::Received { connection, bytes } => {
                if !self.connections.contains_key(&connection) {
                    return out;
                }
                if bytes.len() > self.config.max_message_bytes {
                    let error = SyncError::TooLarge {
                        size: bytes.len(),
                        max: self.config.max_message_bytes,
                    };
                    self.refuse(connection, error, &mut out);
                    return out;
                }
                match Message::decode(&bytes) {
                    Ok(message) => self.receive(now, connection, message, &mut out),
                    Err(error) => self.refuse(connection, error.into(), &mut out),
                }
            }
            Input::LocalChange { document } => {
                if self.documents.contains_key(&document) {
                    self.dirty.insert(document);
                    self.offer_to_all(document, None, &mut out);
                }
            }
            Input::Want { document } => {
                self.documents
                    .entry(document)
                    .or_insert_with(empty_document);
                self.offer_to_all(document, None, &mut out);
            }
        }
        out
    }

    /// Refuses what came on `connection` and closes it.
    fn refuse(&mut self, connection: ConnectionId, error: SyncError, out: &mut Vec<Output>) {
        let reason = error.to_string();
        out.push(Output::Send {
            connection,
            bytes: Message::Error {
                message: reason.clone(),
            }
            .encode(),
        });
        out.push(Output::Rejected { connection, error });
        out.push(Output::Close { connection, reason });
    }

    fn receive(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        message: Message,
        out: &mut Vec<Output>,
    ) {
        let handshake = self.connections.get(&connection).cloned();
        let Some(handshake) = handshake else { return };
        match (message, handshake, self.config.role) {
            (
                Message::Join {
                    sender,
                    supported_versions,
                    ..
                },
                Handshake::Waiting,
                Role::Server,
            ) => {
                let quiet = self.config.quiet_handshake;
                if !supported_versions
                    .iter()
                    .any(|version| version == PROTOCOL_VERSION)
                {
                    if quiet {
                        return;
                    }
                    self.refuse(
                        connection,
                        SyncError::Version {
                            offered: supported_versions,
                        },
                        out,
                    );
                    return;
                }
                if !self.policy.may_join(&sender, connection) {
                    if !quiet {
                        self.refuse(connection, SyncError::PeerIdTaken { peer: sender }, out);
                    }
                    return;
                }
                // One connection per peer id: sync states are per peer, and a reconnecting
                // phone's old socket may not have noticed it is dead.
                let stale: Vec<ConnectionId> = self
                    .ready_connections()
                    .filter(|(_, peer)| **peer == sender)
                    .map(|(connection, _)| connection)
                    .collect();
                for old in stale {
                    self.connections.remove(&old);
                    if !quiet {
                        out.push(Output::Close {
                            connection: old,
                            reason: "replaced by a new connection".into(),
                        });
                    }
                }
                self.reset_sync_states(&sender);
                if !quiet {
                    let reply = Message::Peer {
                        sender: self.config.peer_id.clone(),
                        metadata: self.config.metadata.clone(),
                        selected_version: PROTOCOL_VERSION.to_owned(),
                        target: sender.clone(),
                    };
                    out.push(Output::Send {
                        connection,
                        bytes: reply.encode(),
                    });
                }
                self.become_ready(connection, sender, out);
            }
            (
                Message::Peer {
                    sender,
                    selected_version,
                    ..
                },
                Handshake::Waiting,
                Role::Client,
            ) => {
                if selected_version != PROTOCOL_VERSION {
                    self.refuse(
                        connection,
                        SyncError::Version {
                            offered: vec![selected_version],
                        },
                        out,
                    );
                    return;
                }
                self.reset_sync_states(&sender);
                self.become_ready(connection, sender.clone(), out);
                let documents: Vec<DocumentId> = self.documents.keys().copied().collect();
                for document in documents {
                    self.offer(connection, &sender, document, out);
                }
            }
            (Message::Join { .. }, state, _) | (Message::Peer { .. }, state, _) => {
                let kind = "handshake";
                let state = match state {
                    Handshake::Waiting => "waiting for a handshake from the other side",
                    Handshake::Ready(_) => "already joined",
                };
                self.refuse(
                    connection,
                    SyncError::UnexpectedHandshake { kind, state },
                    out,
                );
            }
            (Message::Leave { .. }, _, _) => {
                out.push(Output::Close {
                    connection,
                    reason: "the peer left".into(),
                });
            }
            (Message::Error { message }, _, _) => {
                out.push(Output::Rejected {
                    connection,
                    error: SyncError::Remote(message.clone()),
                });
                out.push(Output::Close {
                    connection,
                    reason: format!("the peer refused: {message}"),
                });
            }
            (Message::Other { .. }, _, _) => {}
            (message, Handshake::Waiting, _) => {
                let kind = match message {
                    Message::Request { .. } => "request",
                    Message::Sync { .. } => "sync",
                    _ => "doc-unavailable",
                };
                self.refuse(connection, SyncError::NotJoined { kind }, out);
            }
            (
                Message::DocUnavailable {
                    sender, document, ..
                },
                Handshake::Ready(peer),
                _,
            ) => {
                if sender != peer {
                    self.refuse(
                        connection,
                        SyncError::Spoofed {
                            claimed: sender,
                            actual: peer,
                        },
                        out,
                    );
                    return;
                }
                // Forget a placeholder made by `Want`; keep anything with content.
                if self
                    .documents
                    .get(&document)
                    .is_some_and(|doc| doc.get_heads().is_empty())
                {
                    self.documents.remove(&document);
                    if let Some(states) = self.sync_states.get_mut(&document) {
                        states.remove(&peer);
                    }
                }
                out.push(Output::DocumentUnavailable { document });
            }
            (
                Message::Request {
                    sender,
                    document,
                    data,
                    ..
                },
                Handshake::Ready(peer),
                _,
            ) => {
                if sender != peer {
                    self.refuse(
                        connection,
                        SyncError::Spoofed {
                            claimed: sender,
                            actual: peer,
                        },
                        out,
                    );
                    return;
                }
                self.receive_sync(now, connection, peer, document, &data, true, out);
            }
            (
                Message::Sync {
                    sender,
                    document,
                    data,
                    ..
                },
                Handshake::Ready(peer),
                _,
            ) => {
                if sender != peer {
                    self.refuse(
                        connection,
                        SyncError::Spoofed {
                            claimed: sender,
                            actual: peer,
                        },
                        out,
                    );
                    return;
                }
                self.receive_sync(now, connection, peer, document, &data, false, out);
            }
        }
    }

    fn become_ready(&mut self, connection: ConnectionId, peer: PeerId, out: &mut Vec<Output>) {
        self.connections
            .insert(connection, Handshake::Ready(peer.clone()));
        self.peer_connections.insert(peer.clone(), connection);
        self.offline_since = None;
        out.push(Output::PeerReady { connection, peer });
    }

    /// After a reconnect the other side remembers nothing of what was in flight: keep only
    /// the heads both sides are known to share, as Automerge's sync protocol prescribes.
    fn reset_sync_states(&mut self, peer: &PeerId) {
        for states in self.sync_states.values_mut() {
            if let Some(state) = states.get_mut(peer) {
                *state = sync::State::decode(&state.encode()).unwrap_or_default();
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn receive_sync(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        peer: PeerId,
        document: DocumentId,
        data: &[u8],
        is_request: bool,
        out: &mut Vec<Output>,
    ) {
        let unavailable = |out: &mut Vec<Output>, this: &Self| {
            let reply = Message::DocUnavailable {
                sender: this.config.peer_id.clone(),
                target: peer.clone(),
                document,
            };
            out.push(Output::Send {
                connection,
                bytes: reply.encode(),
            });
        };
        let exists = self.documents.contains_key(&document) || self.dormant.contains_key(&document);
        // Another connection asking for a placeholder gets what the policy gives for a
        // document it has not taken yet (a server's caseload: nothing).
        let own_placeholder = self.placeholders.get(&document) == Some(&connection);
        // A peer that may write but not read (a staff member's former household, with their
        // offline changes still to come) is heard, but is answered with no content: see
        // `offer`. Asking for the document (a request) is reading.
        let write_only = exists
            && !own_placeholder
            && !is_request
            && !self.policy.may_read(&peer, &document)
            && self.policy.may_write(&peer, &document);
        if exists && !own_placeholder && !write_only && !self.policy.may_read(&peer, &document) {
            // Answered as if the document did not exist; a write attempt is still reported,
            // for the audit.
            let writes = sync::Message::decode(data)
                .is_ok_and(|message| message.changes.iter().any(|chunk| !chunk.is_empty()));
            if writes {
                out.push(Output::Rejected {
                    connection,
                    error: SyncError::WriteRefused {
                        peer: peer.clone(),
                        document,
                    },
                });
            }
            unavailable(out, self);
            return;
        }
        let decoded = sync::Message::decode(data)
            .map_err(|error| error.to_string())
            .and_then(|message| {
                // A filter whose parameters would have Automerge answer for minutes.
                super::bloom::check_bloom_filters(&message)?;
                Ok(message)
            });
        let mut message = match decoded {
            Ok(message) => message,
            Err(reason) => {
                let error = SyncError::Payload { document, reason };
                self.refuse(connection, error, out);
                return;
            }
        };
        // Automerge assumes a peer's hash lists are sorted and without repeats, and panics
        // answering one that is not (found by fuzzing): put them in order first.
        for hashes in [&mut message.heads, &mut message.need] {
            hashes.sort();
            hashes.dedup();
        }
        let brings_changes = message.changes.iter().any(|chunk| !chunk.is_empty());
        if let Some(heads) = self.dormant.get(&document).cloned() {
            // Not in memory: answered from its stored heads, when the sender's copy equals it
            // and it may read it; the driver loads it for any other message
            // (`needs_document`), so one that still finds it absent found it unreadable.
            let waiting = self
                .waiting
                .get(&document)
                .is_some_and(|senders| senders.contains_key(&peer));
            if write_only || waiting {
                unavailable(out, self);
                return;
            }
            let state = state_entry(&mut self.sync_states, &peer, document);
            match super::dormant::settle(state, message, &heads) {
                Ok(reply) => {
                    if let Some(reply) = reply {
                        let message = Message::Sync {
                            sender: self.config.peer_id.clone(),
                            target: peer.clone(),
                            document,
                            data: reply.encode(),
                        };
                        out.push(Output::Send {
                            connection,
                            bytes: message.encode(),
                        });
                    }
                    out.push(Output::SyncStateChanged { peer, document });
                }
                Err(_) => unavailable(out, self),
            }
            return;
        }
        if !exists {
            // A request comes from a peer that lacks the document too: say this one does as
            // well. A sync comes from a peer that has it and is offering it: take it, if the
            // policy allows, starting from an empty document that the exchange fills.
            let placeholders = self
                .placeholders
                .values()
                .filter(|holder| **holder == connection)
                .count();
            if is_request
                || !self.policy.may_create(&peer, &document)
                || placeholders >= MAX_PLACEHOLDERS_PER_CONNECTION
            {
                unavailable(out, self);
                return;
            }
            // Taken only once its first changes are: until then an empty placeholder, which
            // leaves with the connection.
            self.documents.insert(document, empty_document());
            self.placeholders.insert(document, connection);
        }
        let placeholder = self.placeholders.contains_key(&document);
        let own_placeholder = self.placeholders.get(&document) == Some(&connection);
        if brings_changes && !own_placeholder && !self.policy.may_write(&peer, &document) {
            out.push(Output::Rejected {
                connection,
                error: SyncError::WriteRefused {
                    peer: peer.clone(),
                    document,
                },
            });
            return;
        }
        // What the document was before this message: vetted changes go in before the sync
        // state moves.
        let original = self
            .documents
            .get(&document)
            .map(Automerge::get_heads)
            .unwrap_or_default();
        let mut merged = None;
        if brings_changes && self.policy.vets_changes() {
            let Some(doc) = self.documents.get(&document) else {
                return;
            };
            let mut changes = match super::chunks::changes_in(
                message.changes.iter(),
                self.config.max_inflated_bytes,
            ) {
                Ok(changes) => changes,
                Err(error) => {
                    let error = SyncError::Payload {
                        document,
                        reason: error.to_string(),
                    };
                    self.refuse(connection, error, out);
                    return;
                }
            };
            if let Some(senders) = self.waiting.get_mut(&document) {
                changes.extend(senders.remove(&peer).unwrap_or_default());
                if senders.is_empty() {
                    self.waiting.remove(&document);
                }
            }
            let mut vetting = self.policy.vet(now, &peer, &document, doc, changes);
            merged = vetting.merged;
            if !vetting.waiting.is_empty() {
                vetting.waiting.truncate(MAX_WAITING_PER_PEER);
                self.waiting
                    .entry(document)
                    .or_default()
                    .insert(peer.clone(), vetting.waiting);
            }
            // The accepted changes are already applied to `merged`: the rest of the message
            // moves the sync state on the document as it was, and `merged` replaces it after.
            // (Received on `merged`, the message's heads would equal ours and Automerge would
            // take it that the sender knows we have its changes, and never say so.)
            message.changes = sync::ChunkList::empty();
            if !vetting.refused.is_empty() {
                out.push(Output::Refused {
                    connection,
                    peer: peer.clone(),
                    document,
                    changes: vetting.refused,
                });
            }
        }
        let Some(doc) = self.documents.get_mut(&document) else {
            return;
        };
        let state = state_entry(&mut self.sync_states, &peer, document);
        let before = original;
        if let Err(error) = doc.receive_sync_message(state, message) {
            let error = SyncError::Payload {
                document,
                reason: error.to_string(),
            };
            self.refuse(connection, error, out);
            return;
        }
        if let Some(merged) = merged {
            *doc = merged;
        }
        let after = doc.get_heads();
        if placeholder && !after.is_empty() {
            self.placeholders.remove(&document);
            self.policy.created(&peer, &document);
        }
        out.push(Output::SyncStateChanged {
            peer: peer.clone(),
            document,
        });
        if before != after {
            out.push(Output::DocumentChanged { document });
        }
        self.note_if_synced(&peer, document, out);
        // Answer the sender, then pass new changes on to everyone else sharing the document.
        self.offer(connection, &peer, document, out);
        if before != after {
            self.offer_to_all(document, Some(connection), out);
        }
    }

    /// Forgets the placeholders a closed connection left empty.
    fn drop_placeholders(&mut self, connection: ConnectionId) {
        let left: Vec<DocumentId> = self
            .placeholders
            .iter()
            .filter(|(_, holder)| **holder == connection)
            .map(|(document, _)| *document)
            .collect();
        for document in left {
            self.placeholders.remove(&document);
            if self
                .documents
                .get(&document)
                .is_some_and(|doc| doc.get_heads().is_empty())
            {
                self.documents.remove(&document);
                self.sync_states.remove(&document);
                self.waiting.remove(&document);
            }
        }
    }

    /// A dirty document is clean once a peer's last known heads equal ours.
    fn note_if_synced(&mut self, peer: &PeerId, document: DocumentId, out: &mut Vec<Output>) {
        if !self.dirty.contains(&document) {
            return;
        }
        let Some(doc) = self.documents.get(&document) else {
            return;
        };
        let Some(state) = self
            .sync_states
            .get(&document)
            .and_then(|states| states.get(peer))
        else {
            return;
        };
        let mut ours = doc.get_heads();
        ours.sort();
        let theirs = state.their_heads.clone().map(|mut heads: Vec<ChangeHash>| {
            heads.sort();
            heads
        });
        if theirs.as_ref() == Some(&ours) {
            self.dirty.remove(&document);
            out.push(Output::DocumentSynced {
                document,
                peer: peer.clone(),
            });
        }
    }

    /// Offers a document on every ready connection that shares it: a client's server, or
    /// (on a server) every peer that has synced this document on this connection before.
    fn offer_to_all(
        &mut self,
        document: DocumentId,
        except: Option<ConnectionId>,
        out: &mut Vec<Output>,
    ) {
        let mut targets: Vec<(ConnectionId, PeerId)> = match self.config.role {
            Role::Client => self
                .ready_connections()
                .map(|(connection, peer)| (connection, peer.clone()))
                .collect(),
            // Only the peers that synced the document are looked at, however many are
            // connected.
            // A peer that may not read it (write-only) learns nothing from others' changes.
            Role::Server => self
                .sync_states
                .get(&document)
                .into_iter()
                .flat_map(BTreeMap::keys)
                .filter(|peer| self.policy.may_read(peer, &document))
                .filter_map(|peer| {
                    let connection = *self.peer_connections.get(peer)?;
                    Some((connection, peer.clone()))
                })
                .collect(),
        };
        targets.retain(|(connection, _)| Some(*connection) != except);
        targets.sort_unstable_by_key(|(connection, _)| *connection);
        for (connection, peer) in targets {
            self.offer(connection, &peer, document, out);
        }
    }

    /// Sends the next sync message for `document` to `peer`, when there is one.
    fn offer(
        &mut self,
        connection: ConnectionId,
        peer: &PeerId,
        document: DocumentId,
        out: &mut Vec<Output>,
    ) {
        // A placeholder answers the connection offering it (asking for its changes), and
        // nobody else: it holds nothing yet.
        let offering = self.placeholders.get(&document) == Some(&connection);
        let write_only = !offering && !self.policy.may_read(peer, &document);
        if write_only && !self.policy.may_write(peer, &document) {
            return;
        }
        let Some(doc) = self.documents.get(&document) else {
            return;
        };
        let state = state_entry(&mut self.sync_states, peer, document);
        let message = if write_only {
            write_only_message(doc, state)
        } else {
            doc.generate_sync_message(state)
        };
        let Some(mut message) = message else {
            return;
        };
        // Ask for what the changes kept aside depend on: Automerge asks only for the
        // dependencies of changes in its own queue, and these are not there. Without this, a
        // change whose dependency the sender believes we have (a Bloom filter's false
        // positive) would be sent and set aside for ever.
        if let Some(waiting) = self
            .waiting
            .get(&document)
            .and_then(|senders| senders.get(peer))
        {
            let held: std::collections::HashSet<ChangeHash> =
                waiting.iter().map(Change::hash).collect();
            for change in waiting {
                for dep in change.deps() {
                    if !held.contains(dep)
                        && doc.get_change_meta_by_hash(dep).is_none()
                        && !message.need.contains(dep)
                    {
                        message.need.push(*dep);
                    }
                }
            }
            // The wire format wants them sorted.
            message.need.sort();
        }
        let data = message.encode();
        let sender = self.config.peer_id.clone();
        let target = peer.clone();
        let message = if doc.get_heads().is_empty() {
            Message::Request {
                sender,
                target,
                document,
                data,
            }
        } else {
            Message::Sync {
                sender,
                target,
                document,
                data,
            }
        };
        out.push(Output::Send {
            connection,
            bytes: message.encode(),
        });
        out.push(Output::SyncStateChanged {
            peer: peer.clone(),
            document,
        });
    }
}

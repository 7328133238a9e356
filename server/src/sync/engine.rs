//! A hub partition's decisions, without IO: the [`Engine`] owns the sync peer, the documents
//! in memory, the connections' principals and the batch being gathered, and is told what
//! arrived (a connection, a message, a document read from disk, a commit's outcome). It
//! answers with what to store ([`Batch::writes`]), what to read ([`Engine::needs_document`],
//! [`Presence::OnDisk`]) and what to send or close ([`Delivery`]); the hub's driver
//! (`hub.rs`) only reads and writes the store and the sockets' queues. So everything the hub
//! decides is tested natively with no socket and no database (the tests below), and the
//! order that guards every promise (nothing leaves before its batch is stored, nothing of a
//! failed batch leaves at all) lives in one place: [`Engine::take_batch`] then
//! [`Engine::settle`].

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};

use hashlink::LinkedHashMap;
use lots_core::automerge::{ActorId, Automerge, Change, ChangeHash};
use lots_core::{
    ConnectionId, DeviceId, DocumentId, HouseholdDoc, Input, Outline, Output, PeerConfig, PeerId,
    Role as PeerRole, Signature, StaffId, SyncError, SyncPeer, Timestamp,
};

use super::policy::{CaseloadPolicy, Holder, HouseholdIndex, Principal};
use crate::caseload::Digest;
use crate::store::{
    Appended, IndexRow, NewQuarantined, NewUnread, QuarantinedChange, Removal, Role, StoreError,
    User, Writes,
};

/// After this many incremental chunks a document is compacted into one full save.
const COMPACT_AFTER_CHUNKS: i64 = 64;

/// How many bytes of memory a loaded document takes per byte of its stored form: the
/// estimate the memory budget counts in. Measured on core's synthetic households (release
/// build, resident memory before and after loading 200 of them): 15.7 at 100 visits (11 KB
/// stored, 175 KB loaded), 11.1 at 12 visits (BENCHMARKS.md).
const MEMORY_PER_STORED_BYTE: usize = 16;

/// How a close reason for refused changes begins: `refused <document> <codes>`. The socket
/// sends it with its own close code, and the app recognises it.
pub const REFUSED_PREFIX: &str = "refused ";

/// How a close reason begins when a household the connection's user could read was removed:
/// `removed <document id>`.
pub const REMOVED_PREFIX: &str = "removed ";

/// Why a hub request failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// No such household, or not one this person may see.
    #[error("no such household")]
    NotFound,
    /// The household refused the change.
    #[error(transparent)]
    Action(#[from] lots_core::ActionError),
    /// A staff id that is not one.
    #[error(transparent)]
    BadStaffId(#[from] lots_core::IdError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The hub has stopped.
    #[error("the sync hub has stopped")]
    Stopped,
    /// The staff member may not hold households of that district.
    #[error("{staff} is not active staff in the household's district")]
    NotAssignable {
        /// Who.
        staff: String,
    },
    /// That quarantined change was decided already, or is not one.
    #[error("that refused change is not waiting for a decision")]
    NotPending,
    /// A message refused unread holds no change to merge.
    #[error(
        "that refused message was too large to read, so nothing of it was kept to accept; reject it"
    )]
    NothingKept,
    /// The change depends on a refused change that still waits for a decision.
    #[error(
        "that refused change builds on another still waiting ({change}); accept that one first, or reject this one"
    )]
    WaitsFor {
        /// The hash of the change it waits for.
        change: String,
    },
    /// The user has as many sync connections open as they may.
    #[error("{0} sync connections are open for this user already; close one first")]
    TooManySockets(usize),
}

/// What the driver hands a connection's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Send this protocol message.
    Send(ConnectionId, Vec<u8>),
    /// Close the socket with this reason; the engine has forgotten the connection.
    Close(ConnectionId, String),
}

/// Whether a document is in memory, to be read from disk, or not one the engine will read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// In memory (and now the most recently used).
    Resident,
    /// Stored and known: read it and hand it to [`Engine::load`].
    OnDisk,
    /// Removed, or not a known household: a peer treats it as one it does not have.
    Unknown,
}

/// The sync engine panicked on a message: its connection is closed; the driver stores what
/// the batch holds and then calls [`Engine::drop_unsaved`].
#[derive(Debug)]
pub struct Panicked;

/// What one batch of inputs changed and wants sent, from [`Engine::take_batch`] until
/// [`Engine::settle`]: the driver commits `writes` in one transaction in between.
#[derive(Debug, Default)]
pub struct Batch {
    /// Chunks, index entries, digests and audit rows to commit together.
    pub writes: Writes,
    /// Each document's heads as of its last chunk in `writes`.
    heads: HashMap<DocumentId, Vec<ChangeHash>>,
    /// The index entries in `writes`.
    indexed: HashMap<DocumentId, HouseholdIndex>,
    /// Messages and closes (only [`Output::Send`] and [`Output::Close`]), in order.
    outputs: Vec<Output>,
    /// Connections whose inputs are in the batch.
    sources: HashSet<ConnectionId>,
    /// Connections the peer has closed in this batch: their further messages are ignored.
    closing: HashSet<ConnectionId>,
    /// Actors bound by this batch's accepted changes, forgotten again if it fails.
    bound: Vec<ActorId>,
    /// Changes this batch put in quarantine, forgotten again if it fails.
    quarantined: Vec<ChangeHash>,
    /// Former holders this batch recorded (household, staff, when it moved away from them),
    /// taken into the policy once it is stored.
    former_holders: Vec<(DocumentId, String, Timestamp)>,
}

impl Batch {
    /// How many messages and closes wait for the commit.
    pub fn messages(&self) -> usize {
        self.outputs.len()
    }
}

struct Connection {
    principal: Principal,
    peer: Option<PeerId>,
    opened: HashSet<DocumentId>,
}

/// How an engine is set up.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The server's peer id.
    pub peer_id: PeerId,
    /// The largest sync message accepted.
    pub max_message_bytes: usize,
    /// Whether changes skip vetting (the benchmark's comparison run only).
    pub skip_vetting: bool,
    /// Which partition this is, and of how many.
    pub partition: usize,
    /// How many partitions share the documents.
    pub partitions: usize,
    /// How much memory (estimated, in bytes) this partition's documents may take.
    pub memory_budget: usize,
}

/// One partition's state and decisions; see the module's documentation.
pub struct Engine {
    peer: SyncPeer<CaseloadPolicy>,
    connections: HashMap<ConnectionId, Connection>,
    /// The connection each joined peer id is on.
    by_peer: HashMap<PeerId, ConnectionId>,
    /// Each document's heads as stored on disk.
    saved_heads: HashMap<DocumentId, Vec<ChangeHash>>,
    /// Each household's entry as stored in the index table.
    stored_index: HashMap<DocumentId, HouseholdIndex>,
    batch: Batch,
    /// What leaves now, in order: closes that wait for no commit, and a settled batch's
    /// messages.
    deliveries: Vec<Delivery>,
    partition: usize,
    partitions: usize,
    /// The documents in memory, least recently used first, each with its estimated size.
    resident: LinkedHashMap<DocumentId, usize>,
    /// The sum of the estimated sizes in `resident`.
    resident_bytes: usize,
    /// How large `resident_bytes` may grow before documents are evicted.
    memory_budget: usize,
    /// Who the server signs its own changes (schema migrations) as.
    signer: (StaffId, DeviceId),
    /// What the caseload line of each household in memory shows, as of its last digest:
    /// brought up to date by reading only what a batch's changes touched; with the size it
    /// counts in the memory budget.
    outlines: HashMap<DocumentId, (Outline, usize)>,
}

/// The partition that owns `document`, of `partitions`. Document ids are random, so any
/// bytes of them spread households evenly.
pub fn partition_of(document: &DocumentId, partitions: usize) -> usize {
    let bytes = document.as_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    (u64::from_le_bytes(first) % partitions.max(1) as u64) as usize
}

/// The partitions a message from a socket goes to, in order: the partition of its document,
/// or (for a handshake and a leave) every partition, the first last: it answers, the others
/// take it quietly. Anything else, such as a message that does not decode, goes to the first
/// partition alone, which answers or refuses it.
pub fn route(bytes: &[u8], partitions: usize) -> Vec<usize> {
    use lots_core::Message;
    match Message::decode(bytes) {
        Ok(
            Message::Request { document, .. }
            | Message::Sync { document, .. }
            | Message::DocUnavailable { document, .. },
        ) => vec![partition_of(&document, partitions)],
        Ok(Message::Join { .. } | Message::Leave { .. }) => {
            (1..partitions.max(1)).chain([0]).collect()
        }
        _ => vec![0],
    }
}

/// Loads a stored document with the schema's text encoding, refusing one that would expand
/// past what a household ever holds (`lots_core::load_stored`), and with a panic inside
/// Automerge (damaged bytes) turned into an error.
pub(crate) fn load_caught(bytes: &[u8]) -> Result<Automerge, String> {
    match std::panic::catch_unwind(|| lots_core::load_stored(bytes).map_err(|e| e.to_string())) {
        Ok(loaded) => loaded,
        Err(_) => Err("Automerge panicked reading it".into()),
    }
}

fn index_of(doc: &Automerge) -> Option<HouseholdIndex> {
    let profile = HouseholdDoc::new(doc).profile().ok()?;
    Some(HouseholdIndex {
        district: Some(profile.district.to_string()),
        assigned_staff: profile.assigned_staff.map(|staff| staff.to_string()),
    })
}

/// Stages an access log row for what `principal` did to `document`.
fn audit(
    writes: &mut Writes,
    now: Timestamp,
    principal: &Principal,
    document: DocumentId,
    action: &str,
    detail: &str,
) {
    writes.audit(
        now,
        &principal.user_id,
        &principal.device_id,
        document,
        action,
        detail,
    );
}

/// What storing a new document (demo data, an import) writes: its chunk, and for a
/// household its index entry and digest, which it returns too.
pub fn insert_writes(document: DocumentId, doc: &Automerge) -> (Writes, Option<HouseholdIndex>) {
    let mut writes = Writes::default();
    writes.chunk(document, doc.save());
    let index = index_of(doc);
    if let Some(index) = &index {
        writes.household(
            document,
            index.district.clone(),
            index.assigned_staff.clone(),
        );
        writes.digest(document, Digest::of(doc).to_json(), &doc.get_heads());
    }
    (writes, index)
}

/// The pending quarantined change `id` of a document and every pending one that depends on
/// it, from the document's `pending` rows (changes that do not read are passed over).
pub fn quarantine_group(
    pending: Vec<QuarantinedChange>,
    id: i64,
) -> Result<Vec<(i64, Change)>, HubError> {
    let mut candidates: Vec<(i64, Change)> = pending
        .into_iter()
        .filter_map(|row| {
            let bytes = row.bytes?;
            Change::from_bytes(bytes)
                .ok()
                .map(|change| (row.id, change))
        })
        .collect();
    let index = candidates
        .iter()
        .position(|(row_id, _)| *row_id == id)
        .ok_or(HubError::NotPending)?;
    let chosen = candidates.remove(index);
    let mut hashes: HashSet<ChangeHash> = HashSet::from([chosen.1.hash()]);
    let mut group = vec![chosen];
    loop {
        let before = group.len();
        let (joining, rest): (Vec<_>, Vec<_>) = candidates
            .into_iter()
            .partition(|(_, change)| change.deps().iter().any(|dep| hashes.contains(dep)));
        hashes.extend(joining.iter().map(|(_, change)| change.hash()));
        group.extend(joining);
        candidates = rest;
        if group.len() == before {
            return Ok(group);
        }
    }
}

impl Engine {
    /// An engine holding no document and knowing no household yet.
    pub fn new(config: &EngineConfig) -> Result<Self, StoreError> {
        let mut peer_config = PeerConfig::new(config.peer_id.clone(), PeerRole::Server);
        peer_config.max_message_bytes = config.max_message_bytes;
        // The first partition answers a client's handshake; the others take it quietly.
        peer_config.quiet_handshake = config.partition > 0;
        let policy = CaseloadPolicy {
            skip_vetting: config.skip_vetting,
            ..CaseloadPolicy::default()
        };
        let signer = (
            StaffId::new("lots-server").map_err(|error| StoreError::Damaged(error.to_string()))?,
            DeviceId::new(config.peer_id.as_str())
                .map_err(|error| StoreError::Damaged(error.to_string()))?,
        );
        Ok(Self {
            peer: SyncPeer::with_policy(peer_config, policy),
            connections: HashMap::new(),
            by_peer: HashMap::new(),
            saved_heads: HashMap::new(),
            stored_index: HashMap::new(),
            batch: Batch::default(),
            deliveries: Vec::new(),
            partition: config.partition,
            partitions: config.partitions.max(1),
            resident: LinkedHashMap::new(),
            resident_bytes: 0,
            memory_budget: config.memory_budget,
            signer,
            outlines: HashMap::new(),
        })
    }

    /// The access policy, to be given what the database holds at start.
    pub fn policy_mut(&mut self) -> &mut CaseloadPolicy {
        self.peer.policy_mut()
    }

    /// How many documents are in memory, and their estimated bytes.
    pub fn in_memory(&self) -> (usize, usize) {
        (self.resident.len(), self.resident_bytes)
    }

    /// What leaves now, in order; see [`Delivery`].
    pub fn take_deliveries(&mut self) -> Vec<Delivery> {
        std::mem::take(&mut self.deliveries)
    }

    /// Takes in a household's stored index row: who may read it, and the heads its stored
    /// chunks leave it at (a device already holding them is answered without reading it).
    pub fn index_row(&mut self, row: IndexRow) {
        let index = HouseholdIndex {
            district: row.district,
            assigned_staff: row.assigned_staff,
        };
        self.stored_index.insert(row.document, index.clone());
        self.peer
            .policy_mut()
            .households
            .insert(row.document, index);
        if let Some(heads) = row.heads {
            self.peer.set_dormant(row.document, heads);
        }
    }

    /// Takes in every user, for the checks of who may hold a household.
    pub fn set_users(&mut self, users: Vec<User>) {
        self.peer.policy_mut().users = users
            .into_iter()
            .map(|user| {
                let holder = Holder {
                    role: user.role,
                    districts: user.districts,
                    disabled: user.disabled,
                };
                (user.id, holder)
            })
            .collect();
    }

    /// A socket opened.
    pub fn connect(&mut self, now: Timestamp, connection: ConnectionId, principal: Principal) {
        self.peer
            .policy_mut()
            .connections
            .insert(connection, principal.clone());
        self.connections.insert(
            connection,
            Connection {
                principal,
                peer: None,
                opened: HashSet::new(),
            },
        );
        let outputs = self.peer.handle(now, Input::Connected { connection });
        self.process(now, Some(connection), outputs);
    }

    /// Whether a message from `connection` is to be read: it is open and not being closed.
    pub fn listens_to(&self, connection: ConnectionId) -> bool {
        self.connections.contains_key(&connection) && !self.batch.closing.contains(&connection)
    }

    /// The document a message is about, when it must be in memory to answer it (the peer
    /// cannot answer from its stored heads); the peer decodes (and refuses) the message
    /// itself, so a message that does not decode needs none.
    pub fn needs_document(&self, bytes: &[u8]) -> Option<DocumentId> {
        self.peer.needs_document(bytes)
    }

    /// Whether `document` is in memory, to be read from disk, or unknown.
    pub fn presence(&mut self, document: &DocumentId) -> Presence {
        if self.peer.document(document).is_some() {
            self.resident.to_back(document);
            return Presence::Resident;
        }
        let policy = self.peer.policy();
        if policy.removed.contains(document) || !policy.households.contains_key(document) {
            Presence::Unknown
        } else {
            Presence::OnDisk
        }
    }

    /// Takes a document read from disk into memory, bringing it to the current schema (signed
    /// as the server; only the server migrates, once, and phones wait for it). `false` when
    /// it does not load: the peer then treats it as one it does not have.
    pub fn load(&mut self, now: Timestamp, document: DocumentId, bytes: &[u8]) -> bool {
        let mut doc = match load_caught(bytes) {
            Ok(doc) => doc,
            Err(error) => {
                tracing::error!(%document, %error, "a stored document does not load; it is listed as unreadable");
                return false;
            }
        };
        let loaded = doc.get_heads();
        let (staff, device) = self.signer.clone();
        match HouseholdDoc::migrate(&mut doc, &Signature::new(staff, device, now)) {
            Ok(true) => {
                tracing::info!(%document, "household migrated to the current schema version");
                self.adopt_unsaved(document, doc, bytes.len());
                self.saved_heads.insert(document, loaded);
                self.stage_change(now, None, document);
            }
            Ok(false) => self.adopt(document, doc, bytes.len()),
            Err(error) => {
                tracing::error!(%document, %error, "a stored household cannot be migrated; it is listed as unreadable");
                self.adopt(document, doc, bytes.len());
            }
        }
        true
    }

    /// A message from a socket. Automerge 0.12 panics on some malformed input (its own
    /// assertions; found by fuzzing, BENCHMARKS.md). A panic here must cost the sender its
    /// connection, not every device its server: it is caught (the server is built to unwind,
    /// see the `server` profile), the connection closed, and [`Panicked`] returned, after
    /// which the driver stores the batch and calls [`Engine::drop_unsaved`].
    pub fn received(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        bytes: Vec<u8>,
    ) -> Result<(), Panicked> {
        if !self.listens_to(connection) {
            return Ok(());
        }
        // Logs carry ids and sizes, never a message's content (household data).
        tracing::debug!(connection = connection.0, bytes = bytes.len(), "received");
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.peer.handle(now, Input::Received { connection, bytes })
        }));
        match handled {
            Ok(outputs) => {
                self.process(now, Some(connection), outputs);
                Ok(())
            }
            Err(_) => {
                tracing::error!(
                    connection = connection.0,
                    "a sync message made the sync engine panic; its connection is closed and unsaved documents are read again from disk"
                );
                self.close(
                    now,
                    connection,
                    "the server could not read your message".into(),
                );
                Err(Panicked)
            }
        }
    }

    /// Sends a close and forgets the connection.
    fn close(&mut self, now: Timestamp, connection: ConnectionId, reason: String) {
        if self.connections.contains_key(&connection) {
            self.deliveries.push(Delivery::Close(connection, reason));
        }
        self.disconnect(now, connection);
    }

    /// A socket closed, or the driver dropped it: the connection is forgotten.
    pub fn disconnect(&mut self, now: Timestamp, connection: ConnectionId) {
        self.peer.policy_mut().connections.remove(&connection);
        if let Some(entry) = self.connections.remove(&connection) {
            let _ = self.peer.handle(now, Input::Disconnected { connection });
            // Forget the binding unless the peer id already lives on a newer connection.
            if let Some(peer) = entry.peer
                && self.by_peer.get(&peer) == Some(&connection)
            {
                self.by_peer.remove(&peer);
                self.peer.policy_mut().peers.remove(&peer);
            }
        }
    }

    /// Closes every connection of a user or a device (disabled, revoked).
    pub fn close_for(
        &mut self,
        now: Timestamp,
        user_id: Option<&str>,
        device_id: Option<&str>,
        reason: &str,
    ) {
        let doomed: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, connection)| {
                user_id.is_some_and(|user| connection.principal.user_id == user)
                    || device_id.is_some_and(|device| connection.principal.device_id == device)
            })
            .map(|(id, _)| *id)
            .collect();
        for connection in doomed {
            self.close(now, connection, reason.to_owned());
        }
    }

    /// Takes the peer's outputs for one input into the batch: what must be stored is staged
    /// for the commit, messages wait for it.
    fn process(&mut self, now: Timestamp, source: Option<ConnectionId>, outputs: Vec<Output>) {
        if let Some(connection) = source {
            self.batch.sources.insert(connection);
        }
        for binding in std::mem::take(&mut self.peer.policy_mut().new_bindings) {
            if let Ok(actor) = ActorId::try_from(binding.actor.as_str()) {
                self.batch.bound.push(actor);
            }
            self.batch
                .writes
                .bind_actor(binding.actor, binding.user_id, binding.device_id);
        }
        for output in outputs {
            if !matches!(output, Output::Send { .. }) {
                tracing::debug!(?output, "sync peer output");
            }
            match output {
                Output::PeerReady { connection, peer } => {
                    if let Some(entry) = self.connections.get_mut(&connection) {
                        entry.peer = Some(peer.clone());
                        let principal = entry.principal.clone();
                        self.by_peer.insert(peer.clone(), connection);
                        self.peer.policy_mut().peers.insert(peer, principal);
                    }
                }
                Output::DocumentChanged { document } => self.stage_change(now, source, document),
                Output::SyncStateChanged { peer, document } => {
                    self.audit_open(now, &peer, document);
                }
                Output::Rejected { connection, error } => {
                    tracing::warn!(connection = connection.0, %error, "refused a sync message");
                    match &error {
                        SyncError::WriteRefused { document, .. } => self.stage_audit(
                            now,
                            connection,
                            *document,
                            "refused",
                            "changes refused: no write access",
                        ),
                        // Changes too large or too damaged to read are not kept, but the
                        // attempt is on record.
                        SyncError::Payload { document, reason } => self.stage_audit(
                            now,
                            connection,
                            *document,
                            "refused",
                            &format!("changes not read: {reason}"),
                        ),
                        _ => {}
                    }
                }
                Output::Refused {
                    connection,
                    document,
                    changes,
                    ..
                } => self.stage_refused(now, connection, document, changes),
                Output::Close { connection, .. } => {
                    self.batch.closing.insert(connection);
                    self.batch.outputs.push(output);
                }
                Output::Send { .. } => self.batch.outputs.push(output),
                _ => {}
            }
        }
    }

    /// Keeps refused changes in quarantine with their reasons, audits each, and closes the
    /// connection once the batch is stored, telling the device which document and why.
    fn stage_refused(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        document: DocumentId,
        changes: Vec<lots_core::RefusedChange>,
    ) {
        let Some(entry) = self.connections.get(&connection) else {
            return;
        };
        let principal = entry.principal.clone();
        let mut codes = BTreeSet::new();
        for refused in changes {
            tracing::warn!(
                connection = connection.0,
                %document,
                change = %refused.hash,
                code = refused.reason.code(),
                "refused a change; kept in quarantine"
            );
            codes.insert(refused.reason.code());
            self.batch.quarantined.push(refused.hash);
            self.stage_audit(
                now,
                connection,
                document,
                "refused",
                &format!(
                    "{} {}: {}",
                    refused.hash,
                    refused.reason.code(),
                    refused.reason
                ),
            );
            self.batch.writes.quarantine(NewQuarantined {
                document,
                change_hash: refused.hash.to_string(),
                bytes: refused.bytes,
                user_id: principal.user_id.clone(),
                device_id: principal.device_id.clone(),
                reason: refused.reason.to_string(),
                signed_at: refused.signature.map(|signature| signature.at),
                received_at: now,
            });
        }
        let codes: Vec<&str> = codes.into_iter().collect();
        self.batch.closing.insert(connection);
        self.batch.outputs.push(Output::Close {
            connection,
            reason: format!("{REFUSED_PREFIX}{document} {}", codes.join(",")),
        });
    }

    /// Audits a message the socket refused unread for its size and records it in the
    /// quarantine, with who sent it and when: its changes cannot be kept (reading them is
    /// what the limit prevents), and its document is not known (its header was not read
    /// either), but a supervisor sees the attempt, and it counts against the device's
    /// quarantine quota.
    pub fn unread(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        message_bytes: u64,
        limit: u64,
    ) {
        let Some(entry) = self.connections.get(&connection) else {
            return;
        };
        let principal = entry.principal.clone();
        tracing::warn!(
            connection = connection.0,
            user = %principal.user_id,
            message_bytes,
            limit,
            "refused a message over the size limit unread; on record in the quarantine"
        );
        let reason = format!(
            "the message is {message_bytes} bytes or more, over the limit of {limit}; \
             it was not read, so none of its changes were kept"
        );
        self.batch.writes.audit_any(
            now,
            &principal.user_id,
            &principal.device_id,
            None,
            "refused",
            &format!("message refused unread: {reason}"),
        );
        self.batch.writes.quarantine_unread(NewUnread {
            document: None,
            user_id: principal.user_id,
            device_id: principal.device_id,
            reason,
            message_bytes,
            received_at: now,
        });
        self.batch.sources.insert(connection);
    }

    /// Takes a document that is already on disk (`stored` bytes of it) into memory.
    fn adopt(&mut self, document: DocumentId, doc: Automerge, stored: usize) {
        self.saved_heads.insert(document, doc.get_heads());
        self.adopt_unsaved(document, doc, stored);
    }

    /// Takes a document into memory whose latest changes are not yet on disk.
    fn adopt_unsaved(&mut self, document: DocumentId, doc: Automerge, stored: usize) {
        if let Some(index) = index_of(&doc) {
            self.peer.policy_mut().households.insert(document, index);
        }
        self.peer.insert_document(document, doc);
        self.track(document, stored.saturating_mul(MEMORY_PER_STORED_BYTE));
    }

    /// Counts a document in memory as just used, with its estimated size.
    fn track(&mut self, document: DocumentId, bytes: usize) {
        if let Some(before) = self.resident.insert(document, bytes) {
            self.resident_bytes -= before;
        }
        self.resident_bytes += bytes;
    }

    /// Stops counting a document that left memory.
    fn untrack(&mut self, document: &DocumentId) {
        if let Some(bytes) = self.resident.remove(document) {
            self.resident_bytes -= bytes;
        }
        self.saved_heads.remove(document);
        self.outlines.remove(document);
    }

    /// Evicts the least recently used documents while their estimated size is over the
    /// budget, passing over any whose changes are not yet on disk. Returns how many left.
    pub fn evict(&mut self) -> usize {
        if self.resident_bytes <= self.memory_budget {
            return 0;
        }
        let candidates: Vec<DocumentId> = self.resident.keys().copied().collect();
        let mut evicted = 0;
        for document in candidates {
            if self.resident_bytes <= self.memory_budget {
                break;
            }
            let saved = self
                .peer
                .document(&document)
                .is_some_and(|doc| self.saved_heads.get(&document) == Some(&doc.get_heads()));
            if saved && let Some(doc) = self.peer.evict_document(&document) {
                // Its heads are on disk: a device holding them needs no reading of it.
                self.peer.set_dormant(document, doc.get_heads());
                self.untrack(&document);
                evicted += 1;
            }
        }
        evicted
    }

    /// Stages a document's changes since it was last written (one chunk), its index entry
    /// when that changed, and (for a change from a connection) the audit row.
    fn stage_change(&mut self, now: Timestamp, source: Option<ConnectionId>, document: DocumentId) {
        let Some(doc) = self.peer.document(&document) else {
            return;
        };
        let heads = doc.get_heads();
        let written = self
            .batch
            .heads
            .get(&document)
            .or_else(|| self.saved_heads.get(&document));
        if written == Some(&heads) {
            return;
        }
        let bytes = match written {
            Some(written) => doc.save_after(written),
            None => doc.save(),
        };
        // A document without a household profile keeps the index the policy gave it when its
        // creator brought it.
        let index = index_of(doc).or_else(|| self.peer.policy().households.get(&document).cloned());
        let size = bytes.len();
        let grown = self.resident.get(&document).copied().unwrap_or(0)
            + size.saturating_mul(MEMORY_PER_STORED_BYTE);
        self.track(document, grown);
        self.batch.writes.chunk(document, bytes);
        self.batch.heads.insert(document, heads);
        if let Some(index) = index {
            let stored = self
                .batch
                .indexed
                .get(&document)
                .or_else(|| self.stored_index.get(&document));
            // Whoever held it until now becomes its former holder: their offline changes
            // may still come (see `CaseloadPolicy::former_holder`).
            let released = stored
                .and_then(|stored| stored.assigned_staff.clone())
                .filter(|staff| index.assigned_staff.as_ref() != Some(staff));
            if let Some(staff) = released {
                self.batch
                    .writes
                    .former_holder(document, staff.clone(), now);
                self.batch.former_holders.push((document, staff, now));
            }
            if stored != Some(&index) {
                self.batch.writes.household(
                    document,
                    index.district.clone(),
                    index.assigned_staff.clone(),
                );
                self.batch.indexed.insert(document, index.clone());
            }
            self.peer.policy_mut().households.insert(document, index);
        }
        if let Some(connection) = source {
            self.stage_audit(
                now,
                connection,
                document,
                "change",
                &format!("{size} bytes"),
            );
        }
    }

    /// Ends the batch: adds each changed household's caseload line as of its end, and hands
    /// it over to be committed. Nothing of it leaves until [`Engine::settle`].
    pub fn take_batch(&mut self) -> Batch {
        let mut batch = std::mem::take(&mut self.batch);
        for (document, heads) in &batch.heads {
            if let Some(doc) = self.peer.document(document)
                && self.peer.policy().households.contains_key(document)
            {
                let household = HouseholdDoc::new(doc);
                let (outline, before) = match self.outlines.entry(*document) {
                    Entry::Occupied(kept) => {
                        let (kept, size) = kept.into_mut();
                        let before = *size;
                        let caught_up = household.catch_up_outline(kept).map(|()| {
                            *size = kept.approximate_bytes();
                            (&*kept, *size)
                        });
                        (caught_up, before)
                    }
                    Entry::Vacant(slot) => {
                        let read = household.outline().map(|read| {
                            let size = read.approximate_bytes();
                            let (kept, size) = slot.insert((read, size));
                            (&*kept, *size)
                        });
                        (read, 0)
                    }
                };
                let (digest, after) = match outline {
                    Ok((outline, size)) => (Digest::from_outline(outline), size),
                    Err(error) => (Digest::unreadable(error.to_string()), 0),
                };
                if digest.unreadable.is_some() {
                    self.outlines.remove(document);
                }
                // The kept outline counts in its household's share of the memory budget.
                if let Some(bytes) = self.resident.get_mut(document) {
                    *bytes = (*bytes + after).saturating_sub(before);
                    self.resident_bytes = (self.resident_bytes + after).saturating_sub(before);
                }
                batch.writes.digest(*document, digest.to_json(), heads);
            }
        }
        batch
    }

    /// Takes a batch's commit outcome. Stored (`Ok`, with what the store appended): its
    /// messages and closes are delivered, in the order the peer produced them, and the
    /// documents that have many chunks returned to be compacted. Failed: nothing of it
    /// leaves; every connection with an input or a message in it is closed, what it bound or
    /// quarantined is forgotten, and every document whose changes are not on disk leaves
    /// memory, to be read again from disk when next used.
    pub fn settle(
        &mut self,
        now: Timestamp,
        batch: Batch,
        stored: Result<&[Appended], ()>,
    ) -> BTreeSet<DocumentId> {
        let Ok(appended) = stored else {
            let policy = self.peer.policy_mut();
            for actor in &batch.bound {
                policy.actors.remove(actor);
            }
            for hash in &batch.quarantined {
                policy.quarantined.remove(hash);
            }
            let mut doomed: BTreeSet<ConnectionId> = batch.sources.into_iter().collect();
            doomed.extend(batch.outputs.iter().filter_map(|output| match output {
                Output::Send { connection, .. } | Output::Close { connection, .. } => {
                    Some(*connection)
                }
                _ => None,
            }));
            for connection in doomed {
                self.close(
                    now,
                    connection,
                    "the server could not store your changes; try again".into(),
                );
            }
            self.drop_unsaved();
            return BTreeSet::new();
        };
        self.saved_heads.extend(batch.heads);
        self.stored_index.extend(batch.indexed);
        let policy = self.peer.policy_mut();
        for (document, staff, at) in batch.former_holders {
            policy
                .former_holders
                .entry(document)
                .or_default()
                .insert(staff, at);
        }
        for output in batch.outputs {
            match output {
                Output::Send { connection, bytes }
                    if self.connections.contains_key(&connection) =>
                {
                    self.deliveries.push(Delivery::Send(connection, bytes));
                }
                Output::Close { connection, reason } => self.close(now, connection, reason),
                _ => {}
            }
        }
        appended
            .iter()
            .filter(|appended| appended.chunks > COMPACT_AFTER_CHUNKS)
            .map(|appended| appended.document)
            .collect()
    }

    /// A full save of `document` from memory, for compacting its stored chunks (`stored`,
    /// back to back): only when the copy in memory is all on disk (nothing of it waits to be
    /// written, and no change waits for a missing dependency: Automerge's save would write
    /// such a change too) and holds every change stored, so the save neither adds what was
    /// never written nor drops what another process wrote. `None` sends the store to the
    /// chunks, as does a panic inside Automerge's save (caught: this runs on the hub's task).
    pub fn compacted(&self, document: &DocumentId, stored: &[u8]) -> Option<Vec<u8>> {
        let doc = self.peer.document(document)?;
        let written = self.saved_heads.get(document) == Some(&doc.get_heads())
            && lots_core::automerge::ReadDoc::get_missing_deps(doc, &[]).is_empty();
        if !written || !lots_core::covered_by(doc, stored) {
            return None;
        }
        let options = lots_core::automerge::SaveOptions {
            retain_orphans: false,
            ..Default::default()
        };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            doc.save_with_options(options)
        }))
        .ok()
    }

    /// After a failed write or a panic: takes every document whose changes are not on disk
    /// out of memory (with what each device is known to share of it), so that it is read
    /// again from disk when it is next used.
    pub fn drop_unsaved(&mut self) {
        let unsaved: Vec<DocumentId> = self
            .peer
            .document_ids()
            .filter(|document| {
                let heads = self.peer.document(document).map(Automerge::get_heads);
                heads.as_ref() != self.saved_heads.get(document)
            })
            .copied()
            .collect();
        for document in unsaved {
            self.peer.remove_document(&document);
            self.untrack(&document);
        }
    }

    /// Stages an `open` audit row the first time a connection syncs a document.
    fn audit_open(&mut self, now: Timestamp, peer: &PeerId, document: DocumentId) {
        let Some(&connection) = self.by_peer.get(peer) else {
            return;
        };
        let first = self
            .connections
            .get_mut(&connection)
            .is_some_and(|entry| entry.opened.insert(document));
        if first {
            self.stage_audit(now, connection, document, "open", "sync started");
        }
    }

    /// Stages an audit row for what a connection's user did.
    fn stage_audit(
        &mut self,
        now: Timestamp,
        connection: ConnectionId,
        document: DocumentId,
        action: &str,
        detail: &str,
    ) {
        let Some(entry) = self.connections.get(&connection) else {
            return;
        };
        audit(
            &mut self.batch.writes,
            now,
            &entry.principal,
            document,
            action,
            detail,
        );
    }

    /// Whether `principal` may read the household `document`.
    pub fn readable(&self, principal: &Principal, document: &DocumentId) -> bool {
        self.peer
            .policy()
            .households
            .get(document)
            .is_some_and(|index| principal.may_read(index))
    }

    /// A supervisor moves a household (in memory) to a staff member's caseload, or to
    /// nobody's; the change is staged like a device's.
    pub fn assign(
        &mut self,
        now: Timestamp,
        principal: &Principal,
        document: DocumentId,
        staff: Option<String>,
    ) -> Result<(), HubError> {
        if !self.readable(principal, &document) || principal.role != Role::Supervisor {
            return Err(HubError::NotFound);
        }
        let staff = staff.map(StaffId::new).transpose()?;
        // Only to staff of the household's district: a supervisor of two districts cannot
        // hand a household to someone who works only in the other.
        if let Some(staff) = &staff {
            let policy = self.peer.policy();
            let district = policy
                .households
                .get(&document)
                .and_then(|index| index.district.as_ref());
            let holds = policy.users.get(staff.as_str()).is_some_and(|holder| {
                holder.role == Role::Staff
                    && !holder.disabled
                    && district.is_some_and(|district| holder.districts.contains(district))
            });
            if !holds {
                return Err(HubError::NotAssignable {
                    staff: staff.to_string(),
                });
            }
        }
        let signature = Signature::new(
            StaffId::new(principal.user_id.clone()).map_err(|_| HubError::NotFound)?,
            DeviceId::new(principal.device_id.clone()).map_err(|_| HubError::NotFound)?,
            now,
        );
        let Some(doc) = self.peer.document_mut(&document) else {
            return Err(HubError::NotFound);
        };
        HouseholdDoc::new(doc).assign_staff(&signature, staff.as_ref())?;
        let outputs = self.peer.handle(now, Input::LocalChange { document });
        self.stage_change(now, None, document);
        audit(
            &mut self.batch.writes,
            now,
            principal,
            document,
            "change",
            "assigned staff",
        );
        self.process(now, None, outputs);
        Ok(())
    }

    /// A new document was stored (demo data, an import): it is known from now on.
    pub fn inserted(&mut self, document: DocumentId, index: Option<HouseholdIndex>) {
        if let Some(index) = index {
            self.stored_index.insert(document, index.clone());
            self.peer.policy_mut().households.insert(document, index);
        }
    }

    /// What removing households writes (tombstones and the access log's rows, each filed
    /// under the household's district), or `NotFound` for one that is not known.
    pub fn removal_writes(
        &self,
        now: Timestamp,
        principal: &Principal,
        removals: &[Removal],
    ) -> Result<Writes, HubError> {
        let mut writes = Writes::default();
        for removal in removals {
            let Some(index) = self.peer.policy().households.get(&removal.document) else {
                return Err(HubError::NotFound);
            };
            let districts: Vec<String> = index.district.iter().cloned().collect();
            writes.remove(removal.clone(), &principal.user_id);
            writes.audit_about(
                now,
                &principal.user_id,
                &principal.device_id,
                removal.document,
                "household-removed",
                &format!("kind={}", removal.kind.as_str()),
                &districts,
            );
        }
        Ok(writes)
    }

    /// Whether a household was removed.
    pub fn is_removed(&self, document: &DocumentId) -> bool {
        self.peer.policy().removed.contains(document)
    }

    /// Drops a removed household from memory, refuses it for ever after, and closes the
    /// sockets of everyone who could read it, so their devices erase their copies.
    pub fn forget(&mut self, now: Timestamp, document: DocumentId) {
        let index = self.peer.policy().households.get(&document).cloned();
        self.peer.remove_document(&document);
        let policy = self.peer.policy_mut();
        policy.households.remove(&document);
        policy.former_holders.remove(&document);
        policy.removed.insert(document);
        self.untrack(&document);
        self.stored_index.remove(&document);
        let Some(index) = index else {
            return;
        };
        let readers: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, connection)| connection.principal.may_read(&index))
            .map(|(id, _)| *id)
            .collect();
        for connection in readers {
            self.close(now, connection, format!("{REMOVED_PREFIX}{document}"));
        }
    }

    /// Whether `principal` may decide on the quarantined change `row`: a supervisor of the
    /// household's districts, or, for a message refused unread (no household known), of the
    /// sender's; and whether it still waits.
    pub fn may_decide(
        &self,
        principal: &Principal,
        row: &QuarantinedChange,
    ) -> Result<(), HubError> {
        let readable = match &row.document {
            Some(document) => self.readable(principal, document),
            None => self
                .peer
                .policy()
                .users
                .get(&row.user_id)
                .is_some_and(|sender| {
                    sender
                        .districts
                        .iter()
                        .any(|district| principal.districts.contains(district))
                }),
        };
        if !readable || principal.role != Role::Supervisor {
            return Err(HubError::NotFound);
        }
        if row.status != crate::store::QuarantineStatus::Pending {
            return Err(HubError::NotPending);
        }
        Ok(())
    }

    /// Stages the access log's row for rejecting a message refused unread.
    pub fn reject_unread(
        &mut self,
        now: Timestamp,
        principal: &Principal,
        row: &QuarantinedChange,
    ) {
        self.batch.writes.audit_any(
            now,
            &principal.user_id,
            &principal.device_id,
            row.document,
            "quarantine-rejected",
            &format!(
                "message of {} bytes refused unread, from {} on {}",
                row.message_bytes.unwrap_or(0),
                row.user_id,
                row.device_id
            ),
        );
    }

    /// Merges accepted quarantined changes into their document (in memory) and stages them.
    pub fn accept(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        group: &[(i64, Change)],
    ) -> Result<(), HubError> {
        let Some(doc) = self.peer.document_mut(&document) else {
            return Err(HubError::NotFound);
        };
        // Automerge would hold a change whose dependency it lacks aside, unapplied and
        // unsaid: the decision would be recorded, and the change never land.
        let hashes: HashSet<ChangeHash> = group.iter().map(|(_, change)| change.hash()).collect();
        let missing = group
            .iter()
            .flat_map(|(_, change)| change.deps().iter())
            .find(|dep| !hashes.contains(*dep) && doc.get_change_meta_by_hash(dep).is_none());
        if let Some(dep) = missing {
            return Err(HubError::WaitsFor {
                change: dep.to_string(),
            });
        }
        let changes: Vec<Change> = group.iter().map(|(_, change)| change.clone()).collect();
        doc.apply_changes(changes).map_err(|error| {
            StoreError::Damaged(format!("a quarantined change does not apply: {error}"))
        })?;
        let outputs = self.peer.handle(now, Input::LocalChange { document });
        self.stage_change(now, None, document);
        self.process(now, None, outputs);
        let policy = self.peer.policy_mut();
        for (_, change) in group {
            policy.quarantined.remove(&change.hash());
        }
        Ok(())
    }

    /// Stages the access log's rows for a decision on a group of quarantined changes.
    pub fn audit_decision(
        &mut self,
        now: Timestamp,
        principal: &Principal,
        document: DocumentId,
        row: &QuarantinedChange,
        group: &[(i64, Change)],
        accept: bool,
    ) {
        let action = if accept {
            "quarantine-accepted"
        } else {
            "quarantine-rejected"
        };
        for (_, change) in group {
            audit(
                &mut self.batch.writes,
                now,
                principal,
                document,
                action,
                &format!(
                    "change {} from {} on {}",
                    change.hash(),
                    row.user_id,
                    row.device_id
                ),
            );
        }
    }

    /// Another process changed a household's index entry: takes it in, and says whether it
    /// moved to another staff member (whose former holders are then read again).
    pub fn index_changed(&mut self, document: DocumentId, index: HouseholdIndex) -> bool {
        let before = self.stored_index.insert(document, index.clone());
        self.peer
            .policy_mut()
            .households
            .insert(document, index.clone());
        before.is_some_and(|before| before.assigned_staff != index.assigned_staff)
    }

    /// Takes in a household's former holders as stored.
    pub fn set_former_holders(&mut self, document: DocumentId, former: HashMap<String, Timestamp>) {
        self.peer
            .policy_mut()
            .former_holders
            .insert(document, former);
    }

    /// Whether what another process stored of `document` is read now: `Some(resident)` when
    /// it is in memory or synced by a device here; `None` (what was known of its heads
    /// forgotten) when it is read whole when next used.
    pub fn follows_stored(&mut self, document: &DocumentId) -> Option<bool> {
        let resident = self.peer.document(document).is_some();
        if !resident && !self.peer.followed(document) {
            self.peer.forget_dormant(document);
            return None;
        }
        Some(resident)
    }

    /// Takes in what another server process stored: one chunk (or the whole document, when
    /// it is not in memory). It is on disk already, so it counts as saved; the peers here
    /// then receive it like any other change.
    pub fn merge_stored(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let Some(doc) = self.peer.document_mut(&document) else {
            let doc = load_caught(bytes).map_err(|error| {
                StoreError::Damaged(format!("document {document} does not load: {error}"))
            })?;
            self.adopt(document, doc, bytes.len());
            let outputs = self.peer.handle(now, Input::LocalChange { document });
            self.process(now, None, outputs);
            return Ok(());
        };
        let before = doc.get_heads();
        let damaged = |error: String| {
            StoreError::Damaged(format!(
                "a chunk of document {document} does not load: {error}"
            ))
        };
        lots_core::check_stored(bytes).map_err(|error| damaged(error.to_string()))?;
        doc.load_incremental(bytes)
            .map_err(|error| damaged(error.to_string()))?;
        let heads = doc.get_heads();
        if heads == before {
            return Ok(());
        }
        if let Some(index) = index_of(doc) {
            self.peer.policy_mut().households.insert(document, index);
        }
        // Only what is on disk counts as saved: had this process changes of its own not yet
        // written (after a failed write), the next write still includes them.
        if self.saved_heads.get(&document) == Some(&before) {
            self.saved_heads.insert(document, heads);
        }
        let outputs = self.peer.handle(now, Input::LocalChange { document });
        self.process(now, None, outputs);
        Ok(())
    }

    /// Takes in the household index as stored again (announcements from other processes may
    /// have been missed), and returns this partition's households to read again: those in
    /// memory or synced here, and every one whose entry changed.
    pub fn reread_index(&mut self, rows: Vec<IndexRow>) -> Vec<DocumentId> {
        let mut documents = Vec::new();
        let (partition, partitions) = (self.partition, self.partitions);
        let ours = rows
            .into_iter()
            .filter(|row| partition_of(&row.document, partitions) == partition);
        for row in ours {
            let resident = self.peer.document(&row.document).is_some();
            // What is known of the heads of each document not in memory comes from disk.
            match row.heads {
                _ if resident => {}
                Some(heads) => self.peer.set_dormant(row.document, heads),
                None => self.peer.forget_dormant(&row.document),
            }
            let entry = HouseholdIndex {
                district: row.district,
                assigned_staff: row.assigned_staff,
            };
            if resident
                || self.peer.followed(&row.document)
                || self.stored_index.get(&row.document) != Some(&entry)
            {
                documents.push(row.document);
            }
        }
        documents
    }
}

#[cfg(test)]
mod tests;

//! The hub: one task that owns the sync peer, every loaded document and the access policy.
//!
//! Every socket talks to the hub through a channel, so the peer (which is not thread-safe and
//! needs no locks) sees one input at a time. For each input the hub first makes durable
//! whatever changed — new document chunks and audit rows, committed with `synchronous=FULL` —
//! and only then sends the messages that depend on it. If storage fails, nothing is sent, the
//! connection is closed and the document is reloaded from disk, so memory never runs ahead of
//! what the server has acknowledged.

use std::collections::{HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use lots_core::automerge::{Automerge, ChangeHash};
use lots_core::{
    ConnectionId, DeviceId, DocumentId, HouseholdDoc, Input, Output, PeerConfig, PeerId,
    Role as PeerRole, Signature, StaffId, SyncError, SyncPeer, Timestamp, VisitStatus,
};
use tokio::sync::{mpsc, oneshot};

use super::policy::{CaseloadPolicy, HouseholdIndex, Principal};
use crate::store::{Announcement, Heard, Store, StoreError};

/// After this many incremental chunks a document is compacted into one full save.
const COMPACT_AFTER_CHUNKS: i64 = 64;

/// What the hub sends a socket's writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A protocol message.
    Binary(Vec<u8>),
    /// Close the socket with this reason.
    Close(String),
}

/// A household as the caseload list shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HouseholdSummary {
    /// The document id.
    pub document_id: String,
    /// Its `automerge:` URL.
    pub url: String,
    /// Its district.
    pub district: String,
    /// Street address.
    pub address: String,
    /// Flat or unit.
    pub unit: String,
    /// The staff member whose caseload it is in.
    pub assigned_staff: Option<String>,
    /// Active or closed.
    #[schema(value_type = String, example = "active")]
    pub status: lots_core::CaseStatus,
    /// How many people.
    pub members: usize,
    /// The next planned visit (milliseconds since the Unix epoch).
    #[schema(value_type = Option<i64>)]
    pub next_visit: Option<Timestamp>,
    /// The last held visit (milliseconds since the Unix epoch).
    #[schema(value_type = Option<i64>)]
    pub last_visit: Option<Timestamp>,
    /// Follow-ups past their due date and not done.
    pub overdue_follow_ups: usize,
    /// Fields with concurrent values waiting for a person to choose.
    pub conflicts: usize,
}

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
}

enum Command {
    Connect {
        principal: Principal,
        outbound: mpsc::UnboundedSender<Outbound>,
        reply: oneshot::Sender<ConnectionId>,
    },
    Received {
        connection: ConnectionId,
        bytes: Vec<u8>,
    },
    Disconnected {
        connection: ConnectionId,
    },
    Caseload {
        principal: Principal,
        reply: oneshot::Sender<Vec<HouseholdSummary>>,
    },
    Assign {
        principal: Principal,
        document: DocumentId,
        staff: Option<String>,
        reply: oneshot::Sender<Result<(), HubError>>,
    },
    Insert {
        document: DocumentId,
        doc: Box<Automerge>,
        reply: oneshot::Sender<Result<(), HubError>>,
    },
    CloseFor {
        user_id: Option<String>,
        device_id: Option<String>,
        reason: String,
    },
    /// Another server process stored a chunk of this document.
    Stored {
        document: DocumentId,
        seq: i64,
    },
    /// Announcements from other processes may have been missed: read every document again.
    Reread,
}

/// A handle to the hub; cheap to clone.
#[derive(Debug, Clone)]
pub struct HubHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("hub command")
    }
}

impl HubHandle {
    /// Registers a new socket; returns its connection id.
    pub async fn connect(
        &self,
        principal: Principal,
        outbound: mpsc::UnboundedSender<Outbound>,
    ) -> Result<ConnectionId, HubError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Connect {
                principal,
                outbound,
                reply,
            })
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)
    }

    /// Passes on a message from a socket.
    pub fn received(&self, connection: ConnectionId, bytes: Vec<u8>) {
        let _ = self.tx.send(Command::Received { connection, bytes });
    }

    /// Tells the hub a socket closed.
    pub fn disconnected(&self, connection: ConnectionId) {
        let _ = self.tx.send(Command::Disconnected { connection });
    }

    /// The households this person may see.
    pub async fn caseload(&self, principal: Principal) -> Result<Vec<HouseholdSummary>, HubError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Caseload { principal, reply })
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)
    }

    /// Moves a household to a staff member's caseload, signed by `principal`.
    pub async fn assign(
        &self,
        principal: Principal,
        document: DocumentId,
        staff: Option<String>,
    ) -> Result<(), HubError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Assign {
                principal,
                document,
                staff,
                reply,
            })
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)?
    }

    /// Adds a new document (demo data, imports), stored before it is shared.
    pub async fn insert(&self, document: DocumentId, doc: Automerge) -> Result<(), HubError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command::Insert {
                document,
                doc: Box::new(doc),
                reply,
            })
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)?
    }

    /// Closes every socket of a user or a device (disabled, revoked) on this process. The
    /// API also announces it, so that other processes on a shared database do the same.
    pub fn close_for(&self, user_id: Option<String>, device_id: Option<String>, reason: &str) {
        let _ = self.tx.send(Command::CloseFor {
            user_id,
            device_id,
            reason: reason.to_owned(),
        });
    }

    /// Hears other server processes on a shared PostgreSQL and passes on what they announce,
    /// until the hub stops. On SQLite there are no others and this returns at once.
    pub async fn follow_other_processes(self, store: Store) {
        loop {
            let mut listener = match store.listen().await {
                Ok(Some(listener)) => listener,
                Ok(None) => return,
                Err(error) => {
                    tracing::error!(%error, "cannot listen for other server processes; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            // Anything announced before this listener started is read again.
            if self.tx.send(Command::Reread).is_err() {
                return;
            }
            loop {
                let command = match listener.next().await {
                    Ok(Heard::Announcement(Announcement::Chunk { document, seq })) => {
                        Command::Stored { document, seq }
                    }
                    Ok(Heard::Announcement(Announcement::Close {
                        user_id,
                        device_id,
                        reason,
                    })) => Command::CloseFor {
                        user_id,
                        device_id,
                        reason,
                    },
                    Ok(Heard::Reconnected) => Command::Reread,
                    Err(error) => {
                        tracing::error!(%error, "lost the announcements of other server processes; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        break;
                    }
                };
                if self.tx.send(command).is_err() {
                    return;
                }
            }
        }
    }
}

struct Connection {
    principal: Principal,
    outbound: mpsc::UnboundedSender<Outbound>,
    peer: Option<PeerId>,
    opened: HashSet<DocumentId>,
}

struct Hub {
    peer: SyncPeer<CaseloadPolicy>,
    store: Store,
    connections: HashMap<ConnectionId, Connection>,
    saved_heads: HashMap<DocumentId, Vec<ChangeHash>>,
    next_connection: u64,
}

/// The wall clock: the server, unlike core, may read it.
pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or(0);
    Timestamp::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// Loads every stored document and starts the hub task.
pub async fn start(
    store: Store,
    peer_id: PeerId,
    max_message_bytes: usize,
) -> Result<HubHandle, StoreError> {
    let mut config = PeerConfig::new(peer_id, PeerRole::Server);
    config.max_message_bytes = max_message_bytes;
    let mut hub = Hub {
        peer: SyncPeer::with_policy(config, CaseloadPolicy::default()),
        store,
        connections: HashMap::new(),
        saved_heads: HashMap::new(),
        next_connection: 0,
    };
    // The stored index covers documents without a household profile (brought by other
    // automerge-repo clients), which belong to their creator.
    for (document, district, assigned_staff) in hub.store.household_index().await? {
        hub.peer.policy_mut().households.insert(
            document,
            HouseholdIndex {
                district,
                assigned_staff,
            },
        );
    }
    for (document, bytes) in hub.store.documents().await? {
        match Automerge::load(&bytes) {
            Ok(doc) => hub.adopt(document, doc),
            Err(error) => {
                tracing::error!(%document, %error, "a stored document does not load; it is left out")
            }
        }
    }
    tracing::info!(documents = hub.saved_heads.len(), "documents loaded");
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(command) = rx.recv().await {
            hub.command(command).await;
        }
    });
    Ok(HubHandle { tx })
}

fn index_of(doc: &Automerge) -> Option<HouseholdIndex> {
    let profile = HouseholdDoc::new(doc).profile().ok()?;
    Some(HouseholdIndex {
        district: Some(profile.district.to_string()),
        assigned_staff: profile.assigned_staff.map(|staff| staff.to_string()),
    })
}

impl Hub {
    /// Takes a document that is already on disk into memory.
    fn adopt(&mut self, document: DocumentId, doc: Automerge) {
        if let Some(index) = index_of(&doc) {
            self.peer.policy_mut().households.insert(document, index);
        }
        self.saved_heads.insert(document, doc.get_heads());
        self.peer.insert_document(document, doc);
    }

    async fn command(&mut self, command: Command) {
        let now = now();
        match command {
            Command::Connect {
                principal,
                outbound,
                reply,
            } => {
                self.next_connection += 1;
                let connection = ConnectionId(self.next_connection);
                self.peer
                    .policy_mut()
                    .connections
                    .insert(connection, principal.clone());
                self.connections.insert(
                    connection,
                    Connection {
                        principal,
                        outbound,
                        peer: None,
                        opened: HashSet::new(),
                    },
                );
                let outputs = self.peer.handle(now, Input::Connected { connection });
                let _ = reply.send(connection);
                self.apply(now, Some(connection), outputs).await;
            }
            Command::Received { connection, bytes } => {
                if !self.connections.contains_key(&connection) {
                    return;
                }
                if tracing::enabled!(tracing::Level::DEBUG) {
                    tracing::debug!(connection = connection.0, message = ?lots_core::Message::decode(&bytes), "received");
                }
                let outputs = self.peer.handle(now, Input::Received { connection, bytes });
                self.apply(now, Some(connection), outputs).await;
            }
            Command::Disconnected { connection } => self.disconnect(now, connection),
            Command::Caseload { principal, reply } => {
                let _ = reply.send(self.caseload(&principal, now));
            }
            Command::Assign {
                principal,
                document,
                staff,
                reply,
            } => {
                let result = self.assign(now, &principal, document, staff).await;
                let _ = reply.send(result);
            }
            Command::Insert {
                document,
                doc,
                reply,
            } => {
                let result = async {
                    self.store.append_chunk(&document, &doc.save(), now).await?;
                    if let Some(index) = index_of(&doc) {
                        self.store
                            .index_household(
                                &document,
                                index.district.as_deref(),
                                index.assigned_staff.as_deref(),
                                now,
                            )
                            .await?;
                    }
                    self.adopt(document, *doc);
                    Ok(())
                }
                .await;
                let _ = reply.send(result);
            }
            Command::Stored { document, seq } => {
                if let Err(error) = self.merge_stored(now, document, Some(seq)).await {
                    tracing::error!(%document, %error, "reading another process's change failed");
                }
            }
            Command::Reread => {
                let documents = match self.store.household_index().await {
                    Ok(index) => index.into_iter().map(|(document, ..)| document).collect(),
                    Err(error) => {
                        tracing::error!(%error, "cannot read the household index again");
                        Vec::new()
                    }
                };
                for document in documents {
                    if let Err(error) = self.merge_stored(now, document, None).await {
                        tracing::error!(%document, %error, "reading a document again failed");
                    }
                }
            }
            Command::CloseFor {
                user_id,
                device_id,
                reason,
            } => {
                let doomed: Vec<ConnectionId> = self
                    .connections
                    .iter()
                    .filter(|(_, connection)| {
                        user_id
                            .as_deref()
                            .is_some_and(|user| connection.principal.user_id == user)
                            || device_id
                                .as_deref()
                                .is_some_and(|device| connection.principal.device_id == device)
                    })
                    .map(|(id, _)| *id)
                    .collect();
                for connection in doomed {
                    if let Some(entry) = self.connections.get(&connection) {
                        let _ = entry.outbound.send(Outbound::Close(reason.clone()));
                    }
                    self.disconnect(now, connection);
                }
            }
        }
    }

    fn disconnect(&mut self, now: Timestamp, connection: ConnectionId) {
        self.peer.policy_mut().connections.remove(&connection);
        if let Some(entry) = self.connections.remove(&connection) {
            let _ = self.peer.handle(now, Input::Disconnected { connection });
            if let Some(peer) = entry.peer {
                // Forget the binding unless the peer id already lives on a newer connection.
                if !self
                    .connections
                    .values()
                    .any(|other| other.peer.as_ref() == Some(&peer))
                {
                    self.peer.policy_mut().peers.remove(&peer);
                }
            }
        }
    }

    /// Carries out a batch of the peer's outputs: durable effects first, then messages.
    async fn apply(&mut self, now: Timestamp, source: Option<ConnectionId>, outputs: Vec<Output>) {
        let mut failed = false;
        for output in &outputs {
            if !matches!(output, Output::Send { .. }) {
                tracing::debug!(?output, "sync peer output");
            }
            match output {
                Output::PeerReady { connection, peer } => {
                    if let Some(entry) = self.connections.get_mut(connection) {
                        entry.peer = Some(peer.clone());
                        let principal = entry.principal.clone();
                        self.peer.policy_mut().peers.insert(peer.clone(), principal);
                    }
                }
                Output::DocumentChanged { document } => {
                    if let Err(error) = self.persist(now, source, *document).await {
                        tracing::error!(%document, %error, "storing a change failed; the connection is closed and the document reloaded");
                        failed = true;
                    }
                }
                Output::SyncStateChanged { peer, document } => {
                    self.audit_open(now, peer, *document).await;
                }
                Output::Rejected { connection, error } => {
                    tracing::warn!(connection = connection.0, %error, "refused a sync message");
                    if let SyncError::WriteRefused { document, .. } = error {
                        self.audit_for(
                            now,
                            *connection,
                            document,
                            "refused",
                            "changes refused: no write access",
                        )
                        .await;
                    }
                }
                _ => {}
            }
        }
        if failed {
            if let Some(connection) = source {
                if let Some(entry) = self.connections.get(&connection) {
                    let _ = entry.outbound.send(Outbound::Close(
                        "the server could not store your changes; try again".into(),
                    ));
                }
                self.disconnect(now, connection);
            }
            self.reload_unsaved().await;
            return;
        }
        for output in outputs {
            match output {
                Output::Send { connection, bytes } => {
                    if let Some(entry) = self.connections.get(&connection) {
                        let _ = entry.outbound.send(Outbound::Binary(bytes));
                    }
                }
                Output::Close { connection, reason } => {
                    if let Some(entry) = self.connections.get(&connection) {
                        let _ = entry.outbound.send(Outbound::Close(reason));
                    }
                    self.disconnect(now, connection);
                }
                _ => {}
            }
        }
    }

    /// Writes a document's new changes to disk, indexes it and audits the change.
    async fn persist(
        &mut self,
        now: Timestamp,
        source: Option<ConnectionId>,
        document: DocumentId,
    ) -> Result<(), StoreError> {
        let Some(doc) = self.peer.document(&document) else {
            return Ok(());
        };
        let heads = doc.get_heads();
        let bytes = match self.saved_heads.get(&document) {
            Some(saved) => doc.save_after(saved),
            None => doc.save(),
        };
        self.store.append_chunk(&document, &bytes, now).await?;
        if self.store.chunk_count(&document).await? > COMPACT_AFTER_CHUNKS {
            self.store.compact(&document, now).await?;
        }
        // A document without a household profile keeps the index the policy gave it when its
        // creator brought it.
        let index = index_of(doc).or_else(|| self.peer.policy().households.get(&document).cloned());
        if let Some(index) = index {
            self.store
                .index_household(
                    &document,
                    index.district.as_deref(),
                    index.assigned_staff.as_deref(),
                    now,
                )
                .await?;
            self.peer.policy_mut().households.insert(document, index);
        }
        self.saved_heads.insert(document, heads);
        if let Some(connection) = source {
            self.audit_for(
                now,
                connection,
                &document,
                "change",
                &format!("{} bytes", bytes.len()),
            )
            .await;
        }
        Ok(())
    }

    /// Takes in what another server process stored for a document: the one chunk it
    /// announced, or (when that chunk was compacted away, or `seq` is `None`) every chunk.
    /// What is read is already on disk, so it counts as saved; the peers of this process
    /// then receive it like any other change.
    async fn merge_stored(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        seq: Option<i64>,
    ) -> Result<(), StoreError> {
        let chunk = match seq {
            Some(seq) if self.peer.document(&document).is_some() => {
                self.store.chunk(&document, seq).await?
            }
            _ => None,
        };
        let bytes = match chunk {
            Some(bytes) => bytes,
            None => match self.store.document(&document).await? {
                Some(bytes) => bytes,
                None => return Ok(()),
            },
        };
        let index = self
            .store
            .household(&document)
            .await?
            .map(|(district, assigned_staff)| HouseholdIndex {
                district,
                assigned_staff,
            });
        if let Some(index) = index {
            self.peer.policy_mut().households.insert(document, index);
        }
        let Some(doc) = self.peer.document_mut(&document) else {
            let doc = Automerge::load(&bytes).map_err(|error| {
                StoreError::Damaged(format!("document {document} does not load: {error}"))
            })?;
            self.adopt(document, doc);
            let outputs = self.peer.handle(now, Input::LocalChange { document });
            self.apply(now, None, outputs).await;
            return Ok(());
        };
        let before = doc.get_heads();
        doc.load_incremental(&bytes).map_err(|error| {
            StoreError::Damaged(format!(
                "a chunk of document {document} does not load: {error}"
            ))
        })?;
        let heads = doc.get_heads();
        if heads == before {
            return Ok(());
        }
        let index = index_of(doc);
        if let Some(index) = index {
            self.peer.policy_mut().households.insert(document, index);
        }
        // Only what is on disk counts as saved: had this process changes of its own not yet
        // written (after a failed write), the next write still includes them.
        if self.saved_heads.get(&document) == Some(&before) {
            self.saved_heads.insert(document, heads);
        }
        let outputs = self.peer.handle(now, Input::LocalChange { document });
        self.apply(now, None, outputs).await;
        Ok(())
    }

    /// After a failed write: put every document back to what is on disk.
    async fn reload_unsaved(&mut self) {
        let unsaved: Vec<DocumentId> = self
            .peer
            .document_ids()
            .filter(|document| {
                let heads = self.peer.document(document).map(Automerge::get_heads);
                heads.as_ref() != self.saved_heads.get(document)
            })
            .copied()
            .collect();
        let stored = match self.store.documents().await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(%error, "cannot reload documents after a failed write");
                return;
            }
        };
        for document in unsaved {
            self.peer.remove_document(&document);
            self.saved_heads.remove(&document);
            if let Some((_, bytes)) = stored.iter().find(|(id, _)| *id == document)
                && let Ok(doc) = Automerge::load(bytes)
            {
                self.adopt(document, doc);
            }
        }
    }

    async fn audit_open(&mut self, now: Timestamp, peer: &PeerId, document: DocumentId) {
        let Some((connection, _)) = self
            .connections
            .iter()
            .find(|(_, entry)| entry.peer.as_ref() == Some(peer))
        else {
            return;
        };
        let connection = *connection;
        let first = self
            .connections
            .get_mut(&connection)
            .is_some_and(|entry| entry.opened.insert(document));
        if first {
            self.audit_for(now, connection, &document, "open", "sync started")
                .await;
        }
    }

    async fn audit_for(
        &self,
        now: Timestamp,
        connection: ConnectionId,
        document: &DocumentId,
        action: &str,
        detail: &str,
    ) {
        let Some(entry) = self.connections.get(&connection) else {
            return;
        };
        let principal = &entry.principal;
        if let Err(error) = self
            .store
            .audit(
                now,
                &principal.user_id,
                &principal.device_id,
                document,
                action,
                detail,
            )
            .await
        {
            tracing::error!(%error, "writing the audit log failed");
        }
    }

    fn caseload(&self, principal: &Principal, now: Timestamp) -> Vec<HouseholdSummary> {
        let mut summaries = Vec::new();
        for (document, index) in &self.peer.policy().households {
            if !principal.may_read(index) {
                continue;
            }
            let Some(doc) = self.peer.document(document) else {
                continue;
            };
            let doc = HouseholdDoc::new(doc);
            let Ok(household) = doc.household() else {
                continue;
            };
            let today = now.date();
            let next_visit = household
                .visits
                .values()
                .filter(|visit| visit.status == VisitStatus::Planned && visit.planned_at >= now)
                .map(|visit| visit.planned_at)
                .min();
            let last_visit = household
                .visits
                .values()
                .filter(|visit| visit.status == VisitStatus::Done)
                .map(|visit| visit.planned_at)
                .max();
            let overdue_follow_ups = household
                .visits
                .values()
                .flat_map(|visit| visit.follow_ups.values())
                .filter(|follow_up| follow_up.done_on.is_none() && follow_up.due_on < today)
                .count();
            summaries.push(HouseholdSummary {
                document_id: document.to_string(),
                url: document.url(),
                district: household.profile.district.to_string(),
                address: household.profile.address.clone(),
                unit: household.profile.unit.clone(),
                assigned_staff: household
                    .profile
                    .assigned_staff
                    .as_ref()
                    .map(ToString::to_string),
                status: household.profile.status,
                members: household.members.len(),
                next_visit,
                last_visit,
                overdue_follow_ups,
                conflicts: doc
                    .conflicts()
                    .map(|conflicts| conflicts.len())
                    .unwrap_or(0),
            });
        }
        summaries.sort_by(|a, b| {
            b.overdue_follow_ups
                .cmp(&a.overdue_follow_ups)
                .then(a.next_visit.cmp(&b.next_visit))
                .then(a.address.cmp(&b.address))
        });
        summaries
    }

    async fn assign(
        &mut self,
        now: Timestamp,
        principal: &Principal,
        document: DocumentId,
        staff: Option<String>,
    ) -> Result<(), HubError> {
        let readable = self
            .peer
            .policy()
            .households
            .get(&document)
            .is_some_and(|index| principal.may_read(index));
        if !readable || principal.role != crate::store::Role::Supervisor {
            return Err(HubError::NotFound);
        }
        let staff = staff.map(StaffId::new).transpose()?;
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
        self.persist(now, None, document).await?;
        self.store
            .audit(
                now,
                &principal.user_id,
                &principal.device_id,
                &document,
                "change",
                "assigned staff",
            )
            .await?;
        self.apply(now, None, outputs).await;
        Ok(())
    }
}

//! The hub: tasks (partitions) that each own a sync peer, the documents whose ids fall to
//! it, and its copy of the access policy. The handle routes every input to the partition of
//! its document, or to all of them (a handshake, a closed socket, users changed), so the
//! partitions work on all cores and one socket talks to every partition it needs.
//!
//! Every socket talks to the partitions through channels, so a peer (which is not
//! thread-safe and needs no locks) sees one input at a time. A partition takes whatever
//! inputs have queued up (a batch) and feeds them to its [`Engine`], which decides
//! everything: it gathers what they changed (new document chunks, household index entries,
//! caseload digests and audit rows), and the driver here commits that in one transaction
//! (group commit: one sync to disk for the whole batch, `synchronous=FULL`). Only then does
//! the engine let the batch's messages leave, in the order the peer produced them, so nothing
//! that depends on a change leaves before the change is on disk; if the commit fails, nothing
//! of the batch leaves (see [`Engine::settle`]). The driver only does IO: the store, the
//! sockets' queues, the figures.
//!
//! Documents are in memory only while they are used. One is loaded from disk when a message
//! for it arrives or the server must change it, and the least recently used ones leave memory
//! once their estimated size passes the operator's budget (`--document-memory-mb`), never one
//! whose changes are not yet on disk. What each connected device is known to share of an
//! evicted document stays (core's `SyncPeer::evict_document`), so its changes still reach
//! every device that synced it. Start-up reads tables only, no document.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use lots_core::automerge::{ActorId, Automerge, ChangeHash};
use lots_core::{ConnectionId, DocumentId, Timestamp};
use tokio::sync::{mpsc, oneshot};

pub(crate) use super::engine::load_caught;
use super::engine::{
    Delivery, Engine, EngineConfig, Presence, insert_writes, partition_of, quarantine_group, route,
};
pub use super::engine::{HubError, REFUSED_PREFIX, REMOVED_PREFIX};
use super::policy::{HouseholdIndex, Principal};
use crate::metrics::{Metrics, Partition};
use crate::store::{Announcement, Heard, QuarantineStatus, Removal, Store, StoreError};

/// The most commands one batch takes: bounds how long a batch holds back its first message.
const MAX_BATCH: usize = 256;

/// What the hub sends a socket's writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A protocol message.
    Binary(Vec<u8>),
    /// A WebSocket ping, to learn that the other end is still there.
    Ping,
    /// Close the socket with this reason.
    Close(String),
}

enum Command {
    Connect {
        connection: ConnectionId,
        principal: Principal,
        outbound: mpsc::Sender<Outbound>,
        reply: oneshot::Sender<()>,
    },
    Received {
        connection: ConnectionId,
        bytes: Vec<u8>,
    },
    Disconnected {
        connection: ConnectionId,
    },
    /// A message over the size limit, refused unread by the socket.
    Unread {
        connection: ConnectionId,
        message_bytes: u64,
        limit: u64,
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
    Decide {
        principal: Principal,
        id: i64,
        accept: bool,
        reply: oneshot::Sender<Result<Vec<i64>, HubError>>,
    },
    /// Removes households (gallring, or a decision): see [`HubHandle::remove`].
    Remove {
        principal: Principal,
        removals: Vec<Removal>,
        reply: oneshot::Sender<Result<(), HubError>>,
    },
    /// Another server process removed this household.
    Removed {
        document: DocumentId,
    },
    UsersChanged,
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
///
/// The hub is several tasks, its partitions, each owning the documents whose ids fall to it
/// (`partition_of`), so that sync work uses every core. The handle routes: a sync message to
/// the partition of its document (a handshake to all of them, of which the first answers), a
/// request about a household to that household's partition, and what concerns every
/// connection (users changed, a device revoked, a socket gone) to all. Each partition does
/// its own group commit.
///
/// Sync messages from sockets go through a bounded queue per partition, so a flood from one
/// socket waits for the hub instead of filling memory; everything else (connections opening
/// and closing, the API's requests) through an unbounded one, since each of those is bounded
/// by a socket or a request and must never be dropped.
#[derive(Debug, Clone)]
pub struct HubHandle {
    partitions: Arc<[Queues]>,
    sockets: Arc<Mutex<Sockets>>,
    sockets_per_user: usize,
    store: Store,
}

/// One partition's two queues.
#[derive(Debug)]
struct Queues {
    tx: mpsc::UnboundedSender<Command>,
    messages: mpsc::Sender<Command>,
}

/// The open sockets, counted across partitions.
#[derive(Debug, Default)]
struct Sockets {
    next_connection: u64,
    /// Each open connection's user.
    users: HashMap<ConnectionId, String>,
}

/// How many sync messages from all sockets wait for the hub at most.
const MESSAGE_QUEUE: usize = 4096;

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("hub command")
    }
}

impl HubHandle {
    /// The partition that owns `document`.
    fn owner(&self, document: &DocumentId) -> &Queues {
        &self.partitions[partition_of(document, self.partitions.len())]
    }

    /// Sends a command to every partition; `false` once the hub has stopped.
    fn everywhere(&self, command: impl Fn() -> Command) -> bool {
        self.partitions
            .iter()
            .all(|partition| partition.tx.send(command()).is_ok())
    }

    /// Sends a request to one partition and waits for its answer.
    async fn ask<T>(
        partition: &Queues,
        command: impl FnOnce(oneshot::Sender<Result<T, HubError>>) -> Command,
    ) -> Result<T, HubError> {
        let (reply, answer) = oneshot::channel();
        partition
            .tx
            .send(command(reply))
            .map_err(|_| HubError::Stopped)?;
        answer.await.map_err(|_| HubError::Stopped)?
    }

    /// Registers a new socket with every partition; returns its connection id, or
    /// `TooManySockets`.
    pub async fn connect(
        &self,
        principal: Principal,
        outbound: mpsc::Sender<Outbound>,
    ) -> Result<ConnectionId, HubError> {
        let connection = {
            let mut sockets = self.sockets.lock().map_err(|_| HubError::Stopped)?;
            let open = sockets
                .users
                .values()
                .filter(|user| **user == principal.user_id)
                .count();
            if open >= self.sockets_per_user {
                return Err(HubError::TooManySockets(open));
            }
            sockets.next_connection += 1;
            let connection = ConnectionId(sockets.next_connection);
            sockets.users.insert(connection, principal.user_id.clone());
            connection
        };
        for partition in self.partitions.iter() {
            let (reply, answer) = oneshot::channel();
            let sent = partition.tx.send(Command::Connect {
                connection,
                principal: principal.clone(),
                outbound: outbound.clone(),
                reply,
            });
            if sent.is_err() || answer.await.is_err() {
                // The hub is stopping: what registered the connection forgets it.
                self.disconnected(connection);
                return Err(HubError::Stopped);
            }
        }
        Ok(connection)
    }

    /// Passes on a message from a socket to the partitions [`route`] names, waiting while a
    /// queue is full.
    pub async fn received(&self, connection: ConnectionId, bytes: Vec<u8>) {
        let partitions = route(&bytes, self.partitions.len());
        let Some((&last, first)) = partitions.split_last() else {
            return;
        };
        for &partition in first {
            let bytes = bytes.clone();
            let command = Command::Received { connection, bytes };
            let _ = self.partitions[partition].messages.send(command).await;
        }
        let command = Command::Received { connection, bytes };
        let _ = self.partitions[last].messages.send(command).await;
    }

    /// Tells the hub a socket refused a message unread, being over the size limit: it is
    /// audited and recorded in the quarantine (without its changes, which were never read).
    /// Sent before [`HubHandle::disconnected`], on the same queue, so the connection's user
    /// and device are still known.
    pub fn refused_unread(&self, connection: ConnectionId, message_bytes: u64, limit: u64) {
        let _ = self.partitions[0].tx.send(Command::Unread {
            connection,
            message_bytes,
            limit,
        });
    }

    /// Tells the hub a socket closed.
    pub fn disconnected(&self, connection: ConnectionId) {
        if let Ok(mut sockets) = self.sockets.lock() {
            sockets.users.remove(&connection);
        }
        self.everywhere(|| Command::Disconnected { connection });
    }

    /// Moves a household to a staff member's caseload, signed by `principal`.
    pub async fn assign(
        &self,
        principal: Principal,
        document: DocumentId,
        staff: Option<String>,
    ) -> Result<(), HubError> {
        Self::ask(self.owner(&document), |reply| Command::Assign {
            principal,
            document,
            staff,
            reply,
        })
        .await
    }

    /// Adds a new document (demo data, imports), stored before it is shared.
    pub async fn insert(&self, document: DocumentId, doc: Automerge) -> Result<(), HubError> {
        Self::ask(self.owner(&document), |reply| Command::Insert {
            document,
            doc: Box::new(doc),
            reply,
        })
        .await
    }

    /// A supervisor's decision on a refused change: accept it (with the refused changes that
    /// depend on it, which merge and sync as usual) or reject it (with them). Returns the
    /// quarantine rows decided.
    pub async fn decide(
        &self,
        principal: Principal,
        id: i64,
        accept: bool,
    ) -> Result<Vec<i64>, HubError> {
        // The partition of the change's household decides; a message refused unread (no
        // household) was recorded by the first.
        let row = self
            .store
            .quarantined_change(id)
            .await?
            .ok_or(HubError::NotPending)?;
        let partition = match &row.document {
            Some(document) => self.owner(document),
            None => &self.partitions[0],
        };
        Self::ask(partition, |reply| Command::Decide {
            principal,
            id,
            accept,
            reply,
        })
        .await
    }

    /// Removes households, each with its tombstone and its row on the access log: the
    /// households of one partition in one transaction, partition by partition. Afterwards no
    /// device can bring one back, and the sockets of everyone who could read one are closed
    /// (`removed <id>`), so that their devices erase their copies as they connect again.
    /// Other server processes on a shared PostgreSQL hear of it.
    pub async fn remove(
        &self,
        principal: Principal,
        removals: Vec<Removal>,
    ) -> Result<(), HubError> {
        let mut by_partition: Vec<Vec<Removal>> = vec![Vec::new(); self.partitions.len()];
        for removal in removals {
            by_partition[partition_of(&removal.document, self.partitions.len())].push(removal);
        }
        for (partition, removals) in self.partitions.iter().zip(by_partition) {
            if removals.is_empty() {
                continue;
            }
            Self::ask(partition, |reply| Command::Remove {
                principal: principal.clone(),
                removals,
                reply,
            })
            .await?;
        }
        Ok(())
    }

    /// Users, roles or districts changed: who may hold which household is read again.
    pub fn users_changed(&self) {
        self.everywhere(|| Command::UsersChanged);
    }

    /// Closes every socket of a user or a device (disabled, revoked) on this process. The
    /// API also announces it, so that other processes on a shared database do the same.
    pub fn close_for(&self, user_id: Option<String>, device_id: Option<String>, reason: &str) {
        self.everywhere(|| Command::CloseFor {
            user_id: user_id.clone(),
            device_id: device_id.clone(),
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
            if !self.everywhere(|| Command::Reread) {
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
                    Ok(Heard::Announcement(Announcement::Removed { document })) => {
                        Command::Removed { document }
                    }
                    Ok(Heard::Reconnected) => Command::Reread,
                    Err(error) => {
                        tracing::error!(%error, "lost the announcements of other server processes; reconnecting");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        break;
                    }
                };
                let passed = match command {
                    Command::Stored { document, .. } | Command::Removed { document } => {
                        self.owner(&document).tx.send(command).is_ok()
                    }
                    Command::CloseFor {
                        user_id,
                        device_id,
                        reason,
                    } => self.everywhere(|| Command::CloseFor {
                        user_id: user_id.clone(),
                        device_id: device_id.clone(),
                        reason: reason.clone(),
                    }),
                    command => self.partitions[0].tx.send(command).is_ok(),
                };
                if !passed {
                    return;
                }
            }
        }
    }
}

/// A partition's driver: its [`Engine`] decides, the driver reads and writes the store and the
/// sockets' queues, and reports figures.
struct Hub {
    engine: Engine,
    store: Store,
    /// Each open connection's queue to its socket's writer.
    outbound: HashMap<ConnectionId, mpsc::Sender<Outbound>>,
    /// Which partition this is, as its figures name it.
    partition: Partition,
    /// Every partition's control queue (this one's too), to drop a connection from all of
    /// them; weak, so that the hub stops once every handle is gone.
    partitions: Vec<mpsc::WeakUnboundedSender<Command>>,
    /// What this partition last added to the figures of documents and bytes in memory.
    reported: (i64, i64),
    metrics: Arc<Metrics>,
}

/// The wall clock: the server, unlike core, may read it.
pub fn now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or(0);
    Timestamp::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// How the hub is set up.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The server's peer id.
    pub peer_id: lots_core::PeerId,
    /// The largest sync message accepted.
    pub max_message_bytes: usize,
    /// The most sockets one user may have open.
    pub sockets_per_user: usize,
    /// How many partitions (hub tasks) share the documents: one per core the server may use.
    pub partitions: usize,
    /// Whether changes skip vetting (the benchmark's comparison run only).
    pub skip_vetting: bool,
    /// Where its figures go.
    pub metrics: Arc<Metrics>,
    /// How much memory (estimated, in bytes) the documents in memory may take before the
    /// least recently used are evicted.
    pub document_memory: usize,
}

/// Reads the tables access decisions need and starts the hub's partitions.
pub async fn start(store: Store, hub_config: HubConfig) -> Result<HubHandle, StoreError> {
    let count = hub_config.partitions.max(1);
    let mut queues = Vec::with_capacity(count);
    let mut receivers = Vec::with_capacity(count);
    for _ in 0..count {
        let (tx, rx) = mpsc::unbounded_channel();
        let (messages, messages_rx) = mpsc::channel(MESSAGE_QUEUE / count);
        queues.push(Queues { tx, messages });
        receivers.push((rx, messages_rx));
    }
    let weak: Vec<_> = queues.iter().map(|queue| queue.tx.downgrade()).collect();
    let mut hubs = Vec::with_capacity(count);
    for index in 0..count {
        let engine = Engine::new(&EngineConfig {
            peer_id: hub_config.peer_id.clone(),
            max_message_bytes: hub_config.max_message_bytes,
            skip_vetting: hub_config.skip_vetting,
            partition: index,
            partitions: count,
            memory_budget: hub_config.document_memory / count,
        })?;
        hubs.push(Hub {
            engine,
            store: store.clone(),
            outbound: HashMap::new(),
            partition: Partition {
                partition: u32::try_from(index).unwrap_or(u32::MAX),
            },
            partitions: weak.clone(),
            reported: (0, 0),
            metrics: hub_config.metrics.clone(),
        });
    }
    // The stored index covers documents without a household profile (brought by other
    // automerge-repo clients), which belong to their creator. Each partition holds its own
    // households'.
    let households = store.household_index().await?;
    let total = households.len();
    for row in households {
        hubs[partition_of(&row.document, count)]
            .engine
            .index_row(row);
    }
    // Who wrote with which actor, what was removed, who held what and what waits in
    // quarantine: every partition knows all of it (the database settles races on actors).
    let actors = store.actors().await?;
    let removed = store.removed_ids().await?;
    let former_holders = store.former_holders(None).await?;
    let quarantined = store
        .quarantined(None, Some(QuarantineStatus::Pending))
        .await?;
    let users = store.users().await?;
    for hub in &mut hubs {
        let policy = hub.engine.policy_mut();
        for binding in &actors {
            match ActorId::try_from(binding.actor_id.as_str()) {
                Ok(actor) => {
                    policy.actors.insert(actor, binding.device_id.clone());
                }
                Err(error) => {
                    tracing::error!(actor = binding.actor_id, %error, "a stored actor id does not read")
                }
            }
        }
        policy.removed.extend(removed.iter().copied());
        for (document, staff, at) in &former_holders {
            policy
                .former_holders
                .entry(*document)
                .or_default()
                .insert(staff.clone(), *at);
        }
        for row in &quarantined {
            if let Some(Ok(hash)) = row.change_hash.as_deref().map(str::parse::<ChangeHash>) {
                policy.quarantined.insert(hash);
            }
        }
        hub.engine.set_users(users.clone());
        hub.count_documents();
    }
    tracing::info!(
        households = total,
        partitions = count,
        "household index read; documents load as they are used"
    );
    for (hub, (rx, messages_rx)) in hubs.into_iter().zip(receivers) {
        tokio::spawn(hub.run(rx, messages_rx));
    }
    Ok(HubHandle {
        partitions: queues.into(),
        sockets: Arc::new(Mutex::new(Sockets::default())),
        sockets_per_user: hub_config.sockets_per_user,
        store,
    })
}

impl Hub {
    /// Takes batches of commands until every handle is gone.
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command>,
        mut messages_rx: mpsc::Receiver<Command>,
    ) {
        let mut commands = Vec::with_capacity(MAX_BATCH);
        loop {
            let first = tokio::select! {
                biased;
                command = rx.recv() => command,
                command = messages_rx.recv() => command,
            };
            let Some(first) = first else { break };
            commands.push(first);
            // Whatever else waits joins the batch, control first.
            while commands.len() < MAX_BATCH {
                match rx.try_recv().or_else(|_| messages_rx.try_recv()) {
                    Ok(command) => commands.push(command),
                    Err(_) => break,
                }
            }
            let started = std::time::Instant::now();
            let inputs = commands.len();
            for command in commands.drain(..) {
                self.command(command).await;
                self.deliver(now());
            }
            let processed = started.elapsed();
            let _ = self.flush(now()).await;
            let evicted = self.engine.evict();
            self.metrics.documents_evicted.inc_by(evicted as u64);
            self.metrics
                .batch_inputs
                .get_or_create(&self.partition)
                .observe(inputs as f64);
            self.count_documents();
            tracing::debug!(
                target: "lots_server::sync::batch",
                partition = self.partition.partition,
                inputs,
                processed_us = processed.as_micros(),
                flushed_us = (started.elapsed() - processed).as_micros(),
                "batch"
            );
        }
    }

    /// Tells the figures how many documents are in memory. Each partition adds what changed
    /// since it last told, so the figures sum them all.
    fn count_documents(&mut self) {
        let (count, bytes) = self.engine.in_memory();
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.metrics
            .documents_in_memory
            .inc_by(count - self.reported.0);
        self.metrics
            .document_memory_bytes
            .inc_by(bytes - self.reported.1);
        self.reported = (count, bytes);
    }

    /// Makes sure a known document is in memory, reading it from disk if needed. `false`
    /// when there is no such stored document (a new one, a removed one) or it does not load.
    async fn ensure_loaded(&mut self, now: Timestamp, document: DocumentId) -> bool {
        match self.engine.presence(&document) {
            Presence::Resident => return true,
            Presence::Unknown => return false,
            Presence::OnDisk => {}
        }
        let bytes = match self.store.document(&document).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return false,
            Err(error) => {
                tracing::error!(%document, %error, "cannot read a document from disk");
                return false;
            }
        };
        let loaded = self.engine.load(now, document, &bytes);
        if loaded {
            self.metrics.documents_loaded.inc();
        }
        loaded
    }

    /// Reads every user again, for the checks of who may hold a household.
    async fn refresh_users(&mut self) -> Result<(), StoreError> {
        let users = self.store.users().await?;
        self.engine.set_users(users);
        Ok(())
    }

    /// Hands what the engine lets leave to the sockets' queues. A client that does not read
    /// what it is sent is dropped: its queue is full, and the server will not hold more for
    /// it. Its socket's writer ends when the queue's senders go, which closes the socket;
    /// every partition holds one, so every partition drops it.
    fn deliver(&mut self, now: Timestamp) {
        let mut stuck = BTreeSet::new();
        for delivery in self.engine.take_deliveries() {
            match delivery {
                Delivery::Send(connection, bytes) => {
                    if let Some(queue) = self.outbound.get(&connection)
                        && let Err(mpsc::error::TrySendError::Full(_)) =
                            queue.try_send(Outbound::Binary(bytes))
                    {
                        stuck.insert(connection);
                    }
                }
                Delivery::Close(connection, reason) => {
                    // A full queue means the socket is being dropped anyway.
                    if let Some(queue) = self.outbound.remove(&connection) {
                        let _ = queue.try_send(Outbound::Close(reason));
                    }
                }
            }
        }
        for connection in stuck {
            tracing::warn!(
                connection = connection.0,
                "dropping a sync connection that does not read its messages"
            );
            self.engine.disconnect(now, connection);
            self.outbound.remove(&connection);
            for partition in self.partitions.iter().filter_map(|weak| weak.upgrade()) {
                let _ = partition.send(Command::Disconnected { connection });
            }
        }
    }

    async fn command(&mut self, command: Command) {
        let now = now();
        match command {
            Command::Connect {
                connection,
                principal,
                outbound,
                reply,
            } => {
                self.outbound.insert(connection, outbound);
                self.engine.connect(now, connection, principal);
                let _ = reply.send(());
            }
            Command::Received { connection, bytes } => {
                if !self.engine.listens_to(connection) {
                    return;
                }
                // The document it is about comes into memory first, unless the peer can answer
                // from its stored heads (a phone that changed nothing).
                if let Some(document) = self.engine.needs_document(&bytes) {
                    self.ensure_loaded(now, document).await;
                }
                if self.engine.received(now, connection, bytes).is_err() {
                    let _ = self.flush(now).await;
                    self.engine.drop_unsaved();
                }
            }
            Command::Disconnected { connection } => {
                self.outbound.remove(&connection);
                self.engine.disconnect(now, connection);
            }
            Command::Unread {
                connection,
                message_bytes,
                limit,
            } => self.engine.unread(now, connection, message_bytes, limit),
            // The rest are rare; each first commits and sends what the batch holds so far, so
            // that it reads and changes only what is on disk.
            Command::Assign {
                principal,
                document,
                staff,
                reply,
            } => {
                let _ = self.flush(now).await;
                let result = self.assign(now, &principal, document, staff).await;
                let _ = reply.send(result);
            }
            Command::Insert {
                document,
                doc,
                reply,
            } => {
                let _ = self.flush(now).await;
                let (writes, index) = insert_writes(document, &doc);
                let result = self.store.commit(&writes, now).await;
                if result.is_ok() {
                    self.engine.inserted(document, index);
                }
                let _ = reply.send(result.map(|_| ()).map_err(HubError::from));
            }
            Command::Decide {
                principal,
                id,
                accept,
                reply,
            } => {
                let _ = self.flush(now).await;
                let result = self.decide(now, &principal, id, accept).await;
                let _ = reply.send(result);
            }
            Command::Remove {
                principal,
                removals,
                reply,
            } => {
                let _ = self.flush(now).await;
                let result = self.remove(now, &principal, removals).await;
                let _ = reply.send(result);
            }
            Command::Removed { document } => {
                let _ = self.flush(now).await;
                self.engine.forget(now, document);
            }
            Command::UsersChanged => {
                if let Err(error) = self.refresh_users().await {
                    tracing::error!(%error, "cannot read the users again");
                }
            }
            Command::Stored { document, seq } => {
                let _ = self.flush(now).await;
                if let Err(error) = self.merge_stored(now, document, Some(seq)).await {
                    tracing::error!(%document, %error, "reading another process's change failed");
                }
            }
            Command::Reread => {
                let _ = self.flush(now).await;
                self.reread(now).await;
            }
            Command::CloseFor {
                user_id,
                device_id,
                reason,
            } => {
                let _ = self.flush(now).await;
                self.engine
                    .close_for(now, user_id.as_deref(), device_id.as_deref(), &reason);
            }
        }
    }

    /// Commits the batch, then lets its messages leave; on failure nothing of it leaves (see
    /// [`Engine::settle`]). Compacts the documents that have many chunks.
    async fn flush(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let batch = self.engine.take_batch();
        let committed = if batch.writes.is_empty() {
            Ok(Vec::new())
        } else {
            let started = std::time::Instant::now();
            let committed = self.store.commit(&batch.writes, now).await;
            self.metrics
                .commit_seconds
                .get_or_create(&self.partition)
                .observe(started.elapsed().as_secs_f64());
            tracing::debug!(
                target: "lots_server::sync::batch",
                commit_us = started.elapsed().as_micros(),
                messages = batch.messages(),
                "commit"
            );
            committed
        };
        let compact = match &committed {
            Ok(appended) => self.engine.settle(now, batch, Ok(appended)),
            Err(error) => {
                tracing::error!(%error, "storing changes failed; their connections are closed and the documents dropped from memory");
                self.engine.settle(now, batch, Err(()))
            }
        };
        self.deliver(now);
        self.count_documents();
        if !compact.is_empty() {
            tracing::debug!(target: "lots_server::sync::batch", documents = compact.len(), "compact");
        }
        for document in compact {
            let engine = &self.engine;
            let from_memory = |stored: &[u8]| engine.compacted(&document, stored);
            if let Err(error) = self.store.compact(&document, now, &from_memory).await {
                tracing::error!(%document, %error, "compacting a document failed; it is kept as it is");
            }
        }
        committed.map(|_| ())
    }

    async fn assign(
        &mut self,
        now: Timestamp,
        principal: &Principal,
        document: DocumentId,
        staff: Option<String>,
    ) -> Result<(), HubError> {
        if self.engine.readable(principal, &document) {
            self.ensure_loaded(now, document).await;
        }
        self.engine.assign(now, principal, document, staff)?;
        self.flush(now).await?;
        Ok(())
    }

    /// Removes households in one commit (see [`HubHandle::remove`]), then forgets them.
    async fn remove(
        &mut self,
        now: Timestamp,
        principal: &Principal,
        removals: Vec<Removal>,
    ) -> Result<(), HubError> {
        let writes = self.engine.removal_writes(now, principal, &removals)?;
        self.store.commit(&writes, now).await?;
        for removal in &removals {
            self.engine.forget(now, removal.document);
            if let Err(error) = self
                .store
                .announce(Announcement::Removed {
                    document: removal.document,
                })
                .await
            {
                tracing::error!(%error, "cannot tell other server processes of a removal");
            }
        }
        Ok(())
    }

    /// Accepts or rejects a quarantined change and the quarantined changes of the same
    /// document that depend on it.
    async fn decide(
        &mut self,
        now: Timestamp,
        principal: &Principal,
        id: i64,
        accept: bool,
    ) -> Result<Vec<i64>, HubError> {
        let row = self
            .store
            .quarantined_change(id)
            .await?
            .ok_or(HubError::NotPending)?;
        self.engine.may_decide(principal, &row)?;
        let (Some(document), Some(_)) = (row.document, &row.bytes) else {
            // Nothing of it was kept: it can only be rejected, on its own.
            if accept {
                return Err(HubError::NothingKept);
            }
            self.engine.reject_unread(now, principal, &row);
            self.flush(now).await?;
            self.store
                .decide_quarantine(id, QuarantineStatus::Rejected, &principal.user_id, now)
                .await?;
            return Ok(vec![id]);
        };
        let pending = self.store.pending_quarantine_of(&document).await?;
        let group = quarantine_group(pending, id)?;
        let status = if accept {
            self.ensure_loaded(now, document).await;
            self.engine.accept(now, document, &group)?;
            QuarantineStatus::Accepted
        } else {
            QuarantineStatus::Rejected
        };
        self.engine
            .audit_decision(now, principal, document, &row, &group, accept);
        self.flush(now).await?;
        let ids: Vec<i64> = group.iter().map(|(row_id, _)| *row_id).collect();
        for row_id in &ids {
            self.store
                .decide_quarantine(*row_id, status, &principal.user_id, now)
                .await?;
        }
        Ok(ids)
    }

    /// Takes in what another server process stored for a document: the one chunk it
    /// announced, or (when that chunk was compacted away, or `seq` is `None`) every chunk.
    /// A document neither in memory nor synced by a device on this process is not read: it
    /// is read whole when it is next used.
    async fn merge_stored(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        seq: Option<i64>,
    ) -> Result<(), StoreError> {
        let index = self.store.household(&document).await?;
        if let Some((district, assigned_staff)) = index {
            let index = HouseholdIndex {
                district,
                assigned_staff,
            };
            // Another process reassigned it: its former holders are on disk.
            if self.engine.index_changed(document, index) {
                let former: HashMap<String, Timestamp> = self
                    .store
                    .former_holders(Some(&document))
                    .await?
                    .into_iter()
                    .map(|(_, staff, at)| (staff, at))
                    .collect();
                self.engine.set_former_holders(document, former);
            }
        }
        let Some(resident) = self.engine.follows_stored(&document) else {
            return Ok(());
        };
        let chunk = match seq {
            Some(seq) if resident => self.store.chunk(&document, seq).await?,
            _ => None,
        };
        let bytes = match chunk {
            Some(bytes) => bytes,
            None => match self.store.document(&document).await? {
                Some(bytes) => bytes,
                None => return Ok(()),
            },
        };
        self.engine.merge_stored(now, document, &bytes)
    }

    /// Reads again what announcements from other processes may have missed: removed
    /// households, the index, and the documents it names.
    async fn reread(&mut self, now: Timestamp) {
        match self.store.removed_ids().await {
            Ok(removed) => {
                for document in removed {
                    if !self.engine.is_removed(&document) {
                        self.engine.forget(now, document);
                    }
                }
            }
            Err(error) => tracing::error!(%error, "cannot read the removed households"),
        }
        let index = match self.store.household_index().await {
            Ok(index) => index,
            Err(error) => {
                tracing::error!(%error, "cannot read the household index again");
                Vec::new()
            }
        };
        for document in self.engine.reread_index(index) {
            if let Err(error) = self.merge_stored(now, document, None).await {
                tracing::error!(%document, %error, "reading a document again failed");
            }
        }
    }
}

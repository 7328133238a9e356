//! The hub: tasks (partitions) that each own a sync peer, the documents whose ids fall to
//! it, and its copy of the access policy. The handle routes every input to the partition of
//! its document, or to all of them (a handshake, a closed socket, users changed), so the
//! partitions work on all cores and one socket talks to every partition it needs.
//!
//! Every socket talks to the partitions through channels, so a peer (which is not
//! thread-safe and needs no locks) sees one input at a time. A partition takes whatever
//! inputs have queued up (a batch), feeds them to its peer one by one, gathers everything they changed — new document
//! chunks, household index entries and audit rows — and commits it in one transaction (group
//! commit: one sync to disk for the whole batch, `synchronous=FULL`). Only then does it send
//! the batch's messages, in the order the peer produced them, so nothing that depends on a
//! change leaves before the change is on disk. If the commit fails, nothing of the batch is
//! sent: every connection that had a message in it is closed and the changed documents are
//! reloaded from disk, so memory never runs ahead of what the server has acknowledged.
//!
//! Documents are in memory only while they are used. One is loaded from disk when a message
//! for it arrives or the server must change it, and the least recently used ones leave memory
//! once their estimated size passes the operator's budget (`--document-memory-mb`), never one
//! whose changes are not yet on disk. What each connected device is known to share of an
//! evicted document stays (core's `SyncPeer::evict_document`), so its changes still reach
//! every device that synced it. Start-up reads tables only, no document.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hashlink::LinkedHashMap;
use lots_core::automerge::{ActorId, Automerge, ChangeHash};
use lots_core::{
    ConnectionId, DeviceId, DocumentId, HouseholdDoc, Input, Outline, Output, PeerConfig, PeerId,
    Role as PeerRole, Signature, StaffId, SyncError, SyncPeer, Timestamp,
};
use tokio::sync::{mpsc, oneshot};

use super::policy::{CaseloadPolicy, Holder, HouseholdIndex, Principal};
use crate::caseload::Digest;
use crate::metrics::{Metrics, Partition};
use crate::store::{
    Announcement, Heard, NewQuarantined, NewUnread, QuarantineStatus, Removal, Store, StoreError,
    Writes,
};

/// After this many incremental chunks a document is compacted into one full save.
const COMPACT_AFTER_CHUNKS: i64 = 64;

/// The most commands one batch takes: bounds how long a batch holds back its first message.
const MAX_BATCH: usize = 256;

/// How a close reason for refused changes begins: `refused <document> <codes>`. The socket
/// sends it with its own close code, and the app recognises it.
pub const REFUSED_PREFIX: &str = "refused ";

/// How a close reason begins when a household the connection's user could read was removed:
/// `removed <document id>`.
pub const REMOVED_PREFIX: &str = "removed ";

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
    /// The user has as many sync connections open as they may.
    #[error("{0} sync connections are open for this user already; close one first")]
    TooManySockets(usize),
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

/// The partition that owns `document`, of `partitions`. Document ids are random, so any
/// bytes of them spread households evenly.
fn partition_of(document: &DocumentId, partitions: usize) -> usize {
    let bytes = document.as_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes[..8]);
    (u64::from_le_bytes(first) % partitions.max(1) as u64) as usize
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

    /// Passes on a message from a socket to the partition of its document, waiting while its
    /// queue is full. A handshake (and a leave) goes to every partition, the first last: it
    /// answers, the others take it quietly. Anything else, such as a message that does not
    /// decode, goes to the first partition, which answers or refuses it.
    pub async fn received(&self, connection: ConnectionId, bytes: Vec<u8>) {
        use lots_core::Message;
        // One partition, or (for the handshake and a leave) every partition.
        let one = match Message::decode(&bytes) {
            Ok(
                Message::Request { document, .. }
                | Message::Sync { document, .. }
                | Message::DocUnavailable { document, .. },
            ) => Some(self.owner(&document)),
            Ok(Message::Join { .. } | Message::Leave { .. }) => None,
            // Anything else is the first partition's to answer or refuse, alone.
            _ => Some(&self.partitions[0]),
        };
        if let Some(partition) = one {
            let _ = partition
                .messages
                .send(Command::Received { connection, bytes })
                .await;
            return;
        }
        for partition in self.partitions.iter().skip(1) {
            let _ = partition
                .messages
                .send(Command::Received {
                    connection,
                    bytes: bytes.clone(),
                })
                .await;
        }
        let _ = self.partitions[0]
            .messages
            .send(Command::Received { connection, bytes })
            .await;
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

struct Connection {
    principal: Principal,
    outbound: mpsc::Sender<Outbound>,
    peer: Option<PeerId>,
    opened: HashSet<DocumentId>,
}

/// What a batch of inputs changed and wants sent, until its commit.
#[derive(Default)]
struct Batch {
    /// Chunks, index entries and audit rows to commit.
    writes: Writes,
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

struct Hub {
    peer: SyncPeer<CaseloadPolicy>,
    store: Store,
    connections: HashMap<ConnectionId, Connection>,
    /// The connection each joined peer id is on.
    by_peer: HashMap<PeerId, ConnectionId>,
    /// Each document's heads as stored on disk.
    saved_heads: HashMap<DocumentId, Vec<ChangeHash>>,
    /// Each household's entry as stored in the index table.
    stored_index: HashMap<DocumentId, HouseholdIndex>,
    batch: Batch,
    /// Which partition this is, as its figures name it.
    partition: Partition,
    /// Every partition's control queue (this one's too), to drop a connection from all of
    /// them; weak, so that the hub stops once every handle is gone.
    partitions: Vec<mpsc::WeakUnboundedSender<Command>>,
    /// What this partition last added to the figures of documents and bytes in memory.
    reported: (i64, i64),
    metrics: Arc<Metrics>,
    /// The documents in memory, least recently used first, each with its estimated size.
    resident: LinkedHashMap<DocumentId, usize>,
    /// The sum of the estimated sizes in `resident`.
    resident_bytes: usize,
    /// How large `resident_bytes` may grow before documents are evicted.
    memory_budget: usize,
    /// Who the server signs its own changes (schema migrations) as.
    signer: (StaffId, DeviceId),
    /// What the caseload line of each household in memory shows, as of its last digest:
    /// brought up to date by reading only what a batch's changes touched.
    outlines: HashMap<DocumentId, Outline>,
}

/// How many bytes of memory a loaded document takes per byte of its stored form: the
/// estimate the memory budget counts in. Measured on core's synthetic households (release
/// build, resident memory before and after loading 200 of them): 15.7 at 100 visits (11 KB
/// stored, 175 KB loaded), 11.1 at 12 visits (BENCHMARKS.md).
const MEMORY_PER_STORED_BYTE: usize = 16;

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
    pub peer_id: PeerId,
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
    let signer = (
        StaffId::new("lots-server").map_err(|error| StoreError::Damaged(error.to_string()))?,
        DeviceId::new(hub_config.peer_id.as_str())
            .map_err(|error| StoreError::Damaged(error.to_string()))?,
    );
    let mut queues = Vec::with_capacity(count);
    let mut receivers = Vec::with_capacity(count);
    for _ in 0..count {
        let (tx, rx) = mpsc::unbounded_channel();
        let (messages, messages_rx) = mpsc::channel(MESSAGE_QUEUE / count);
        queues.push(Queues { tx, messages });
        receivers.push((rx, messages_rx));
    }
    let weak: Vec<_> = queues.iter().map(|queue| queue.tx.downgrade()).collect();
    let mut hubs: Vec<Hub> = (0..count)
        .map(|index| {
            let mut config = PeerConfig::new(hub_config.peer_id.clone(), PeerRole::Server);
            config.max_message_bytes = hub_config.max_message_bytes;
            // The first partition answers a client's handshake; the others take it quietly.
            config.quiet_handshake = index > 0;
            let policy = CaseloadPolicy {
                skip_vetting: hub_config.skip_vetting,
                ..CaseloadPolicy::default()
            };
            Hub {
                peer: SyncPeer::with_policy(config, policy),
                store: store.clone(),
                connections: HashMap::new(),
                by_peer: HashMap::new(),
                saved_heads: HashMap::new(),
                stored_index: HashMap::new(),
                batch: Batch::default(),
                partition: Partition {
                    partition: u32::try_from(index).unwrap_or(u32::MAX),
                },
                partitions: weak.clone(),
                reported: (0, 0),
                metrics: hub_config.metrics.clone(),
                resident: LinkedHashMap::new(),
                resident_bytes: 0,
                memory_budget: hub_config.document_memory / count,
                signer: signer.clone(),
                outlines: HashMap::new(),
            }
        })
        .collect();
    // The stored index covers documents without a household profile (brought by other
    // automerge-repo clients), which belong to their creator. Each partition holds its own
    // households'.
    let households = store.household_index().await?;
    let total = households.len();
    for row in households {
        let hub = &mut hubs[partition_of(&row.document, count)];
        let index = HouseholdIndex {
            district: row.district,
            assigned_staff: row.assigned_staff,
        };
        hub.stored_index.insert(row.document, index.clone());
        hub.peer.policy_mut().households.insert(row.document, index);
        // A device already holding these heads is answered without reading the document.
        if let Some(heads) = row.heads {
            hub.peer.set_dormant(row.document, heads);
        }
    }
    // Who wrote with which actor, what was removed, who held what and what waits in
    // quarantine: every partition knows all of it (the database settles races on actors).
    let actors = store.actors().await?;
    let removed = store.removed_ids().await?;
    let former_holders = store.former_holders(None).await?;
    let quarantined = store
        .quarantined(None, Some(QuarantineStatus::Pending))
        .await?;
    for hub in &mut hubs {
        let policy = hub.peer.policy_mut();
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
        hub.refresh_users().await?;
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
            }
            let processed = started.elapsed();
            let _ = self.flush(now()).await;
            self.evict();
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

    /// Whether `document` is this partition's.
    fn owns(&self, document: &DocumentId) -> bool {
        partition_of(document, self.partitions.len()) == self.partition.partition as usize
    }

    /// Tells the figures how many documents are in memory: every one the peer holds is
    /// tracked in `resident` as it comes in, and untracked as it leaves.
    /// Each partition adds what changed since it last told, so the figures sum them all.
    fn count_documents(&mut self) {
        let count = i64::try_from(self.resident.len()).unwrap_or(i64::MAX);
        let bytes = i64::try_from(self.resident_bytes).unwrap_or(i64::MAX);
        self.metrics
            .documents_in_memory
            .inc_by(count - self.reported.0);
        self.metrics
            .document_memory_bytes
            .inc_by(bytes - self.reported.1);
        self.reported = (count, bytes);
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

    /// Counts a document as used now: the last to be evicted.
    fn touch(&mut self, document: &DocumentId) {
        self.resident.to_back(document);
    }

    /// Stops counting a document that left memory.
    fn untrack(&mut self, document: &DocumentId) {
        if let Some(bytes) = self.resident.remove(document) {
            self.resident_bytes -= bytes;
        }
        self.saved_heads.remove(document);
        self.outlines.remove(document);
    }

    /// Makes sure a known document is in memory, reading it from disk if needed (and bringing
    /// it to the current schema, signed as the server). `false` when there is no such stored
    /// document (a new one, a removed one) or it does not load: the peer then treats it as
    /// one it does not have.
    async fn ensure_loaded(&mut self, now: Timestamp, document: DocumentId) -> bool {
        if self.peer.document(&document).is_some() {
            self.touch(&document);
            return true;
        }
        let policy = self.peer.policy();
        if policy.removed.contains(&document) || !policy.households.contains_key(&document) {
            return false;
        }
        let bytes = match self.store.document(&document).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return false,
            Err(error) => {
                tracing::error!(%document, %error, "cannot read a document from disk");
                return false;
            }
        };
        let mut doc = match load_caught(&bytes) {
            Ok(doc) => doc,
            Err(error) => {
                tracing::error!(%document, %error, "a stored document does not load; it is listed as unreadable");
                return false;
            }
        };
        let loaded = doc.get_heads();
        let (staff, device) = self.signer.clone();
        // Only the server migrates, once, signed as itself; phones wait for it.
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
        self.metrics.documents_loaded.inc();
        true
    }

    /// Evicts the least recently used documents while their estimated size is over the budget,
    /// passing over any whose changes are not yet on disk or that the peer still needs.
    fn evict(&mut self) {
        if self.resident_bytes <= self.memory_budget {
            return;
        }
        let candidates: Vec<DocumentId> = self.resident.keys().copied().collect();
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
                self.metrics.documents_evicted.inc();
            }
        }
    }

    /// Reads every user again, for the checks of who may hold a household.
    async fn refresh_users(&mut self) -> Result<(), StoreError> {
        let users = self.store.users().await?;
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
        Ok(())
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
                let _ = reply.send(());
                self.process(now, Some(connection), outputs);
            }
            Command::Received { connection, bytes } => {
                if !self.connections.contains_key(&connection)
                    || self.batch.closing.contains(&connection)
                {
                    return;
                }
                // Logs carry ids and sizes, never a message's content (household data).
                tracing::debug!(connection = connection.0, bytes = bytes.len(), "received");
                // The document it is about comes into memory first, unless the peer can answer
                // from its stored heads (a phone that changed nothing); the peer decodes (and
                // refuses) the message itself, so a message that does not decode loads nothing.
                if let Some(document) = self.peer.needs_document(&bytes) {
                    self.ensure_loaded(now, document).await;
                }
                // Automerge 0.12 panics on some malformed input (its own assertions; found by
                // fuzzing, BENCHMARKS.md). A panic here must cost the sender its connection,
                // not every device its server: it is caught (the server is built to unwind,
                // see the `server` profile), the connection closed, and every document put
                // back to what is on disk.
                let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.peer.handle(now, Input::Received { connection, bytes })
                }));
                match handled {
                    Ok(outputs) => self.process(now, Some(connection), outputs),
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
                        let _ = self.flush(now).await;
                        self.drop_unsaved();
                    }
                }
            }
            Command::Disconnected { connection } => self.disconnect(now, connection),
            Command::Unread {
                connection,
                message_bytes,
                limit,
            } => self.stage_unread(now, connection, message_bytes, limit),
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
                let result = self.insert(now, document, *doc).await;
                let _ = reply.send(result);
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
                self.forget(now, document);
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
                match self.store.removed_ids().await {
                    Ok(removed) => {
                        for document in removed {
                            if !self.peer.policy().removed.contains(&document) {
                                self.forget(now, document);
                            }
                        }
                    }
                    Err(error) => tracing::error!(%error, "cannot read the removed households"),
                }
                // Read again: what is in memory or synced here, and every household whose
                // entry changed (its new holders and former holders); the rest is read from
                // disk when next used anyway.
                let index = match self.store.household_index().await {
                    Ok(index) => index,
                    Err(error) => {
                        tracing::error!(%error, "cannot read the household index again");
                        Vec::new()
                    }
                };
                let mut documents = Vec::new();
                let index: Vec<_> = index
                    .into_iter()
                    .filter(|row| self.owns(&row.document))
                    .collect();
                for row in index {
                    let resident = self.peer.document(&row.document).is_some();
                    // Announcements may have been missed: what is known of the heads of each
                    // document not in memory comes from disk again.
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
                let _ = self.flush(now).await;
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
                    self.close(now, connection, reason.clone());
                }
            }
        }
    }

    /// Sends a close frame and forgets the connection.
    fn close(&mut self, now: Timestamp, connection: ConnectionId, reason: String) {
        if let Some(entry) = self.connections.get(&connection) {
            // A full queue means the socket is being dropped anyway.
            let _ = entry.outbound.try_send(Outbound::Close(reason));
        }
        self.disconnect(now, connection);
    }

    fn disconnect(&mut self, now: Timestamp, connection: ConnectionId) {
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

    /// Audits a message refused unread for its size and records it in the quarantine, with
    /// who sent it and when: its changes cannot be kept (reading them is what the limit
    /// prevents), and its document is not known (its header was not read either), but a
    /// supervisor sees the attempt, and it counts against the device's quarantine quota.
    fn stage_unread(
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

    /// Commits the batch, then sends its messages; on failure sends nothing, closes every
    /// connection the batch touched and drops the changed documents from memory (they are
    /// read from disk when next used).
    async fn flush(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let mut batch = std::mem::take(&mut self.batch);
        // Each changed household's caseload line, as of the batch's end, goes in with it.
        for (document, heads) in &batch.heads {
            if let Some(doc) = self.peer.document(document)
                && self.peer.policy().households.contains_key(document)
            {
                let household = HouseholdDoc::new(doc);
                let outline = match self.outlines.entry(*document) {
                    Entry::Occupied(kept) => {
                        let kept = kept.into_mut();
                        household.catch_up_outline(kept).map(|()| &*kept)
                    }
                    Entry::Vacant(slot) => household.outline().map(|read| &*slot.insert(read)),
                };
                let digest = match outline {
                    Ok(outline) => Digest::from_outline(outline),
                    Err(error) => Digest::unreadable(error.to_string()),
                };
                if digest.unreadable.is_some() {
                    self.outlines.remove(document);
                }
                batch.writes.digest(*document, digest.to_json(), heads);
            }
        }
        let mut compact = BTreeSet::new();
        if !batch.writes.is_empty() {
            let started = std::time::Instant::now();
            let committed = self.store.commit(&batch.writes, now).await;
            self.metrics
                .commit_seconds
                .get_or_create(&self.partition)
                .observe(started.elapsed().as_secs_f64());
            tracing::debug!(
                target: "lots_server::sync::batch",
                commit_us = started.elapsed().as_micros(),
                messages = batch.outputs.len(),
                "commit"
            );
            match committed {
                Ok(appended) => {
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
                    compact.extend(
                        appended
                            .iter()
                            .filter(|appended| appended.chunks > COMPACT_AFTER_CHUNKS)
                            .map(|appended| appended.document),
                    );
                }
                Err(error) => {
                    tracing::error!(%error, "storing changes failed; their connections are closed and the documents dropped from memory");
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
                    return Err(error);
                }
            }
        }
        let mut stuck = BTreeSet::new();
        for output in batch.outputs {
            match output {
                Output::Send { connection, bytes } => {
                    if let Some(entry) = self.connections.get(&connection)
                        && let Err(mpsc::error::TrySendError::Full(_)) =
                            entry.outbound.try_send(Outbound::Binary(bytes))
                    {
                        stuck.insert(connection);
                    }
                }
                Output::Close { connection, reason } => self.close(now, connection, reason),
                _ => {}
            }
        }
        // A client that does not read what it is sent is dropped: its queue is full, and the
        // server will not hold more for it. Its socket's writer ends when the queue's sender
        // goes, which closes the socket.
        // Every partition holds a sender of the queue, so every partition drops it.
        for connection in stuck {
            tracing::warn!(
                connection = connection.0,
                "dropping a sync connection that does not read its messages"
            );
            self.disconnect(now, connection);
            for partition in self.partitions.iter().filter_map(|weak| weak.upgrade()) {
                let _ = partition.send(Command::Disconnected { connection });
            }
        }
        if !compact.is_empty() {
            tracing::debug!(target: "lots_server::sync::batch", documents = compact.len(), "compact");
        }
        for document in compact {
            if let Err(error) = self.store.compact(&document, now).await {
                tracing::error!(%document, %error, "compacting a document failed; it is kept as it is");
            }
        }
        Ok(())
    }

    /// Stores a new document (demo data, imports) with its index entry and digest. It comes
    /// into memory when it is first used.
    async fn insert(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        doc: Automerge,
    ) -> Result<(), HubError> {
        let mut writes = Writes::default();
        writes.chunk(document, doc.save());
        let index = index_of(&doc);
        if let Some(index) = &index {
            writes.household(
                document,
                index.district.clone(),
                index.assigned_staff.clone(),
            );
            writes.digest(document, Digest::of(&doc).to_json(), &doc.get_heads());
        }
        self.store.commit(&writes, now).await?;
        if let Some(index) = index {
            self.stored_index.insert(document, index.clone());
            self.peer.policy_mut().households.insert(document, index);
        }
        Ok(())
    }

    /// Takes in what another server process stored for a document: the one chunk it
    /// announced, or (when that chunk was compacted away, or `seq` is `None`) every chunk.
    /// What is read is already on disk, so it counts as saved; the peers of this process
    /// then receive it like any other change. A document neither in memory nor synced by a
    /// device on this process is not read: it is read whole when it is next used.
    async fn merge_stored(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        seq: Option<i64>,
    ) -> Result<(), StoreError> {
        let index = self
            .store
            .household(&document)
            .await?
            .map(|(district, assigned_staff)| HouseholdIndex {
                district,
                assigned_staff,
            });
        let mut reassigned = false;
        if let Some(index) = index {
            let before = self.stored_index.insert(document, index.clone());
            reassigned = before.is_some_and(|before| before.assigned_staff != index.assigned_staff);
            self.peer.policy_mut().households.insert(document, index);
        }
        // Another process reassigned it: its former holders are on disk.
        if reassigned {
            let former: HashMap<String, Timestamp> = self
                .store
                .former_holders(Some(&document))
                .await?
                .into_iter()
                .map(|(_, staff, at)| (staff, at))
                .collect();
            self.peer
                .policy_mut()
                .former_holders
                .insert(document, former);
        }
        let resident = self.peer.document(&document).is_some();
        if !resident && !self.peer.followed(&document) {
            // What this process knew of its heads is out of date.
            self.peer.forget_dormant(&document);
            return Ok(());
        }
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
        let Some(doc) = self.peer.document_mut(&document) else {
            let doc = load_caught(&bytes).map_err(|error| {
                StoreError::Damaged(format!("document {document} does not load: {error}"))
            })?;
            self.adopt(document, doc, bytes.len());
            let outputs = self.peer.handle(now, Input::LocalChange { document });
            self.process(now, None, outputs);
            return Ok(());
        };
        let before = doc.get_heads();
        lots_core::check_stored(&bytes).map_err(|error| {
            StoreError::Damaged(format!(
                "a chunk of document {document} does not load: {error}"
            ))
        })?;
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
        self.process(now, None, outputs);
        Ok(())
    }

    /// After a failed write: takes every document whose changes are not on disk out of
    /// memory (with what each device is known to share of it), so that it is read again from
    /// disk when it is next used.
    fn drop_unsaved(&mut self) {
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
        self.count_documents();
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
        let principal = &entry.principal;
        self.batch.writes.audit(
            now,
            &principal.user_id,
            &principal.device_id,
            document,
            action,
            detail,
        );
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
        // Only to staff of the household's district: a supervisor of two districts cannot
        // hand a household to someone who works only in the other.
        if let Some(staff) = &staff {
            let district = self
                .peer
                .policy()
                .households
                .get(&document)
                .and_then(|index| index.district.clone());
            let holds = self
                .peer
                .policy()
                .users
                .get(staff.as_str())
                .is_some_and(|holder| {
                    holder.role == crate::store::Role::Staff
                        && !holder.disabled
                        && district
                            .as_ref()
                            .is_some_and(|district| holder.districts.contains(district))
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
        self.ensure_loaded(now, document).await;
        let Some(doc) = self.peer.document_mut(&document) else {
            return Err(HubError::NotFound);
        };
        HouseholdDoc::new(doc).assign_staff(&signature, staff.as_ref())?;
        let outputs = self.peer.handle(now, Input::LocalChange { document });
        self.stage_change(now, None, document);
        self.batch.writes.audit(
            now,
            &principal.user_id,
            &principal.device_id,
            document,
            "change",
            "assigned staff",
        );
        self.process(now, None, outputs);
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
        let mut writes = Writes::default();
        for removal in &removals {
            let Some(index) = self.peer.policy().households.get(&removal.document) else {
                return Err(HubError::NotFound);
            };
            // Filed under the household's district, as its earlier rows are: its supervisors
            // read that it went, and why.
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
        self.store.commit(&writes, now).await?;
        for removal in &removals {
            self.forget(now, removal.document);
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

    /// Drops a removed household from memory, refuses it for ever after, and closes the
    /// sockets of everyone who could read it, so their devices erase their copies.
    fn forget(&mut self, now: Timestamp, document: DocumentId) {
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
        // A supervisor decides on their districts' households; on a row whose household is
        // not known (a message refused unread), for the senders of their districts.
        let policy = self.peer.policy();
        let readable = match &row.document {
            Some(document) => policy
                .households
                .get(document)
                .is_some_and(|index| principal.may_read(index)),
            None => policy.users.get(&row.user_id).is_some_and(|sender| {
                sender
                    .districts
                    .iter()
                    .any(|district| principal.districts.contains(district))
            }),
        };
        if !readable || principal.role != crate::store::Role::Supervisor {
            return Err(HubError::NotFound);
        }
        if row.status != QuarantineStatus::Pending {
            return Err(HubError::NotPending);
        }
        let (Some(document), Some(_)) = (row.document, &row.bytes) else {
            // Nothing of it was kept: it can only be rejected, on its own.
            if accept {
                return Err(HubError::NothingKept);
            }
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
            self.flush(now).await?;
            self.store
                .decide_quarantine(id, QuarantineStatus::Rejected, &principal.user_id, now)
                .await?;
            return Ok(vec![id]);
        };
        // The chosen change and every pending one of the document that depends on it.
        let pending = self.store.pending_quarantine_of(&document).await?;
        let mut group: Vec<(i64, lots_core::automerge::Change)> = Vec::new();
        let mut hashes: HashSet<ChangeHash> = HashSet::new();
        let mut candidates: Vec<(i64, lots_core::automerge::Change)> = pending
            .into_iter()
            .filter_map(|row| {
                let bytes = row.bytes?;
                lots_core::automerge::Change::from_bytes(bytes)
                    .ok()
                    .map(|change| (row.id, change))
            })
            .collect();
        if let Some(index) = candidates.iter().position(|(row_id, _)| *row_id == id) {
            let chosen = candidates.remove(index);
            hashes.insert(chosen.1.hash());
            group.push(chosen);
        } else {
            return Err(HubError::NotPending);
        }
        loop {
            let before = group.len();
            let mut rest = Vec::new();
            for (row_id, change) in candidates {
                if change.deps().iter().any(|dep| hashes.contains(dep)) {
                    hashes.insert(change.hash());
                    group.push((row_id, change));
                } else {
                    rest.push((row_id, change));
                }
            }
            candidates = rest;
            if group.len() == before {
                break;
            }
        }
        let ids: Vec<i64> = group.iter().map(|(row_id, _)| *row_id).collect();
        let status = if accept {
            QuarantineStatus::Accepted
        } else {
            QuarantineStatus::Rejected
        };
        if accept {
            self.ensure_loaded(now, document).await;
            let Some(doc) = self.peer.document_mut(&document) else {
                return Err(HubError::NotFound);
            };
            let changes: Vec<_> = group.iter().map(|(_, change)| change.clone()).collect();
            doc.apply_changes(changes).map_err(|error| {
                StoreError::Damaged(format!("a quarantined change does not apply: {error}"))
            })?;
            let outputs = self.peer.handle(now, Input::LocalChange { document });
            self.stage_change(now, None, document);
            self.process(now, None, outputs);
            let policy = self.peer.policy_mut();
            for hash in &hashes {
                policy.quarantined.remove(hash);
            }
        }
        for (row_id, change) in &group {
            self.batch.writes.audit(
                now,
                &principal.user_id,
                &principal.device_id,
                document,
                if accept {
                    "quarantine-accepted"
                } else {
                    "quarantine-rejected"
                },
                &format!(
                    "change {} from {} on {}",
                    change.hash(),
                    row.user_id,
                    row.device_id
                ),
            );
            let _ = row_id;
        }
        self.flush(now).await?;
        for row_id in &ids {
            self.store
                .decide_quarantine(*row_id, status, &principal.user_id, now)
                .await?;
        }
        Ok(ids)
    }
}

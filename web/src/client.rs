//! The app's sync client without IO: every decision about the device's households and its
//! connection to the server, as `Client::handle(now, Event) -> Vec<Effect>`.
//!
//! The browser's part (`engine.rs`) turns what happens — a person's change, the socket
//! opening, a message, a close, a timer, a write finished or failed, the network or the page
//! coming back — into [`Event`]s, and carries out the [`Effect`]s: send, open or drop the
//! socket, write to IndexedDB, wait, ask the API, tell the views. Time comes in as an
//! argument, so the same logic runs natively in tests against a real server peer of core
//! (`client/tests.rs`): reconnects and their pauses, an ended session, the window of
//! households asked for at once, a refused change, a failed write.
//!
//! Reading never writes: views read summaries computed when documents change
//! ([`Client::refresh_summaries`], called before the views are told), and storing a fresh
//! summary is the driver's job at that moment, not a side effect of a render.

mod answers;
mod documents;
mod events;
mod summary;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use lots_core::automerge::{Automerge, ChangeHash};
use lots_core::{
    ConnectionId, DocumentId, Household, HouseholdDoc, Input, Output, PeerConfig, PeerId, Role,
    SyncPeer, Timeline, Timestamp,
};

pub use events::{Connection, Effect, Event, Recovery, Startup, Status, Timer, Write};
pub use summary::Summary;

use crate::api::Refused;
use crate::refused::{AfterClose, Closed, ClosedConnection, HeldBack, HoldBack, Outcome, Reason};
use crate::replay::Kept;
use crate::storage::COMPACT_AFTER_CHUNKS;
use crate::unreadable::{ServerUnreadable, Unreadable};

/// The one connection a phone has: to its server.
const SERVER: ConnectionId = ConnectionId(1);

/// How many households are asked for at once on a connection.
pub const MAX_REQUESTS_IN_FLIGHT: usize = 32;

/// How long a connection must have lasted for its end to start the pauses from one second
/// again: a server that closes each connection soon after the handshake is not retried
/// every second for ever.
const STABLE_MS: i64 = 30_000;

/// How long remote events wait to be shown together: a reconnect brings a message per
/// household, and a desk of 500 drawn again for each of them would keep a slow computer
/// busy for seconds. What the person does is shown at once.
pub const COALESCE_MS: u32 = 100;

/// How long changed sync states wait to be written together.
pub const SYNC_STATES_MS: u32 = 500;

/// The first pause before connecting again after a failure; it doubles with each failure,
/// up to [`crate::refused::MAX_BACKOFF_MS`]. One multiplication, kept here rather than taken
/// from a backoff crate: those own the waiting (timers, futures), which a client without IO
/// leaves to its driver, and the pauses are part of what the client's tests check.
const FIRST_BACKOFF_MS: u32 = 1_000;

/// The socket, as far as the client knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    Closed,
    Opening,
    Open,
}

/// The device's households, the sync peer, and the connection's state.
pub struct Client {
    /// The sync peer; its share policy holds back the documents the server refused.
    peer: SyncPeer<HoldBack>,
    saved_heads: HashMap<DocumentId, Vec<ChangeHash>>,
    chunks: HashMap<DocumentId, usize>,
    /// Each document's household as of some heads (see [`Summary`]).
    summaries: HashMap<DocumentId, Rc<Summary>>,
    /// Documents stored on the device and not loaded yet (their bytes), loaded in the
    /// background after start or at once when something needs one…
    unloaded: BTreeMap<DocumentId, (Vec<u8>, usize)>,
    /// …whether they wait for the server…
    unloaded_dirty: BTreeSet<DocumentId>,
    /// …and their sync states.
    unloaded_states: HashMap<DocumentId, Vec<(PeerId, Vec<u8>)>>,
    /// A connection was asked for while documents were still loading.
    connect_when_loaded: bool,
    socket: Socket,
    /// When the server last finished a handshake on this connection.
    online_since: Option<Timestamp>,
    link: Connection,
    saving: usize,
    problem: Option<String>,
    backoff_ms: u32,
    pending_states: BTreeSet<(PeerId, DocumentId)>,
    notify_pending: bool,
    /// Households the caseload lists that are not on the device yet.
    wanted: BTreeSet<DocumentId>,
    /// Of those, the ones asked for on this connection and not arrived yet: at most
    /// [`MAX_REQUESTS_IN_FLIGHT`], so a supervisor's 500 households do not arrive as 500
    /// requests at once (the server closes a connection over its message rate).
    requested: BTreeSet<DocumentId>,
    unreadable_on_device: BTreeMap<DocumentId, String>,
    unreadable_on_server: BTreeMap<DocumentId, ServerUnreadable>,
    /// The server refused this device for its full quarantine, saying this many refused
    /// changes wait; cleared when a connection succeeds or fewer wait.
    quarantine_full: Option<usize>,
    kept: Vec<Kept>,
    /// Who signs the actions made again after a rejection.
    writer: Option<lots_core::Writer>,
    /// Moves whenever some household may read differently.
    households_version: u64,
    ended: bool,
}

impl Client {
    /// The client of device `peer_id`, with what its storage held.
    pub fn new(peer_id: PeerId, now: Timestamp, startup: Startup) -> Self {
        let stored = startup.stored;
        let peer = SyncPeer::with_policy(
            PeerConfig::new(peer_id, Role::Client),
            HoldBack::from_records(startup.held),
        );
        let mut unloaded_states: HashMap<DocumentId, Vec<(PeerId, Vec<u8>)>> = HashMap::new();
        for (peer_id, document, state) in stored.sync_states {
            if let Some(peer_id) = PeerId::new(peer_id) {
                unloaded_states
                    .entry(document)
                    .or_default()
                    .push((peer_id, state));
            }
        }
        let summaries = stored
            .summaries
            .into_iter()
            .filter(|(document, _)| stored.documents.contains_key(document))
            .filter_map(|(document, json)| Some((document, Rc::new(Summary::from_json(&json)?))))
            .collect();
        Self {
            peer,
            saved_heads: HashMap::new(),
            chunks: HashMap::new(),
            summaries,
            unloaded: stored.documents,
            unloaded_dirty: stored.dirty.into_iter().collect(),
            unloaded_states,
            connect_when_loaded: false,
            socket: Socket::Closed,
            online_since: None,
            link: Connection::Offline(now),
            saving: 0,
            problem: None,
            backoff_ms: FIRST_BACKOFF_MS,
            pending_states: BTreeSet::new(),
            notify_pending: false,
            wanted: BTreeSet::new(),
            requested: BTreeSet::new(),
            unreadable_on_device: stored.damaged,
            unreadable_on_server: startup.unreadable_on_server,
            quarantine_full: None,
            kept: startup.kept,
            writer: None,
            households_version: 0,
            ended: false,
        }
    }

    /// Takes one event; returns what to carry out, in order.
    pub fn handle(&mut self, now: Timestamp, event: Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        let out = &mut effects;
        match event {
            Event::Connect => self.connect(out),
            Event::Reconnect => self.reconnect(now, out),
            Event::Offline => {
                self.disconnect(now, out);
                out.push(Effect::Notify);
            }
            Event::SocketFailed(error) => {
                self.socket = Socket::Closed;
                self.problem = Some(format!("cannot open the connection: {error}"));
                self.retry_later(out);
            }
            Event::SocketOpened => {
                self.socket = Socket::Open;
                let outputs = self
                    .peer
                    .handle(now, Input::Connected { connection: SERVER });
                self.carry(now, outputs, out);
            }
            Event::SocketMessage(bytes) => {
                if self.socket == Socket::Open {
                    let input = Input::Received {
                        connection: SERVER,
                        bytes,
                    };
                    let outputs = self.peer.handle(now, input);
                    self.carry(now, outputs, out);
                }
            }
            Event::SocketClosed { code, reason } => self.closed(now, code, &reason, out),
            Event::Timer(Timer::Retry) => self.connect(out),
            Event::Timer(Timer::SyncStates) => {
                let pending = std::mem::take(&mut self.pending_states);
                let states: Vec<_> = pending
                    .into_iter()
                    .filter_map(|(peer, document)| {
                        let bytes = self.peer.export_sync_state(&peer, &document)?;
                        Some((peer.to_string(), document, bytes))
                    })
                    .collect();
                if !states.is_empty() && !self.ended {
                    out.push(Effect::SaveSyncStates(states));
                }
            }
            Event::Loaded => self.notify(false, out),
            Event::Timer(Timer::Notify) => {
                self.notify_pending = false;
                out.push(Effect::Notify);
            }
            Event::Timer(Timer::Quarantine) => {
                let ask = (self.link == Connection::Online && !self.peer.policy().is_empty())
                    || self.quarantine_full.is_some();
                if ask && !self.ended {
                    out.push(Effect::CheckQuarantine);
                }
            }
            Event::SessionChecked { signed_in, retry } => match signed_in {
                Some(false) => self.session_ended(now, out),
                _ if retry => self.retry_later(out),
                _ => {}
            },
            Event::SessionEnded => self.session_ended(now, out),
            Event::Resume => {
                if self.link == Connection::SessionEnded {
                    self.link = Connection::Offline(now);
                }
                self.problem = None;
                self.backoff_ms = FIRST_BACKOFF_MS;
                self.connect(out);
                out.push(Effect::Notify);
            }
            Event::LocalChange(document) => {
                let outputs = self.peer.handle(now, Input::LocalChange { document });
                self.households_moved();
                self.carry(now, outputs, out);
                self.persist(document, true, out);
            }
            Event::Want(documents) => self.want(now, documents, out),
            Event::CaseloadHeard { caseload, settled } => {
                self.caseload_heard(now, caseload, &settled, out);
            }
            Event::QuarantineHeard(rows) => self.quarantine_heard(now, rows, out),
            Event::Written(write) => {
                self.saving = self.saving.saturating_sub(1);
                let count = match write.full {
                    Some(_) => 1,
                    None => self.chunks.get(&write.document).copied().unwrap_or(0) + 1,
                };
                self.chunks.insert(write.document, count);
                self.saved_heads.insert(write.document, write.heads);
                self.problem = None;
                self.notify(write.dirty, out);
            }
            Event::WriteFailed { dirty, error } => {
                self.saving = self.saving.saturating_sub(1);
                self.problem = Some(error);
                self.notify(dirty, out);
            }
            Event::StorageFailed(error) => {
                self.problem = Some(error);
                out.push(Effect::Notify);
            }
            Event::End => {
                self.ended = true;
                self.disconnect(now, out);
            }
        }
        effects
    }

    /// Tells the views now (what the person did) or a moment later, once for everything
    /// that happens meanwhile.
    fn notify(&mut self, now: bool, out: &mut Vec<Effect>) {
        if now {
            out.push(Effect::Notify);
        } else if !std::mem::replace(&mut self.notify_pending, true) {
            out.push(Effect::Wait(Timer::Notify, COALESCE_MS));
        }
    }

    /// Writes what is new in a document, unless the person has signed out.
    fn persist(&self, document: DocumentId, dirty: bool, out: &mut Vec<Effect>) {
        if !self.ended {
            out.push(Effect::Persist { document, dirty });
        }
    }

    fn households_moved(&mut self) {
        self.households_version += 1;
    }

    /// Opens the socket unless it is open or opening, or the person has signed out.
    fn connect(&mut self, out: &mut Vec<Effect>) {
        if self.ended || self.socket != Socket::Closed || self.link == Connection::SessionEnded {
            return;
        }
        // Every stored document is in the peer before the first handshake, so each one
        // waiting for the server is offered on it.
        if !self.unloaded.is_empty() {
            self.connect_when_loaded = true;
            return;
        }
        self.socket = Socket::Opening;
        out.push(Effect::OpenSocket);
        out.push(Effect::Notify);
    }

    /// Connects at once, not at the next pause; a socket still trying from before is
    /// dropped. A full quarantine waits its long pause (or a supervisor's decision), not
    /// the next time the app comes into view.
    fn reconnect(&mut self, now: Timestamp, out: &mut Vec<Effect>) {
        if matches!(self.link, Connection::Online | Connection::SessionEnded)
            || self.quarantine_full.is_some()
        {
            return;
        }
        self.disconnect(now, out);
        self.backoff_ms = FIRST_BACKOFF_MS;
        self.connect(out);
    }

    /// Connects afresh, so that a document held back until now syncs from the start: the
    /// server went on offering it while it was held (and heard "unavailable"), so its sync
    /// state says it sent what the device never took. A new connection starts both sides
    /// from what they share.
    fn resync(&mut self, now: Timestamp, out: &mut Vec<Effect>) {
        if self.link != Connection::Online {
            return; // The next connection starts afresh anyway.
        }
        self.disconnect(now, out);
        self.backoff_ms = FIRST_BACKOFF_MS;
        self.connect(out);
    }

    fn disconnect(&mut self, now: Timestamp, out: &mut Vec<Effect>) {
        if self.socket != Socket::Closed {
            out.push(Effect::DropSocket);
            self.socket = Socket::Closed;
        }
        self.online_since = None;
        if self.link == Connection::Online {
            self.link = Connection::Offline(now);
        }
        let outputs = self
            .peer
            .handle(now, Input::Disconnected { connection: SERVER });
        self.carry(now, outputs, out);
    }

    fn retry_later(&mut self, out: &mut Vec<Effect>) {
        let delay = self.backoff_ms;
        self.backoff_ms = (self.backoff_ms.saturating_mul(2)).min(crate::refused::MAX_BACKOFF_MS);
        out.push(Effect::Wait(Timer::Retry, delay));
    }

    /// The server no longer knows this sign-in: no more connections until
    /// [`Event::Resume`].
    fn session_ended(&mut self, now: Timestamp, out: &mut Vec<Effect>) {
        if self.ended {
            return;
        }
        self.disconnect(now, out);
        self.link = Connection::SessionEnded;
        out.push(Effect::Notify);
    }

    fn closed(&mut self, now: Timestamp, code: u16, reason: &str, out: &mut Vec<Effect>) {
        if self.socket == Socket::Closed {
            return; // A socket already dropped.
        }
        let closed = crate::refused::classify_close(code, reason);
        let lasted = self
            .online_since
            .is_some_and(|since| now.as_millis() - since.as_millis() >= STABLE_MS);
        let mut newly_held = false;
        match &closed {
            // The server kept the message's valid changes and refused the rest: the
            // document is held back (not offered again), everything else syncs on.
            Closed::Refused { document, codes } => {
                newly_held = self
                    .peer
                    .policy_mut()
                    .hold(*document, codes, now.as_millis());
            }
            Closed::QuarantineFull { pending } => self.quarantine_full = Some(*pending),
            Closed::Removed => {}
            Closed::Busy | Closed::Policy(_) | Closed::Other(_) => {
                if code == crate::refused::POLICY_VIOLATION || !reason.is_empty() {
                    self.problem = Some(reason.to_owned());
                }
            }
        }
        let connection = ClosedConnection {
            opened: self.socket == Socket::Open,
            lasted,
            newly_held,
        };
        let (after, backoff) = crate::refused::after_close(&closed, connection, self.backoff_ms);
        self.backoff_ms = backoff;
        self.socket = Socket::Closed;
        self.disconnect(now, out);
        if newly_held && !self.ended {
            out.push(Effect::SaveHeldBack(self.peer.policy().records()));
        }
        out.push(Effect::Notify);
        // A socket refused before it opened, or closed for a policy (1008), may mean the
        // server no longer knows this sign-in: the API tells. Refusals for anything else
        // wait for the person; everything else is tried again.
        match after {
            AfterClose::CheckSession { retry } => out.push(Effect::CheckSession { retry }),
            AfterClose::Retry { delay_ms } => out.push(Effect::Wait(Timer::Retry, delay_ms)),
        }
    }

    /// Asks the server for households of the caseload that are not on the device.
    fn want(&mut self, now: Timestamp, documents: Vec<DocumentId>, out: &mut Vec<Effect>) {
        let missing: Vec<DocumentId> = documents
            .into_iter()
            .filter(|document| {
                self.peer.document(document).is_none() && !self.unloaded.contains_key(document)
            })
            .collect();
        self.wanted.extend(missing);
        self.request_more(now, out);
    }

    /// Asks for wanted households, keeping at most [`MAX_REQUESTS_IN_FLIGHT`] outstanding;
    /// each arrival makes room for the next.
    fn request_more(&mut self, now: Timestamp, out: &mut Vec<Effect>) {
        if self.link != Connection::Online {
            return;
        }
        let room = MAX_REQUESTS_IN_FLIGHT.saturating_sub(self.requested.len());
        let next: Vec<DocumentId> = self
            .wanted
            .iter()
            .filter(|document| !self.requested.contains(document))
            .take(room)
            .copied()
            .collect();
        for document in next {
            self.requested.insert(document);
            let outputs = self.peer.handle(now, Input::Want { document });
            self.carry(now, outputs, out);
        }
    }

    /// A wanted household arrived (or the server has none): ask for the next.
    fn arrived(&mut self, now: Timestamp, document: DocumentId, out: &mut Vec<Effect>) {
        self.wanted.remove(&document);
        if self.requested.remove(&document) {
            self.request_more(now, out);
        }
    }

    /// Turns the peer's outputs into effects.
    fn carry(&mut self, now: Timestamp, outputs: Vec<Output>, out: &mut Vec<Effect>) {
        for output in outputs {
            match output {
                Output::Send { bytes, .. } => {
                    if self.socket == Socket::Open {
                        out.push(Effect::Send(bytes));
                    }
                }
                // The server sent what the protocol does not allow: end this connection as
                // any failed one, and try again after the pause.
                Output::Close { reason, .. } => {
                    if self.socket != Socket::Closed {
                        out.push(Effect::CloseSocket(reason.clone()));
                        self.closed(now, 1000, &reason, out);
                    }
                }
                Output::PeerReady { .. } => {
                    self.link = Connection::Online;
                    // The pauses start from one second again only once this connection has
                    // lasted (`closed`).
                    self.online_since = Some(now);
                    self.problem = None;
                    self.quarantine_full = None;
                    self.requested.clear();
                    self.request_more(now, out);
                    out.push(Effect::FetchCaseload);
                    out.push(Effect::FetchClock);
                    // Waiting for a decision, or rejected and not yet moved onto the
                    // server's copy (the move needs to know who signs).
                    if !self.peer.policy().is_empty() {
                        out.push(Effect::CheckQuarantine);
                    }
                    self.notify(false, out);
                }
                Output::DocumentChanged { document } => {
                    self.households_moved();
                    self.arrived(now, document, out);
                    self.persist(document, false, out);
                    self.notify(false, out);
                }
                Output::DocumentSynced { document, .. } => {
                    if !self.ended {
                        out.push(Effect::MarkClean(document));
                    }
                    self.notify(false, out);
                }
                Output::SyncStateChanged { peer, document } => {
                    if self.pending_states.is_empty() {
                        out.push(Effect::Wait(Timer::SyncStates, SYNC_STATES_MS));
                    }
                    self.pending_states.insert((peer, document));
                }
                Output::DocumentUnavailable { document } => self.arrived(now, document, out),
                // Only a peer that vets changes (the server) refuses some, and a phone takes
                // what its server sends; a message the peer could not read ends nothing.
                Output::Rejected { .. } | Output::Refused { .. } => {}
            }
        }
    }

    /// Loads a stored document into the peer, if it is still waiting to be.
    fn load(&mut self, document: DocumentId) {
        let Some((bytes, count)) = self.unloaded.remove(&document) else {
            return;
        };
        match lots_core::load_stored(&bytes) {
            Ok(doc) => {
                self.saved_heads.insert(document, doc.get_heads());
                self.chunks.insert(document, count);
                self.peer.insert_document(document, doc);
                if self.unloaded_dirty.remove(&document) {
                    self.peer.mark_dirty(document);
                }
                for (peer_id, state) in self.unloaded_states.remove(&document).unwrap_or_default() {
                    let _ = self.peer.import_sync_state(peer_id, document, &state);
                }
            }
            Err(error) => {
                // Its mark of changes waiting stays: signing out (which clears the device)
                // is refused while it is there, so the stored bytes are not thrown away.
                // It is listed with the reason (`unreadable`), never left out.
                self.summaries.remove(&document);
                self.unreadable_on_device
                    .insert(document, format!("the stored copy does not load: {error}"));
            }
        }
    }
}

#[cfg(test)]
mod tests;

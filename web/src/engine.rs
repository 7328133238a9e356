//! The app's engine: every household document in memory, core's sync peer, the device's
//! storage and the WebSocket to the server, driven together.
//!
//! Views read households from here and change them through [`Engine::act`], which runs one
//! of core's actions, stores the change in IndexedDB and only then reports it saved, and
//! offers it to the server when a socket is open. The socket is opened at start, when the
//! browser comes back online, when the app becomes visible again, and after a failure with a
//! growing pause; every document with unsynced changes is offered again on each connection.
//!
//! Everything runs on the browser's one thread: state sits in `RefCell`s, and no borrow is
//! held across an `await`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use lots_core::automerge::{Automerge, ChangeHash};
use lots_core::{
    ActionError, ConnectionId, DocumentId, Household, HouseholdDoc, Input, Output, PeerConfig,
    PeerId, Role, Signature, SyncPeer, Timeline, Timestamp,
};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::refused::{
    AfterClose, Closed, ClosedConnection, HeldBack, HoldBack, Outcome, Reason, RefusedRow,
};
use crate::replay::Kept;
use crate::storage::{COMPACT_AFTER_CHUNKS, Storage, StorageError};
use crate::unreadable::{ServerUnreadable, Unreadable};

/// The one connection a phone has: to its server.
const SERVER: ConnectionId = ConnectionId(1);

/// The measure of a change saved on the device.
const SAVE: &str = "lots:save";
/// The measure of reading the device's storage at start.
const OPEN: &str = "lots:open";

/// How many households are asked for at once on a connection.
const MAX_REQUESTS_IN_FLIGHT: usize = 32;

/// The documents held back from the server after a refusal (meta, JSON).
const HELD_BACK: &str = "held-back";
/// What the device keeps of households whose changes a supervisor rejected, until the
/// person dismisses it (meta, JSON: `replay::Kept`).
const KEPT: &str = "kept";
/// The server's clock minus the device's, as last learned (meta, JSON).
const CLOCK_OFFSET: &str = "clock-offset";
/// The households the caseload API last listed as unreadable (meta, JSON).
const SERVER_UNREADABLE: &str = "caseload-unreadable";
/// The last removed household this device has erased (meta: the tombstone's position).
const REMOVED_SEEN: &str = "removed-seen";
/// How often `/api/quarantine/mine` is asked while a document waits for a supervisor's
/// decision, or while the server refuses this device for a full quarantine.
const QUARANTINE_POLL_MS: u32 = 20_000;
/// How long a connection must have lasted for its end to start the pauses from one second
/// again: a server that closes each connection soon after the handshake is not retried
/// every second for ever.
const STABLE_MS: f64 = 30_000.0;

/// A User Timing measure in the browser's performance timeline, from `start` until
/// `finish`: benchmarks read them (`performance.getEntriesByName`), and so do the browser's
/// developer tools. `lots:save` is a change from the action to its IndexedDB commit;
/// `lots:open` is reading everything stored at start.
pub struct Measure {
    mark: Option<String>,
}

impl Measure {
    /// Starts measuring `name`.
    pub fn start(name: &str) -> Self {
        let performance = web_sys::window().and_then(|window| window.performance());
        let mark = performance.and_then(|performance| {
            let mark = format!("{name}:{}", js_sys::Math::random());
            performance.mark(&mark).ok().map(|()| mark)
        });
        Self { mark }
    }

    /// Records the measure as `name`.
    pub fn finish(self, name: &str) {
        if let (Some(performance), Some(mark)) = (
            web_sys::window().and_then(|window| window.performance()),
            self.mark,
        ) {
            let _ = performance.measure_with_start_mark(name, &mark);
            performance.clear_marks_with_mark_name(&mark);
        }
    }
}

/// Waits until the browser has nothing more urgent to do: a task at "background" priority
/// through `scheduler.postTask` where the browser has it (Chromium), else a zero timeout.
/// Work nobody is waiting for (loading every document after start, reading the past for
/// reports not opened yet) pauses with this, so that what a person asked for — a click, a
/// report being read — runs first. Written by hand: gloo and web-sys offer no binding for
/// the Prioritized Task Scheduling API.
pub async fn background_pause() {
    if let Some(promise) = post_background_task()
        && wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
    {
        return;
    }
    gloo::timers::future::TimeoutFuture::new(0).await;
}

fn post_background_task() -> Option<js_sys::Promise> {
    use js_sys::{Function, Object, Reflect};
    let window = web_sys::window()?;
    let scheduler = Reflect::get(&window, &"scheduler".into()).ok()?;
    if scheduler.is_undefined() {
        return None;
    }
    let post: Function = Reflect::get(&scheduler, &"postTask".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let options = Object::new();
    Reflect::set(&options, &"priority".into(), &"background".into()).ok()?;
    let task = Closure::once_into_js(|| {});
    post.call2(&scheduler, &task, &options)
        .ok()?
        .dyn_into()
        .ok()
}

/// How long remote events wait to be shown together (`Engine::changed_soon`).
const COALESCE_MS: u32 = 100;

thread_local! {
    /// The server's clock minus the device's (`clock.rs`), learned on each connection.
    static CLOCK_OFFSET_MS: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Now: the browser's clock (core never reads it), set right by the offset learned from
/// the server, so that what is signed and recorded is neither backdated nor ahead.
pub fn now() -> Timestamp {
    Timestamp::from_millis(crate::clock::corrected(
        js_sys::Date::now(),
        CLOCK_OFFSET_MS.with(std::cell::Cell::get),
    ))
}

/// Sets the offset [`now`] adds to the browser's clock.
pub fn set_clock_offset(offset_ms: i64) {
    CLOCK_OFFSET_MS.with(|offset| offset.set(offset_ms));
}

/// Whether the socket is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Connected and handshaken.
    Online,
    /// Not connected (or still connecting) since this instant.
    Offline(Timestamp),
    /// The server no longer knows this sign-in (it expired, or the device was removed):
    /// syncing waits until the person signs in again. Nothing on the device is touched.
    SessionEnded,
}

/// What the status line shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The connection.
    pub link: Connection,
    /// Households with changes the server does not have yet (not counting those held back).
    pub waiting: usize,
    /// Households held back from the server after it refused a change to them.
    pub held_back: usize,
    /// Households that cannot be read, on the device or on the server.
    pub unreadable: usize,
    /// Records of what the server did not take, kept until the person dismisses them:
    /// signing out (which clears the device) waits for that too.
    pub kept: usize,
    /// The server refuses this device until a supervisor has looked at its refused
    /// changes: how many it said were waiting.
    pub quarantine_full: Option<usize>,
    /// Fields waiting for a person to choose between values.
    pub conflicts: usize,
    /// Changes being written to the device right now.
    pub saving: usize,
    /// The last thing that went wrong, in words for the person.
    pub problem: Option<String>,
}

impl Status {
    /// Whether everything on the device is on the server and reads: only then does the
    /// status line say "Synced". A household held back or unreadable is not synced, however
    /// quiet the connection is.
    pub fn synced(&self) -> bool {
        self.link == Connection::Online
            && self.waiting == 0
            && self.held_back == 0
            && self.unreadable == 0
            && self.quarantine_full.is_none()
    }
}

/// What went wrong with a change.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// The household refused it (a rule of core).
    #[error(transparent)]
    Action(#[from] ActionError),
    /// It is in memory but could not be written to the device.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The household is not on this device.
    #[error("this household is not on this device")]
    Missing,
}

/// What the views show of one household, as of its document's heads.
struct Summary {
    heads: Vec<ChangeHash>,
    household: Rc<Household>,
    conflicts: usize,
    /// When its changes were signed: what the desk's reports need to know, without the
    /// document, whether a household as at a past instant is simply as it is now. `None`
    /// in a summary stored by an older version of the app.
    timeline: Option<Timeline>,
}

/// A summary as IndexedDB keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSummary<H> {
    heads: Vec<String>,
    conflicts: usize,
    household: H,
    #[serde(default)]
    timeline: Option<Timeline>,
}

impl Summary {
    /// Reads the summary at `heads`; the timeline from only the changes since `previous`.
    fn read(
        doc: HouseholdDoc<&Automerge>,
        heads: Vec<ChangeHash>,
        previous: Option<&Summary>,
    ) -> Result<Self, String> {
        let household = doc.household().map_err(|error| error.to_string())?;
        let conflicts = doc.conflicts().map(|c| c.len()).unwrap_or(0);
        let timeline = match previous.and_then(|summary| summary.timeline.clone()) {
            Some(mut timeline) => {
                timeline.update(&doc);
                timeline
            }
            None => Timeline::of(&doc),
        };
        Ok(Self {
            heads,
            household: Rc::new(household),
            conflicts,
            timeline: Some(timeline),
        })
    }

    fn to_json(&self) -> String {
        let stored = StoredSummary {
            heads: self.heads.iter().map(ToString::to_string).collect(),
            conflicts: self.conflicts,
            household: &*self.household,
            timeline: self.timeline.clone(),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// `None` for a summary that does not read (an older shape): the document is loaded
    /// before its household shows.
    fn from_json(json: &str) -> Option<Self> {
        let stored: StoredSummary<Household> = serde_json::from_str(json).ok()?;
        let heads = stored
            .heads
            .iter()
            .map(|head| head.parse().ok())
            .collect::<Option<Vec<ChangeHash>>>()?;
        Some(Self {
            heads,
            household: Rc::new(stored.household),
            conflicts: stored.conflicts,
            timeline: stored.timeline,
        })
    }
}

impl State {
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
                // It is listed with the reason (`Engine::unreadable`), never left out.
                self.summaries.remove(&document);
                let problem = format!(
                    "a household stored on this device cannot be read ({document}): {error}"
                );
                web_sys::console::error_1(&problem.as_str().into());
                self.unreadable_on_device
                    .insert(document, format!("the stored copy does not load: {error}"));
            }
        }
    }
}

struct Socket {
    socket: WebSocket,
    // Kept alive as long as the socket: the browser calls them.
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

struct State {
    /// The sync peer; its share policy holds back the documents the server refused.
    peer: SyncPeer<HoldBack>,
    saved_heads: HashMap<DocumentId, Vec<ChangeHash>>,
    chunks: HashMap<DocumentId, usize>,
    /// Each document's household and conflict count as of some heads: views ask on every
    /// render, and reading a document costs milliseconds. Kept in IndexedDB too, so the
    /// list shows at start before the documents are loaded.
    summaries: HashMap<DocumentId, Rc<Summary>>,
    /// Documents stored on the device and not loaded yet (their bytes), loaded in the
    /// background after start or at once when something needs one.
    unloaded: BTreeMap<DocumentId, (Vec<u8>, usize)>,
    /// What start-up read for the documents not loaded yet: waiting for the server…
    unloaded_dirty: BTreeSet<DocumentId>,
    /// …and their sync states.
    unloaded_states: HashMap<DocumentId, Vec<(PeerId, Vec<u8>)>>,
    /// `connect` was called while documents were still loading.
    connect_when_loaded: bool,
    socket: Option<Socket>,
    /// The current socket has opened (a socket that closes before it does may have been
    /// refused for a session that ended, which the browser does not tell apart).
    opened: bool,
    /// When the server last finished a handshake on this connection (`Date.now()`).
    online_since: Option<f64>,
    link: Connection,
    saving: usize,
    problem: Option<String>,
    backoff_ms: u32,
    server_peer: Option<PeerId>,
    pending_states: BTreeSet<(PeerId, DocumentId)>,
    /// Households the caseload lists that are not on the device yet.
    wanted: BTreeSet<DocumentId>,
    /// Of those, the ones asked for on this connection and not arrived yet: at most
    /// `MAX_REQUESTS_IN_FLIGHT`, so a supervisor's 500 households do not arrive as 500
    /// requests at once (the server closes a connection over its message rate).
    requested: BTreeSet<DocumentId>,
    /// Households whose copy on the device does not read, with why.
    unreadable_on_device: BTreeMap<DocumentId, String>,
    /// Households the caseload API lists as unreadable.
    unreadable_on_server: BTreeMap<DocumentId, ServerUnreadable>,
    /// The server refused this device for its full quarantine, saying this many refused
    /// changes wait; cleared when a connection succeeds or fewer wait.
    quarantine_full: Option<usize>,
    /// What the server did not take of households whose changes were rejected, in words and
    /// bytes, as IndexedDB keeps it (`KEPT`).
    kept: Vec<Kept>,
    /// Who the person is, as core's check knows a writer: the actions made again after a
    /// rejection are signed as them. Set by the app once it knows who is signed in.
    writer: Option<lots_core::Writer>,
    /// Households being moved onto the server's copy right now.
    recovering: BTreeSet<DocumentId>,
}

/// The engine; cheap to clone (all clones are one engine).
#[derive(Clone)]
pub struct Engine {
    inner: Rc<Inner>,
}

struct Inner {
    state: RefCell<State>,
    /// Held while a document is written to the device: one write at a time, so that a
    /// compaction (a full save replacing a document's chunks) cannot delete a chunk another
    /// write added in between, and each write starts from the heads the last one saved.
    writing: futures_util::lock::Mutex<()>,
    /// Signed out: nothing more is written to the device.
    ended: std::cell::Cell<bool>,
    /// A coalesced notification is on its way (`changed_soon`).
    change_pending: std::cell::Cell<bool>,
    /// Moves whenever a household document's heads may have moved (`households_version`).
    households_version: std::cell::Cell<u64>,
    storage: Storage,
    sync_url: String,
    on_change: RefCell<Option<Rc<dyn Fn()>>>,
}

impl PartialEq for Engine {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Engine {
    /// Loads every household stored on the device. `peer_id` names this device in the sync
    /// protocol; `sync_url` is the server's `ws(s)://…/sync`.
    pub async fn open(
        storage: Storage,
        peer_id: PeerId,
        sync_url: String,
    ) -> Result<Self, StorageError> {
        let measure = Measure::start(OPEN);
        let stored = storage.load().await?;
        // What the device kept of refusals, the clock and the server's unreadable
        // households: only worth a warning if it does not read (a refusal is held again
        // when the document is offered and refused again).
        let held: Vec<HeldBack> = storage
            .meta(HELD_BACK)
            .await
            .unwrap_or_else(|error| {
                web_sys::console::warn_1(&format!("held-back documents: {error}").into());
                None
            })
            .unwrap_or_default();
        if let Ok(Some(offset)) = storage.meta::<i64>(CLOCK_OFFSET).await {
            set_clock_offset(offset);
        }
        let unreadable_on_server: BTreeMap<DocumentId, ServerUnreadable> = storage
            .meta(SERVER_UNREADABLE)
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        // The records of what the server did not take hold what a person typed: a record
        // that does not read fails the start rather than being overwritten later.
        let kept: Vec<Kept> = storage.meta(KEPT).await?.unwrap_or_default();
        let peer = SyncPeer::with_policy(
            PeerConfig::new(peer_id, Role::Client),
            HoldBack::from_records(held),
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
        measure.finish(OPEN);
        let engine = Self {
            inner: Rc::new(Inner {
                state: RefCell::new(State {
                    peer,
                    saved_heads: HashMap::new(),
                    chunks: HashMap::new(),
                    summaries,
                    unloaded: stored.documents,
                    unloaded_dirty: stored.dirty.into_iter().collect(),
                    unloaded_states,
                    connect_when_loaded: false,
                    socket: None,
                    opened: false,
                    online_since: None,
                    link: Connection::Offline(now()),
                    saving: 0,
                    problem: None,
                    backoff_ms: 1_000,
                    server_peer: None,
                    pending_states: BTreeSet::new(),
                    wanted: BTreeSet::new(),
                    requested: BTreeSet::new(),
                    unreadable_on_device: BTreeMap::new(),
                    unreadable_on_server,
                    quarantine_full: None,
                    kept,
                    writer: None,
                    recovering: BTreeSet::new(),
                }),
                writing: futures_util::lock::Mutex::new(()),
                storage,
                sync_url,
                ended: std::cell::Cell::new(false),
                change_pending: std::cell::Cell::new(false),
                households_version: std::cell::Cell::new(0),
                on_change: RefCell::new(None),
            }),
        };
        wasm_bindgen_futures::spawn_local(engine.clone().load_all());
        wasm_bindgen_futures::spawn_local(engine.clone().watch_quarantine());
        Ok(engine)
    }

    /// Loads the stored documents one by one, letting the page run first between them (each
    /// takes milliseconds, a caseload seconds on a slow phone), then connects if asked to.
    /// The views hear of it only when a loaded document shows something its stored summary
    /// did not (or it had none): re-rendering a desk's report for each of 500 documents that
    /// show just what they showed would cost more than loading them.
    async fn load_all(self) {
        let mut unseen = 0;
        loop {
            let next = self.inner.state.borrow().unloaded.keys().next().copied();
            let Some(document) = next else {
                break;
            };
            let shown_already = {
                let mut state = self.inner.state.borrow_mut();
                state.load(document);
                let heads = state.peer.document(&document).map(Automerge::get_heads);
                state.summaries.get(&document).is_some_and(|summary| {
                    summary.timeline.is_some() && Some(&summary.heads) == heads.as_ref()
                })
            };
            if !shown_already {
                self.households_moved();
                unseen += 1;
                if unseen % 10 == 0 {
                    self.changed_soon();
                }
            }
            background_pause().await;
        }
        self.changed();
        let connect = std::mem::take(&mut self.inner.state.borrow_mut().connect_when_loaded);
        if connect {
            self.connect();
        }
    }

    /// Sets what runs whenever something shown may have changed.
    pub fn on_change(&self, callback: impl Fn() + 'static) {
        *self.inner.on_change.borrow_mut() = Some(Rc::new(callback));
    }

    fn changed(&self) {
        let callback = self.inner.on_change.borrow().clone();
        if let Some(callback) = callback {
            callback();
        }
    }

    /// Tells the views a moment later, once for everything that happens meanwhile: a
    /// reconnect brings a message per household, and a desk of 500 drawn again for each of
    /// them would keep a slow computer busy for seconds. What the person does is shown at
    /// once (`changed`).
    fn changed_soon(&self) {
        if self.inner.change_pending.replace(true) {
            return;
        }
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            gloo::timers::future::TimeoutFuture::new(COALESCE_MS).await;
            engine.inner.change_pending.set(false);
            engine.changed();
        });
    }

    fn households_moved(&self) {
        let version = &self.inner.households_version;
        version.set(version.get() + 1);
    }

    /// A number that moves whenever some household may read differently (a document
    /// changed, arrived or was loaded with no summary to match): what is computed from
    /// every household (the desk's reports) is computed again only when it moves, not on
    /// each sync message.
    pub fn households_version(&self) -> u64 {
        self.inner.households_version.get()
    }

    /// The device's storage.
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// Every household on the device, read from its document (cached until it changes) or,
    /// while the document is still loading, from its stored summary.
    pub fn households(&self) -> BTreeMap<DocumentId, Rc<Household>> {
        self.summaries()
            .into_iter()
            .map(|(document, summary)| (document, summary.household.clone()))
            .collect()
    }

    /// Every household on the device with its document's [`Timeline`] (when known: a
    /// summary stored by an older version of the app has none until its document loads).
    pub fn households_with_timelines(
        &self,
    ) -> BTreeMap<DocumentId, (Rc<Household>, Option<Timeline>)> {
        self.summaries()
            .into_iter()
            .map(|(document, summary)| {
                (
                    document,
                    (summary.household.clone(), summary.timeline.clone()),
                )
            })
            .collect()
    }

    /// Every document's summary, brought up to date with its heads; new ones are stored.
    fn summaries(&self) -> BTreeMap<DocumentId, Rc<Summary>> {
        let mut fresh = Vec::new();
        let summaries = {
            let mut state = self.inner.state.borrow_mut();
            let state = &mut *state;
            let mut summaries = BTreeMap::new();
            for document in state.peer.document_ids() {
                let Some(doc) = state.peer.document(document) else {
                    continue;
                };
                let heads = doc.get_heads();
                if heads.is_empty() {
                    continue; // Asked for and not arrived yet.
                }
                let previous = state.summaries.get(document);
                if let Some(summary) = previous
                    && summary.heads == heads
                    && summary.timeline.is_some()
                {
                    summaries.insert(*document, summary.clone());
                    continue;
                }
                match Summary::read(HouseholdDoc::new(doc), heads, previous.map(|s| &**s)) {
                    Ok(summary) => {
                        let summary = Rc::new(summary);
                        state.summaries.insert(*document, summary.clone());
                        state.unreadable_on_device.remove(document);
                        fresh.push((*document, summary.clone()));
                        summaries.insert(*document, summary);
                    }
                    Err(error) => {
                        web_sys::console::warn_1(
                            &format!("household {document} does not read: {error}").into(),
                        );
                        // Listed with the reason (`unreadable`), never silently left out.
                        state.unreadable_on_device.insert(*document, error);
                    }
                }
            }
            for document in state.unloaded.keys() {
                if let Some(summary) = state.summaries.get(document) {
                    summaries.insert(*document, summary.clone());
                }
            }
            summaries
        };
        for (document, summary) in fresh {
            let storage = self.inner.storage.clone();
            let engine = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if engine.ended() {
                    return;
                }
                // Only a shortcut for the next start: if it fails, that start loads the
                // document before showing it.
                if let Err(error) = storage.save_summary(&document, &summary.to_json()).await {
                    web_sys::console::warn_1(&format!("summary of {document}: {error}").into());
                }
            });
        }
        summaries
    }

    /// Runs `read` on one household document.
    pub fn with_document<T>(
        &self,
        document: &DocumentId,
        read: impl FnOnce(HouseholdDoc<&Automerge>) -> T,
    ) -> Option<T> {
        let mut state = self.inner.state.borrow_mut();
        state.load(*document);
        state
            .peer
            .document(document)
            .map(|doc| read(HouseholdDoc::new(doc)))
    }

    /// The status line's facts.
    pub fn status(&self) -> Status {
        let summaries = self.summaries();
        let conflicts = summaries.values().map(|summary| summary.conflicts).sum();
        let unreadable = self.unreadable_given(&summaries).len();
        let state = self.inner.state.borrow();
        let held = state.peer.policy();
        let waiting = state
            .peer
            .dirty_documents()
            .chain(&state.unloaded_dirty)
            .filter(|document| !held.is_held(document))
            .count();
        Status {
            link: state.link,
            waiting,
            held_back: held.len(),
            unreadable,
            kept: state.kept.len(),
            quarantine_full: state.quarantine_full,
            conflicts,
            saving: state.saving,
            problem: state.problem.clone(),
        }
    }

    /// The households held back from the server after it refused a change to them, with
    /// why and what a supervisor decided.
    pub fn held_back(&self) -> Vec<HeldBack> {
        self.inner.state.borrow().peer.policy().records()
    }

    /// Whether `document` is held back from the server, and how.
    pub fn held_back_of(&self, document: &DocumentId) -> Option<HeldBack> {
        self.inner
            .state
            .borrow()
            .peer
            .policy()
            .get(document)
            .cloned()
    }

    /// Every household that cannot be read, on the device or on the server, with why: the
    /// views list them rather than leave them out.
    pub fn unreadable(&self) -> Vec<Unreadable> {
        self.unreadable_given(&self.summaries())
    }

    fn unreadable_given(&self, readable: &BTreeMap<DocumentId, Rc<Summary>>) -> Vec<Unreadable> {
        let state = self.inner.state.borrow();
        crate::unreadable::unreadable(
            &state.unreadable_on_device,
            &state.unreadable_on_server,
            |document| readable.contains_key(document),
        )
    }

    /// Why the server cannot read a household this device reads, if it cannot.
    pub fn unreadable_on_server(&self, document: &DocumentId) -> Option<String> {
        let state = self.inner.state.borrow();
        crate::unreadable::server_reason(&state.unreadable_on_server, document).map(str::to_owned)
    }

    /// Runs one of core's actions on a household: exactly one signed change, written to the
    /// device before this returns `Ok`, then offered to the server.
    pub async fn act<T>(
        &self,
        document: DocumentId,
        action: impl FnOnce(&mut HouseholdDoc<&mut Automerge>) -> Result<T, ActionError>,
    ) -> Result<T, ActError> {
        let measure = Measure::start(SAVE);
        let result = {
            let mut state = self.inner.state.borrow_mut();
            state.load(document);
            let doc = state
                .peer
                .document_mut(&document)
                .ok_or(ActError::Missing)?;
            let mut household = HouseholdDoc::new(doc);
            action(&mut household)?
        };
        self.local_change(document).await?;
        measure.finish(SAVE);
        Ok(result)
    }

    /// Runs an action on the household as it stood at `base` (the heads when the person
    /// began editing) and merges the result in: a text edited for a while merges with what
    /// other devices wrote meanwhile instead of overwriting it. The fork writes as a fresh
    /// actor, because this device's actor may already have changes after `base`.
    pub async fn act_at<T>(
        &self,
        document: DocumentId,
        base: &[ChangeHash],
        action: impl FnOnce(&mut HouseholdDoc<&mut Automerge>) -> Result<T, ActionError>,
    ) -> Result<T, ActError> {
        let measure = Measure::start(SAVE);
        let result = {
            let mut state = self.inner.state.borrow_mut();
            state.load(document);
            let doc = state
                .peer
                .document_mut(&document)
                .ok_or(ActError::Missing)?;
            let mut fork = doc
                .fork_at(base)
                .map_err(ActionError::from)?
                .with_actor(lots_core::automerge::ActorId::random());
            let result = action(&mut HouseholdDoc::new(&mut fork))?;
            doc.merge(&mut fork).map_err(ActionError::from)?;
            result
        };
        self.local_change(document).await?;
        measure.finish(SAVE);
        Ok(result)
    }

    /// Adds a household made on this device (a new case).
    pub async fn add(&self, document: DocumentId, doc: Automerge) -> Result<(), ActError> {
        self.inner
            .state
            .borrow_mut()
            .peer
            .insert_document(document, doc);
        self.local_change(document).await?;
        Ok(())
    }

    async fn local_change(&self, document: DocumentId) -> Result<(), StorageError> {
        let outputs = {
            let mut state = self.inner.state.borrow_mut();
            state.peer.handle(now(), Input::LocalChange { document })
        };
        self.households_moved();
        self.carry_out(outputs);
        let saved = self.persist(document, true).await;
        self.changed();
        saved
    }

    /// Writes what is new in a document since it was last written.
    async fn persist(&self, document: DocumentId, dirty: bool) -> Result<(), StorageError> {
        let _writing = self.inner.writing.lock().await;
        if self.ended() {
            return Ok(());
        }
        let (bytes, heads, full) = {
            let mut state = self.inner.state.borrow_mut();
            let Some(doc) = state.peer.document(&document) else {
                return Ok(());
            };
            let heads = doc.get_heads();
            let saved = state.saved_heads.get(&document);
            if saved == Some(&heads) {
                return Ok(());
            }
            let bytes = match saved {
                Some(saved) => doc.save_after(saved),
                None => doc.save(),
            };
            let count = state.chunks.get(&document).copied().unwrap_or(0);
            let full = (count + 1 > COMPACT_AFTER_CHUNKS).then(|| doc.save());
            state.saving += 1;
            (bytes, heads, full)
        };
        let result = match &full {
            Some(full) => {
                // A full save replaces the chunks; the dirty mark is written first.
                match self.inner.storage.append(&document, &bytes, dirty).await {
                    Ok(()) => self.inner.storage.compact(&document, full).await,
                    Err(error) => Err(error),
                }
            }
            None => self.inner.storage.append(&document, &bytes, dirty).await,
        };
        let mut state = self.inner.state.borrow_mut();
        state.saving -= 1;
        match &result {
            Ok(()) => {
                state.saved_heads.insert(document, heads);
                let count = if full.is_some() {
                    1
                } else {
                    state.chunks.get(&document).copied().unwrap_or(0) + 1
                };
                state.chunks.insert(document, count);
                state.problem = None;
            }
            Err(error) => state.problem = Some(error.to_string()),
        }
        result
    }

    /// Asks the server for households of the caseload that are not on the device.
    pub fn want(&self, documents: impl IntoIterator<Item = DocumentId>) {
        {
            let mut state = self.inner.state.borrow_mut();
            let state = &mut *state;
            let missing = documents.into_iter().filter(|document| {
                state.peer.document(document).is_none() && !state.unloaded.contains_key(document)
            });
            state.wanted.extend(missing);
        }
        self.request_more();
    }

    /// Asks the server for wanted households, keeping at most `MAX_REQUESTS_IN_FLIGHT`
    /// outstanding; each arrival makes room for the next.
    fn request_more(&self) {
        let outputs = {
            let mut state = self.inner.state.borrow_mut();
            let state = &mut *state;
            if state.link != Connection::Online {
                return;
            }
            let room = MAX_REQUESTS_IN_FLIGHT.saturating_sub(state.requested.len());
            let next: Vec<DocumentId> = state
                .wanted
                .iter()
                .filter(|document| !state.requested.contains(document))
                .take(room)
                .copied()
                .collect();
            let now = now();
            let mut outputs = Vec::new();
            for document in next {
                state.requested.insert(document);
                outputs.extend(state.peer.handle(now, Input::Want { document }));
            }
            outputs
        };
        self.carry_out(outputs);
    }

    /// Opens the socket unless it is open or opening, or the person has signed out.
    pub fn connect(&self) {
        if self.ended() {
            return;
        }
        {
            let mut state = self.inner.state.borrow_mut();
            if state.socket.is_some() || state.link == Connection::SessionEnded {
                return;
            }
            // Every stored document is in the peer before the first handshake, so each one
            // waiting for the server is offered on it.
            if !state.unloaded.is_empty() {
                state.connect_when_loaded = true;
                return;
            }
        }
        let socket = match WebSocket::new(&self.inner.sync_url) {
            Ok(socket) => socket,
            Err(error) => {
                self.inner.state.borrow_mut().problem =
                    Some(format!("cannot open the connection: {error:?}"));
                self.retry_later();
                return;
            }
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let engine = self.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || engine.opened());
        let engine = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                engine.received(js_sys::Uint8Array::new(&buffer).to_vec());
            }
        });
        let engine = self.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            engine.closed(event.code(), event.reason());
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut state = self.inner.state.borrow_mut();
        state.opened = false;
        state.socket = Some(Socket {
            socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
        drop(state);
        self.changed();
    }

    fn opened(&self) {
        let outputs = {
            let mut state = self.inner.state.borrow_mut();
            state.opened = true;
            state
                .peer
                .handle(now(), Input::Connected { connection: SERVER })
        };
        self.carry_out(outputs);
    }

    fn received(&self, bytes: Vec<u8>) {
        let outputs = self.inner.state.borrow_mut().peer.handle(
            now(),
            Input::Received {
                connection: SERVER,
                bytes,
            },
        );
        self.carry_out(outputs);
    }

    fn closed(&self, code: u16, reason: String) {
        let closed = crate::refused::classify_close(code, &reason);
        let (after, held) = {
            let mut state = self.inner.state.borrow_mut();
            let state = &mut *state;
            let lasted = state
                .online_since
                .is_some_and(|since| js_sys::Date::now() - since >= STABLE_MS);
            let mut newly_held = false;
            match &closed {
                // The server kept the message's valid changes and refused the rest: the
                // document is held back (not offered again), everything else syncs on.
                Closed::Refused { document, codes } => {
                    newly_held = state
                        .peer
                        .policy_mut()
                        .hold(*document, codes, now().as_millis());
                }
                Closed::QuarantineFull { pending } => state.quarantine_full = Some(*pending),
                Closed::Removed => {}
                Closed::Busy | Closed::Policy(_) | Closed::Other(_) => {
                    if code == crate::refused::POLICY_VIOLATION || !reason.is_empty() {
                        state.problem = Some(reason.clone());
                    }
                }
            }
            let connection = ClosedConnection {
                opened: state.opened,
                lasted,
                newly_held,
            };
            let (after, backoff) =
                crate::refused::after_close(&closed, connection, state.backoff_ms);
            state.backoff_ms = backoff;
            (after, newly_held)
        };
        let outputs = {
            let mut state = self.inner.state.borrow_mut();
            state.socket = None;
            state.online_since = None;
            if state.link == Connection::Online {
                state.link = Connection::Offline(now());
            }
            state
                .peer
                .handle(now(), Input::Disconnected { connection: SERVER })
        };
        self.carry_out(outputs);
        if held {
            self.save_held_back();
        }
        self.changed();
        // A socket refused before it opened, or closed for a policy (1008), may mean the
        // server no longer knows this sign-in: the API tells. Refusals for anything else
        // wait for the person; everything else is tried again.
        match after {
            AfterClose::CheckSession { retry } => self.check_session(retry),
            AfterClose::Retry { delay_ms } => self.retry_in(delay_ms),
        }
    }

    /// Asks the API whether this sign-in still holds; if it has ended, syncing waits for the
    /// person to sign in again, otherwise (`retry`) the socket is tried again later.
    fn check_session(&self, retry: bool) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match crate::api::signed_in().await {
                Ok(false) => engine.session_ended(),
                _ if retry => engine.retry_later(),
                _ => {}
            }
        });
    }

    /// The server no longer knows this sign-in: no more connections until [`resume`]
    /// (Self::resume).
    fn session_ended(&self) {
        if self.ended() {
            return;
        }
        self.disconnect();
        self.inner.state.borrow_mut().link = Connection::SessionEnded;
        self.changed();
    }

    /// Signed in again after the session ended: connects at once.
    pub fn resume(&self) {
        {
            let mut state = self.inner.state.borrow_mut();
            if state.link == Connection::SessionEnded {
                state.link = Connection::Offline(now());
            }
            state.problem = None;
            state.backoff_ms = 1_000;
        }
        self.connect();
        self.changed();
    }

    /// Asks the API for the caseload and the server for its households not on the device:
    /// at start (so that the first connection asks at once) and on every connection, since
    /// households are assigned during the day.
    pub fn refresh_caseload(&self) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match crate::api::caseload().await {
                Ok(caseload) => engine.caseload_heard(caseload),
                Err(crate::api::ApiError::Unauthorized) => return engine.session_ended(),
                Err(error) => web_sys::console::warn_1(
                    &format!("the caseload could not be fetched: {error}").into(),
                ),
            }
            let erased = match crate::api::removed().await {
                Ok(removed) => engine.erase_removed(removed).await,
                Err(crate::api::ApiError::Unauthorized) => return engine.session_ended(),
                Err(error) => Err(StorageError::Failed(format!(
                    "the removed households could not be fetched: {error}"
                ))),
            };
            if let Err(error) = erased {
                web_sys::console::warn_1(&format!("removed households: {error}").into());
            }
        });
    }

    /// Erases every copy on this device of households the server removed (gallring, or a
    /// decision): documents, summaries, sync states, the desk's cached past, and what was
    /// kept of refused changes. The law's decision stands over unsynced edits here: the
    /// server would refuse them, as it refuses the household itself. Tombstones erased
    /// before (by their position, kept on the device) are skipped.
    async fn erase_removed(
        &self,
        removed: Vec<crate::api::RemovedHousehold>,
    ) -> Result<(), StorageError> {
        let seen: i64 = self.inner.storage.meta(REMOVED_SEEN).await?.unwrap_or(0);
        let fresh: Vec<DocumentId> = removed
            .iter()
            .filter(|tombstone| tombstone.seq > seen)
            .map(|tombstone| tombstone.document_id)
            .collect();
        let Some(last) = removed.iter().map(|tombstone| tombstone.seq).max() else {
            return Ok(());
        };
        if fresh.is_empty() {
            return Ok(());
        }
        let _writing = self.inner.writing.lock().await;
        if self.ended() {
            return Ok(());
        }
        for document in &fresh {
            self.inner.storage.erase(document).await?;
            let mut state = self.inner.state.borrow_mut();
            state.peer.remove_document(document);
            state.peer.policy_mut().release(document);
            state.summaries.remove(document);
            state.unloaded.remove(document);
            state.requested.remove(document);
            state.unreadable_on_device.remove(document);
            state.unreadable_on_server.remove(document);
            state.unloaded_dirty.remove(document);
            state.unloaded_states.remove(document);
            state.saved_heads.remove(document);
            state.chunks.remove(document);
            state.wanted.remove(document);
        }
        let mut kept = self.kept();
        let before = kept.len();
        kept.retain(|record| !fresh.contains(&record.document));
        if kept.len() != before {
            let records = (!kept.is_empty()).then_some(&kept);
            self.inner.storage.set_meta(KEPT, records).await?;
            self.inner.state.borrow_mut().kept = kept;
        }
        self.inner
            .storage
            .set_meta(REMOVED_SEEN, Some(&last))
            .await?;
        drop(_writing);
        self.save_held_back();
        self.households_moved();
        self.changed();
        Ok(())
    }

    fn retry_later(&self) {
        let delay = {
            let mut state = self.inner.state.borrow_mut();
            let delay = state.backoff_ms;
            state.backoff_ms = (state.backoff_ms * 2).min(crate::refused::MAX_BACKOFF_MS);
            delay
        };
        self.retry_in(delay);
    }

    fn retry_in(&self, delay_ms: u32) {
        let engine = self.clone();
        gloo::timers::callback::Timeout::new(delay_ms, move || engine.connect()).forget();
    }

    /// Connects at once, not at the next backoff step: the browser says the network is back
    /// or the app is in view again. A socket still trying from before is dropped.
    pub fn reconnect(&self) {
        {
            let state = self.inner.state.borrow();
            // A full quarantine waits its long pause (or a supervisor's decision, which
            // `watch_quarantine` hears of), not the next time the app comes into view.
            if matches!(state.link, Connection::Online | Connection::SessionEnded)
                || state.quarantine_full.is_some()
            {
                return;
            }
        }
        self.disconnect();
        self.inner.state.borrow_mut().backoff_ms = 1_000;
        self.connect();
    }

    /// The browser says the network is gone: stop using the socket now rather than when it
    /// times out, so the status line says so. The next `online` event reconnects.
    pub fn offline(&self) {
        self.disconnect();
        self.changed();
    }

    /// Signing out: closes the socket for good, and nothing (saves, sync states, summaries,
    /// the desk's kept households) is written to the device from now on, so that clearing
    /// it leaves nothing of this person behind.
    pub fn end(&self) {
        self.inner.ended.set(true);
        self.disconnect();
    }

    /// Whether [`end`](Self::end) was called.
    pub fn ended(&self) -> bool {
        self.inner.ended.get()
    }

    /// Whether documents are still being loaded from the device or awaited from the
    /// server: background work waits until they are all here.
    pub fn loading(&self) -> bool {
        let state = self.inner.state.borrow();
        !state.unloaded.is_empty() || !state.wanted.is_empty()
    }

    /// Closes the socket.
    pub fn disconnect(&self) {
        let socket = self.inner.state.borrow_mut().socket.take();
        if let Some(socket) = socket {
            socket.socket.set_onclose(None);
            let _ = socket.socket.close();
        }
        let outputs = {
            let mut state = self.inner.state.borrow_mut();
            if state.link == Connection::Online {
                state.link = Connection::Offline(now());
            }
            state
                .peer
                .handle(now(), Input::Disconnected { connection: SERVER })
        };
        self.carry_out(outputs);
    }

    /// A wanted household arrived (or the server has none): ask for the next.
    fn arrived(&self, document: DocumentId) {
        let asked = {
            let mut state = self.inner.state.borrow_mut();
            state.wanted.remove(&document);
            state.requested.remove(&document)
        };
        if asked {
            self.request_more();
        }
    }

    /// Carries out the peer's outputs: sends at once, saves in the background.
    fn carry_out(&self, outputs: Vec<Output>) {
        let mut changed = false;
        for output in outputs {
            match output {
                Output::Send { bytes, .. } => {
                    let state = self.inner.state.borrow();
                    if let Some(socket) = &state.socket {
                        let _ = socket.socket.send_with_u8_array(&bytes);
                    }
                }
                Output::Close { reason, .. } => {
                    let socket = self.inner.state.borrow_mut().socket.take();
                    if let Some(socket) = socket {
                        let _ = socket.socket.close_with_code_and_reason(1000, &reason);
                    }
                }
                Output::PeerReady { peer, .. } => {
                    let wanted: Vec<DocumentId> = {
                        let mut state = self.inner.state.borrow_mut();
                        state.link = Connection::Online;
                        // The pauses start from one second again only once this connection
                        // has lasted (`closed`).
                        state.online_since = Some(js_sys::Date::now());
                        state.problem = None;
                        state.quarantine_full = None;
                        state.server_peer = Some(peer);
                        state.requested.clear();
                        state.wanted.iter().copied().collect()
                    };
                    self.want(wanted);
                    self.refresh_caseload();
                    self.refresh_clock();
                    // Waiting for a decision, or rejected and not yet moved onto the server's
                    // copy (the move needs to know who signs).
                    if !self.inner.state.borrow().peer.policy().is_empty() {
                        self.check_quarantine();
                    }
                    changed = true;
                }
                Output::DocumentChanged { document } => {
                    self.households_moved();
                    self.arrived(document);
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = engine.persist(document, false).await;
                        engine.changed_soon();
                    });
                    changed = true;
                }
                Output::DocumentSynced { document, .. } => {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if engine.ended() {
                            return;
                        }
                        if let Err(error) = engine.inner.storage.mark_clean(&[document]).await {
                            engine.inner.state.borrow_mut().problem = Some(error.to_string());
                        }
                        engine.changed_soon();
                    });
                    changed = true;
                }
                Output::SyncStateChanged { peer, document } => {
                    self.queue_sync_state(peer, document);
                }
                Output::DocumentUnavailable { document } => {
                    self.arrived(document);
                }
                Output::Rejected { error, .. } => {
                    web_sys::console::warn_1(&format!("sync refused: {error}").into());
                }
                // Only a peer that vets changes (the server) refuses some; a phone takes
                // what its server sends.
                Output::Refused { document, .. } => {
                    web_sys::console::warn_1(
                        &format!("changes to {document} refused by this device").into(),
                    );
                }
            }
        }
        if changed {
            self.changed_soon();
        }
    }

    /// Sync states are written in batches, a moment after they change.
    fn queue_sync_state(&self, peer: PeerId, document: DocumentId) {
        let first = {
            let mut state = self.inner.state.borrow_mut();
            let first = state.pending_states.is_empty();
            state.pending_states.insert((peer, document));
            first
        };
        if !first {
            return;
        }
        let engine = self.clone();
        gloo::timers::callback::Timeout::new(500, move || {
            let states: Vec<(String, DocumentId, Vec<u8>)> = {
                let mut state = engine.inner.state.borrow_mut();
                let pending = std::mem::take(&mut state.pending_states);
                pending
                    .into_iter()
                    .filter_map(|(peer, document)| {
                        let bytes = state.peer.export_sync_state(&peer, &document)?;
                        Some((peer.to_string(), document, bytes))
                    })
                    .collect()
            };
            wasm_bindgen_futures::spawn_local(async move {
                if !engine.ended() {
                    let _ = engine.inner.storage.save_sync_states(&states).await;
                }
            });
        })
        .forget();
    }

    /// The caseload as the API listed it: households not on the device are asked for, and
    /// those it cannot read are kept (on the device too) to be listed with the reason.
    fn caseload_heard(&self, caseload: Vec<crate::api::CaseloadEntry>) {
        let unreadable: BTreeMap<DocumentId, ServerUnreadable> = caseload
            .iter()
            .filter_map(|entry| {
                let reason = entry.unreadable.clone()?;
                Some((
                    entry.document_id,
                    ServerUnreadable {
                        reason,
                        district: entry.district.clone(),
                        address: entry.address.clone(),
                    },
                ))
            })
            .collect();
        let moved = {
            let mut state = self.inner.state.borrow_mut();
            let moved = state.unreadable_on_server != unreadable;
            state.unreadable_on_server = unreadable.clone();
            moved
        };
        if moved {
            self.households_moved();
            self.changed_soon();
            let engine = self.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if engine.ended() {
                    return;
                }
                if let Err(error) = engine
                    .inner
                    .storage
                    .set_meta(SERVER_UNREADABLE, Some(&unreadable))
                    .await
                {
                    web_sys::console::warn_1(&format!("unreadable households: {error}").into());
                }
            });
        }
        self.want(caseload.into_iter().map(|entry| entry.document_id));
    }

    /// Learns the server's clock (`GET /api/me`), so that changes are signed with the
    /// device's clock set right (`clock.rs`); kept on the device for the next start.
    pub fn refresh_clock(&self) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let sent_at = js_sys::Date::now();
            let server_time = match crate::api::server_time().await {
                Ok(Some(server_time)) => server_time,
                Ok(None) => return, // A server that does not say its time.
                Err(error) => {
                    web_sys::console::warn_1(
                        &format!("the server's clock could not be read: {error}").into(),
                    );
                    return;
                }
            };
            let Some(offset) = crate::clock::offset_ms(server_time, sent_at, js_sys::Date::now())
            else {
                return;
            };
            set_clock_offset(offset);
            if !engine.ended() {
                let _ = engine
                    .inner
                    .storage
                    .set_meta(CLOCK_OFFSET, Some(&offset))
                    .await;
            }
        });
    }

    /// Keeps the held-back documents on the device, so that a reload keeps holding them.
    fn save_held_back(&self) {
        let records = self.inner.state.borrow().peer.policy().records();
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if engine.ended() {
                return;
            }
            let stored = if records.is_empty() {
                engine
                    .inner
                    .storage
                    .set_meta::<Vec<HeldBack>>(HELD_BACK, None)
                    .await
            } else {
                engine
                    .inner
                    .storage
                    .set_meta(HELD_BACK, Some(&records))
                    .await
            };
            if let Err(error) = stored {
                engine.inner.state.borrow_mut().problem = Some(error.to_string());
                engine.changed();
            }
        });
    }

    /// Asks the server what became of this device's refused changes.
    pub fn check_quarantine(&self) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match crate::api::my_quarantine().await {
                Ok(rows) => engine.quarantine_heard(&rows),
                Err(crate::api::ApiError::Unauthorized) => engine.session_ended(),
                Err(error) => web_sys::console::warn_1(
                    &format!("the quarantine could not be read: {error}").into(),
                ),
            }
        });
    }

    /// Asks about the quarantine every little while as long as a held-back document waits
    /// for a decision (online) or the server refuses this device for its full quarantine.
    async fn watch_quarantine(self) {
        loop {
            gloo::timers::future::TimeoutFuture::new(QUARANTINE_POLL_MS).await;
            if self.ended() {
                return;
            }
            let ask = {
                let state = self.inner.state.borrow();
                (state.link == Connection::Online && !state.peer.policy().is_empty())
                    || state.quarantine_full.is_some()
            };
            if ask {
                self.check_quarantine();
            }
        }
    }

    /// Acts on what the device's quarantine says: a document whose refused changes were all
    /// accepted syncs again; one with changes rejected continues from the server's copy
    /// ([`recover`](Self::recover)); when fewer changes wait than when the server said the
    /// quarantine was full, connects.
    fn quarantine_heard(&self, rows: &[RefusedRow]) {
        let held: Vec<DocumentId> = self
            .inner
            .state
            .borrow()
            .peer
            .policy()
            .iter()
            .map(|record| record.document)
            .collect();
        let (mut decided, mut released) = (false, false);
        for document in held {
            match crate::refused::outcome(&document, rows) {
                Outcome::Accepted => {
                    self.release(document);
                    decided = true;
                    released = true;
                }
                Outcome::Rejected => {
                    decided |= self
                        .inner
                        .state
                        .borrow_mut()
                        .peer
                        .policy_mut()
                        .reject(&document);
                    let engine = self.clone();
                    let rows = rows.to_vec();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(error) = engine.recover(document, &rows).await {
                            // Held back still, and tried again at the next answer.
                            engine.inner.state.borrow_mut().problem = Some(error.to_string());
                            engine.changed();
                        }
                    });
                }
                Outcome::Waiting | Outcome::Unknown => {}
            }
        }
        if decided {
            self.save_held_back();
            self.changed();
        }
        if released {
            self.resync();
        }
        let pending = crate::refused::pending_count(rows);
        let unblocked = {
            let mut state = self.inner.state.borrow_mut();
            match state.quarantine_full {
                Some(full) if pending < full || full == 0 => {
                    state.quarantine_full = None;
                    state.backoff_ms = 1_000;
                    true
                }
                _ => false,
            }
        };
        if unblocked {
            self.changed();
            self.connect();
        }
    }

    /// A held-back document's changes were accepted: it is offered to the server again,
    /// with everything written to it meanwhile, on the next connection ([`resync`]
    /// (Self::resync)).
    fn release(&self, document: DocumentId) {
        let mut state = self.inner.state.borrow_mut();
        state.load(document);
        state.peer.policy_mut().release(&document);
        if state.peer.document(&document).is_some() {
            state.peer.mark_dirty(document);
        }
    }

    /// Connects afresh, so that a document held back until now syncs from the start: the
    /// server went on offering it while it was held (and heard "unavailable"), so its sync
    /// state says it sent what the device never took, and it would not send it again on
    /// this connection. A new connection starts both sides from what they share.
    fn resync(&self) {
        if self.inner.state.borrow().link != Connection::Online {
            return; // The next connection starts afresh anyway.
        }
        self.disconnect();
        self.inner.state.borrow_mut().backoff_ms = 1_000;
        self.connect();
    }

    /// Who signs the actions made again after a rejection (`None` until known).
    pub fn set_writer(&self, writer: Option<lots_core::Writer>) {
        self.inner.state.borrow_mut().writer = writer;
    }

    /// Continues a household whose refused changes a supervisor rejected from the server's
    /// copy (`replay.rs`): the person's later actions that still pass are made again under
    /// a fresh actor, and what the server did not take is kept, in words and with the
    /// device's whole copy, until the person dismisses it. The record is written before
    /// anything of the device's copy is removed, so that no failure between the steps loses
    /// what was typed. A household whose very first change was rejected has no server copy:
    /// it leaves the device, its record stays.
    async fn recover(&self, document: DocumentId, rows: &[RefusedRow]) -> Result<(), StorageError> {
        let Some(writer) = self.inner.state.borrow().writer.clone() else {
            return Ok(()); // Tried again once the app knows who is signed in.
        };
        if !self.inner.state.borrow_mut().recovering.insert(document) {
            return Ok(());
        }
        let result = self.recover_as(document, rows, &writer).await;
        self.inner.state.borrow_mut().recovering.remove(&document);
        result
    }

    async fn recover_as(
        &self,
        document: DocumentId,
        rows: &[RefusedRow],
        writer: &lots_core::Writer,
    ) -> Result<(), StorageError> {
        let id = document.to_string();
        let mine = rows
            .iter()
            .filter(|row| row.household == id && row.status == "rejected");
        let (mut roots, mut rejected) = (
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
        );
        for row in mine {
            let Ok(hash) = row.change.parse::<ChangeHash>() else {
                continue;
            };
            rejected.insert(hash);
            if row.reason() != Reason::Depends {
                roots.insert(hash);
            }
        }
        let household = crate::views::shell::address_of(self, &document);
        let _writing = self.inner.writing.lock().await;
        if self.ended() {
            return Ok(());
        }
        let prepared = {
            let mut state = self.inner.state.borrow_mut();
            state.load(document);
            let Some(held) = state.peer.policy().get(&document).cloned() else {
                return Ok(());
            };
            let Some(device) = state.peer.document(&document) else {
                return Ok(());
            };
            let recovery = crate::replay::recover(
                device,
                &roots,
                &rejected,
                writer,
                &crate::replay::Quarantined(&rejected),
                now(),
                lots_core::automerge::ActorId::random(),
            );
            recovery.map(|recovery| {
                let kept = Kept {
                    document,
                    household,
                    codes: held.codes.clone(),
                    since: now().as_millis(),
                    changes: recovery.kept,
                    replayed: recovery.replayed,
                    device_copy: crate::replay::to_hex(&device.save()),
                };
                let mut records = state.kept.clone();
                records.push(kept);
                (records, recovery.doc)
            })
        };
        let Some((records, doc)) = prepared else {
            // None of the rejected changes is on this device: it has nothing to undo.
            drop(_writing);
            self.release(document);
            self.save_held_back();
            self.resync();
            return Ok(());
        };
        self.inner.storage.set_meta(KEPT, Some(&records)).await?;
        self.inner.state.borrow_mut().kept = records;
        self.inner.storage.forget(&document).await?;
        if let Some(doc) = &doc {
            self.inner
                .storage
                .append(&document, &doc.save(), true)
                .await?;
        }
        {
            let mut state = self.inner.state.borrow_mut();
            state.peer.remove_document(&document);
            state.summaries.remove(&document);
            state.unreadable_on_device.remove(&document);
            state.unloaded_dirty.remove(&document);
            state.unloaded_states.remove(&document);
            state.peer.policy_mut().release(&document);
            match doc {
                Some(doc) => {
                    state.saved_heads.insert(document, doc.get_heads());
                    state.chunks.insert(document, 1);
                    state.peer.insert_document(document, doc);
                    state.peer.mark_dirty(document);
                }
                None => {
                    state.saved_heads.remove(&document);
                    state.chunks.remove(&document);
                }
            }
        }
        drop(_writing);
        self.save_held_back();
        self.households_moved();
        // On a new connection, from what both sides have: on this one the server's sync
        // state says it sent what the device did not take while holding the household back.
        self.resync();
        self.changed();
        Ok(())
    }

    /// What the device keeps of households whose changes were rejected, oldest first.
    pub fn kept(&self) -> Vec<Kept> {
        self.inner.state.borrow().kept.clone()
    }

    /// Removes a record of what the server did not take, on the person's word that they
    /// have what they need of it (`since` tells two records of one household apart).
    pub async fn dismiss_kept(&self, document: DocumentId, since: i64) -> Result<(), StorageError> {
        let _writing = self.inner.writing.lock().await;
        let mut records = self.kept();
        records.retain(|kept| (kept.document, kept.since) != (document, since));
        // The device first: a record still shown is better than one back after a reload.
        if records.is_empty() {
            self.inner.storage.set_meta::<Vec<Kept>>(KEPT, None).await?;
        } else {
            self.inner.storage.set_meta(KEPT, Some(&records)).await?;
        }
        self.inner.state.borrow_mut().kept = records;
        drop(_writing);
        self.changed();
        Ok(())
    }

    /// Signs a change by this person on this device, now.
    pub fn signature(&self, staff: &lots_core::StaffId, device: &lots_core::DeviceId) -> Signature {
        Signature::new(staff.clone(), device.clone(), now())
    }
}

//! The app's engine: the browser's side of the sync client. [`Client`] decides; this file
//! carries out what it decides with the browser's IndexedDB, WebSocket, timers and the API,
//! and turns what the browser reports back into the client's events.
//!
//! Views read households from here and change them through [`Engine::act`], which runs one
//! of core's actions, stores the change in IndexedDB and only then reports it saved, and
//! offers it to the server when a socket is open.
//!
//! Everything runs on the browser's one thread: state sits in `RefCell`s, and no borrow is
//! held across an `await` or while the views are told.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use lots_core::automerge::{Automerge, ChangeHash};
use lots_core::{ActionError, DocumentId, Household, HouseholdDoc, PeerId, Signature, Timeline};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

pub use crate::client::{Connection, Status};

use crate::browser::{Measure, now};
use crate::client::{Client, Effect, Event, Recovery, Startup, Timer, Write};
use crate::refused::HeldBack;
use crate::replay::Kept;
use crate::storage::{Storage, StorageError};
use crate::unreadable::{ServerUnreadable, Unreadable};

/// The measure of a change saved on the device.
const SAVE: &str = "lots:save";
/// The measure of reading the device's storage at start.
const OPEN: &str = "lots:open";

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
/// How often the client is asked whether to poll `/api/quarantine/mine`.
const QUARANTINE_POLL_MS: u32 = 20_000;

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

/// The engine; cheap to clone (all clones are one engine).
#[derive(Clone)]
pub struct Engine {
    inner: Rc<Inner>,
}

struct Inner {
    client: RefCell<Client>,
    socket: RefCell<Option<Socket>>,
    /// Held while a document is written to the device: one write at a time
    /// ([`Client::prepare_write`]).
    writing: futures_util::lock::Mutex<()>,
    storage: Storage,
    sync_url: String,
    on_change: RefCell<Option<Rc<dyn Fn()>>>,
    /// While a person's change is being written, the views are told once it is on the
    /// device (`Some(told meanwhile)`), so that the save's measure ends at the commit.
    deferred: std::cell::Cell<Option<bool>>,
}

impl PartialEq for Engine {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Engine {
    /// Reads what the device stores; the documents load in the background. `peer_id` names
    /// this device in the sync protocol; `sync_url` is the server's `ws(s)://…/sync`.
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
            crate::browser::set_clock_offset(offset);
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
        let startup = Startup {
            stored,
            held,
            unreadable_on_server,
            kept,
        };
        let client = Client::new(peer_id, now(), startup);
        measure.finish(OPEN);
        let engine = Self {
            inner: Rc::new(Inner {
                client: RefCell::new(client),
                socket: RefCell::new(None),
                writing: futures_util::lock::Mutex::new(()),
                storage,
                sync_url,
                on_change: RefCell::new(None),
                deferred: std::cell::Cell::new(None),
            }),
        };
        wasm_bindgen_futures::spawn_local(engine.clone().load_all());
        wasm_bindgen_futures::spawn_local(engine.clone().watch_quarantine());
        Ok(engine)
    }

    /// Loads the stored documents one by one, letting the page run first between them (each
    /// takes milliseconds, a caseload seconds on a slow phone), then connects if asked to.
    /// The views hear of it only when a loaded document shows something its stored summary
    /// did not (or it had none).
    async fn load_all(self) {
        let mut unseen = 0;
        loop {
            let loaded = self.inner.client.borrow_mut().load_next();
            match loaded {
                None => break,
                Some(true) => {}
                Some(false) => {
                    unseen += 1;
                    if unseen % 10 == 0 {
                        self.dispatch(Event::Loaded);
                    }
                }
            }
            crate::browser::background_pause().await;
        }
        let effects = self.inner.client.borrow_mut().loaded_all();
        self.carry_out(effects);
    }

    /// Hands an event to the client and carries out what it decides.
    fn dispatch(&self, event: Event) {
        let effects = self.inner.client.borrow_mut().handle(now(), event);
        self.carry_out(effects);
    }

    fn carry_out(&self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::OpenSocket => self.open_socket(),
                Effect::Send(bytes) => {
                    if let Some(socket) = &*self.inner.socket.borrow() {
                        let _ = socket.socket.send_with_u8_array(&bytes);
                    }
                }
                Effect::CloseSocket(reason) => {
                    let socket = self.inner.socket.borrow_mut().take();
                    if let Some(socket) = socket {
                        socket.close(Some(&reason));
                    }
                }
                Effect::DropSocket => {
                    let socket = self.inner.socket.borrow_mut().take();
                    if let Some(socket) = socket {
                        socket.close(None);
                    }
                }
                Effect::Wait(timer, delay_ms) => {
                    let engine = self.clone();
                    gloo::timers::callback::Timeout::new(delay_ms, move || {
                        engine.dispatch(Event::Timer(timer));
                    })
                    .forget();
                }
                Effect::CheckSession { retry } => {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let signed_in = crate::api::signed_in().await.ok();
                        engine.dispatch(Event::SessionChecked { signed_in, retry });
                    });
                }
                Effect::Persist { document, dirty } => {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = engine.persist(document, dirty).await;
                    });
                }
                Effect::MarkClean(document) => {
                    self.store(async move |storage| storage.mark_clean(&[document]).await)
                }
                Effect::SaveSyncStates(states) => self.store(async move |storage| {
                    // Only a shortcut for the next connection: a failure costs a fuller sync.
                    if let Err(error) = storage.save_sync_states(&states).await {
                        web_sys::console::warn_1(&format!("sync states: {error}").into());
                    }
                    Ok(())
                }),
                Effect::SaveHeldBack(records) => self.store(async move |storage| {
                    let records = (!records.is_empty()).then_some(&records);
                    storage.set_meta(HELD_BACK, records).await
                }),
                Effect::SaveServerUnreadable(unreadable) => self.store(async move |storage| {
                    if let Err(error) = storage.set_meta(SERVER_UNREADABLE, Some(&unreadable)).await
                    {
                        web_sys::console::warn_1(&format!("unreadable households: {error}").into());
                    }
                    Ok(())
                }),
                Effect::FetchCaseload => self.refresh_caseload(),
                Effect::EraseLeft(documents) => {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(error) = engine.erase_left(&documents).await {
                            // Still on the device, and erased at the next caseload.
                            engine.dispatch(Event::StorageFailed(error.to_string()));
                        }
                    });
                }
                Effect::FetchClock => self.refresh_clock(),
                Effect::CheckQuarantine => self.check_quarantine(),
                Effect::Recover { document, rows } => {
                    let engine = self.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        if let Err(error) = engine.recover(document, &rows).await {
                            // Held back still, and tried again at the next answer.
                            engine.dispatch(Event::StorageFailed(error.to_string()));
                        }
                    });
                }
                Effect::Notify => self.notify(),
            }
        }
    }

    /// Writes to the device in the background unless the person has signed out; a failure
    /// is shown on the status line.
    fn store<F>(&self, write: impl FnOnce(Storage) -> F + 'static)
    where
        F: Future<Output = Result<(), StorageError>>,
    {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if engine.ended() {
                return;
            }
            if let Err(error) = write(engine.inner.storage.clone()).await {
                engine.dispatch(Event::StorageFailed(error.to_string()));
            }
        });
    }

    /// Sets what runs whenever something shown may have changed.
    pub fn on_change(&self, callback: impl Fn() + 'static) {
        *self.inner.on_change.borrow_mut() = Some(Rc::new(callback));
    }

    /// Brings the summaries up to date, stores the new ones, and tells the views.
    fn notify(&self) {
        if self.inner.deferred.get().is_some() {
            self.inner.deferred.set(Some(true));
            return;
        }
        let fresh = self.inner.client.borrow_mut().refresh_summaries();
        for (document, json) in fresh {
            // Only a shortcut for the next start: if it fails, that start loads the
            // document before showing it.
            self.store(async move |storage| {
                if let Err(error) = storage.save_summary(&document, &json).await {
                    web_sys::console::warn_1(&format!("summary of {document}: {error}").into());
                }
                Ok(())
            });
        }
        let callback = self.inner.on_change.borrow().clone();
        if let Some(callback) = callback {
            callback();
        }
    }

    /// A number that moves whenever some household may read differently: what is computed
    /// from every household (the desk's reports) is computed again only when it moves.
    pub fn households_version(&self) -> u64 {
        self.inner.client.borrow().households_version()
    }

    /// The device's storage.
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// Every household on the device.
    pub fn households(&self) -> BTreeMap<DocumentId, Rc<Household>> {
        self.inner.client.borrow().households()
    }

    /// Every household on the device with its document's [`Timeline`] (when known: a
    /// summary stored by an older version of the app has none until its document loads).
    pub fn households_with_timelines(
        &self,
    ) -> BTreeMap<DocumentId, (Rc<Household>, Option<Timeline>)> {
        self.inner.client.borrow().households_with_timelines()
    }

    /// A household's address, or its id in words when it has none.
    pub fn address_of(&self, document: &DocumentId) -> String {
        self.inner
            .client
            .borrow()
            .address_of(document)
            .unwrap_or_else(|| crate::i18n::t1("household-unnamed", "id", document.to_string()))
    }

    /// Runs `read` on one household document.
    pub fn with_document<T>(
        &self,
        document: &DocumentId,
        read: impl FnOnce(HouseholdDoc<&Automerge>) -> T,
    ) -> Option<T> {
        let mut client = self.inner.client.borrow_mut();
        client
            .document(document)
            .map(|doc| read(HouseholdDoc::new(doc)))
    }

    /// The status line's facts.
    pub fn status(&self) -> Status {
        self.inner.client.borrow().status()
    }

    /// The households held back from the server after it refused a change to them.
    pub fn held_back(&self) -> Vec<HeldBack> {
        self.inner.client.borrow().held_back()
    }

    /// Whether `document` is held back from the server, and how.
    pub fn held_back_of(&self, document: &DocumentId) -> Option<HeldBack> {
        self.inner.client.borrow().held_back_of(document)
    }

    /// Every household that cannot be read, on the device or on the server, with why.
    pub fn unreadable(&self) -> Vec<Unreadable> {
        self.inner.client.borrow().unreadable()
    }

    /// Why the server cannot read a household this device reads, if it cannot.
    pub fn unreadable_on_server(&self, document: &DocumentId) -> Option<String> {
        self.inner.client.borrow().unreadable_on_server(document)
    }

    /// Runs one of core's actions on a household: exactly one signed change, written to the
    /// device before this returns `Ok`, then offered to the server.
    pub async fn act<T>(
        &self,
        document: DocumentId,
        action: impl FnOnce(&mut HouseholdDoc<&mut Automerge>) -> Result<T, ActionError>,
    ) -> Result<T, ActError> {
        self.change(document, None, action).await
    }

    /// Runs an action on the household as it stood at `base` (the heads when the person
    /// began editing) and merges the result in: a text edited for a while merges with what
    /// other devices wrote meanwhile instead of overwriting it.
    pub async fn act_at<T>(
        &self,
        document: DocumentId,
        base: &[ChangeHash],
        action: impl FnOnce(&mut HouseholdDoc<&mut Automerge>) -> Result<T, ActionError>,
    ) -> Result<T, ActError> {
        self.change(document, Some(base), action).await
    }

    async fn change<T>(
        &self,
        document: DocumentId,
        base: Option<&[ChangeHash]>,
        action: impl FnOnce(&mut HouseholdDoc<&mut Automerge>) -> Result<T, ActionError>,
    ) -> Result<T, ActError> {
        let measure = Measure::start(SAVE);
        let result = {
            let mut client = self.inner.client.borrow_mut();
            let doc = client.document_mut(&document).ok_or(ActError::Missing)?;
            match base {
                None => action(&mut HouseholdDoc::new(doc))?,
                Some(base) => {
                    // The fork writes as a fresh actor: this device's actor may already
                    // have changes after `base`.
                    let mut fork = doc
                        .fork_at(base)
                        .map_err(ActionError::from)?
                        .with_actor(lots_core::automerge::ActorId::random());
                    let result = action(&mut HouseholdDoc::new(&mut fork))?;
                    doc.merge(&mut fork).map_err(ActionError::from)?;
                    result
                }
            }
        };
        self.inner.deferred.set(Some(false));
        let saved = self.local_change(document).await;
        let told = self.inner.deferred.take() == Some(true);
        if saved.is_ok() {
            measure.finish(SAVE);
        }
        if told {
            self.notify();
        }
        saved?;
        Ok(result)
    }

    /// Adds a household made on this device (a new case).
    pub async fn add(&self, document: DocumentId, doc: Automerge) -> Result<(), ActError> {
        self.inner.client.borrow_mut().add(document, doc);
        self.local_change(document).await?;
        Ok(())
    }

    /// Tells the client of the person's change, and writes it before returning.
    async fn local_change(&self, document: DocumentId) -> Result<(), StorageError> {
        let effects = self
            .inner
            .client
            .borrow_mut()
            .handle(now(), Event::LocalChange(document));
        let (persist, others): (Vec<Effect>, Vec<Effect>) = effects
            .into_iter()
            .partition(|effect| matches!(effect, Effect::Persist { .. }));
        self.carry_out(others);
        let mut written = false;
        for effect in persist {
            if let Effect::Persist { document, dirty } = effect {
                written |= self.persist(document, dirty).await?;
            }
        }
        if !written {
            self.notify(); // Nothing new to write: the views still hear of the action.
        }
        Ok(())
    }

    /// Writes what is new in a document since it was last written; whether anything was.
    async fn persist(&self, document: DocumentId, dirty: bool) -> Result<bool, StorageError> {
        let _writing = self.inner.writing.lock().await;
        if self.ended() {
            return Ok(false);
        }
        let write = self
            .inner
            .client
            .borrow_mut()
            .prepare_write(document, dirty);
        let Some(write) = write else {
            return Ok(false);
        };
        match self.write(&write).await {
            Ok(()) => {
                self.dispatch(Event::Written(write));
                Ok(true)
            }
            Err(error) => {
                let (dirty, text) = (write.dirty, error.to_string());
                self.dispatch(Event::WriteFailed { dirty, error: text });
                Err(error)
            }
        }
    }

    async fn write(&self, write: &Write) -> Result<(), StorageError> {
        let storage = &self.inner.storage;
        storage
            .append(&write.document, &write.bytes, write.dirty)
            .await?;
        // A full save replaces the chunks once the dirty mark is written.
        if let Some(full) = &write.full {
            storage.compact(&write.document, full).await?;
        }
        Ok(())
    }

    /// Asks the server for households of the caseload that are not on the device.
    pub fn want(&self, documents: impl IntoIterator<Item = DocumentId>) {
        self.dispatch(Event::Want(documents.into_iter().collect()));
    }

    /// Opens the socket unless it is open or opening, or the person has signed out.
    pub fn connect(&self) {
        self.dispatch(Event::Connect);
    }

    /// Signed in again after the session ended: connects at once.
    pub fn resume(&self) {
        self.dispatch(Event::Resume);
    }

    /// Connects at once, not at the next pause: the browser says the network is back or
    /// the app is in view again.
    pub fn reconnect(&self) {
        self.dispatch(Event::Reconnect);
    }

    /// The browser says the network is gone: stop using the socket now rather than when it
    /// times out, so the status line says so. The next `online` event reconnects.
    pub fn offline(&self) {
        self.dispatch(Event::Offline);
    }

    /// Signing out: closes the socket for good, and nothing (saves, sync states, summaries,
    /// the desk's kept households) is written to the device from now on, so that clearing
    /// it leaves nothing of this person behind.
    pub fn end(&self) {
        self.dispatch(Event::End);
    }

    /// Whether [`end`](Self::end) was called.
    pub fn ended(&self) -> bool {
        self.inner.client.borrow().ended()
    }

    /// Whether documents are still being loaded from the device or awaited from the
    /// server: background work waits until they are all here.
    pub fn loading(&self) -> bool {
        self.inner.client.borrow().loading()
    }

    /// Who signs the actions made again after a rejection (`None` until known).
    pub fn set_writer(&self, writer: Option<lots_core::Writer>) {
        self.inner.client.borrow_mut().set_writer(writer);
    }

    /// What the device keeps of households whose changes were rejected, oldest first.
    pub fn kept(&self) -> Vec<Kept> {
        self.inner.client.borrow().kept().to_vec()
    }

    /// Signs a change by this person on this device, now.
    pub fn signature(&self, staff: &lots_core::StaffId, device: &lots_core::DeviceId) -> Signature {
        Signature::new(staff.clone(), device.clone(), now())
    }
}

mod background;
mod socket;

use socket::Socket;

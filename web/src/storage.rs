//! The phone's own copy of everything, in IndexedDB: each household document as a full save
//! followed by incremental chunks (compacted now and then), the sync state per peer and
//! document, the documents with changes the server has not acknowledged yet, and who is
//! signed in.
//!
//! A write returns only once its IndexedDB transaction has completed: that is when the app
//! may say "Saved". A failed or aborted transaction is an error the person sees.
//!
//! Every value that names or describes a person is sealed with the device's data key
//! ([`crate::vault`]) before it reaches IndexedDB, bound to the store and key it is written
//! under; only keys (random document ids, peer ids, instants) and the wrapped key itself
//! ([`KEYRING`]) are stored in the clear. A [`Storage`] without the key ([`Storage::open`])
//! reads and writes only the keyring; [`Storage::unlocked`] gives one that seals. WebCrypto
//! is asynchronous and an IndexedDB transaction commits once it has nothing left to do, so
//! values are sealed before a transaction opens and opened after it completed.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::rc::Rc;

use idb::{
    Database, DatabaseEvent as _, Factory, IndexParams, KeyPath, ObjectStoreParams, Query,
    TransactionMode,
};
use js_sys::{Object, Reflect, Uint8Array};
use lots_core::DocumentId;
use wasm_bindgen::{JsCast as _, JsValue};
use web_sys::IdbDatabase;

use crate::vault::{DataKey, Keyring, VaultError};

const DATABASE: &str = "lots";
/// Raised whenever the object stores change shape (2: summaries; 3: past; 4: every value
/// sealed, and the keyring).
const VERSION: u32 = 4;

const CHUNKS: &str = "chunks";
const CHUNKS_BY_DOCUMENT: &str = "by_document";
const SYNC_STATES: &str = "sync_states";
const DIRTY: &str = "dirty";
const META: &str = "meta";
const SUMMARIES: &str = "summaries";
/// Households as at past instants that had to be read from history (the desk's reports),
/// JSON, keyed `"{instant in ms}/{document}"` so that one instant's are one key range.
const PAST: &str = "past";
/// The wrapped data key ([`Keyring`]) under [`DEVICE_KEY`], and [`LEGACY`] while the values
/// written before version 4 are still unsealed.
const KEYRING: &str = "keyring";
const DEVICE_KEY: &str = "device";
/// Marks a database upgraded from version 3 or older, whose values are still in the clear
/// until the first unlock seals them ([`Storage::seal_legacy`]).
const LEGACY: &str = "legacy";
/// Every store that holds something of a person, sealed.
const SEALED_STORES: [&str; 5] = [CHUNKS, SYNC_STATES, META, SUMMARIES, PAST];
/// Between peer id and document id in a sync state's key; neither contains it.
const SEPARATOR: char = '\u{1f}';

/// After this many chunks a document is rewritten as one full save.
pub const COMPACT_AFTER_CHUNKS: usize = 32;

/// What went wrong in local storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The browser offers no IndexedDB (private mode in some browsers, or disabled).
    #[error("this browser does not let Lots store data on the device: {0}")]
    Unavailable(String),
    /// A request or transaction failed (the device may be full).
    #[error("saving on the device failed: {0}")]
    Failed(String),
    /// The transaction was aborted, so nothing of it was written.
    #[error("saving on the device was interrupted; nothing of this change was stored")]
    Aborted,
    /// Stored data that does not read back.
    #[error("data stored on the device is damaged: {0}")]
    Damaged(String),
    /// The connection was closed: a newer Lots in another tab is upgrading the database, or
    /// the browser closed it (site data cleared).
    #[error(
        "the device's storage was closed, perhaps by a newer version of Lots in another tab; \
         reload this page to keep saving"
    )]
    Closed,
    /// Lots is locked: nothing of a person can be read or written until it is unlocked.
    #[error("Lots is locked on this device; unlock it to go on")]
    Locked,
}

impl From<VaultError> for StorageError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Damaged(what) => StorageError::Damaged(what),
            other => StorageError::Failed(other.to_string()),
        }
    }
}

impl From<idb::Error> for StorageError {
    fn from(error: idb::Error) -> Self {
        StorageError::Failed(error.to_string())
    }
}

/// The device's database.
#[derive(Debug, Clone)]
pub struct Storage {
    database: Rc<Database>,
    /// Set once the connection is closed; every later transaction is refused as `Closed`.
    closed: Rc<Cell<bool>>,
    /// The data key, while unlocked.
    key: Option<DataKey>,
}

impl PartialEq for Storage {
    /// The same connection, with the same key.
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.database, &other.database) && self.key == other.key
    }
}

/// Everything stored, as read at start.
#[derive(Debug, Default)]
pub struct Stored {
    /// Each document's bytes (chunks in order) and how many chunks it has.
    pub documents: BTreeMap<DocumentId, (Vec<u8>, usize)>,
    /// Documents with changes the server has not acknowledged.
    pub dirty: Vec<DocumentId>,
    /// Sync states: with which peer, for which document.
    pub sync_states: Vec<(String, DocumentId, Vec<u8>)>,
    /// Each document's summary as the engine last wrote it (JSON), to show before the
    /// document itself is loaded.
    pub summaries: Vec<(DocumentId, String)>,
    /// Documents with a chunk that does not decrypt, and why: listed as unreadable, never
    /// left out; their records stay.
    pub damaged: BTreeMap<DocumentId, String>,
}

fn key(text: &str) -> JsValue {
    JsValue::from_str(text)
}

impl Storage {
    /// Opens (creating or upgrading) the database.
    pub async fn open() -> Result<Self, StorageError> {
        Self::open_named(DATABASE).await
    }

    /// Opens a database of another name (tests use throwaway ones).
    pub async fn open_named(name: &str) -> Result<Self, StorageError> {
        let factory =
            Factory::new().map_err(|error| StorageError::Unavailable(error.to_string()))?;
        let mut request = factory
            .open(name, Some(VERSION))
            .map_err(|error| StorageError::Unavailable(error.to_string()))?;
        request.on_upgrade_needed(|event| {
            let Ok(database) = event.database() else {
                return;
            };
            let existing = database.store_names();
            // A database of version 3 or older holds values in the clear: marked, so that
            // the first unlock seals them.
            let had_data = existing.iter().any(|store| store == CHUNKS);
            if !existing.iter().any(|store| store == CHUNKS) {
                let mut params = ObjectStoreParams::new();
                params.auto_increment(true);
                if let Ok(chunks) = database.create_object_store(CHUNKS, params) {
                    let _ = chunks.create_index(
                        CHUNKS_BY_DOCUMENT,
                        KeyPath::new_single("document"),
                        Some(IndexParams::new()),
                    );
                }
            }
            for store in [SYNC_STATES, DIRTY, META, SUMMARIES, PAST] {
                if !existing.iter().any(|name| name == store) {
                    let _ = database.create_object_store(store, ObjectStoreParams::new());
                }
            }
            if !existing.iter().any(|name| name == KEYRING)
                && let Ok(keyring) = database.create_object_store(KEYRING, ObjectStoreParams::new())
                && had_data
            {
                // Issued now, written with the upgrade's transaction.
                let _ = keyring.put(&JsValue::TRUE, Some(&key(LEGACY)));
            }
        });
        let mut database = request.await?;
        let closed = Rc::new(Cell::new(false));
        // Another tab opening a newer version waits until every connection closes: close
        // this one so the upgrade can go on, and refuse writes here from then on.
        database.on_version_change({
            let closed = closed.clone();
            move |event| {
                if let Some(connection) = event
                    .target()
                    .and_then(|target| target.dyn_into::<IdbDatabase>().ok())
                {
                    connection.close();
                }
                closed.set(true);
            }
        });
        // The browser closes a connection itself when site data is cleared.
        database.on_close({
            let closed = closed.clone();
            move |_| closed.set(true)
        });
        Ok(Self {
            database: Rc::new(database),
            closed,
            key: None,
        })
    }

    /// The same database, reading and writing a person's data with `key`.
    pub fn unlocked(&self, key: DataKey) -> Self {
        Self {
            key: Some(key),
            ..self.clone()
        }
    }

    /// Leaves the data key for the app that starts next in this page (after the sign-in app).
    pub fn hand_over_key(&self) {
        if let Some(key) = &self.key {
            key.hand_over();
        }
    }

    /// Whether this handle holds the data key.
    pub fn is_unlocked(&self) -> bool {
        self.key.is_some()
    }

    fn data_key(&self) -> Result<&DataKey, StorageError> {
        self.key.as_ref().ok_or(StorageError::Locked)
    }

    /// Seals `plain` for the record `context` (store and key).
    async fn seal(&self, context: &str, plain: &[u8]) -> Result<JsValue, StorageError> {
        Ok(self.data_key()?.seal(context, plain).await?.into())
    }

    /// Seals each `(context, plain)`, all at once.
    async fn seal_all(&self, items: &[(String, &[u8])]) -> Result<Vec<JsValue>, StorageError> {
        let sealed = self.data_key()?.seal_all(items).await?;
        Ok(sealed.into_iter().map(JsValue::from).collect())
    }

    /// Opens each `(context, sealed value)`, all at once, each answer on its own.
    async fn unseal_all(
        &self,
        items: &[(String, JsValue)],
    ) -> Result<Vec<Result<Vec<u8>, StorageError>>, StorageError> {
        let opened = self.data_key()?.open_all(items).await?;
        Ok(opened
            .into_iter()
            .map(|one| one.map_err(StorageError::from))
            .collect())
    }

    /// Opens one sealed record's value.
    async fn unseal(&self, context: &str, value: &JsValue) -> Result<Vec<u8>, StorageError> {
        self.unseal_all(&[(context.to_owned(), value.clone())])
            .await?
            .pop()
            .unwrap_or_else(|| Err(StorageError::Damaged(context.to_owned())))
    }

    /// One record of one store, as stored.
    async fn get(&self, store: &str, name: &str) -> Result<Option<JsValue>, StorageError> {
        let transaction = self.transaction(&[store], TransactionMode::ReadOnly)?;
        let value = transaction
            .object_store(store)?
            .get(Query::from(key(name)))?
            .await?;
        transaction.await?;
        Ok(value)
    }

    /// One record kept as JSON text in the clear.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
        name: &str,
    ) -> Result<Option<T>, StorageError> {
        match self
            .get(store, name)
            .await?
            .and_then(|value| value.as_string())
        {
            Some(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|error| StorageError::Damaged(format!("{store}/{name}: {error}"))),
            None => Ok(None),
        }
    }

    /// The wrapped data key, if this device has one.
    pub async fn keyring(&self) -> Result<Option<Keyring>, StorageError> {
        self.get_json(KEYRING, DEVICE_KEY).await
    }

    /// Stores the wrapped data key (a new one, or its counters changed).
    pub async fn set_keyring(&self, keyring: &Keyring) -> Result<(), StorageError> {
        let json = serde_json::to_string(keyring)
            .map_err(|error| StorageError::Failed(error.to_string()))?;
        let transaction = self.transaction(&[KEYRING], TransactionMode::ReadWrite)?;
        transaction
            .object_store(KEYRING)?
            .put(&key(&json), Some(&key(DEVICE_KEY)))?
            .await?;
        finish(transaction).await
    }

    /// How many households have changes the server has not acknowledged (readable locked:
    /// the dirty list holds document ids only).
    pub async fn waiting(&self) -> Result<u32, StorageError> {
        let transaction = self.transaction(&[DIRTY], TransactionMode::ReadOnly)?;
        let count = transaction.object_store(DIRTY)?.count(None)?.await?;
        transaction.await?;
        Ok(count)
    }

    /// Whether values written before version 4 are still unsealed.
    pub async fn has_legacy(&self) -> Result<bool, StorageError> {
        Ok(self.get(KEYRING, LEGACY).await?.is_some())
    }

    /// A value written in the clear before version 4 (who was signed in, to seal their data).
    pub async fn legacy_meta<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StorageError> {
        self.get_json(META, name).await
    }

    /// Seals every value written in the clear before version 4, all in one transaction: read,
    /// sealed, then written back over the same keys, the mark removed with them.
    pub async fn seal_legacy(&self) -> Result<(), StorageError> {
        let transaction = self.transaction(&SEALED_STORES, TransactionMode::ReadOnly)?;
        let mut plain = Vec::new();
        for store_name in SEALED_STORES {
            let store = transaction.object_store(store_name)?;
            let keys = store.get_all_keys(None, None)?.await?;
            let values = store.get_all(None, None)?.await?;
            plain.push((store_name, keys, values));
        }
        transaction.await?;
        let mut sealed = Vec::new();
        for (store_name, keys, values) in plain {
            // Each record's context, its bytes in the clear, and (for a chunk) its document.
            let mut records = Vec::new();
            for (record_key, value) in keys.into_iter().zip(values) {
                let record = if store_name == CHUNKS {
                    let document = Reflect::get(&value, &key("document"))
                        .ok()
                        .and_then(|value| value.as_string())
                        .unwrap_or_default();
                    let bytes = Reflect::get(&value, &key("bytes"))
                        .ok()
                        .and_then(|value| value.dyn_into::<Uint8Array>().ok())
                        .map(|bytes| bytes.to_vec())
                        .unwrap_or_default();
                    (chunk_context(&document), bytes, Some(document))
                } else {
                    let name = record_key.as_string().unwrap_or_default();
                    let bytes = match value.dyn_ref::<Uint8Array>() {
                        Some(bytes) => bytes.to_vec(),
                        None => value.as_string().unwrap_or_default().into_bytes(),
                    };
                    (format!("{store_name}/{name}"), bytes, None)
                };
                records.push((record_key, record));
            }
            let items: Vec<(String, &[u8])> = records
                .iter()
                .map(|(_, (context, bytes, _))| (context.clone(), bytes.as_slice()))
                .collect();
            let values = self.seal_all(&items).await?;
            let mut written = Vec::new();
            for ((record_key, (_, _, document)), value) in records.into_iter().zip(values) {
                let value = match document {
                    Some(document) => chunk_record(&document, &value)?,
                    None => value,
                };
                written.push((record_key, value));
            }
            sealed.push((store_name, written));
        }
        let mut stores = SEALED_STORES.to_vec();
        stores.push(KEYRING);
        let transaction = self.transaction(&stores, TransactionMode::ReadWrite)?;
        for (store_name, records) in sealed {
            let store = transaction.object_store(store_name)?;
            for (record_key, value) in records {
                store.put(&value, Some(&record_key))?.await?;
            }
        }
        transaction
            .object_store(KEYRING)?
            .delete(Query::from(key(LEGACY)))?
            .await?;
        finish(transaction).await
    }

    /// Closes the connection; later calls fail with [`StorageError::Closed`].
    pub fn close(&self) {
        self.database.close();
        self.closed.set(true);
    }

    fn transaction(
        &self,
        stores: &[&str],
        mode: TransactionMode,
    ) -> Result<idb::Transaction, StorageError> {
        if self.closed.get() {
            return Err(StorageError::Closed);
        }
        Ok(self.database.transaction(stores, mode)?)
    }

    /// Deletes a database entirely (signing out on a shared device, tests).
    pub async fn delete_named(name: &str) -> Result<(), StorageError> {
        let factory =
            Factory::new().map_err(|error| StorageError::Unavailable(error.to_string()))?;
        factory.delete(name)?.await?;
        Ok(())
    }

    /// Reads every document and the dirty list.
    pub async fn load(&self) -> Result<Stored, StorageError> {
        let transaction = self.transaction(
            &[CHUNKS, DIRTY, SYNC_STATES, SUMMARIES],
            TransactionMode::ReadOnly,
        )?;
        let chunks = transaction
            .object_store(CHUNKS)?
            .get_all(None, None)?
            .await?;
        let dirty = transaction
            .object_store(DIRTY)?
            .get_all_keys(None, None)?
            .await?;
        let states = transaction.object_store(SYNC_STATES)?;
        let state_keys = states.get_all_keys(None, None)?.await?;
        let state_values = states.get_all(None, None)?.await?;
        let summaries = transaction.object_store(SUMMARIES)?;
        let summary_keys = summaries.get_all_keys(None, None)?.await?;
        let summary_values = summaries.get_all(None, None)?.await?;
        transaction.await?;
        let mut stored = Stored::default();
        // Every record is opened at once: WebCrypto works on them in parallel. A chunk that
        // does not open makes its household unreadable, listed with why; the others load.
        let mut documents = Vec::with_capacity(chunks.len());
        let mut sealed = Vec::with_capacity(chunks.len());
        for chunk in &chunks {
            let document = Reflect::get(chunk, &key("document"))
                .ok()
                .and_then(|value| value.as_string())
                .and_then(|id| id.parse::<DocumentId>().ok())
                .ok_or_else(|| StorageError::Damaged("a chunk without its document".into()))?;
            let value = Reflect::get(chunk, &key("sealed")).unwrap_or_default();
            sealed.push((chunk_context(&document.to_string()), value));
            documents.push(document);
        }
        let opened = self.unseal_all(&sealed).await?;
        // Keys are increasing, so each document's chunks come in the order they were written.
        for (document, bytes) in documents.into_iter().zip(opened) {
            match bytes {
                Ok(bytes) if !stored.damaged.contains_key(&document) => {
                    let entry = stored.documents.entry(document).or_default();
                    entry.0.extend(bytes);
                    entry.1 += 1;
                }
                Ok(_) => {}
                Err(error) => {
                    stored.documents.remove(&document);
                    stored.damaged.insert(document, error.to_string());
                }
            }
        }
        // Both lists come in key order, so they pair up.
        let mut states = Vec::new();
        let mut sealed = Vec::new();
        for (state_key, value) in state_keys.iter().zip(state_values) {
            let Some(text) = state_key.as_string() else {
                continue;
            };
            let Some((peer, document)) = text.split_once(SEPARATOR) else {
                continue;
            };
            let Ok(document) = document.parse::<DocumentId>() else {
                continue;
            };
            states.push((peer.to_owned(), document));
            sealed.push((format!("{SYNC_STATES}/{text}"), value));
        }
        // A sync state that does not open is only lost progress: the next sync starts over.
        for ((peer, document), state) in states.into_iter().zip(self.unseal_all(&sealed).await?) {
            if let Ok(state) = state {
                stored.sync_states.push((peer, document, state));
            }
        }
        for document in dirty {
            if let Some(Ok(document)) = document.as_string().map(|id| id.parse()) {
                stored.dirty.push(document);
            }
        }
        // A summary that does not read is only a lost shortcut: the document is the truth.
        let mut ids = Vec::new();
        let mut sealed = Vec::new();
        for (id, value) in summary_keys.iter().zip(summary_values) {
            if let Some(document) = id.as_string().and_then(|id| id.parse::<DocumentId>().ok()) {
                sealed.push((format!("{SUMMARIES}/{document}"), value));
                ids.push(document);
            }
        }
        for (document, summary) in ids.into_iter().zip(self.unseal_all(&sealed).await?) {
            if let Some(summary) = summary.ok().and_then(|bytes| String::from_utf8(bytes).ok()) {
                stored.summaries.push((document, summary));
            }
        }
        Ok(stored)
    }

    /// Appends a chunk to a document and, when `dirty`, lists the document as waiting for
    /// the server — both in one transaction.
    pub async fn append(
        &self,
        document: &DocumentId,
        bytes: &[u8],
        dirty: bool,
    ) -> Result<(), StorageError> {
        let id = document.to_string();
        let record = chunk_record(&id, &self.seal(&chunk_context(&id), bytes).await?)?;
        let transaction = self.transaction(&[CHUNKS, DIRTY], TransactionMode::ReadWrite)?;
        transaction
            .object_store(CHUNKS)?
            .put(&record, None)?
            .await?;
        if dirty {
            transaction
                .object_store(DIRTY)?
                .put(&JsValue::TRUE, Some(&key(&id)))?
                .await?;
        }
        finish(transaction).await
    }

    /// Replaces a document's chunks with one full save.
    pub async fn compact(&self, document: &DocumentId, full: &[u8]) -> Result<(), StorageError> {
        let id = document.to_string();
        let record = chunk_record(&id, &self.seal(&chunk_context(&id), full).await?)?;
        let transaction = self.transaction(&[CHUNKS], TransactionMode::ReadWrite)?;
        let chunks = transaction.object_store(CHUNKS)?;
        delete_chunks(&chunks, &id).await?;
        chunks.put(&record, None)?.await?;
        finish(transaction).await
    }

    /// Replaces a document's summary (JSON).
    pub async fn save_summary(
        &self,
        document: &DocumentId,
        summary: &str,
    ) -> Result<(), StorageError> {
        let id = document.to_string();
        let sealed = self
            .seal(&format!("{SUMMARIES}/{id}"), summary.as_bytes())
            .await?;
        let transaction = self.transaction(&[SUMMARIES], TransactionMode::ReadWrite)?;
        transaction
            .object_store(SUMMARIES)?
            .put(&sealed, Some(&key(&id)))?
            .await?;
        finish(transaction).await
    }

    /// Stores households as at the instant `at` (ms since the epoch), as JSON per
    /// document, all in one transaction.
    pub async fn save_past(
        &self,
        at: i64,
        households: &[(DocumentId, String)],
    ) -> Result<(), StorageError> {
        if households.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = households
            .iter()
            .map(|(document, _)| format!("{at}/{document}"))
            .collect();
        let items: Vec<(String, &[u8])> = names
            .iter()
            .zip(households)
            .map(|(name, (_, json))| (format!("{PAST}/{name}"), json.as_bytes()))
            .collect();
        let sealed = names.into_iter().zip(self.seal_all(&items).await?);
        let transaction = self.transaction(&[PAST], TransactionMode::ReadWrite)?;
        let store = transaction.object_store(PAST)?;
        for (name, value) in sealed {
            store.put(&value, Some(&key(&name)))?.await?;
        }
        finish(transaction).await
    }

    /// The households stored as at the instant `at` (ms), as JSON per document.
    pub async fn past(&self, at: i64) -> Result<Vec<(DocumentId, String)>, StorageError> {
        let transaction = self.transaction(&[PAST], TransactionMode::ReadOnly)?;
        let store = transaction.object_store(PAST)?;
        // Every key of this instant: the prefix, then document ids (base58, below U+FFFF).
        let range = idb::KeyRange::bound(
            &key(&format!("{at}/")),
            &key(&format!("{at}/\u{ffff}")),
            None,
            None,
        )?;
        let keys = store
            .get_all_keys(Some(Query::KeyRange(range.clone())), None)?
            .await?;
        let values = store.get_all(Some(Query::KeyRange(range)), None)?.await?;
        transaction.await?;
        // Both lists come in key order, so they pair up; an entry that does not read is
        // only a lost shortcut (the history is read again).
        let mut documents = Vec::new();
        let mut sealed = Vec::new();
        for (stored_key, value) in keys.iter().zip(values) {
            let Some(name) = stored_key.as_string() else {
                continue;
            };
            let Some(Ok(document)) = name.split_once('/').map(|(_, id)| id.parse::<DocumentId>())
            else {
                continue;
            };
            documents.push(document);
            sealed.push((format!("{PAST}/{name}"), value));
        }
        Ok(documents
            .into_iter()
            .zip(self.unseal_all(&sealed).await?)
            .filter_map(|(document, json)| Some((document, String::from_utf8(json.ok()?).ok()?)))
            .collect())
    }

    /// Forgets one document: its chunks, summary, dirty mark and sync states, in one
    /// transaction (a household replaced by the server's copy after a supervisor rejected
    /// changes to it).
    pub async fn forget(&self, document: &DocumentId) -> Result<(), StorageError> {
        let transaction = self.transaction(
            &[CHUNKS, DIRTY, SUMMARIES, SYNC_STATES],
            TransactionMode::ReadWrite,
        )?;
        let id = document.to_string();
        delete_chunks(&transaction.object_store(CHUNKS)?, &id).await?;
        transaction
            .object_store(DIRTY)?
            .delete(Query::from(key(&id)))?
            .await?;
        transaction
            .object_store(SUMMARIES)?
            .delete(Query::from(key(&id)))?
            .await?;
        let states = transaction.object_store(SYNC_STATES)?;
        let suffix = format!("{SEPARATOR}{id}");
        for state_key in states.get_all_keys(None, None)?.await? {
            if state_key
                .as_string()
                .is_some_and(|text| text.ends_with(&suffix))
            {
                states.delete(Query::from(state_key))?.await?;
            }
        }
        finish(transaction).await
    }

    /// Erases a household the server removed (gallring, or a decision): what [`Self::forget`]
    /// forgets, then the household as the desk cached it at past instants.
    pub async fn erase(&self, document: &DocumentId) -> Result<(), StorageError> {
        self.forget(document).await?;
        let transaction = self.transaction(&[PAST], TransactionMode::ReadWrite)?;
        let past = transaction.object_store(PAST)?;
        let suffix = format!("/{document}");
        for past_key in past.get_all_keys(None, None)?.await? {
            if past_key
                .as_string()
                .is_some_and(|text| text.ends_with(&suffix))
            {
                past.delete(Query::from(past_key))?.await?;
            }
        }
        finish(transaction).await
    }

    /// The server has everything of these documents.
    pub async fn mark_clean(&self, documents: &[DocumentId]) -> Result<(), StorageError> {
        let transaction = self.transaction(&[DIRTY], TransactionMode::ReadWrite)?;
        let dirty = transaction.object_store(DIRTY)?;
        for document in documents {
            dirty
                .delete(Query::from(key(&document.to_string())))?
                .await?;
        }
        finish(transaction).await
    }

    /// Saves sync states (peer, document, state), several in one transaction.
    pub async fn save_sync_states(
        &self,
        states: &[(String, DocumentId, Vec<u8>)],
    ) -> Result<(), StorageError> {
        if states.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = states
            .iter()
            .map(|(peer, document, _)| format!("{peer}{SEPARATOR}{document}"))
            .collect();
        let items: Vec<(String, &[u8])> = keys
            .iter()
            .zip(states)
            .map(|(state_key, (_, _, state))| {
                (format!("{SYNC_STATES}/{state_key}"), state.as_slice())
            })
            .collect();
        let sealed = keys.into_iter().zip(self.seal_all(&items).await?);
        let transaction = self.transaction(&[SYNC_STATES], TransactionMode::ReadWrite)?;
        let store = transaction.object_store(SYNC_STATES)?;
        for (state_key, value) in sealed {
            store.put(&value, Some(&key(&state_key)))?.await?;
        }
        finish(transaction).await
    }

    /// A small value by name (who is signed in, preferences), as JSON.
    pub async fn meta<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StorageError> {
        self.data_key()?;
        let value = self.get(META, name).await?;
        let Some(value) = value else {
            return Ok(None);
        };
        let json = self.unseal(&format!("{META}/{name}"), &value).await?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|error| StorageError::Damaged(format!("{name}: {error}")))
    }

    /// Stores a small value by name, as JSON; `None` removes it.
    pub async fn set_meta<T: serde::Serialize>(
        &self,
        name: &str,
        value: Option<&T>,
    ) -> Result<(), StorageError> {
        let sealed = match value {
            Some(value) => {
                let json = serde_json::to_vec(value)
                    .map_err(|error| StorageError::Failed(error.to_string()))?;
                Some(self.seal(&format!("{META}/{name}"), &json).await?)
            }
            None => None,
        };
        let transaction = self.transaction(&[META], TransactionMode::ReadWrite)?;
        let store = transaction.object_store(META)?;
        match sealed {
            Some(sealed) => {
                store.put(&sealed, Some(&key(name)))?.await?;
            }
            None => store.delete(Query::from(key(name)))?.await?,
        }
        finish(transaction).await
    }

    /// Forgets everything on this device, the wrapped key with it (signing out, a device
    /// shut out, too many wrong unlocks).
    pub async fn clear(&self) -> Result<(), StorageError> {
        let stores = [CHUNKS, SYNC_STATES, DIRTY, META, SUMMARIES, PAST, KEYRING];
        let transaction = self.transaction(&stores, TransactionMode::ReadWrite)?;
        for store in stores {
            transaction.object_store(store)?.clear()?.await?;
        }
        finish(transaction).await
    }
}

/// What a chunk of document `id` is sealed for.
fn chunk_context(id: &str) -> String {
    format!("{CHUNKS}/{id}")
}

/// A chunk's record: its document in the clear (the index), its bytes sealed.
fn chunk_record(id: &str, sealed: &JsValue) -> Result<JsValue, StorageError> {
    let record = Object::new();
    Reflect::set(&record, &key("document"), &key(id))
        .and_then(|_| Reflect::set(&record, &key("sealed"), sealed))
        .map_err(|_| StorageError::Failed("cannot build a record".into()))?;
    Ok(record.into())
}

/// Deletes every chunk of document `id` in a read-write transaction's chunk store.
async fn delete_chunks(chunks: &idb::ObjectStore, id: &str) -> Result<(), StorageError> {
    let keys = chunks
        .index(CHUNKS_BY_DOCUMENT)?
        .get_all_keys(Some(Query::from(key(id))), None)?
        .await?;
    for chunk_key in keys {
        chunks.delete(Query::from(chunk_key))?.await?;
    }
    Ok(())
}

/// Commits and waits: `Ok` only when the transaction has completed.
async fn finish(transaction: idb::Transaction) -> Result<(), StorageError> {
    let result = transaction.commit()?.await?;
    if result.is_committed() {
        Ok(())
    } else {
        Err(StorageError::Aborted)
    }
}

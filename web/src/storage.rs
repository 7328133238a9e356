//! The phone's own copy of everything, in IndexedDB: each household document as a full save
//! followed by incremental chunks (compacted now and then), the sync state per peer and
//! document, the documents with changes the server has not acknowledged yet, and who is
//! signed in.
//!
//! A write returns only once its IndexedDB transaction has completed: that is when the app
//! may say "Saved". A failed or aborted transaction is an error the person sees.

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

const DATABASE: &str = "lots";
/// Raised whenever the object stores change shape (2: summaries; 3: past).
const VERSION: u32 = 3;

const CHUNKS: &str = "chunks";
const CHUNKS_BY_DOCUMENT: &str = "by_document";
const SYNC_STATES: &str = "sync_states";
const DIRTY: &str = "dirty";
const META: &str = "meta";
const SUMMARIES: &str = "summaries";
/// Households as at past instants that had to be read from history (the desk's reports),
/// JSON, keyed `"{instant in ms}/{document}"` so that one instant's are one key range.
const PAST: &str = "past";
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
}

fn bytes_value(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
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
        })
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
        // Keys are increasing, so each document's chunks come in the order they were written.
        for chunk in chunks {
            let document = Reflect::get(&chunk, &key("document"))
                .ok()
                .and_then(|value| value.as_string())
                .ok_or_else(|| StorageError::Damaged("a chunk without its document".into()))?;
            let document: DocumentId = document
                .parse()
                .map_err(|error| StorageError::Damaged(format!("{error}")))?;
            let bytes = Reflect::get(&chunk, &key("bytes"))
                .ok()
                .and_then(|value| value.dyn_into::<Uint8Array>().ok())
                .ok_or_else(|| StorageError::Damaged("a chunk without bytes".into()))?
                .to_vec();
            let entry = stored.documents.entry(document).or_default();
            entry.0.extend(bytes);
            entry.1 += 1;
        }
        // Both lists come in key order, so they pair up.
        for (state_key, value) in state_keys.into_iter().zip(state_values) {
            let Some((peer, document)) = state_key.as_string().and_then(|text| {
                text.split_once(SEPARATOR)
                    .map(|(p, d)| (p.to_owned(), d.to_owned()))
            }) else {
                continue;
            };
            let (Ok(document), Ok(bytes)) = (document.parse(), value.dyn_into::<Uint8Array>())
            else {
                continue;
            };
            stored.sync_states.push((peer, document, bytes.to_vec()));
        }
        for document in dirty {
            if let Some(Ok(document)) = document.as_string().map(|id| id.parse()) {
                stored.dirty.push(document);
            }
        }
        // A summary that does not read is only a lost shortcut: the document is the truth.
        for (document, summary) in summary_keys.into_iter().zip(summary_values) {
            if let (Some(Ok(document)), Some(summary)) = (
                document.as_string().map(|id| id.parse::<DocumentId>()),
                summary.as_string(),
            ) {
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
        let transaction = self.transaction(&[CHUNKS, DIRTY], TransactionMode::ReadWrite)?;
        let record = Object::new();
        let id = document.to_string();
        Reflect::set(&record, &key("document"), &key(&id))
            .map_err(|_| StorageError::Failed("cannot build a record".into()))?;
        Reflect::set(&record, &key("bytes"), &bytes_value(bytes))
            .map_err(|_| StorageError::Failed("cannot build a record".into()))?;
        transaction
            .object_store(CHUNKS)?
            .put(&record.into(), None)?
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
        let transaction = self.transaction(&[CHUNKS], TransactionMode::ReadWrite)?;
        let chunks = transaction.object_store(CHUNKS)?;
        let id = document.to_string();
        delete_chunks(&chunks, &id).await?;
        let record = Object::new();
        Reflect::set(&record, &key("document"), &key(&id))
            .map_err(|_| StorageError::Failed("cannot build a record".into()))?;
        Reflect::set(&record, &key("bytes"), &bytes_value(full))
            .map_err(|_| StorageError::Failed("cannot build a record".into()))?;
        chunks.put(&record.into(), None)?.await?;
        finish(transaction).await
    }

    /// Replaces a document's summary (JSON).
    pub async fn save_summary(
        &self,
        document: &DocumentId,
        summary: &str,
    ) -> Result<(), StorageError> {
        let transaction = self.transaction(&[SUMMARIES], TransactionMode::ReadWrite)?;
        transaction
            .object_store(SUMMARIES)?
            .put(&key(summary), Some(&key(&document.to_string())))?
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
        let transaction = self.transaction(&[PAST], TransactionMode::ReadWrite)?;
        let store = transaction.object_store(PAST)?;
        for (document, json) in households {
            store
                .put(&key(json), Some(&key(&format!("{at}/{document}"))))?
                .await?;
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
        Ok(keys
            .into_iter()
            .zip(values)
            .filter_map(|(stored_key, value)| {
                let document = stored_key.as_string()?.split_once('/')?.1.parse().ok()?;
                Some((document, value.as_string()?))
            })
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
        let transaction = self.transaction(&[SYNC_STATES], TransactionMode::ReadWrite)?;
        let store = transaction.object_store(SYNC_STATES)?;
        for (peer, document, state) in states {
            let state_key = format!("{peer}{SEPARATOR}{document}");
            store
                .put(&bytes_value(state), Some(&key(&state_key)))?
                .await?;
        }
        finish(transaction).await
    }

    /// A small value by name (who is signed in, preferences), as JSON.
    pub async fn meta<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, StorageError> {
        let transaction = self.transaction(&[META], TransactionMode::ReadOnly)?;
        let value = transaction
            .object_store(META)?
            .get(Query::from(key(name)))?
            .await?;
        transaction.await?;
        match value.and_then(|value| value.as_string()) {
            Some(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|error| StorageError::Damaged(format!("{name}: {error}"))),
            None => Ok(None),
        }
    }

    /// Stores a small value by name, as JSON; `None` removes it.
    pub async fn set_meta<T: serde::Serialize>(
        &self,
        name: &str,
        value: Option<&T>,
    ) -> Result<(), StorageError> {
        let transaction = self.transaction(&[META], TransactionMode::ReadWrite)?;
        let store = transaction.object_store(META)?;
        match value {
            Some(value) => {
                let json = serde_json::to_string(value)
                    .map_err(|error| StorageError::Failed(error.to_string()))?;
                store.put(&key(&json), Some(&key(name)))?.await?;
            }
            None => store.delete(Query::from(key(name)))?.await?,
        }
        finish(transaction).await
    }

    /// Forgets everything on this device (signing out).
    pub async fn clear(&self) -> Result<(), StorageError> {
        let stores = [CHUNKS, SYNC_STATES, DIRTY, META, SUMMARIES, PAST];
        let transaction = self.transaction(&stores, TransactionMode::ReadWrite)?;
        for store in stores {
            transaction.object_store(store)?.clear()?.await?;
        }
        finish(transaction).await
    }
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

//! What Lots asks of Automerge, exported to JavaScript so that nothing is optimised away:
//! loading a saved document, saving it whole and incrementally, applying saved changes,
//! both sides of the sync protocol, writing scalars and text, reading a map in one pass and
//! every concurrent value of a key.
//!
//! `cargo xtask bench-wasm` builds this as the web app is built and reports its brotli size
//! beside the app's. It is a floor: the web app cannot weigh less than Automerge plus Yew.

use automerge::sync::{self, SyncDoc as _};
use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc as _};
use wasm_bindgen::prelude::*;

/// One document and its sync state with one peer.
#[wasm_bindgen]
pub struct Document {
    doc: AutoCommit,
    peer: sync::State,
}

fn js_error(error: impl std::fmt::Display) -> JsError {
    JsError::new(&error.to_string())
}

#[wasm_bindgen]
impl Document {
    /// A new, empty document.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Document {
        Document {
            doc: AutoCommit::new(),
            peer: sync::State::new(),
        }
    }

    /// Loads a saved document.
    pub fn load(bytes: &[u8]) -> Result<Document, JsError> {
        Ok(Document {
            doc: AutoCommit::load(bytes).map_err(js_error)?,
            peer: sync::State::new(),
        })
    }

    /// Sets `key` to `value`, and appends `value` to the text under "notes".
    pub fn put(&mut self, key: &str, value: &str) -> Result<(), JsError> {
        self.doc.put(ROOT, key, value).map_err(js_error)?;
        let notes = match self.doc.get(ROOT, "notes").map_err(js_error)? {
            Some((_, id)) => id,
            None => self
                .doc
                .put_object(ROOT, "notes", ObjType::Text)
                .map_err(js_error)?,
        };
        let end = self.doc.length(&notes);
        self.doc
            .splice_text(&notes, end, 0, value)
            .map_err(js_error)
    }

    /// Every key of the root map with its value, read in one pass.
    pub fn entries(&self) -> Vec<String> {
        self.doc
            .map_range(ROOT, ..)
            .map(|item| format!("{}={}", item.key, automerge::Value::from(item.value)))
            .collect()
    }

    /// How many values `key` holds (more than one after concurrent writes).
    pub fn values(&self, key: &str) -> Result<usize, JsError> {
        Ok(self.doc.get_all(ROOT, key).map_err(js_error)?.len())
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes since the last save.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }

    /// Applies saved changes; returns how many operations were new.
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<usize, JsError> {
        self.doc.load_incremental(bytes).map_err(js_error)
    }

    /// The next sync message for the peer, if there is anything to say.
    pub fn sync_message(&mut self) -> Option<Vec<u8>> {
        self.doc
            .sync()
            .generate_sync_message(&mut self.peer)
            .map(sync::Message::encode)
    }

    /// Receives a sync message from the peer.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<(), JsError> {
        let message = sync::Message::decode(bytes).map_err(js_error)?;
        self.doc
            .sync()
            .receive_sync_message(&mut self.peer, message)
            .map_err(js_error)
    }
}

impl Default for Document {
    fn default() -> Self {
        Self::new()
    }
}

//! The client's households: reading them (summaries, status, what is held back or cannot
//! be read), loading stored documents, preparing writes, and moving a household onto the
//! server's copy or off the device.

use super::*;

impl Client {
    /// Whether the person has signed out.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// A number that moves whenever some household may read differently (a document
    /// changed, arrived or was loaded with no summary to match): what is computed from
    /// every household (the desk's reports) is computed again only when it moves.
    pub fn households_version(&self) -> u64 {
        self.households_version
    }

    /// Whether documents are still being loaded from the device or awaited from the
    /// server: background work waits until they are all here.
    pub fn loading(&self) -> bool {
        !self.unloaded.is_empty() || !self.wanted.is_empty()
    }

    /// Every readable household's summary: from its document once loaded, from storage
    /// until then. Up to date as of the last [`refresh_summaries`](Self::refresh_summaries).
    pub fn summaries(&self) -> BTreeMap<DocumentId, Rc<Summary>> {
        let loaded = self
            .peer
            .document_ids()
            .filter(|document| !self.unreadable_on_device.contains_key(document));
        loaded
            .chain(self.unloaded.keys())
            .filter_map(|document| Some((*document, self.summaries.get(document)?.clone())))
            .collect()
    }

    /// Every household on the device.
    pub fn households(&self) -> BTreeMap<DocumentId, Rc<Household>> {
        self.summaries()
            .into_iter()
            .map(|(document, summary)| (document, summary.household.clone()))
            .collect()
    }

    /// Every household on the device with its document's [`Timeline`] (when known).
    pub fn households_with_timelines(
        &self,
    ) -> BTreeMap<DocumentId, (Rc<Household>, Option<Timeline>)> {
        self.summaries()
            .into_iter()
            .map(|(document, summary)| {
                let household = summary.household.clone();
                (document, (household, summary.timeline.clone()))
            })
            .collect()
    }

    /// Reads again the summary of every document whose heads moved; returns the new ones
    /// to store (as JSON), so that the next start shows them before loading documents. A
    /// document that does not read is listed with why, never left out silently.
    pub fn refresh_summaries(&mut self) -> Vec<(DocumentId, String)> {
        let mut fresh = Vec::new();
        for document in self.peer.document_ids() {
            let Some(doc) = self.peer.document(document) else {
                continue;
            };
            let heads = doc.get_heads();
            if heads.is_empty() {
                continue; // Asked for and not arrived yet.
            }
            let previous = self.summaries.get(document);
            if previous.is_some_and(|summary| summary.is_current(&heads)) {
                continue;
            }
            match Summary::read(HouseholdDoc::new(doc), heads, previous.map(|s| &**s)) {
                Ok(summary) => {
                    if !self.ended {
                        fresh.push((*document, summary.to_json()));
                    }
                    self.summaries.insert(*document, Rc::new(summary));
                    self.unreadable_on_device.remove(document);
                }
                Err(error) => {
                    self.unreadable_on_device.insert(*document, error);
                }
            }
        }
        fresh
    }

    /// The status line's facts.
    pub fn status(&self) -> Status {
        let summaries = self.summaries();
        let held = self.peer.policy();
        let waiting = self
            .peer
            .dirty_documents()
            .chain(&self.unloaded_dirty)
            .filter(|document| !held.is_held(document))
            .count();
        Status {
            link: self.link,
            waiting,
            held_back: held.len(),
            unreadable: self.unreadable_given(&summaries).len(),
            kept: self.kept.len(),
            quarantine_full: self.quarantine_full,
            conflicts: summaries.values().map(|summary| summary.conflicts).sum(),
            saving: self.saving,
            problem: self.problem.clone(),
        }
    }

    /// The households held back from the server, with why and what a supervisor decided.
    pub fn held_back(&self) -> Vec<HeldBack> {
        self.peer.policy().records()
    }

    /// Whether `document` is held back from the server, and how.
    pub fn held_back_of(&self, document: &DocumentId) -> Option<HeldBack> {
        self.peer.policy().get(document).cloned()
    }

    /// Every household that cannot be read, on the device or on the server, with why.
    pub fn unreadable(&self) -> Vec<Unreadable> {
        self.unreadable_given(&self.summaries())
    }

    fn unreadable_given(&self, readable: &BTreeMap<DocumentId, Rc<Summary>>) -> Vec<Unreadable> {
        crate::unreadable::unreadable(
            &self.unreadable_on_device,
            &self.unreadable_on_server,
            |document| readable.contains_key(document),
        )
    }

    /// Why the server cannot read a household this device reads, if it cannot.
    pub fn unreadable_on_server(&self, document: &DocumentId) -> Option<String> {
        crate::unreadable::server_reason(&self.unreadable_on_server, document).map(str::to_owned)
    }

    /// A household's street address (and unit), if it has one.
    pub fn address_of(&self, document: &DocumentId) -> Option<String> {
        let summary = self.summaries.get(document)?;
        let profile = &summary.household.profile;
        let address = if profile.unit.is_empty() {
            profile.address.clone()
        } else {
            format!("{}, {}", profile.address, profile.unit)
        };
        (!address.is_empty()).then_some(address)
    }

    /// What the device keeps of households whose changes were rejected, oldest first.
    pub fn kept(&self) -> &[Kept] {
        &self.kept
    }

    /// Sets the records of what was not taken, once they are on the device.
    pub fn set_kept(&mut self, records: Vec<Kept>) {
        self.kept = records;
    }

    /// Who signs the actions made again after a rejection (`None` until known).
    pub fn set_writer(&mut self, writer: Option<lots_core::Writer>) {
        self.writer = writer;
    }

    /// One household's document, loaded from storage first if it is waiting to be.
    pub fn document(&mut self, document: &DocumentId) -> Option<&Automerge> {
        self.load(*document);
        self.peer.document(document)
    }

    /// One household's document to change; [`Event::LocalChange`] must follow a change.
    pub fn document_mut(&mut self, document: &DocumentId) -> Option<&mut Automerge> {
        self.load(*document);
        self.peer.document_mut(document)
    }

    /// Adds a household made on this device; [`Event::LocalChange`] must follow.
    pub fn add(&mut self, document: DocumentId, doc: Automerge) {
        self.peer.insert_document(document, doc);
    }

    /// Loads the next stored document not loaded yet: `None` when all are, else whether the
    /// views already show it as it is (its stored summary is current).
    pub fn load_next(&mut self) -> Option<bool> {
        let document = *self.unloaded.keys().next()?;
        self.load(document);
        let heads = self.peer.document(&document).map(Automerge::get_heads);
        let shown = heads.is_some_and(|heads| {
            self.summaries
                .get(&document)
                .is_some_and(|summary| summary.is_current(&heads))
        });
        if !shown {
            self.households_moved();
        }
        Some(shown)
    }

    /// Every stored document is loaded: connects if that was asked for meanwhile.
    pub fn loaded_all(&mut self) -> Vec<Effect> {
        let mut out = vec![Effect::Notify];
        if std::mem::take(&mut self.connect_when_loaded) {
            self.connect(&mut out);
        }
        out
    }

    /// What to write of a document: what is new since its last write, or nothing. Each
    /// write must end in [`Event::Written`] or [`Event::WriteFailed`], one at a time, so
    /// that each starts from the heads the last one saved and a compaction (a full save
    /// replacing a document's chunks) cannot delete a chunk written in between.
    pub fn prepare_write(&mut self, document: DocumentId, dirty: bool) -> Option<Write> {
        if self.ended {
            return None;
        }
        let doc = self.peer.document(&document)?;
        let heads = doc.get_heads();
        let saved = self.saved_heads.get(&document);
        if saved == Some(&heads) {
            return None;
        }
        let bytes = match saved {
            Some(saved) => doc.save_after(saved),
            None => doc.save(),
        };
        let count = self.chunks.get(&document).copied().unwrap_or(0);
        let full = (count + 1 > COMPACT_AFTER_CHUNKS).then(|| doc.save());
        self.saving += 1;
        Some(Write {
            document,
            bytes,
            heads,
            full,
            dirty,
        })
    }

    /// Forgets a household the server removed (its storage is erased already).
    pub fn forget(&mut self, document: &DocumentId) {
        self.peer.remove_document(document);
        self.peer.policy_mut().release(document);
        self.summaries.remove(document);
        self.unloaded.remove(document);
        self.requested.remove(document);
        self.wanted.remove(document);
        self.unreadable_on_device.remove(document);
        self.unreadable_on_server.remove(document);
        self.unloaded_dirty.remove(document);
        self.unloaded_states.remove(document);
        self.saved_heads.remove(document);
        self.chunks.remove(document);
        self.households_moved();
    }

    /// The held-back documents, to keep on the device after households were forgotten.
    pub fn forgotten(&self) -> Vec<Effect> {
        let mut out = vec![Effect::Notify];
        if !self.ended {
            out.insert(0, Effect::SaveHeldBack(self.peer.policy().records()));
        }
        out
    }

    /// What a household whose refused changes a supervisor rejected becomes (`replay.rs`):
    /// the server's copy with the person's later actions made again under a fresh actor,
    /// and a record of what does not come back. `household` names it in the record.
    pub fn recovery(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        rows: &[Refused],
        household: String,
    ) -> Recovery {
        let Some(writer) = self.writer.clone() else {
            return Recovery::Nothing; // Tried again once the app knows who signs.
        };
        let id = document.to_string();
        let (mut roots, mut rejected) = (HashSet::new(), HashSet::new());
        for row in rows
            .iter()
            .filter(|row| row.household == id && row.status == "rejected")
        {
            let Ok(hash) = row.change.parse::<ChangeHash>() else {
                continue;
            };
            rejected.insert(hash);
            if Reason::of(row) != Reason::Depends {
                roots.insert(hash);
            }
        }
        self.load(document);
        let Some(held) = self.peer.policy().get(&document).cloned() else {
            return Recovery::Nothing;
        };
        let Some(device) = self.peer.document(&document) else {
            return Recovery::Nothing;
        };
        let Some(recovery) = crate::replay::recover(
            device,
            &roots,
            &rejected,
            &writer,
            &crate::replay::Quarantined(&rejected),
            now,
            lots_core::automerge::ActorId::random(),
        ) else {
            return Recovery::NothingToUndo;
        };
        let mut records = self.kept.clone();
        records.push(Kept {
            document,
            household,
            codes: held.codes,
            since: now.as_millis(),
            changes: recovery.kept,
            replayed: recovery.replayed,
            device_copy: crate::replay::to_hex(&device.save()),
        });
        Recovery::Replace {
            records,
            doc: recovery.doc,
        }
    }

    /// A household with nothing to undo after a rejection syncs again as it is.
    pub fn release_unchanged(&mut self, now: Timestamp, document: DocumentId) -> Vec<Effect> {
        self.release(document);
        let mut out = self.forgotten();
        self.resync(now, &mut out);
        out
    }

    /// The household continues from `doc` (the server's copy with the later actions made
    /// again, already stored), or leaves the device (`None`); `records` are stored too.
    pub fn replace(
        &mut self,
        now: Timestamp,
        document: DocumentId,
        doc: Option<Automerge>,
        records: Vec<Kept>,
    ) -> Vec<Effect> {
        self.kept = records;
        self.peer.remove_document(&document);
        self.summaries.remove(&document);
        self.unreadable_on_device.remove(&document);
        self.unloaded_dirty.remove(&document);
        self.unloaded_states.remove(&document);
        self.peer.policy_mut().release(&document);
        match doc {
            Some(doc) => {
                self.saved_heads.insert(document, doc.get_heads());
                self.chunks.insert(document, 1);
                self.peer.insert_document(document, doc);
                self.peer.mark_dirty(document);
            }
            None => {
                self.saved_heads.remove(&document);
                self.chunks.remove(&document);
            }
        }
        self.households_moved();
        let mut out = self.forgotten();
        // On a new connection, from what both sides have: on this one the server's sync
        // state says it sent what the device did not take while holding the household back.
        self.resync(now, &mut out);
        out
    }
}

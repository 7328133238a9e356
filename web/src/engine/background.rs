//! What the engine asks the API for and does with the answers: the caseload and the
//! households removed from it, the server's clock, and what became of refused changes
//! (continuing a rejected household from the server's copy).

use super::*;

impl Engine {
    /// Asks the API for the caseload and the server for its households not on the device:
    /// at start (so that the first connection asks at once) and on every connection, since
    /// households are assigned during the day.
    pub fn refresh_caseload(&self) {
        let engine = self.clone();
        // Taken before asking: what waited for nothing then, the answer accounts for.
        let settled = self.inner.client.borrow().settled();
        wasm_bindgen_futures::spawn_local(async move {
            match crate::api::caseload().await {
                Ok(caseload) => engine.dispatch(Event::CaseloadHeard { caseload, settled }),
                Err(crate::api::ApiError::Unauthorized) => {
                    return engine.dispatch(Event::SessionEnded);
                }
                Err(error) => web_sys::console::warn_1(
                    &format!("the caseload could not be fetched: {error}").into(),
                ),
            }
            let erased = match crate::api::removed().await {
                Ok(removed) => engine.erase_removed(removed).await,
                Err(crate::api::ApiError::Unauthorized) => {
                    return engine.dispatch(Event::SessionEnded);
                }
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
        let storage = &self.inner.storage;
        let seen: i64 = storage.meta(REMOVED_SEEN).await?.unwrap_or(0);
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
        let writing = self.inner.writing.lock().await;
        if self.ended() {
            return Ok(());
        }
        for document in &fresh {
            storage.erase(document).await?;
            self.inner.client.borrow_mut().forget(document);
        }
        let mut kept = self.kept();
        let before = kept.len();
        kept.retain(|record| !fresh.contains(&record.document));
        if kept.len() != before {
            let records = (!kept.is_empty()).then_some(&kept);
            storage.set_meta(KEPT, records).await?;
            self.inner.client.borrow_mut().set_kept(kept);
        }
        storage.set_meta(REMOVED_SEEN, Some(&last)).await?;
        drop(writing);
        let effects = self.inner.client.borrow().forgotten();
        self.carry_out(effects);
        Ok(())
    }

    /// Erases households that left the person's caseload: the documents, summaries, sync
    /// states and the desk's cached past, as for a removed household. A household changed
    /// since the client decided stays until the server has that change too. What was kept
    /// of changes the server refused stays: it is the person's own typing, shown to copy.
    pub(super) async fn erase_left(&self, documents: &[DocumentId]) -> Result<(), StorageError> {
        let storage = &self.inner.storage;
        let writing = self.inner.writing.lock().await;
        if self.ended() {
            return Ok(());
        }
        for document in documents {
            if self.inner.client.borrow().is_settled(document) {
                storage.erase(document).await?;
                self.inner.client.borrow_mut().forget(document);
            }
        }
        drop(writing);
        let effects = self.inner.client.borrow().forgotten();
        self.carry_out(effects);
        Ok(())
    }

    /// An administrator shut this device out while some households wait for the server:
    /// every other one leaves the device (see [`Self::erase_left`]).
    pub async fn erase_settled(&self) -> Result<(), StorageError> {
        let settled: Vec<DocumentId> = self.inner.client.borrow().settled().into_iter().collect();
        self.erase_left(&settled).await
    }

    /// A shut-out device hands in what waits for the server, household by household: the
    /// server puts each change it lacks in the quarantine for a supervisor
    /// ([`crate::api::hand_in`]). `Ok` once every one was taken.
    pub async fn hand_in_waiting(&self) -> Result<(), crate::api::ApiError> {
        let waiting: Vec<DocumentId> = self.inner.client.borrow().unsettled().into_iter().collect();
        for document in waiting {
            let saved = self
                .inner
                .client
                .borrow_mut()
                .document(&document)
                .map(|doc| doc.save());
            // A household that does not load is kept on the device, unread by anybody.
            let Some(saved) = saved else { continue };
            match crate::api::hand_in(&document, saved).await {
                // Removed on the server meanwhile: there is nothing to hand in to.
                Err(crate::api::ApiError::Refused { code, .. }) if code == "household_removed" => {}
                other => other?,
            }
        }
        Ok(())
    }

    /// Learns the server's clock (`GET /api/me`), so that changes are signed with the
    /// device's clock set right (`clock.rs`); kept on the device for the next start.
    pub fn refresh_clock(&self) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let sent_at = js_sys::Date::now();
            let me = crate::api::me().await;
            if let Ok(me) = &me {
                // Heard from: the device may stay offline that much longer, and follows how
                // the administrator wants it to lock.
                let now = js_sys::Date::now() as i64;
                if let Err(error) =
                    crate::lock::reached_server(engine.storage(), me.device_lock, now).await
                {
                    web_sys::console::warn_1(
                        &format!("noting the server's answer: {error}").into(),
                    );
                }
            }
            let server_time = match me.map(|me| me.server_time) {
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
            crate::browser::set_clock_offset(offset);
            engine.store(async move |storage| storage.set_meta(CLOCK_OFFSET, Some(&offset)).await);
        });
    }

    /// Asks the server what became of this device's refused changes.
    pub fn check_quarantine(&self) {
        let engine = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            match crate::api::my_quarantine().await {
                Ok(rows) => engine.dispatch(Event::QuarantineHeard(rows)),
                Err(crate::api::ApiError::Unauthorized) => engine.dispatch(Event::SessionEnded),
                Err(error) => web_sys::console::warn_1(
                    &format!("the quarantine could not be read: {error}").into(),
                ),
            }
        });
    }

    /// Lets the client ask about the quarantine every little while (it asks while a
    /// held-back document waits for a decision, or the server refuses this device for its
    /// full quarantine).
    pub(super) async fn watch_quarantine(self) {
        loop {
            gloo::timers::future::TimeoutFuture::new(QUARANTINE_POLL_MS).await;
            if self.ended() {
                return;
            }
            self.dispatch(Event::Timer(Timer::Quarantine));
        }
    }

    /// Continues a household whose refused changes a supervisor rejected from the server's
    /// copy (`replay.rs`): the person's later actions that still pass are made again under
    /// a fresh actor, and what the server did not take is kept, in words and with the
    /// device's whole copy, until the person dismisses it. The record is written before
    /// anything of the device's copy is removed, so that no failure between the steps loses
    /// what was typed. A household whose very first change was rejected has no server copy:
    /// it leaves the device, its record stays.
    pub(super) async fn recover(
        &self,
        document: DocumentId,
        rows: &[crate::api::Refused],
    ) -> Result<(), StorageError> {
        let household = self.address_of(&document);
        let writing = self.inner.writing.lock().await;
        if self.ended() {
            return Ok(());
        }
        let recovery = self
            .inner
            .client
            .borrow_mut()
            .recovery(now(), document, rows, household);
        let effects = match recovery {
            Recovery::Nothing => return Ok(()),
            Recovery::NothingToUndo => {
                drop(writing);
                let mut client = self.inner.client.borrow_mut();
                client.release_unchanged(now(), document)
            }
            Recovery::Replace { records, doc } => {
                let storage = &self.inner.storage;
                storage.set_meta(KEPT, Some(&records)).await?;
                storage.forget(&document).await?;
                if let Some(doc) = &doc {
                    storage.append(&document, &doc.save(), true).await?;
                }
                drop(writing);
                let mut client = self.inner.client.borrow_mut();
                client.replace(now(), document, doc, records)
            }
        };
        self.carry_out(effects);
        Ok(())
    }

    /// Removes a record of what the server did not take, on the person's word that they
    /// have what they need of it (`since` tells two records of one household apart).
    pub async fn dismiss_kept(&self, document: DocumentId, since: i64) -> Result<(), StorageError> {
        let writing = self.inner.writing.lock().await;
        let mut records = self.kept();
        records.retain(|kept| (kept.document, kept.since) != (document, since));
        // The device first: a record still shown is better than one back after a reload.
        let stored = (!records.is_empty()).then_some(&records);
        self.inner.storage.set_meta(KEPT, stored).await?;
        self.inner.client.borrow_mut().set_kept(records);
        drop(writing);
        self.notify();
        Ok(())
    }
}

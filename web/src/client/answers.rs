//! What the client does with the API's answers: the caseload (households to fetch, and
//! those the server cannot read) and the device's quarantine (refused changes a supervisor
//! accepted or rejected).

use super::*;

impl Client {
    /// The caseload as the API listed it: households not on the device are asked for, and
    /// those it cannot read are kept (on the device too) to be listed with the reason.
    /// Households on the device it no longer lists leave it ([`Effect::EraseLeft`]), but
    /// only those that waited for nothing both when it was asked and now: one the server
    /// took after it answered is not mistaken for one that left, and one with a change
    /// still waiting stays until the server has it (or a supervisor decided on it).
    pub(super) fn caseload_heard(
        &mut self,
        now: Timestamp,
        caseload: Vec<crate::api::HouseholdSummary>,
        settled_when_asked: &BTreeSet<DocumentId>,
        out: &mut Vec<Effect>,
    ) {
        let listed: BTreeSet<DocumentId> = caseload.iter().map(|entry| entry.document_id).collect();
        let settled = self.settled();
        let left: Vec<DocumentId> = settled_when_asked
            .intersection(&settled)
            .filter(|document| !listed.contains(document))
            .copied()
            .collect();
        if !left.is_empty() && !self.ended {
            out.push(Effect::EraseLeft(left));
        }
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
        if self.unreadable_on_server != unreadable {
            self.unreadable_on_server = unreadable.clone();
            self.households_moved();
            self.notify(false, out);
            if !self.ended {
                out.push(Effect::SaveServerUnreadable(unreadable));
            }
        }
        let documents = caseload
            .into_iter()
            .map(|entry| entry.document_id)
            .collect();
        self.want(now, documents, out);
    }

    /// Acts on what the device's quarantine says: a document whose refused changes were all
    /// accepted syncs again; one with changes rejected continues from the server's copy
    /// ([`Effect::Recover`]); when fewer changes wait than when the server said the
    /// quarantine was full, connects.
    pub(super) fn quarantine_heard(
        &mut self,
        now: Timestamp,
        rows: Vec<Refused>,
        out: &mut Vec<Effect>,
    ) {
        let held: Vec<DocumentId> = self.peer.policy().iter().map(|r| r.document).collect();
        let (mut decided, mut released) = (false, false);
        for document in held {
            match crate::refused::outcome(&document, &rows) {
                Outcome::Accepted => {
                    self.release(document);
                    decided = true;
                    released = true;
                }
                Outcome::Rejected => {
                    decided |= self.peer.policy_mut().reject(&document);
                    out.push(Effect::Recover {
                        document,
                        rows: rows.clone(),
                    });
                }
                Outcome::Waiting | Outcome::Unknown => {}
            }
        }
        if decided {
            if !self.ended {
                out.push(Effect::SaveHeldBack(self.peer.policy().records()));
            }
            out.push(Effect::Notify);
        }
        if released {
            self.resync(now, out);
        }
        let pending = crate::refused::pending_count(&rows);
        if let Some(full) = self.quarantine_full
            && (pending < full || full == 0)
        {
            self.quarantine_full = None;
            self.backoff_ms = FIRST_BACKOFF_MS;
            out.push(Effect::Notify);
            self.connect(out);
        }
    }

    /// The households on the device that wait for nothing ([`Self::is_settled`]).
    pub fn settled(&self) -> BTreeSet<DocumentId> {
        self.peer
            .document_ids()
            .chain(self.unloaded.keys())
            .filter(|document| !self.waits_for_server(document))
            .copied()
            .collect()
    }

    /// The households on the device that wait for the server (the complement of
    /// [`Self::settled`]).
    pub fn unsettled(&self) -> BTreeSet<DocumentId> {
        self.peer
            .document_ids()
            .chain(self.unloaded.keys())
            .filter(|document| self.waits_for_server(document))
            .copied()
            .collect()
    }

    /// Whether a household is on the device and waits for nothing: the server has every
    /// change of it, and none is held back after a refusal.
    pub fn is_settled(&self, document: &DocumentId) -> bool {
        let on_device =
            self.peer.document(document).is_some() || self.unloaded.contains_key(document);
        on_device && !self.waits_for_server(document)
    }

    /// Whether a household has changes the server does not have: marked dirty (loaded or
    /// not), or held back after a refusal.
    fn waits_for_server(&self, document: &DocumentId) -> bool {
        self.unloaded_dirty.contains(document)
            || self.peer.dirty_documents().any(|dirty| dirty == document)
            || self
                .peer
                .policy()
                .iter()
                .any(|record| record.document == *document)
    }

    /// A held-back document's changes were accepted: it is offered to the server again,
    /// with everything written to it meanwhile, on the next connection.
    pub(super) fn release(&mut self, document: DocumentId) {
        self.load(document);
        self.peer.policy_mut().release(&document);
        if self.peer.document(&document).is_some() {
            self.peer.mark_dirty(document);
        }
    }
}

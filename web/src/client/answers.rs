//! What the client does with the API's answers: the caseload (households to fetch, and
//! those the server cannot read) and the device's quarantine (refused changes a supervisor
//! accepted or rejected).

use super::*;

impl Client {
    /// The caseload as the API listed it: households not on the device are asked for, and
    /// those it cannot read are kept (on the device too) to be listed with the reason.
    pub(super) fn caseload_heard(
        &mut self,
        now: Timestamp,
        caseload: Vec<crate::api::HouseholdSummary>,
        out: &mut Vec<Effect>,
    ) {
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

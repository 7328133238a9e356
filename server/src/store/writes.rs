//! A batch of writes made durable together ([`Writes`]), and [`Store::commit`], which writes
//! one in a single transaction: whole, or not at all.

use lots_core::automerge::ChangeHash;
use lots_core::{DocumentId, Timestamp};

use super::actors::{ACTOR_DEVICE, INSERT_ACTOR};
use super::announce::{Announcement, CHANNEL};
use super::audit::{
    AUDIT_LOCK, AuditRow, INSERT_AUDIT_ROW, LAST_AUDIT_ROW, SCOPE_AUDIT_ROW, SCOPE_AUDIT_ROW_IN,
    chain,
};
use super::documents::{
    COUNT_CHUNKS, INSERT_CHUNK, LOCK_DOCUMENT, UPSERT_FORMER_HOLDER, UPSERT_HOUSEHOLD,
};
use super::quarantine::{INSERT_QUARANTINED, INSERT_UNREAD, NewUnread};
use super::reads::INSERT_READ_RECEIPT;
use super::removals::{INSERT_TOMBSTONE, REMOVAL_STATEMENTS, Removal};
use super::reports::{INSERT_FILED_REPORT, NewFiledReport};
use super::{ActorBinding, NewQuarantined, QuarantineStatus, Store, StoreError};

/// Writes that are made durable together, in one transaction and so one sync to disk: actor
/// bindings, new document chunks, household index entries, quarantined changes, messages
/// refused unread, former holders, read receipts, removed households and audit rows, applied
/// in that order. The sync hub gathers everything a burst of messages changed into one of
/// these (group commit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    actors: Vec<ActorBinding>,
    chunks: Vec<(DocumentId, Vec<u8>)>,
    households: Vec<(DocumentId, Option<String>, Option<String>)>,
    digests: Vec<(DocumentId, String, String)>,
    quarantine: Vec<NewQuarantined>,
    unread: Vec<NewUnread>,
    former_holders: Vec<(DocumentId, String, Timestamp)>,
    read_receipts: Vec<(String, String)>,
    removals: Vec<(Removal, String)>,
    filed_reports: Vec<NewFiledReport>,
    audit: Vec<AuditRow>,
}

impl Writes {
    /// Appends a chunk (a save or an incremental save) to a document.
    pub fn chunk(&mut self, document: DocumentId, bytes: Vec<u8>) {
        self.chunks.push((document, bytes));
    }

    /// Binds an Automerge actor id (hex) to the device that used it, unless it is bound
    /// already. If it is bound to another device, the whole commit fails with
    /// [`StoreError::ActorTaken`].
    pub fn bind_actor(&mut self, actor_id: String, user_id: String, device_id: String) {
        self.actors.push(ActorBinding {
            actor_id,
            user_id,
            device_id,
        });
    }

    /// Records which district and staff member a household belongs to.
    pub fn household(
        &mut self,
        document: DocumentId,
        district: Option<String>,
        assigned_staff: Option<String>,
    ) {
        self.households.push((document, district, assigned_staff));
    }

    /// Keeps a household's digest (its caseload line, as JSON) and the heads of the document
    /// as this commit leaves it on disk, with its index entry, which must exist or be written
    /// in the same commit. A chunk committed without them clears the stored heads, so they
    /// are never older than the chunks.
    pub fn digest(&mut self, document: DocumentId, digest: String, heads: &[ChangeHash]) {
        self.digests
            .push((document, digest, super::documents::encode_heads(heads)));
    }

    /// Quarantines a refused change, pending a decision, unless its document has it already.
    pub fn quarantine(&mut self, row: NewQuarantined) {
        self.quarantine.push(row);
    }

    /// Records a message refused unread (over the size limit), pending a decision.
    pub fn quarantine_unread(&mut self, row: NewUnread) {
        self.unread.push(row);
    }

    /// Records that `staff_id` held `document` until it was reassigned `at` (the latest
    /// reassignment away from them counts).
    pub fn former_holder(&mut self, document: DocumentId, staff_id: String, at: Timestamp) {
        self.former_holders.push((document, staff_id, at));
    }

    /// Records that `device_id` has logged its read `read_id` (its audit row goes in the same
    /// batch). Logged before, the whole commit fails: the read ids a device has logged are
    /// looked up first ([`Store::logged_reads`]), so only a second upload racing the first
    /// meets that, and is answered with an error the device retries after.
    pub fn read_receipt(&mut self, device_id: &str, read_id: &str) {
        self.read_receipts
            .push((device_id.to_owned(), read_id.to_owned()));
    }

    /// Removes a household by `removed_by`: its tombstone is written from its index entry,
    /// then its chunks, index entry, former holders and quarantined changes are deleted. A
    /// household the index does not hold fails the whole commit with
    /// [`StoreError::NotStored`].
    pub fn remove(&mut self, removal: Removal, removed_by: &str) {
        self.removals.push((removal, removed_by.to_owned()));
    }

    /// Keeps a tertial report as it was filed (its audit row goes in the same batch).
    pub fn file_report(&mut self, report: NewFiledReport) {
        self.filed_reports.push(report);
    }

    /// Appends a row about a household filed under `districts` as well as the household's
    /// own: a removal's row, written after the index entry it would be filed by is gone.
    #[allow(clippy::too_many_arguments)]
    pub fn audit_about(
        &mut self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        document: DocumentId,
        action: &str,
        detail: &str,
        districts: &[String],
    ) {
        self.audit(at, user_id, device_id, document, action, detail);
        self.file_last_row_under(districts);
    }

    /// Files the row appended last under `districts` too.
    fn file_last_row_under(&mut self, districts: &[String]) {
        if let Some(row) = self.audit.last_mut() {
            row.districts = districts.to_vec();
        }
    }

    /// Appends a row to the audit log.
    pub fn audit(
        &mut self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        document: DocumentId,
        action: &str,
        detail: &str,
    ) {
        self.audit_any(at, user_id, device_id, Some(document), action, detail);
    }

    /// Appends a row to the audit log about a document that may not be known (a message
    /// refused unread): its `document_id` is then empty.
    pub fn audit_any(
        &mut self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        document: Option<DocumentId>,
        action: &str,
        detail: &str,
    ) {
        self.audit.push(AuditRow {
            at,
            user_id: user_id.to_owned(),
            device_id: device_id.to_owned(),
            document,
            action: action.to_owned(),
            detail: detail.to_owned(),
            districts: Vec::new(),
        });
    }

    /// Appends a row about no household that concerns `districts` too (a change of a user's
    /// access: the districts they leave or join), so those districts' supervisors read it.
    pub fn audit_in(
        &mut self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        action: &str,
        detail: &str,
        districts: &[String],
    ) {
        self.audit_any(at, user_id, device_id, None, action, detail);
        self.file_last_row_under(districts);
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
            && self.chunks.is_empty()
            && self.households.is_empty()
            && self.digests.is_empty()
            && self.quarantine.is_empty()
            && self.unread.is_empty()
            && self.former_holders.is_empty()
            && self.read_receipts.is_empty()
            && self.removals.is_empty()
            && self.filed_reports.is_empty()
            && self.audit.is_empty()
    }
}

/// A chunk that [`Store::commit`] appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its document.
    pub document: DocumentId,
    /// Its position.
    pub seq: i64,
    /// How many chunks the document has now, this one included.
    pub chunks: i64,
}

impl Store {
    /// Makes `writes` durable in one transaction: when this returns, every one of them is on
    /// disk; when it fails, none is. Returns the chunks appended, in order. On PostgreSQL each
    /// written document's advisory lock is held until the commit (taken in document order, so
    /// two processes' commits cannot deadlock), and the other server processes hear of each
    /// chunk once it is committed.
    ///
    /// Fails with [`StoreError::ActorTaken`], writing nothing, when `writes` binds an actor to
    /// a device and it is bound to another device already.
    pub async fn commit(
        &self,
        writes: &Writes,
        now: Timestamp,
    ) -> Result<Vec<Appended>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let postgres = self.is_postgres();
        let mut documents: Vec<DocumentId> = writes
            .chunks
            .iter()
            .map(|(document, _)| *document)
            .chain(writes.removals.iter().map(|(removal, _)| removal.document))
            .collect();
        documents.sort();
        documents.dedup();
        // On PostgreSQL an insert waits for another transaction's uncommitted row with the same
        // key. Rows with keys are inserted in key order, after the document locks, so every
        // commit waits in the same order and two of them cannot wait on each other.
        let mut actors: Vec<&ActorBinding> = writes.actors.iter().collect();
        actors.sort_by(|first, second| first.actor_id.cmp(&second.actor_id));
        // A batch often holds several chunks of one document: each is looked up and dated
        // once.
        let chunk_documents: std::collections::BTreeSet<&DocumentId> =
            writes.chunks.iter().map(|(document, _)| document).collect();
        let mut quarantine: Vec<&NewQuarantined> = writes.quarantine.iter().collect();
        quarantine.sort_by(|first, second| {
            (first.document, &first.change_hash).cmp(&(second.document, &second.change_hash))
        });
        let _turn = self.writing_turn().await;
        Ok(on_pool!(self, |pool| {
            // Dropped without a commit on every early return below, which rolls it back.
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            if postgres {
                for document in &documents {
                    sqlx::query(LOCK_DOCUMENT)
                        .bind(document.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            // A removed household never comes back: another process (on PostgreSQL) may
            // have removed it without this one having heard yet. Checked under its lock.
            for document in &chunk_documents {
                let removed: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM removed_households WHERE document_id = $1",
                )
                .bind(document.to_string())
                .fetch_one(&mut *tx)
                .await?;
                if removed > 0 {
                    return Err(StoreError::Removed(**document));
                }
            }
            for binding in actors {
                sqlx::query(INSERT_ACTOR)
                    .bind(&binding.actor_id)
                    .bind(&binding.user_id)
                    .bind(&binding.device_id)
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
                let bound_to: String = sqlx::query_scalar(ACTOR_DEVICE)
                    .bind(&binding.actor_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if bound_to != binding.device_id {
                    return Err(StoreError::ActorTaken {
                        actor_id: binding.actor_id.clone(),
                    });
                }
            }
            let mut appended = Vec::with_capacity(writes.chunks.len());
            for (document, bytes) in &writes.chunks {
                let seq: i64 = sqlx::query_scalar(INSERT_CHUNK)
                    .bind(document.to_string())
                    .bind(bytes)
                    .bind(now.as_millis())
                    .fetch_one(&mut *tx)
                    .await?;
                if postgres {
                    // Delivered at commit, and only if the commit succeeds.
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(self.envelope(Announcement::Chunk {
                            document: *document,
                            seq,
                        }))
                        .execute(&mut *tx)
                        .await?;
                }
                appended.push(Appended {
                    document: *document,
                    seq,
                    chunks: 0,
                });
            }
            for document in &documents {
                let chunks: i64 = sqlx::query_scalar(COUNT_CHUNKS)
                    .bind(document.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
                for entry in appended
                    .iter_mut()
                    .filter(|entry| entry.document == *document)
                {
                    entry.chunks = chunks;
                }
            }
            for (document, district, assigned_staff) in &writes.households {
                sqlx::query(UPSERT_HOUSEHOLD)
                    .bind(document.to_string())
                    .bind(district)
                    .bind(assigned_staff)
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
            }
            // Heads go stale with every chunk, unless this commit brings the new ones.
            for document in &chunk_documents {
                if !writes
                    .digests
                    .iter()
                    .any(|(digested, ..)| digested == *document)
                {
                    sqlx::query("UPDATE households SET heads = NULL WHERE document_id = $1")
                        .bind(document.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for (document, digest, heads) in &writes.digests {
                sqlx::query("UPDATE households SET digest = $2, heads = $3 WHERE document_id = $1")
                    .bind(document.to_string())
                    .bind(digest)
                    .bind(heads)
                    .execute(&mut *tx)
                    .await?;
            }
            // A new chunk is a new entry: gallring counts from the last, by this clock.
            for document in &chunk_documents {
                sqlx::query("UPDATE households SET last_entry_at = $2 WHERE document_id = $1")
                    .bind(document.to_string())
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
            }
            for row in quarantine {
                sqlx::query(INSERT_QUARANTINED)
                    .bind(row.document.to_string())
                    .bind(&row.change_hash)
                    .bind(&row.bytes)
                    .bind(&row.user_id)
                    .bind(&row.device_id)
                    .bind(&row.reason)
                    .bind(row.signed_at.map(Timestamp::as_millis))
                    .bind(row.received_at.as_millis())
                    .bind(QuarantineStatus::Pending.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            for row in &writes.unread {
                sqlx::query(INSERT_UNREAD)
                    .bind(row.document.map(|document| document.to_string()))
                    .bind(i64::try_from(row.message_bytes).unwrap_or(i64::MAX))
                    .bind(&row.user_id)
                    .bind(&row.device_id)
                    .bind(&row.reason)
                    .bind(row.received_at.as_millis())
                    .bind(QuarantineStatus::Pending.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            for (document, staff_id, at) in &writes.former_holders {
                sqlx::query(UPSERT_FORMER_HOLDER)
                    .bind(document.to_string())
                    .bind(staff_id)
                    .bind(at.as_millis())
                    .execute(&mut *tx)
                    .await?;
            }
            for (device_id, read_id) in &writes.read_receipts {
                sqlx::query(INSERT_READ_RECEIPT)
                    .bind(device_id)
                    .bind(read_id)
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
            }
            for report in &writes.filed_reports {
                sqlx::query(INSERT_FILED_REPORT)
                    .bind(&report.tertial)
                    .bind(&report.district_id)
                    .bind(&report.filed_by)
                    .bind(now.as_millis())
                    .bind(report.households)
                    .bind(&report.report)
                    .execute(&mut *tx)
                    .await?;
            }
            for (removal, removed_by) in &writes.removals {
                let document = removal.document.to_string();
                let tombstone: Option<i64> = sqlx::query_scalar(INSERT_TOMBSTONE)
                    .bind(&document)
                    .bind(now.as_millis())
                    .bind(removed_by)
                    .bind(removal.kind.as_str())
                    .bind(&removal.decision)
                    .bind(&removal.reason)
                    .fetch_optional(&mut *tx)
                    .await?;
                if tombstone.is_none() {
                    return Err(StoreError::NotStored(removal.document));
                }
                for statement in REMOVAL_STATEMENTS {
                    sqlx::query(statement)
                        .bind(&document)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            if !writes.audit.is_empty() {
                if postgres {
                    // Several processes append: one at a time, or two rows would chain to one.
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(AUDIT_LOCK)
                        .execute(&mut *tx)
                        .await?;
                }
                let last: Option<(i64, String)> = sqlx::query_as(LAST_AUDIT_ROW)
                    .fetch_optional(&mut *tx)
                    .await?;
                for (row, new) in chain(last, &writes.audit).into_iter().zip(&writes.audit) {
                    sqlx::query(INSERT_AUDIT_ROW)
                        .bind(row.entry.seq)
                        .bind(row.entry.at)
                        .bind(&row.entry.user_id)
                        .bind(&row.entry.device_id)
                        .bind(&row.entry.document_id)
                        .bind(&row.entry.action)
                        .bind(&row.entry.detail)
                        .bind(&row.prev_hash)
                        .bind(&row.hash)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(SCOPE_AUDIT_ROW)
                        .bind(row.entry.seq)
                        .bind(&row.entry.document_id)
                        .bind(&row.entry.user_id)
                        .execute(&mut *tx)
                        .await?;
                    for district in &new.districts {
                        sqlx::query(SCOPE_AUDIT_ROW_IN)
                            .bind(row.entry.seq)
                            .bind(district)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
            appended
        }))
    }
}

//! The quarantine: changes the server refused to merge, kept whole with who sent them and
//! why, until a person accepts or rejects them.
//!
//! A change is quarantined once per document (by its hash): a device sending it again adds
//! nothing, and a decided change stays decided. A message too large to read
//! ([`NewUnread`]) is on record here too, without a change: a supervisor sees the attempt
//! and can only reject it, and it counts against the device's quota like any other. New rows are written by
//! [`Store::commit`](super::Store::commit), in the same transaction as whatever else the
//! batch holds.

use std::str::FromStr;

use lots_core::{DocumentId, Timestamp};

use super::{Store, StoreError, parse_document_id};

/// Where a quarantined change stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineStatus {
    /// Waiting for a person to decide.
    Pending,
    /// Accepted: it may be merged.
    Accepted,
    /// Rejected: it stays out.
    Rejected,
}

impl QuarantineStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineStatus::Pending => "pending",
            QuarantineStatus::Accepted => "accepted",
            QuarantineStatus::Rejected => "rejected",
        }
    }
}

impl FromStr for QuarantineStatus {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(QuarantineStatus::Pending),
            "accepted" => Ok(QuarantineStatus::Accepted),
            "rejected" => Ok(QuarantineStatus::Rejected),
            other => Err(StoreError::Damaged(format!(
                "unknown quarantine status {other:?}"
            ))),
        }
    }
}

/// A change to quarantine, as [`Writes::quarantine`](super::Writes::quarantine) takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuarantined {
    /// The document it changes.
    pub document: DocumentId,
    /// Its Automerge change hash (hex).
    pub change_hash: String,
    /// The raw Automerge change.
    pub bytes: Vec<u8>,
    /// Who sent it.
    pub user_id: String,
    /// From which device.
    pub device_id: String,
    /// Why it was refused.
    pub reason: String,
    /// When its signer says they made it, if it was signed.
    pub signed_at: Option<Timestamp>,
    /// When the server received it.
    pub received_at: Timestamp,
}

/// A message refused unread, as [`Writes::quarantine_unread`](super::Writes::quarantine_unread)
/// takes it: one over the sync message limit, whose changes were never read and so cannot
/// be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnread {
    /// The document it was for, when that is known (it seldom is: the message is unread).
    pub document: Option<DocumentId>,
    /// Who sent it.
    pub user_id: String,
    /// From which device.
    pub device_id: String,
    /// Why it was refused.
    pub reason: String,
    /// Its size in bytes, as far as the server learned it (a frame's announced length).
    pub message_bytes: u64,
    /// When the server received it.
    pub received_at: Timestamp,
}

/// A quarantined change as stored, or a message refused unread (no change: `change_hash`
/// and `bytes` are `None`, `message_bytes` says how large it was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedChange {
    /// Its position in the quarantine.
    pub id: i64,
    /// The document it changes; `None` for a message whose document is not known.
    pub document: Option<DocumentId>,
    /// Its Automerge change hash (hex); `None` when no change was kept.
    pub change_hash: Option<String>,
    /// The raw Automerge change; `None` when no change was kept.
    pub bytes: Option<Vec<u8>>,
    /// For a message refused unread, its size in bytes.
    pub message_bytes: Option<i64>,
    /// Who sent it.
    pub user_id: String,
    /// From which device.
    pub device_id: String,
    /// Why it was refused.
    pub reason: String,
    /// When its signer says they made it, if it was signed.
    pub signed_at: Option<Timestamp>,
    /// When the server received it.
    pub received_at: Timestamp,
    /// Where it stands.
    pub status: QuarantineStatus,
    /// Who decided on it, once someone has.
    pub decided_by: Option<String>,
    /// When it was decided on.
    pub decided_at: Option<Timestamp>,
}

/// A quarantine row as the databases return it.
#[derive(sqlx::FromRow)]
struct QuarantineRow {
    id: i64,
    document_id: Option<String>,
    change_hash: Option<String>,
    bytes: Option<Vec<u8>>,
    message_bytes: Option<i64>,
    user_id: String,
    device_id: String,
    reason: String,
    signed_at: Option<i64>,
    received_at: i64,
    status: String,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

impl TryFrom<QuarantineRow> for QuarantinedChange {
    type Error = StoreError;
    fn try_from(row: QuarantineRow) -> Result<Self, StoreError> {
        Ok(QuarantinedChange {
            id: row.id,
            document: row
                .document_id
                .as_deref()
                .map(parse_document_id)
                .transpose()?,
            change_hash: row.change_hash,
            bytes: row.bytes,
            message_bytes: row.message_bytes,
            user_id: row.user_id,
            device_id: row.device_id,
            reason: row.reason,
            signed_at: row.signed_at.map(Timestamp::from_millis),
            received_at: Timestamp::from_millis(row.received_at),
            status: row.status.parse()?,
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(Timestamp::from_millis),
        })
    }
}

fn changes(rows: Vec<QuarantineRow>) -> Result<Vec<QuarantinedChange>, StoreError> {
    rows.into_iter().map(QuarantinedChange::try_from).collect()
}

/// The columns of [`QuarantineRow`].
const COLUMNS: &str = "id, document_id, change_hash, bytes, message_bytes, user_id, device_id, \
     reason, signed_at, received_at, status, decided_by, decided_at";

/// Quarantines a change, pending, unless that document already has it.
pub(super) const INSERT_QUARANTINED: &str = "INSERT INTO quarantine \
     (document_id, change_hash, bytes, user_id, device_id, reason, signed_at, received_at, status) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (document_id, change_hash) DO NOTHING";

/// Records a message refused unread, pending. Its change hash is NULL, so it never meets
/// another row's key.
pub(super) const INSERT_UNREAD: &str = "INSERT INTO quarantine \
     (document_id, message_bytes, user_id, device_id, reason, received_at, status) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// How many documents one query names at most. A supervisor's districts may hold thousands of
/// households; SQLite takes at most 32,766 parameters per statement and PostgreSQL 65,535, so
/// longer lists are asked for in parts.
const DOCUMENTS_PER_QUERY: usize = 1_000;

impl Store {
    /// Quarantined changes, newest first: of the given documents only when `documents` is
    /// given, and in one status only when `status` is.
    pub async fn quarantined(
        &self,
        documents: Option<&[DocumentId]>,
        status: Option<QuarantineStatus>,
    ) -> Result<Vec<QuarantinedChange>, StoreError> {
        let status = status.map(QuarantineStatus::as_str);
        let by_status = "(CAST($1 AS TEXT) IS NULL OR status = $1)";
        let Some(documents) = documents else {
            let rows: Vec<QuarantineRow> = on_pool!(self, |pool| {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM quarantine WHERE {by_status} ORDER BY id DESC"
                ))
                .bind(status)
                .fetch_all(pool)
                .await?
            });
            return changes(rows);
        };
        let mut rows: Vec<QuarantineRow> = Vec::new();
        for part in documents.chunks(DOCUMENTS_PER_QUERY) {
            let placeholders: Vec<String> = (2..part.len() + 2).map(|n| format!("${n}")).collect();
            let select = format!(
                "SELECT {COLUMNS} FROM quarantine WHERE {by_status} AND document_id IN ({})",
                placeholders.join(", ")
            );
            on_pool!(self, |pool| {
                let mut query = sqlx::query_as::<_, QuarantineRow>(&select).bind(status);
                for document in part {
                    query = query.bind(document.to_string());
                }
                rows.extend(query.fetch_all(pool).await?);
            });
        }
        // A document named in two parts would otherwise be listed twice.
        rows.sort_by_key(|row| std::cmp::Reverse(row.id));
        rows.dedup_by_key(|row| row.id);
        changes(rows)
    }

    /// One quarantined change, by its id.
    pub async fn quarantined_change(
        &self,
        id: i64,
    ) -> Result<Option<QuarantinedChange>, StoreError> {
        let row: Option<QuarantineRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM quarantine WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(QuarantinedChange::try_from).transpose()
    }

    /// How many of a device's changes wait for a decision.
    pub async fn pending_quarantine_count(&self, device_id: &str) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM quarantine WHERE device_id = $1 AND status = $2",
            )
            .bind(device_id)
            .bind(QuarantineStatus::Pending.as_str())
            .fetch_one(pool)
            .await?
        }))
    }

    /// How many changes, of every device, wait for a decision.
    pub async fn pending_quarantine_total(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM quarantine WHERE status = $1")
                .bind(QuarantineStatus::Pending.as_str())
                .fetch_one(pool)
                .await?
        }))
    }

    /// Decides on a pending change: `by` (a user id) accepted or rejected it `at`. Returns
    /// whether it was pending and so changed; a change decided already stays as it was, and
    /// deciding on [`QuarantineStatus::Pending`] changes nothing.
    pub async fn decide_quarantine(
        &self,
        id: i64,
        status: QuarantineStatus,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        if status == QuarantineStatus::Pending {
            return Ok(false);
        }
        let changed = on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE quarantine SET status = $1, decided_by = $2, decided_at = $3 \
                 WHERE id = $4 AND status = $5",
            )
            .bind(status.as_str())
            .bind(by)
            .bind(at.as_millis())
            .bind(id)
            .bind(QuarantineStatus::Pending.as_str())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(changed > 0)
    }

    /// A document's changes that wait for a decision, oldest first: the order they came in,
    /// which is the order to merge them in once accepted.
    pub async fn pending_quarantine_of(
        &self,
        document: &DocumentId,
    ) -> Result<Vec<QuarantinedChange>, StoreError> {
        let rows: Vec<QuarantineRow> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM quarantine WHERE document_id = $1 AND status = $2 \
                 ORDER BY id"
            ))
            .bind(document.to_string())
            .bind(QuarantineStatus::Pending.as_str())
            .fetch_all(pool)
            .await?
        });
        changes(rows)
    }
}

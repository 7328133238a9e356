//! The audit log: who opened or changed which household, and what was refused. Append-only
//! (triggers refuse updates and deletes) and hash-chained, so a row changed behind the
//! server's back shows when the chain is verified.

use lots_core::{DocumentId, Timestamp};
use sha2::{Digest, Sha256};

use super::{Row, Store, StoreError, Writes, unwrapped};

pub use lots_core::api::AuditEntry;

api_row!(AuditEntry {
    seq: i64,
    at: i64,
    user_id: String,
    device_id: String,
    document_id: String,
    action: String,
    detail: String
});

/// Who reads the log: it decides which rows they may see at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AuditReader<'a> {
    /// Every row (the server's own tools).
    #[default]
    Everything,
    /// A supervisor: the rows filed under their districts (see `SCOPE_AUDIT_ROW`).
    Districts {
        /// The supervisor's user id.
        supervisor: &'a str,
    },
    /// An administrator: the rows about no household (sign-ins, administration).
    Administration,
}

/// Which audit rows to read: every `Some` narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    /// Who reads.
    pub reader: AuditReader<'a>,
    /// One household's rows.
    pub document: Option<&'a str>,
    /// One user's rows (see [`Store::audit_query`]).
    pub user: Option<&'a str>,
    /// The rows filed under one district.
    pub district: Option<&'a str>,
    /// One kind of row (`open`, `change`, `sign-in`, …).
    pub action: Option<&'a str>,
    /// From this time on (inclusive).
    pub from: Option<Timestamp>,
    /// Before this time.
    pub to: Option<Timestamp>,
    /// At most this many rows.
    pub limit: i64,
}

/// An audit row waiting in [`Writes`]; its position and chain hash are given at commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AuditRow {
    pub(super) at: Timestamp,
    pub(super) user_id: String,
    pub(super) device_id: String,
    /// `None` for an input whose document is not known (stored as an empty id).
    pub(super) document: Option<DocumentId>,
    pub(super) action: String,
    pub(super) detail: String,
    /// Districts the row concerns besides those it is filed under anyway (see
    /// [`SCOPE_AUDIT_ROW`]): those a user left or joined in a change of their access.
    pub(super) districts: Vec<String>,
}

/// An audit row with its chain links.
#[derive(sqlx::FromRow)]
pub(super) struct ChainRow {
    #[sqlx(flatten)]
    pub(super) entry: Row<AuditEntry>,
    pub(super) prev_hash: String,
    pub(super) hash: String,
}

/// The hash that the first row chains to.
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The advisory lock key of the audit chain (PostgreSQL).
pub(super) const AUDIT_LOCK: i64 = 0x4c6f_7473_4175_6474; // "LotsAudt"

/// The last row's position and hash, which the next row chains to.
pub(super) const LAST_AUDIT_ROW: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";

/// Appends one chained row.
pub(super) const INSERT_AUDIT_ROW: &str = "INSERT INTO audit_log (seq, at, user_id, device_id, document_id, action, detail, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Files a new row (`$1`, its `document_id` `$2`, its `user_id` `$3`) under the districts it
/// concerns: a household's row under the household's district now, any other row under the
/// acting user's districts now. Supervisors read the rows filed under their districts.
pub(super) const SCOPE_AUDIT_ROW: &str = "INSERT INTO audit_districts (seq, district_id) \
     SELECT CAST($1 AS BIGINT), district_id FROM households \
     WHERE document_id = $2 AND district_id IS NOT NULL \
     UNION SELECT CAST($1 AS BIGINT), district_id FROM user_districts \
     WHERE $2 = '' AND user_id = $3 \
     ON CONFLICT DO NOTHING";

/// Files a row under one more district.
pub(super) const SCOPE_AUDIT_ROW_IN: &str =
    "INSERT INTO audit_districts (seq, district_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

/// A row's chain hash: over the previous row's hash and every field of this one.
fn audit_hash(prev_hash: &str, entry: &AuditEntry) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev_hash,
        &entry.seq.to_string(),
        &entry.at.to_string(),
        &entry.user_id,
        &entry.device_id,
        &entry.document_id,
        &entry.action,
        &entry.detail,
    ] {
        // Length-prefix each field so no two rows can hash alike by shifting text between fields.
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Gives `rows` their positions and chain links, following `last` (the log's last row's
/// position and hash; `None` when the log is empty).
pub(super) fn chain(last: Option<(i64, String)>, rows: &[AuditRow]) -> Vec<ChainRow> {
    let (mut seq, mut prev_hash) = last
        .map(|(seq, hash)| (seq + 1, hash))
        .unwrap_or_else(|| (1, GENESIS_HASH.to_owned()));
    let mut chained = Vec::with_capacity(rows.len());
    for row in rows {
        let entry = AuditEntry {
            seq,
            at: row.at.as_millis(),
            user_id: row.user_id.clone(),
            device_id: row.device_id.clone(),
            document_id: row
                .document
                .map(|document| document.to_string())
                .unwrap_or_default(),
            action: row.action.clone(),
            detail: row.detail.clone(),
        };
        let hash = audit_hash(&prev_hash, &entry);
        seq += 1;
        chained.push(ChainRow {
            entry: Row(entry),
            prev_hash: std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        });
    }
    chained
}

impl Store {
    /// Appends to the audit log, chaining the row to the previous one.
    pub async fn audit(
        &self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        document: &DocumentId,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut writes = Writes::default();
        writes.audit(at, user_id, device_id, *document, action, detail);
        self.commit(&writes, at).await?;
        Ok(())
    }

    /// Appends an event that concerns no household (a sign-in, an administrator's action).
    pub async fn audit_event(
        &self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.audit_event_in(at, user_id, device_id, action, detail, &[])
            .await
    }

    /// Appends an administrator's action on a user's access, filed under `districts` too
    /// (those the user leaves or joins) so that their supervisors read it.
    pub async fn audit_event_in(
        &self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        action: &str,
        detail: &str,
        districts: &[String],
    ) -> Result<(), StoreError> {
        let mut writes = Writes::default();
        writes.audit_in(at, user_id, device_id, action, detail, districts);
        self.commit(&writes, at).await?;
        Ok(())
    }

    /// Audit entries, newest first, optionally for one document or user, as the whole log
    /// shows them (the server's own tools and tests; people read through [`Store::audit_query`]).
    pub async fn audit_entries(
        &self,
        document: Option<&str>,
        user_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit_query(&AuditFilter {
            document,
            user: user_id,
            limit,
            ..AuditFilter::default()
        })
        .await
    }

    /// The audit entries `filter` selects, newest first. A user's entries are what they did
    /// and the changes of their role or districts (`user-access-changed`, whose detail begins
    /// with the user's id and a colon), so that a supervisor reading a staff member's log sees
    /// who changed their reach.
    pub async fn audit_query(
        &self,
        filter: &AuditFilter<'_>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (supervisor, administration) = match filter.reader {
            AuditReader::Everything => (None, 0_i64),
            AuditReader::Districts { supervisor } => (Some(supervisor), 0),
            AuditReader::Administration => (None, 1),
        };
        let rows: Vec<Row<AuditEntry>> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT seq, at, user_id, device_id, document_id, action, detail FROM audit_log \
                 WHERE (CAST($1 AS TEXT) IS NULL OR document_id = $1) \
                   AND (CAST($2 AS TEXT) IS NULL OR user_id = $2 \
                        OR (action = 'user-access-changed' \
                            AND substr(detail, 1, length($2) + 1) = $2 || ':')) \
                   AND (CAST($3 AS TEXT) IS NULL \
                        OR seq IN (SELECT seq FROM audit_districts WHERE district_id = $3)) \
                   AND (CAST($4 AS TEXT) IS NULL OR action = $4) \
                   AND (CAST($5 AS BIGINT) IS NULL OR at >= $5) \
                   AND (CAST($6 AS BIGINT) IS NULL OR at < $6) \
                   AND (CAST($7 AS TEXT) IS NULL OR seq IN ( \
                        SELECT audit_districts.seq FROM audit_districts \
                        JOIN user_districts ON user_districts.district_id = audit_districts.district_id \
                        WHERE user_districts.user_id = $7)) \
                   AND ($8 = 0 OR document_id = '') \
                 ORDER BY seq DESC LIMIT $9",
            )
            .bind(filter.document)
            .bind(filter.user)
            .bind(filter.district)
            .bind(filter.action)
            .bind(filter.from.map(Timestamp::as_millis))
            .bind(filter.to.map(Timestamp::as_millis))
            .bind(supervisor)
            .bind(administration)
            .bind(filter.limit)
            .fetch_all(pool)
            .await?
        });
        Ok(unwrapped(rows))
    }

    /// Walks the whole audit chain; returns the first row whose hash does not match.
    pub async fn verify_audit_chain(&self) -> Result<Option<i64>, StoreError> {
        let rows: Vec<ChainRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT seq, at, user_id, device_id, document_id, action, detail, prev_hash, hash \
                 FROM audit_log ORDER BY seq",
            )
            .fetch_all(pool)
            .await?
        });
        let mut prev_hash = GENESIS_HASH.to_owned();
        for ChainRow {
            entry,
            prev_hash: stored_prev,
            hash: stored_hash,
        } in rows
        {
            if stored_prev != prev_hash || audit_hash(&prev_hash, &entry) != stored_hash {
                return Ok(Some(entry.seq));
            }
            prev_hash = stored_hash;
        }
        Ok(None)
    }
}

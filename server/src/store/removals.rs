//! Removed households: gallring and removal on a decision. A removal deletes every chunk of
//! the household's document, its index entry, former holders and quarantined changes, and
//! leaves a tombstone (ids, dates, the decision), in the same transaction as its row on the
//! access log. The log's older rows about the household stay: they hold ids, never content.

use lots_core::{DocumentId, Timestamp};

use super::{Store, StoreError, parse_document_id};

pub use lots_core::api::{RemovalKind, RemovedHousehold};

/// A removal's kind as stored.
fn removal_kind(text: &str) -> Result<RemovalKind, StoreError> {
    match text {
        "retention" => Ok(RemovalKind::Retention),
        "decision" => Ok(RemovalKind::Decision),
        other => Err(StoreError::Damaged(format!(
            "unknown removal kind {other:?}"
        ))),
    }
}

/// A household as gallring weighs it: its index entry and when its last entry was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdAge {
    /// The household.
    pub document: DocumentId,
    /// Its district.
    pub district: Option<String>,
    /// Its assigned staff member.
    pub assigned_staff: Option<String>,
    /// Its last entry, by the server's clock.
    pub last_entry_at: Timestamp,
}

/// One household to remove, with everything its tombstone says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The household.
    pub document: DocumentId,
    /// Gallring or a decision.
    pub kind: RemovalKind,
    /// The decision's reference.
    pub decision: String,
    /// Why (a decision), or empty (gallring).
    pub reason: String,
}

/// The tombstone columns, in [`RemovedHousehold`]'s order.
const COLUMNS: &str = "seq, document_id, district_id, assigned_staff, last_entry_at, removed_at, \
     removed_by, kind, decision, reason";

type Row = (
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
    i64,
    String,
    String,
    String,
    String,
);

fn tombstone(row: Row) -> Result<RemovedHousehold, StoreError> {
    let (
        seq,
        document,
        district_id,
        assigned_staff,
        last_entry_at,
        removed_at,
        removed_by,
        kind,
        decision,
        reason,
    ) = row;
    Ok(RemovedHousehold {
        seq,
        document_id: parse_document_id(&document)?,
        district_id,
        assigned_staff,
        last_entry_at,
        removed_at,
        removed_by,
        kind: removal_kind(&kind)?,
        decision,
        reason,
    })
}

/// Tombstones whose household a user could read or was given: `$1` the user, `$2` whether
/// they read every district (an administrator).
const REMOVED_FOR: &str = "WHERE $2 OR assigned_staff = $1 OR district_id IN \
     (SELECT district_id FROM user_districts WHERE user_id = $1)";

impl Store {
    /// Every household's age: its index entry and last entry, oldest first.
    pub async fn household_ages(&self) -> Result<Vec<HouseholdAge>, StoreError> {
        type AgeRow = (String, Option<String>, Option<String>, Option<i64>, i64);
        let rows: Vec<AgeRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT document_id, district_id, assigned_staff, last_entry_at, updated_at \
                     FROM households ORDER BY COALESCE(last_entry_at, updated_at), document_id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(document, district, assigned_staff, last_entry, updated)| {
                    Ok(HouseholdAge {
                        document: parse_document_id(&document)?,
                        district,
                        assigned_staff,
                        last_entry_at: Timestamp::from_millis(last_entry.unwrap_or(updated)),
                    })
                },
            )
            .collect()
    }

    /// The tombstones a user's devices must act on, oldest first: of the households in their
    /// districts or assigned to them when removed; every one for `all` (an administrator).
    pub async fn removed_households(
        &self,
        user_id: &str,
        all: bool,
    ) -> Result<Vec<RemovedHousehold>, StoreError> {
        let rows: Vec<Row> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM removed_households {REMOVED_FOR} ORDER BY seq"
            ))
            .bind(user_id)
            .bind(all)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(tombstone).collect()
    }

    /// One household's tombstone, when it was removed.
    pub async fn removed_household(
        &self,
        document: &DocumentId,
    ) -> Result<Option<RemovedHousehold>, StoreError> {
        let row: Option<Row> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM removed_households WHERE document_id = $1"
            ))
            .bind(document.to_string())
            .fetch_optional(pool)
            .await?
        });
        row.map(tombstone).transpose()
    }

    /// Every removed household's id: the documents no device may bring back.
    pub async fn removed_ids(&self) -> Result<Vec<DocumentId>, StoreError> {
        let ids: Vec<String> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT document_id FROM removed_households")
                .fetch_all(pool)
                .await?
        });
        ids.iter().map(|id| parse_document_id(id)).collect()
    }
}

/// What one removal deletes, run by [`Store::commit`] in its transaction after the tombstone
/// ([`INSERT_TOMBSTONE`], which reads the index entry these delete).
pub(super) const REMOVAL_STATEMENTS: [&str; 4] = [
    "DELETE FROM document_chunks WHERE document_id = $1",
    "DELETE FROM former_holders WHERE document_id = $1",
    "DELETE FROM quarantine WHERE document_id = $1",
    "DELETE FROM households WHERE document_id = $1",
];

/// Writes a tombstone from the household's index entry: `$1` document, `$2` removed at,
/// `$3` by, `$4` kind, `$5` decision, `$6` reason. Inserts nothing when the household is not
/// in the index (removed already, or never known).
pub(super) const INSERT_TOMBSTONE: &str = "INSERT INTO removed_households \
     (document_id, district_id, assigned_staff, last_entry_at, removed_at, removed_by, kind, decision, reason) \
     SELECT document_id, district_id, assigned_staff, COALESCE(last_entry_at, updated_at), $2, $3, $4, $5, $6 \
     FROM households WHERE document_id = $1 RETURNING seq";

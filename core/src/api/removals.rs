//! Removed households: what gallring would remove (its dry run, judged household by
//! household), and the tombstones every device learns removals from.

use crate::{DocumentId, RetentionRule};

/// Why a household was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemovalKind {
    /// Gallring: its last entry was made longer ago than the rule keeps files.
    Retention,
    /// On a decision, such as a household recorded in error.
    Decision,
}

impl RemovalKind {
    /// Its name, as stored and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retention => "retention",
            Self::Decision => "decision",
        }
    }
}

/// `GET /api/removed` answer, one per household: a removed household's tombstone (gallring,
/// or a decision). Every device deletes its copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemovedHousehold {
    /// The tombstone's position: later removals have higher ones.
    pub seq: i64,
    /// The household's document.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub document_id: DocumentId,
    /// Its district when it was removed.
    pub district_id: Option<String>,
    /// The staff member it was assigned to when it was removed.
    pub assigned_staff: Option<String>,
    /// Its last entry (ms, the server's receipt time).
    pub last_entry_at: i64,
    /// When it was removed (ms).
    pub removed_at: i64,
    /// Who removed it.
    pub removed_by: String,
    /// Gallring, or a decision.
    pub kind: RemovalKind,
    /// The decision's reference.
    pub decision: String,
    /// Why, for a removal on a decision (empty for staff, who are not told).
    pub reason: String,
}

/// `POST /api/admin/retention` and `POST /api/households/{id}/remove` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemovedCount {
    /// How many households were removed.
    pub removed: usize,
}

/// What gallring makes of a household old enough for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RetentionVerdict {
    /// To be removed.
    Due,
    /// Kept: a member was born on the 5th, 15th or 25th of a month.
    KeptForResearch,
    /// Kept: its members cannot be read, so the exception cannot be ruled out.
    Unreadable,
}

/// One household as gallring's dry run weighs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionCandidate {
    /// The household's document (an id: administrators see no household).
    pub document_id: String,
    /// Its district's id.
    pub district_id: Option<String>,
    /// Its last entry (ms, the server's receipt time).
    pub last_entry_at: i64,
    /// The first day it may be removed (Swedish date, `YYYY-MM-DD`).
    pub due_on: String,
    /// Due, or kept and why.
    pub verdict: RetentionVerdict,
}

/// `GET /api/admin/retention` answer: what gallring would remove today, and what it keeps
/// although old enough.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionDryRun {
    /// The rule, as the server is configured.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub rule: RetentionRule,
    /// Today, in Swedish time (`YYYY-MM-DD`).
    pub today: String,
    /// Households due for removal, oldest first.
    pub due: Vec<RetentionCandidate>,
    /// Households old enough but kept, with why.
    pub kept: Vec<RetentionCandidate>,
}

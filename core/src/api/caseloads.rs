//! Caseloads: the households a person may sync, as the caseload list summarises them, and
//! who holds how many households per district, as administrators see it (counts only).

use std::collections::BTreeMap;

use super::Role;
use crate::{CaseStatus, DocumentId, Timestamp};

/// `GET /api/caseload` answer, one per household: a household as the caseload list shows
/// it. The fields the app reads have defaults, so that an entry a server could not fill in
/// still lists the household.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdSummary {
    /// The document id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub document_id: DocumentId,
    /// Its `automerge:` URL.
    pub url: String,
    /// Its district.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub district: String,
    /// Street address (empty when it cannot be read).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub address: String,
    /// Flat or unit.
    pub unit: String,
    /// The staff member whose caseload it is in.
    pub assigned_staff: Option<String>,
    /// Active or closed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "active"))]
    pub status: CaseStatus,
    /// How many people.
    pub members: usize,
    /// The next planned visit (milliseconds since the Unix epoch).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub next_visit: Option<Timestamp>,
    /// The last held visit (milliseconds since the Unix epoch).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub last_visit: Option<Timestamp>,
    /// Follow-ups past their due date and not done.
    pub overdue_follow_ups: usize,
    /// Fields with concurrent values waiting for a person to choose.
    pub conflicts: usize,
    /// Why the household cannot be read, when it cannot (a document from another schema
    /// version, damage on disk). Such a household is listed all the same, never left out;
    /// its address and counts are then empty, and the app shows it with the reason.
    #[serde(default)]
    pub unreadable: Option<String>,
}

impl HouseholdSummary {
    /// A household known by its document alone: active, nothing read of it (no district,
    /// address, visits or counts), not unreadable.
    pub fn new(document_id: DocumentId) -> Self {
        Self {
            url: document_id.url(),
            document_id,
            district: String::new(),
            address: String::new(),
            unit: String::new(),
            assigned_staff: None,
            status: CaseStatus::Active,
            members: 0,
            next_visit: None,
            last_visit: None,
            overdue_follow_ups: 0,
            conflicts: 0,
            unreadable: None,
        }
    }
}

/// `GET /api/admin/caseloads` answer: who holds how many households, per district. No
/// household is named.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Caseloads {
    /// Per person (every user who is not an administrator, or who holds a household).
    pub staff: Vec<StaffCaseload>,
    /// Per district.
    pub districts: Vec<DistrictCaseload>,
}

/// One person's share of the caseloads, as administrators see it: counts only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffCaseload {
    /// Their user id.
    pub user_id: String,
    /// Their name.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// Their districts.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub districts: Vec<String>,
    /// Whether they are shut out.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub disabled: bool,
    /// Households assigned to them.
    pub households: i64,
    /// The same, per district id.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub households_by_district: BTreeMap<String, i64>,
}

/// One district's households, as administrators see them: counts only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DistrictCaseload {
    /// The district's id (`""` for households whose district is not known).
    pub district: String,
    /// Its name.
    pub name: String,
    /// All its households.
    pub households: i64,
    /// Those nobody holds.
    pub unassigned: i64,
}

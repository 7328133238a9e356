//! The caseload list: a summary of each household a person may see, most urgent first.

use lots_core::{HouseholdDoc, SyncPeer, Timestamp, VisitStatus};

use super::policy::{CaseloadPolicy, Principal};

/// A household as the caseload list shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct HouseholdSummary {
    /// The document id.
    pub document_id: String,
    /// Its `automerge:` URL.
    pub url: String,
    /// Its district.
    pub district: String,
    /// Street address.
    pub address: String,
    /// Flat or unit.
    pub unit: String,
    /// The staff member whose caseload it is in.
    pub assigned_staff: Option<String>,
    /// Active or closed.
    #[schema(value_type = String, example = "active")]
    pub status: lots_core::CaseStatus,
    /// How many people.
    pub members: usize,
    /// The next planned visit (milliseconds since the Unix epoch).
    #[schema(value_type = Option<i64>)]
    pub next_visit: Option<Timestamp>,
    /// The last held visit (milliseconds since the Unix epoch).
    #[schema(value_type = Option<i64>)]
    pub last_visit: Option<Timestamp>,
    /// Follow-ups past their due date and not done.
    pub overdue_follow_ups: usize,
    /// Fields with concurrent values waiting for a person to choose.
    pub conflicts: usize,
    /// Why the household cannot be read, when it cannot (a document from another schema
    /// version, damage on disk). Such a household is listed all the same, never left out;
    /// its address and counts are then empty.
    pub unreadable: Option<String>,
}

/// The households `principal` may see, with the most overdue follow-ups first, then the
/// nearest planned visit.
pub(super) fn summaries(
    peer: &SyncPeer<CaseloadPolicy>,
    principal: &Principal,
    now: Timestamp,
) -> Vec<HouseholdSummary> {
    let mut summaries = Vec::new();
    for (document, index) in &peer.policy().households {
        if !principal.may_read(index) {
            continue;
        }
        let unreadable = |reason: String| HouseholdSummary {
            document_id: document.to_string(),
            url: document.url(),
            district: index.district.clone().unwrap_or_default(),
            address: String::new(),
            unit: String::new(),
            assigned_staff: index.assigned_staff.clone(),
            status: lots_core::CaseStatus::Active,
            members: 0,
            next_visit: None,
            last_visit: None,
            overdue_follow_ups: 0,
            conflicts: 0,
            unreadable: Some(reason),
        };
        let Some(doc) = peer.document(document) else {
            summaries.push(unreadable(
                "the server holds no readable copy of this household".into(),
            ));
            continue;
        };
        let doc = HouseholdDoc::new(doc);
        let household = match doc.household() {
            Ok(household) => household,
            Err(error) => {
                summaries.push(unreadable(error.to_string()));
                continue;
            }
        };
        let today = now.date();
        let next_visit = household
            .visits
            .values()
            .filter(|visit| visit.status == VisitStatus::Planned && visit.planned_at >= now)
            .map(|visit| visit.planned_at)
            .min();
        let last_visit = household
            .visits
            .values()
            .filter(|visit| visit.status == VisitStatus::Done)
            .map(|visit| visit.planned_at)
            .max();
        let overdue_follow_ups = household
            .visits
            .values()
            .flat_map(|visit| visit.follow_ups.values())
            .filter(|follow_up| follow_up.done_on.is_none() && follow_up.due_on < today)
            .count();
        summaries.push(HouseholdSummary {
            document_id: document.to_string(),
            url: document.url(),
            district: household.profile.district.to_string(),
            address: household.profile.address.clone(),
            unit: household.profile.unit.clone(),
            assigned_staff: household
                .profile
                .assigned_staff
                .as_ref()
                .map(ToString::to_string),
            status: household.profile.status,
            members: household.members.len(),
            next_visit,
            last_visit,
            overdue_follow_ups,
            conflicts: doc
                .conflicts()
                .map(|conflicts| conflicts.len())
                .unwrap_or(0),
            unreadable: None,
        });
    }
    // Unreadable households first: somebody must act on them.
    summaries.sort_by(|a, b| {
        b.unreadable
            .is_some()
            .cmp(&a.unreadable.is_some())
            .then(b.overdue_follow_ups.cmp(&a.overdue_follow_ups))
            .then(a.next_visit.cmp(&b.next_visit))
            .then(a.address.cmp(&b.address))
    });
    summaries
}

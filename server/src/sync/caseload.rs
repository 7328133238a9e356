//! The caseload list: a summary of each household a person may see, most urgent first.

use lots_core::{HouseholdDoc, SyncPeer, Timestamp, VisitStatus};

use super::policy::{CaseloadPolicy, Principal};

pub use lots_core::api::HouseholdSummary;

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
            district: index.district.clone().unwrap_or_default(),
            assigned_staff: index.assigned_staff.clone(),
            unreadable: Some(reason),
            ..HouseholdSummary::new(*document)
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
            document_id: *document,
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

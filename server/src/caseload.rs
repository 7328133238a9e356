//! The caseload list: a summary of each household a person may see, most urgent first.
//!
//! A list is read from the household table, never from documents in memory, so that a
//! caseload call costs a query and never waits behind sync work. The hub writes each
//! household's [`Digest`] (what its line shows) in the same transaction as the document's
//! chunks; what depends on the day (the next visit, overdue follow-ups) is worked out from the
//! digest when the list is read. A household stored before digests were kept is digested from
//! its stored document the first time it is listed.

use lots_core::automerge::Automerge;
use lots_core::{CaseStatus, Date, DocumentId, HouseholdDoc, Outline, Timestamp, VisitStatus};
use serde::{Deserialize, Serialize};

use crate::store::{HouseholdRow, Role, Store, StoreError};
use crate::sync::policy::{HouseholdIndex, Principal};

pub use lots_core::api::HouseholdSummary;

/// What a household's caseload line shows, as of its last change: stored as JSON with its
/// index entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// Street address.
    pub address: String,
    /// Flat or unit.
    pub unit: String,
    /// Active or closed.
    pub status: CaseStatus,
    /// How many people.
    pub members: usize,
    /// Fields with concurrent values waiting for a person.
    pub conflicts: usize,
    /// When each planned (not yet held) visit is planned for.
    pub planned: Vec<Timestamp>,
    /// The last held visit.
    pub last_visit: Option<Timestamp>,
    /// The due date (`YYYY-MM-DD`) of each follow-up not yet done.
    pub open_follow_ups: Vec<String>,
    /// Why the household cannot be read, when it cannot.
    pub unreadable: Option<String>,
}

impl Digest {
    /// A household document's digest, read whole. The hub keeps each resident household's
    /// [`Outline`] instead and brings it up to date change by change.
    pub fn of(doc: &Automerge) -> Self {
        match HouseholdDoc::new(doc).outline() {
            Ok(outline) => Self::from_outline(&outline),
            Err(error) => Self::unreadable(error.to_string()),
        }
    }

    /// The digest of a household's outline. The outline reads only the fields the line
    /// shows; the rest of a stored household reads because the server vets every entry a
    /// change touches.
    pub fn from_outline(outline: &Outline) -> Self {
        let visits = outline.visits.values();
        Self {
            address: outline.profile.address.clone(),
            unit: outline.profile.unit.clone(),
            status: outline.profile.status,
            members: outline.members,
            conflicts: outline.conflicts(),
            planned: visits
                .clone()
                .filter(|visit| visit.status == VisitStatus::Planned)
                .map(|visit| visit.planned_at)
                .collect(),
            last_visit: visits
                .clone()
                .filter(|visit| visit.status == VisitStatus::Done)
                .map(|visit| visit.planned_at)
                .max(),
            open_follow_ups: visits
                .flat_map(|visit| visit.follow_ups.values())
                .filter(|follow_up| follow_up.done_on.is_none())
                .map(|follow_up| follow_up.due_on.to_string())
                .collect(),
            unreadable: None,
        }
    }

    /// The digest of a household that cannot be read, with why.
    pub fn unreadable(reason: String) -> Self {
        Self {
            address: String::new(),
            unit: String::new(),
            status: CaseStatus::Active,
            members: 0,
            conflicts: 0,
            planned: Vec::new(),
            last_visit: None,
            open_follow_ups: Vec::new(),
            unreadable: Some(reason),
        }
    }

    /// As stored.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a digest always serializes")
    }

    /// The household's caseload line on the day of `now`.
    pub fn summary(
        &self,
        document: DocumentId,
        index: &HouseholdIndex,
        now: Timestamp,
    ) -> HouseholdSummary {
        let today = now.date();
        HouseholdSummary {
            document_id: document,
            url: document.url(),
            district: index.district.clone().unwrap_or_default(),
            address: self.address.clone(),
            unit: self.unit.clone(),
            assigned_staff: index.assigned_staff.clone(),
            status: self.status,
            members: self.members,
            next_visit: self.planned.iter().copied().filter(|at| *at >= now).min(),
            last_visit: self.last_visit,
            overdue_follow_ups: self
                .open_follow_ups
                .iter()
                .filter(|due| due.parse::<Date>().is_ok_and(|due| due < today))
                .count(),
            conflicts: self.conflicts,
            unreadable: self.unreadable.clone(),
        }
    }
}

/// The households `principal` may see, with the unreadable first, then the most overdue
/// follow-ups, then the nearest planned visit.
pub async fn caseload(
    store: &Store,
    principal: &Principal,
    now: Timestamp,
) -> Result<Vec<HouseholdSummary>, StoreError> {
    let (staff, districts) = match principal.role {
        Role::Staff => (Some(principal.user_id.as_str()), &[][..]),
        Role::Supervisor => (None, &principal.districts[..]),
        Role::Admin => return Ok(Vec::new()),
    };
    let rows = store.caseload_rows(staff, districts).await?;
    let mut summaries = Vec::with_capacity(rows.len());
    for HouseholdRow {
        document,
        district,
        assigned_staff,
        digest,
    } in rows
    {
        let index = HouseholdIndex {
            district,
            assigned_staff,
        };
        if !principal.may_read(&index) {
            continue;
        }
        let stored = digest
            .as_deref()
            .and_then(|json| serde_json::from_str::<Digest>(json).ok());
        let digest = match stored {
            Some(digest) => digest,
            None => digest_stored(store, &document).await?,
        };
        summaries.push(digest.summary(document, &index, now));
    }
    summaries.sort_by(|a, b| {
        b.unreadable
            .is_some()
            .cmp(&a.unreadable.is_some())
            .then(b.overdue_follow_ups.cmp(&a.overdue_follow_ups))
            .then(a.next_visit.cmp(&b.next_visit))
            .then(a.address.cmp(&b.address))
    });
    Ok(summaries)
}

/// Digests a household from its stored document (one stored before digests were kept, or
/// whose digest does not read) and keeps the digest, unless the hub has written a newer one
/// meanwhile.
async fn digest_stored(store: &Store, document: &DocumentId) -> Result<Digest, StoreError> {
    let digest = match store.document(document).await? {
        None => Digest::unreadable("the server holds no copy of this household".into()),
        Some(bytes) => match crate::sync::hub::load_caught(&bytes) {
            Ok(doc) => Digest::of(&doc),
            Err(error) => {
                Digest::unreadable(format!("the stored household does not load: {error}"))
            }
        },
    };
    store.backfill_digest(document, &digest.to_json()).await?;
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use lots_core::synthetic::{Generator, HouseholdSpec};
    use lots_core::{DeviceId, DistrictId, StaffId};

    use super::*;

    /// The digest as read from the whole household: what the outline must agree with.
    fn from_the_whole(doc: &HouseholdDoc) -> Digest {
        let household = doc.household().expect("reads");
        let visits = || household.visits.values();
        Digest {
            address: household.profile.address.clone(),
            unit: household.profile.unit.clone(),
            status: household.profile.status,
            members: household.members.len(),
            conflicts: doc.conflicts().expect("walks").len(),
            planned: visits()
                .filter(|visit| visit.status == VisitStatus::Planned)
                .map(|visit| visit.planned_at)
                .collect(),
            last_visit: visits()
                .filter(|visit| visit.status == VisitStatus::Done)
                .map(|visit| visit.planned_at)
                .max(),
            open_follow_ups: visits()
                .flat_map(|visit| visit.follow_ups.values())
                .filter(|follow_up| follow_up.done_on.is_none())
                .map(|follow_up| follow_up.due_on.to_string())
                .collect(),
            unreadable: None,
        }
    }

    #[test]
    fn a_digest_shows_what_the_whole_household_holds() {
        for seed in 0..8 {
            let spec = HouseholdSpec {
                district: DistrictId::new("district-norr").expect("valid"),
                staff: StaffId::new("u-anna").expect("valid"),
                device: DeviceId::new("d-phone").expect("valid"),
                opened_on: Date::from_ymd(2024, 1, 8).expect("valid"),
                visits: 4 + seed as usize * 4,
                today: Date::from_ymd(2024, 9, 1).expect("valid"),
            };
            let doc = Generator::new(seed).household(&spec).expect("generates");
            assert_eq!(Digest::of(doc.as_automerge()), from_the_whole(&doc));
        }
    }
}

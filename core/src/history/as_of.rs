//! Households as they stood at chosen instants, kept between reads: what the supervisor's
//! reports ask for over and over while documents keep changing.
//!
//! Reading a household as at a past instant walks its history; a report over 500 households
//! cannot do that on every render. [`AsOfCache`] keeps, per document, the heads it last saw,
//! the latest signing instant among its changes, and each household it has read as at an
//! instant. When the document changes, only the new changes are looked at:
//!
//! - an instant at or after every change is the household as it is now, which the caller
//!   already holds (the common case: a period that has not ended, or a closed case nobody
//!   touches any more), so no history is read at all;
//! - a household kept for an instant stays right as long as every new change is signed
//!   after that instant (a change signed later cannot be in the past of that instant, and
//!   nothing older can depend on it), so only a change signed before the instant that syncs
//!   late — from a phone that was offline — makes it be read again.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::rc::Rc;

use automerge::{Automerge, ChangeHash};

use crate::calendar::Timestamp;
use crate::document::HouseholdDoc;
use crate::schema::SchemaError;
use crate::schema::household::Household;
use crate::signature::ChangeInfo;
use crate::sync::document_id::DocumentId;

#[derive(Default)]
struct Entry {
    heads: Vec<ChangeHash>,
    earliest: Option<Timestamp>,
    latest: Option<Timestamp>,
    past: HashMap<Timestamp, Option<Rc<Household>>>,
}

/// Households as at instants, per document, read from history only when they must be.
#[derive(Default)]
pub struct AsOfCache {
    entries: HashMap<DocumentId, Entry>,
    history_reads: u64,
}

impl AsOfCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The household of `document` as it stood at `at` (`None`: it did not exist yet).
    /// `current` gives the household as it is now (at `doc`'s heads), which callers keep
    /// anyway; it is asked for only when nothing in the document is later than `at`.
    pub fn household_at<D: Borrow<Automerge>>(
        &mut self,
        document: DocumentId,
        doc: &HouseholdDoc<D>,
        at: Timestamp,
        current: impl FnOnce() -> Rc<Household>,
    ) -> Result<Option<Rc<Household>>, SchemaError> {
        let heads = doc.automerge().get_heads();
        let entry = self.entries.entry(document).or_default();
        if entry.heads != heads {
            let new: Vec<Timestamp> = doc
                .automerge()
                .get_changes_meta(&entry.heads)
                .iter()
                .map(|change| ChangeInfo::from_meta(change).at)
                .collect();
            if let Some(earliest) = new.iter().min() {
                entry.past.retain(|instant, _| earliest > instant);
            }
            entry.earliest = entry.earliest.into_iter().chain(new.iter().copied()).min();
            entry.latest = entry.latest.into_iter().chain(new).max();
            entry.heads = heads;
        }
        match (entry.earliest, entry.latest) {
            (None, _) | (_, None) => return Ok(None),
            // Before its first change the household did not exist (a change that depends on
            // a later one is never earlier than every change).
            (Some(earliest), _) if at < earliest => return Ok(None),
            (_, Some(latest)) if latest <= at => return Ok(Some(current())),
            _ => {}
        }
        if let Some(kept) = entry.past.get(&at) {
            return Ok(kept.clone());
        }
        self.history_reads += 1;
        let household = doc.household_at(at)?.map(Rc::new);
        entry.past.insert(at, household.clone());
        Ok(household)
    }

    /// Forgets documents that are gone (a household moved out of the caseload).
    pub fn retain(&mut self, keep: impl Fn(&DocumentId) -> bool) {
        self.entries.retain(|document, _| keep(document));
    }

    /// How many times a household was read from its history: what the cache is there to
    /// save, for tests and measurements.
    pub fn history_reads(&self) -> u64 {
        self.history_reads
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::AsOfCache;
    use crate::calendar::{Date, Timestamp};
    use crate::document::HouseholdDoc;
    use crate::ids::{DeviceId, DistrictId, StaffId};
    use crate::schema::codes::CloseReason;
    use crate::signature::Signature;
    use crate::sync::document_id::DocumentId;
    use crate::synthetic::{Generator, HouseholdSpec};

    fn household() -> HouseholdDoc {
        let spec = HouseholdSpec {
            district: DistrictId::new("district-norrmalm").unwrap(),
            staff: StaffId::new("u-anna").unwrap(),
            device: DeviceId::new("d-test").unwrap(),
            opened_on: Date::from_ymd(2025, 1, 10).unwrap(),
            visits: 40,
            today: Date::from_ymd(2025, 10, 1).unwrap(),
        };
        Generator::new(11).household(&spec).unwrap()
    }

    fn at(year: i32, month: u8, day: u8) -> Timestamp {
        Timestamp::start_of(Date::from_ymd(year, month, day).unwrap())
    }

    #[test]
    fn reads_history_once_and_again_only_for_a_late_change_before_the_instant() {
        let mut doc = household();
        let document = DocumentId::from_bytes([7; 16]);
        let mut cache = AsOfCache::new();
        let current = |doc: &HouseholdDoc| {
            let household = Rc::new(doc.household().unwrap());
            move || household
        };
        let end_of_april = at(2025, 5, 1);

        // The future: the household as it is, no history read.
        let now = cache
            .household_at(document, &doc, at(2030, 1, 1), current(&doc))
            .unwrap();
        assert_eq!(now.as_deref(), Some(&doc.household().unwrap()));
        assert_eq!(cache.history_reads(), 0);

        // Before the first change: nothing.
        let before = cache.household_at(document, &doc, at(2020, 1, 1), current(&doc));
        assert_eq!(before.unwrap(), None);

        // The past: read once, then kept.
        let april = cache
            .household_at(document, &doc, end_of_april, current(&doc))
            .unwrap();
        assert_eq!(
            april.as_deref(),
            doc.household_at(end_of_april).unwrap().as_ref()
        );
        assert_ne!(april.as_deref(), Some(&doc.household().unwrap()));
        cache
            .household_at(document, &doc, end_of_april, current(&doc))
            .unwrap();
        assert_eq!(cache.history_reads(), 1);

        // A change signed after the instant leaves it as it was, with no new read.
        let staff = StaffId::new("u-anna").unwrap();
        let device = DeviceId::new("d-test").unwrap();
        let closing = Signature::new(staff.clone(), device.clone(), at(2025, 11, 1));
        let closed_on = Date::from_ymd(2025, 11, 1).unwrap();
        doc.close_case(&closing, CloseReason::Work, closed_on)
            .unwrap();
        let still = cache
            .household_at(document, &doc, end_of_april, current(&doc))
            .unwrap();
        assert_eq!(still, april);
        assert_eq!(cache.history_reads(), 1);

        // A change signed before the instant (a phone that was offline) is read again.
        let reopen = Signature::new(staff, device, at(2025, 4, 20));
        doc.reopen_case(&reopen).unwrap();
        let again = cache
            .household_at(document, &doc, end_of_april, current(&doc))
            .unwrap();
        assert_eq!(cache.history_reads(), 2);
        assert_eq!(
            again.as_deref(),
            doc.household_at(end_of_april).unwrap().as_ref()
        );
    }
}

//! The household as it was at any past instant: for the tertial report (counts as they stood
//! at a period's end) and the "plan as of" view.
//!
//! A change belongs to the past of instant `t` when its signature's time is at or before `t`.
//! The document at `t` is the document at the heads of that set of changes. Devices' clocks
//! can be wrong: when a change stamped before `t` depends on one stamped after it, the later
//! one is included too, since a change cannot exist without its dependencies.

mod as_of;
mod at_heads;

pub(crate) use at_heads::AtHeads;

pub use as_of::{AsOfCache, Past, Timeline};

use std::borrow::Borrow;
use std::collections::HashSet;

use automerge::{Automerge, ChangeHash};

use crate::calendar::Timestamp;
use crate::document::HouseholdDoc;
use crate::schema::household::Household;
use crate::schema::{self, SchemaError};
use crate::signature::ChangeInfo;

/// One change in a household's history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEntry {
    /// The change's hash, as hex.
    pub hash: String,
    /// Who, where, when and what.
    pub info: ChangeInfo,
}

impl<D: Borrow<Automerge>> HouseholdDoc<D> {
    /// The heads of the document as it stood at `at`; empty before its first change.
    pub fn heads_at(&self, at: Timestamp) -> Vec<ChangeHash> {
        let changes = self.automerge().get_changes_meta(&[]);
        let included: Vec<_> = changes
            .iter()
            .filter(|change| ChangeInfo::from_meta(change).at <= at)
            .collect();
        let depended_on: HashSet<ChangeHash> = included
            .iter()
            .flat_map(|change| change.deps.iter().copied())
            .collect();
        included
            .iter()
            .map(|change| change.hash)
            .filter(|hash| !depended_on.contains(hash))
            .collect()
    }

    /// The household exactly as it was at `at`, or `None` if it did not exist yet.
    pub fn household_at(&self, at: Timestamp) -> Result<Option<Household>, SchemaError> {
        let heads = self.heads_at(at);
        if heads.is_empty() {
            return Ok(None);
        }
        if heads == self.automerge().get_heads() {
            // Nothing after `at`: the household as it is now (the common case for a period
            // that has not ended), read without any history filter.
            return Ok(Some(schema::read_household(self.automerge())?));
        }
        let past = at_heads::AtHeads {
            doc: self.automerge(),
            heads: &heads,
        };
        Ok(Some(schema::read_household(&past)?))
    }

    /// The latest signing instant among the changes this document has, when it has any: a
    /// change after this instant leaves every [`household_at`](Self::household_at) up to it
    /// unchanged. `after` limits the walk to the changes not reachable from those heads
    /// (pass the heads seen last time to learn what is new).
    pub fn latest_signed_at(&self, after: &[ChangeHash]) -> Option<Timestamp> {
        self.automerge()
            .get_changes_meta(after)
            .iter()
            .map(|change| ChangeInfo::from_meta(change).at)
            .max()
    }

    /// Every change, oldest first: who changed the household, where and when.
    pub fn history(&self) -> Vec<HistoryEntry> {
        let mut entries: Vec<HistoryEntry> = self
            .automerge()
            .get_changes_meta(&[])
            .iter()
            .map(|change| HistoryEntry {
                hash: change.hash.to_string(),
                info: ChangeInfo::from_meta(change),
            })
            .collect();
        entries.sort_by_key(|entry| entry.info.at);
        entries
    }
}

#[cfg(test)]
mod tests {
    use crate::calendar::{Date, Timestamp};
    use crate::document::HouseholdDoc;
    use crate::ids::{DeviceId, DistrictId, StaffId};
    use crate::schema;
    use crate::synthetic::{Generator, HouseholdSpec};

    /// Reading the past in place gives exactly what replaying the history into a fork gives.
    #[test]
    fn household_at_reads_like_a_fork_at_the_same_heads() {
        let today = Date::from_ymd(2026, 6, 1).unwrap();
        let spec = HouseholdSpec {
            district: DistrictId::new("district-norrmalm").unwrap(),
            staff: StaffId::new("u-anna").unwrap(),
            device: DeviceId::new("d-test").unwrap(),
            opened_on: Date::from_ymd(2025, 1, 10).unwrap(),
            visits: 60,
            today,
        };
        let doc = Generator::new(7).household(&spec).unwrap();
        let doc = HouseholdDoc::new(doc.into_automerge());
        let mut compared = 0;
        for day in (0..540).step_by(45) {
            let at = Timestamp::start_of(Date::from_ymd(2025, 1, 1).unwrap().plus_days(day));
            let heads = doc.heads_at(at);
            let in_place = doc.household_at(at).unwrap();
            if heads.is_empty() {
                assert_eq!(in_place, None);
                continue;
            }
            let fork = doc.automerge().fork_at(&heads).unwrap();
            assert_eq!(
                in_place,
                Some(schema::read_household(&fork).unwrap()),
                "at {at:?}"
            );
            compared += 1;
        }
        assert!(compared > 5, "only {compared} instants had a household");
        let latest = doc.latest_signed_at(&[]).unwrap();
        assert_eq!(
            doc.household_at(latest).unwrap(),
            Some(doc.household().unwrap())
        );
        assert_eq!(doc.latest_signed_at(&doc.automerge().get_heads()), None);
    }
}

//! The household as it was at any past instant: for the tertial report (counts as they stood
//! at a period's end) and the "plan as of" view.
//!
//! A change belongs to the past of instant `t` when its signature's time is at or before `t`.
//! The document at `t` is the document at the heads of that set of changes. Devices' clocks
//! can be wrong: when a change stamped before `t` depends on one stamped after it, the later
//! one is included too, since a change cannot exist without its dependencies.

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
        let past = self.automerge().fork_at(&heads)?;
        Ok(Some(schema::read_household(&past)?))
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

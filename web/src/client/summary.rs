//! What the views show of one household without reading its document again: its household,
//! conflict count and timeline as of some heads, kept in memory and in IndexedDB, so that the
//! list shows at start before the documents are loaded.

use std::rc::Rc;

use lots_core::automerge::{Automerge, ChangeHash};
use lots_core::{Household, HouseholdDoc, Timeline};

/// One household as of its document's heads.
#[derive(Debug)]
pub struct Summary {
    /// The heads it was read at.
    pub heads: Vec<ChangeHash>,
    /// The household.
    pub household: Rc<Household>,
    /// Fields waiting for a person to choose between values.
    pub conflicts: usize,
    /// When its changes were signed: what the desk's reports need to know, without the
    /// document, whether a household as at a past instant is simply as it is now. `None`
    /// in a summary stored by an older version of the app.
    pub timeline: Option<Timeline>,
}

/// A summary as IndexedDB keeps it.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredSummary<H> {
    heads: Vec<String>,
    conflicts: usize,
    household: H,
    #[serde(default)]
    timeline: Option<Timeline>,
}

impl Summary {
    /// Reads the summary at `heads`; the timeline from only the changes since `previous`.
    pub fn read(
        doc: HouseholdDoc<&Automerge>,
        heads: Vec<ChangeHash>,
        previous: Option<&Summary>,
    ) -> Result<Self, String> {
        let household = doc.household().map_err(|error| error.to_string())?;
        let conflicts = doc.conflicts().map(|c| c.len()).unwrap_or(0);
        let timeline = match previous.and_then(|summary| summary.timeline.clone()) {
            Some(mut timeline) => {
                timeline.update(&doc);
                timeline
            }
            None => Timeline::of(&doc),
        };
        Ok(Self {
            heads,
            household: Rc::new(household),
            conflicts,
            timeline: Some(timeline),
        })
    }

    /// Whether it shows the document as it stands at `heads`, timeline included.
    pub fn is_current(&self, heads: &[ChangeHash]) -> bool {
        self.timeline.is_some() && self.heads == heads
    }

    /// The summary as IndexedDB keeps it.
    pub fn to_json(&self) -> String {
        let stored = StoredSummary {
            heads: self.heads.iter().map(ToString::to_string).collect(),
            conflicts: self.conflicts,
            household: &*self.household,
            timeline: self.timeline.clone(),
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// `None` for a summary that does not read (an older shape): the document is loaded
    /// before its household shows.
    pub fn from_json(json: &str) -> Option<Self> {
        let stored: StoredSummary<Household> = serde_json::from_str(json).ok()?;
        let heads = stored
            .heads
            .iter()
            .map(|head| head.parse().ok())
            .collect::<Option<Vec<ChangeHash>>>()?;
        Some(Self {
            heads,
            household: Rc::new(stored.household),
            conflicts: stored.conflicts,
            timeline: stored.timeline,
        })
    }
}

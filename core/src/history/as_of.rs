//! Households as they stood at chosen instants, kept between reads: what the supervisor's
//! reports ask for over and over while documents keep changing.
//!
//! Reading a household as at a past instant walks its history; a report over 500 households
//! cannot do that on every render, nor on every start. Two small things make it rare:
//!
//! - a [`Timeline`] per document: the first and last signing instants among its changes,
//!   kept up to date from each update's new changes. An instant at or after every change is
//!   the household as it is now, which the caller already holds (the common case: a period
//!   that has not ended, or a case nobody touches any more); an instant before the first is
//!   no household at all. Neither needs the document, so the web app keeps the timeline in
//!   each household's stored summary.
//! - [`AsOfCache`]: households read from history, each with the timeline's *settled* heads
//!   at the time. Such a household stays right as long as every change since was signed
//!   after every instant already read (a change signed later cannot be in the past of those
//!   instants, and nothing older can depend on it); only a change that syncs late — signed
//!   before the newest change already there, from a phone that was offline — moves the
//!   settled heads, and the document's past is read again.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::rc::Rc;

use automerge::{Automerge, ChangeHash};

use crate::calendar::Timestamp;
use crate::document::HouseholdDoc;
use crate::schema::household::Household;
use crate::signature::ChangeInfo;
use crate::sync::document_id::DocumentId;

/// Where a household as at an instant comes from, as far as a [`Timeline`] can tell
/// without reading the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Past {
    /// Nothing of the household was signed by then: it did not exist yet.
    NotYet,
    /// Every change was signed by then: it is the household as it is now.
    Now,
    /// Some changes came after: its history must be read (or a household kept for the
    /// instant under the same [`Timeline::settled`] used).
    History,
}

/// What a document's signatures say about reading it in the past: the instants of its
/// first and last changes, at some heads. It is brought up to date from the changes each
/// update adds, never from the whole history again, and it is small enough to keep beside
/// a household's summary (serde), so a report can tell without the document which
/// households are simply as they are now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timeline {
    heads: Vec<ChangeHash>,
    earliest: Option<Timestamp>,
    latest: Option<Timestamp>,
    /// The heads when a change last arrived signed at or before `latest` (late: from a
    /// phone that was offline, or a clock behind), or when the timeline was first read. A
    /// household kept as at an instant is right as long as this has not moved: every
    /// change since was signed after every instant already read from history.
    settled: Vec<ChangeHash>,
}

impl Timeline {
    /// The timeline of `doc` as it is, read from every change's signature.
    pub fn of<D: Borrow<Automerge>>(doc: &HouseholdDoc<D>) -> Self {
        let doc = doc.automerge();
        let heads = doc.get_heads();
        let (earliest, latest) = span(doc, &[]);
        Self {
            settled: heads.clone(),
            heads,
            earliest,
            latest,
        }
    }

    /// Brings the timeline to `doc`'s heads from only the changes added since, or reads it
    /// afresh when `doc` is not a later state of the document it was read from. Returns
    /// whether anything changed.
    pub fn update<D: Borrow<Automerge>>(&mut self, household: &HouseholdDoc<D>) -> bool {
        let doc = household.automerge();
        let heads = doc.get_heads();
        if heads == self.heads {
            return false;
        }
        let known = self
            .heads
            .iter()
            .all(|head| doc.get_change_meta_by_hash(head).is_some());
        if !known {
            *self = Self::of(household);
            return true;
        }
        let (earliest, latest) = span(doc, &self.heads);
        if let (Some(new), Some(seen)) = (earliest, self.latest)
            && new <= seen
        {
            self.settled = heads.clone();
        }
        self.earliest = self.earliest.into_iter().chain(earliest).min();
        self.latest = self.latest.into_iter().chain(latest).max();
        self.heads = heads;
        true
    }

    /// The heads the timeline is at.
    pub fn heads(&self) -> &[ChangeHash] {
        &self.heads
    }

    /// Moves only when a late change arrives; see the field's docs.
    pub fn settled(&self) -> &[ChangeHash] {
        &self.settled
    }

    /// Where the household as at `at` comes from.
    pub fn at(&self, at: Timestamp) -> Past {
        match (self.earliest, self.latest) {
            (None, _) | (_, None) => Past::NotYet,
            // Before its first change the household did not exist (a change that depends
            // on a later one is never earlier than every change).
            (Some(earliest), _) if at < earliest => Past::NotYet,
            (_, Some(latest)) if latest <= at => Past::Now,
            _ => Past::History,
        }
    }
}

/// The first and last signing instants among the changes not reachable from `after`.
fn span(doc: &Automerge, after: &[ChangeHash]) -> (Option<Timestamp>, Option<Timestamp>) {
    let instants: Vec<Timestamp> = doc
        .get_changes_meta(after)
        .iter()
        .map(|change| ChangeInfo::from_meta(change).at)
        .collect();
    (
        instants.iter().min().copied(),
        instants.iter().max().copied(),
    )
}

struct Kept {
    settled: Vec<ChangeHash>,
    household: Option<Rc<Household>>,
}

/// Households as at instants, per document, read from history only when they must be.
#[derive(Default)]
pub struct AsOfCache {
    kept: HashMap<(DocumentId, Timestamp), Kept>,
    history_reads: u64,
}

impl AsOfCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The household of `document` as it stood at `at` (`None`: it did not exist yet),
    /// given the document's `timeline`. `current` gives the household as it is now (at the
    /// timeline's heads), which callers keep anyway; `history` reads the document's past
    /// (`HouseholdDoc::household_at`), and is called only when neither the timeline nor a
    /// household kept under the same settled heads answers.
    pub fn household_at<E>(
        &mut self,
        document: DocumentId,
        timeline: &Timeline,
        at: Timestamp,
        current: impl FnOnce() -> Rc<Household>,
        history: impl FnOnce() -> Result<Option<Household>, E>,
    ) -> Result<Option<Rc<Household>>, E> {
        match timeline.at(at) {
            Past::NotYet => return Ok(None),
            Past::Now => return Ok(Some(current())),
            Past::History => {}
        }
        if let Some(kept) = self.kept(document, timeline, at) {
            return Ok(kept);
        }
        self.history_reads += 1;
        let household = history()?.map(Rc::new);
        self.keep(document, at, timeline.settled().to_vec(), household.clone());
        Ok(household)
    }

    /// The household kept for `document` as at `at`, if it was read under the settled
    /// heads `timeline` has now.
    pub fn kept(
        &self,
        document: DocumentId,
        timeline: &Timeline,
        at: Timestamp,
    ) -> Option<Option<Rc<Household>>> {
        self.kept
            .get(&(document, at))
            .filter(|kept| kept.settled == timeline.settled())
            .map(|kept| kept.household.clone())
    }

    /// Keeps a household read as at `at` under `settled` heads (here, or earlier and
    /// stored on the device).
    pub fn keep(
        &mut self,
        document: DocumentId,
        at: Timestamp,
        settled: Vec<ChangeHash>,
        household: Option<Rc<Household>>,
    ) {
        self.kept
            .insert((document, at), Kept { settled, household });
    }

    /// Forgets documents that are gone (a household moved out of the caseload).
    pub fn retain(&mut self, keep: impl Fn(&DocumentId) -> bool) {
        self.kept.retain(|(document, _), _| keep(document));
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

    use super::{AsOfCache, Past, Timeline};
    use crate::calendar::{Date, Timestamp};
    use crate::document::HouseholdDoc;
    use crate::ids::{DeviceId, DistrictId, StaffId};
    use crate::schema::SchemaError;
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

    /// Reads `doc` as at `instant` through `cache`, as the desk does.
    fn read(
        cache: &mut AsOfCache,
        timeline: &Timeline,
        doc: &HouseholdDoc,
        instant: Timestamp,
    ) -> Option<Rc<crate::Household>> {
        let document = DocumentId::from_bytes([7; 16]);
        let current = Rc::new(doc.household().unwrap());
        cache
            .household_at(
                document,
                timeline,
                instant,
                || current,
                || -> Result<_, Box<SchemaError>> { doc.household_at(instant).map_err(Box::new) },
            )
            .unwrap()
    }

    #[test]
    fn reads_history_once_and_again_only_for_a_late_change() {
        let mut doc = household();
        let mut timeline = Timeline::of(&doc);
        let mut cache = AsOfCache::new();
        let end_of_april = at(2025, 5, 1);

        // The future: the household as it is, no history read.
        assert_eq!(timeline.at(at(2030, 1, 1)), Past::Now);
        let now = read(&mut cache, &timeline, &doc, at(2030, 1, 1));
        assert_eq!(now.as_deref(), Some(&doc.household().unwrap()));
        assert_eq!(cache.history_reads(), 0);

        // Before the first change: nothing.
        assert_eq!(timeline.at(at(2020, 1, 1)), Past::NotYet);
        assert_eq!(read(&mut cache, &timeline, &doc, at(2020, 1, 1)), None);

        // The past: read once, then kept.
        assert_eq!(timeline.at(end_of_april), Past::History);
        let april = read(&mut cache, &timeline, &doc, end_of_april);
        assert_eq!(
            april.as_deref(),
            doc.household_at(end_of_april).unwrap().as_ref()
        );
        assert_ne!(april.as_deref(), Some(&doc.household().unwrap()));
        read(&mut cache, &timeline, &doc, end_of_april);
        assert_eq!(cache.history_reads(), 1);

        // A change signed after everything leaves it as it was, with no new read; the
        // timeline follows from the new change alone.
        let staff = StaffId::new("u-anna").unwrap();
        let device = DeviceId::new("d-test").unwrap();
        let closing = Signature::new(staff.clone(), device.clone(), at(2025, 11, 1));
        let closed_on = Date::from_ymd(2025, 11, 1).unwrap();
        doc.close_case(&closing, CloseReason::Work, closed_on)
            .unwrap();
        let settled = timeline.settled().to_vec();
        assert!(timeline.update(&doc));
        assert!(!timeline.update(&doc));
        assert_eq!(timeline.settled(), settled);
        assert_eq!(timeline, {
            let mut fresh = Timeline::of(&doc);
            fresh.settled = settled.clone();
            fresh
        });
        let still = read(&mut cache, &timeline, &doc, end_of_april);
        assert_eq!(still, april);
        assert_eq!(cache.history_reads(), 1);

        // A change signed before the newest (a phone that was offline) settles the timeline
        // anew, and the past is read again.
        let reopen = Signature::new(staff, device, at(2025, 4, 20));
        doc.reopen_case(&reopen).unwrap();
        timeline.update(&doc);
        assert_ne!(timeline.settled(), settled);
        let again = read(&mut cache, &timeline, &doc, end_of_april);
        assert_eq!(cache.history_reads(), 2);
        assert_eq!(
            again.as_deref(),
            doc.household_at(end_of_april).unwrap().as_ref()
        );
    }

    #[test]
    fn a_timeline_of_another_document_is_read_afresh() {
        let doc = household();
        let other = Generator::new(12)
            .household(&HouseholdSpec {
                district: DistrictId::new("district-norrmalm").unwrap(),
                staff: StaffId::new("u-anna").unwrap(),
                device: DeviceId::new("d-test").unwrap(),
                opened_on: Date::from_ymd(2024, 3, 1).unwrap(),
                visits: 5,
                today: Date::from_ymd(2024, 6, 1).unwrap(),
            })
            .unwrap();
        let mut timeline = Timeline::of(&other);
        assert!(timeline.update(&doc));
        assert_eq!(timeline, Timeline::of(&doc));
    }

    #[test]
    fn a_timeline_round_trips_through_json() {
        let timeline = Timeline::of(&household());
        let json = serde_json::to_string(&timeline).unwrap();
        assert_eq!(serde_json::from_str::<Timeline>(&json).unwrap(), timeline);
    }
}

//! The few fields a caseload line shows, read without the rest of the household, and kept
//! up to date change by change.
//!
//! The server writes each changed household's caseload line in the same transaction as its
//! chunks, inside the task that does the sync work. Reading the whole household there (every
//! note's text, every member, the plan) and walking it for conflicts cost 7 ms for a
//! household of 100 visits, more than the rest of a stored change. An [`Outline`] names only
//! what the line needs, so autosurgeon reads nothing else, and keeps it visit by visit: after
//! a change it reads again only the visits the change's operations landed in (and the rest of
//! the household only when they landed outside the visits).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::legacy::{Key, ObjectId};
use automerge::{Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc as _, ValueRef};
use autosurgeon::Hydrate;

use super::by_map::ByMap;
use super::{MEMBERS, PROFILE, SchemaError, VISITS, conflicts, map_at};
use crate::calendar::{Date, Timestamp};
use crate::schema::codes::{CaseStatus, VisitStatus};

/// What a caseload line shows of a household, as of the heads it was read at.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    heads: Vec<ChangeHash>,
    /// Where the household lives, and whether its case is open.
    pub profile: ProfileOutline,
    /// How many people the household has.
    pub members: usize,
    /// Every visit, planned or held, by id.
    pub visits: BTreeMap<String, VisitOutline>,
    /// Conflicts outside the visits map.
    conflicts_elsewhere: usize,
}

/// A profile's address and status.
#[derive(Debug, Clone, PartialEq, Hydrate)]
pub struct ProfileOutline {
    /// Street address.
    pub address: String,
    /// Flat or unit.
    pub unit: String,
    /// Active or closed.
    pub status: CaseStatus,
}

/// A visit's time, status, follow-ups and conflicts.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitOutline {
    /// When the visit is (or was) planned to start.
    pub planned_at: Timestamp,
    /// Planned, done, cancelled or no-show.
    pub status: VisitStatus,
    /// The visit's follow-ups, by id.
    pub follow_ups: BTreeMap<String, FollowUpOutline>,
    /// Fields of the visit with concurrent values (and the visit's own entry in the visits
    /// map, when concurrent values stand there).
    pub conflicts: usize,
}

/// The fields of a visit the line reads.
#[derive(Hydrate)]
struct VisitFields {
    planned_at: Timestamp,
    status: VisitStatus,
    follow_ups: BTreeMap<String, FollowUpOutline>,
}

impl VisitFields {
    fn without_conflicts(self) -> VisitOutline {
        VisitOutline {
            planned_at: self.planned_at,
            status: self.status,
            follow_ups: self.follow_ups,
            conflicts: 0,
        }
    }
}

/// When a follow-up is due, and whether it is done.
#[derive(Debug, Clone, PartialEq, Hydrate)]
pub struct FollowUpOutline {
    /// The day it is due.
    pub due_on: Date,
    /// The day it was done, if it was.
    pub done_on: Option<Date>,
}

/// What a `BTreeMap` entry costs beyond its key and value: its share of a node's edges and
/// header, about a third of a node of eleven entries on 64-bit targets.
const MAP_ENTRY_OVERHEAD: usize = 16;

impl Outline {
    /// About how many bytes of memory it takes, for a memory budget: its fields, heads,
    /// strings and every visit's and follow-up's entry (allocator overhead not counted).
    pub fn approximate_bytes(&self) -> usize {
        let entry = |key: &String, value: usize| key.capacity() + value + MAP_ENTRY_OVERHEAD;
        let visits: usize = self
            .visits
            .iter()
            .map(|(id, visit)| {
                let follow_ups: usize = visit
                    .follow_ups
                    .keys()
                    .map(|id| entry(id, size_of::<FollowUpOutline>() + size_of::<String>()))
                    .sum();
                entry(id, size_of::<VisitOutline>() + size_of::<String>()) + follow_ups
            })
            .sum();
        size_of::<Self>()
            + self.heads.capacity() * size_of::<ChangeHash>()
            + self.profile.address.capacity()
            + self.profile.unit.capacity()
            + visits
    }

    /// Reads the outline of the whole document, with one walk for its conflicts.
    pub(crate) fn read(doc: &Automerge) -> Result<Self, SchemaError> {
        let visits_map = map_at(doc, &ROOT, VISITS)?;
        let reader = ByMap::new(doc);
        let mut visits = BTreeMap::new();
        for entry in doc.map_range(&visits_map, ..) {
            // The entry says what it holds: only a map is a visit.
            if matches!(entry.value, ValueRef::Object(ObjType::Map)) {
                let fields: VisitFields =
                    autosurgeon::hydrate_prop(&reader, &visits_map, &*entry.key)?;
                visits.insert(entry.key.into_owned(), fields.without_conflicts());
            }
        }
        // Each conflict counts for the visit its field is in, as `read_visit` counts it.
        let mut conflicts_elsewhere = 0;
        for conflict in conflicts::find(doc)? {
            match conflict.field.0.as_slice() {
                [top, visit, ..] if top == VISITS => {
                    if let Some(visit) = visits.get_mut(visit) {
                        visit.conflicts += 1;
                    }
                }
                _ => conflicts_elsewhere += 1,
            }
        }
        Ok(Self {
            heads: doc.get_heads(),
            profile: read_profile(doc)?,
            members: doc.length(map_at(doc, &ROOT, MEMBERS)?),
            visits,
            conflicts_elsewhere,
        })
    }

    /// Brings the outline up to `doc`, which holds every change it was read at: reads again
    /// what the changes since then touched, or everything when that cannot be told.
    pub(crate) fn catch_up(&mut self, doc: &Automerge) -> Result<(), SchemaError> {
        let heads = doc.get_heads();
        if heads == self.heads {
            return Ok(());
        }
        let visits_map = map_at(doc, &ROOT, VISITS)?;
        let Some(touched) = touched_since(doc, &self.heads, &visits_map) else {
            *self = Self::read(doc)?;
            return Ok(());
        };
        if touched.elsewhere {
            self.profile = read_profile(doc)?;
            self.read_elsewhere(doc, &visits_map)?;
        }
        for id in touched.visits {
            match read_visit(doc, &visits_map, &id)? {
                Some(visit) => self.visits.insert(id, visit),
                None => self.visits.remove(&id),
            };
        }
        self.heads = heads;
        Ok(())
    }

    /// Fields anywhere in the household with concurrent values.
    pub fn conflicts(&self) -> usize {
        self.conflicts_elsewhere
            + self
                .visits
                .values()
                .map(|visit| visit.conflicts)
                .sum::<usize>()
    }

    /// How many members, and the conflicts outside the visits.
    fn read_elsewhere(&mut self, doc: &Automerge, visits_map: &ObjId) -> Result<(), SchemaError> {
        self.members = doc.length(map_at(doc, &ROOT, MEMBERS)?);
        self.conflicts_elsewhere = conflicts::walk(doc, ROOT, Vec::new(), Some(visits_map))?.len();
        Ok(())
    }
}

fn read_profile(doc: &Automerge) -> Result<ProfileOutline, SchemaError> {
    Ok(autosurgeon::hydrate_prop(&ByMap::new(doc), &ROOT, PROFILE)?)
}

/// One visit's outline, `None` when the visits hold no map at `id`.
fn read_visit(
    doc: &Automerge,
    visits_map: &ObjId,
    id: &str,
) -> Result<Option<VisitOutline>, SchemaError> {
    if map_at(doc, visits_map, id).is_err() {
        return Ok(None);
    }
    let fields: VisitFields = autosurgeon::hydrate_prop(&ByMap::new(doc), visits_map, id)?;
    Ok(Some(VisitOutline {
        conflicts: conflicts::at_entry(doc, visits_map, id, vec![Cow::Borrowed(VISITS)])?.len(),
        ..fields.without_conflicts()
    }))
}

/// What the changes since some heads touched.
#[derive(Default)]
struct Touched {
    /// The visits their operations landed in.
    visits: BTreeSet<String>,
    /// Whether any landed outside the visits.
    elsewhere: bool,
}

/// Where the operations of every change since `heads` landed: `None` when `doc` does not
/// hold `heads`, an operation's object cannot be placed, or one replaces the visits map.
fn touched_since(doc: &Automerge, heads: &[ChangeHash], visits_map: &ObjId) -> Option<Touched> {
    if heads
        .iter()
        .any(|head| doc.get_change_meta_by_hash(head).is_none())
    {
        return None;
    }
    let mut touched = Touched::default();
    // Where each object is, looked up once per object.
    let mut placed: HashMap<ObjectId, Place> = HashMap::new();
    for change in doc.get_changes(heads) {
        for op in change.decode().operations {
            let place = match &op.obj {
                ObjectId::Root if op.key == Key::Map(VISITS.into()) => return None,
                ObjectId::Root => &Place::Elsewhere,
                ObjectId::Id(id) => {
                    if !placed.contains_key(&op.obj) {
                        let exid = doc
                            .import_obj(&format!("{}@{}", id.counter(), id.actor()))
                            .ok()?;
                        let place = if &exid == visits_map {
                            Place::VisitsMap
                        } else {
                            place_of(doc, &exid, visits_map)?
                        };
                        placed.insert(op.obj.clone(), place);
                    }
                    &placed[&op.obj]
                }
            };
            match (place, &op.key) {
                // An operation on the visits map adds, replaces or removes the visit at its
                // key (and counts among that visit's conflicts).
                (Place::VisitsMap, Key::Map(visit)) => {
                    touched.visits.insert(visit.to_string());
                }
                (Place::VisitsMap, Key::Seq(_)) => return None,
                (Place::Visit(visit), _) => {
                    touched.visits.insert(visit.clone());
                }
                (Place::Elsewhere, _) => touched.elsewhere = true,
            }
        }
    }
    Some(touched)
}

/// Where an object an operation lands on is, for the outline.
enum Place {
    /// The visits map itself.
    VisitsMap,
    /// In this visit.
    Visit(String),
    /// Outside the visits map.
    Elsewhere,
}

/// Where `obj` (not the visits map) is: in a visit, or elsewhere; `None` when it has no
/// place in the document.
fn place_of(doc: &Automerge, obj: &ObjId, visits_map: &ObjId) -> Option<Place> {
    // Parents run from the object up to the root; the one that is the visits map names,
    // in its property, the visit the object is in.
    for parent in doc.parents(obj).ok()? {
        if &parent.obj == visits_map {
            return Some(match parent.prop {
                automerge::Prop::Map(visit) => Place::Visit(visit),
                automerge::Prop::Seq(_) => Place::Elsewhere,
            });
        }
    }
    Some(Place::Elsewhere)
}

#[cfg(test)]
mod tests {
    use crate::synthetic::{Generator, HouseholdSpec};
    use crate::{Date, DeviceId, DistrictId, HouseholdDoc, StaffId};

    /// Generated households with every kind of visit and follow-up, open and closed.
    fn households() -> Vec<HouseholdDoc> {
        (0..12)
            .map(|seed| {
                let spec = HouseholdSpec {
                    district: DistrictId::new("district-norr").expect("valid"),
                    staff: StaffId::new("u-anna").expect("valid"),
                    device: DeviceId::new("d-phone").expect("valid"),
                    opened_on: Date::from_ymd(2024, 1, 8).expect("valid"),
                    visits: 5 + seed as usize * 3,
                    today: Date::from_ymd(2025, 6, 1).expect("valid"),
                };
                Generator::new(seed)
                    .household(&spec)
                    .expect("the generator takes valid actions")
            })
            .collect()
    }

    #[test]
    fn the_outline_reads_what_the_whole_household_holds() {
        let mut follow_ups = 0;
        for doc in households() {
            let whole = doc.household().expect("reads");
            let outline = doc.outline().expect("reads");
            assert_eq!(outline.profile.address, whole.profile.address);
            assert_eq!(outline.profile.unit, whole.profile.unit);
            assert_eq!(outline.profile.status, whole.profile.status);
            assert_eq!(outline.members, whole.members.len());
            assert_eq!(outline.visits.len(), whole.visits.len());
            for (id, visit) in &whole.visits {
                let line = &outline.visits[&id.to_string()];
                assert_eq!(line.planned_at, visit.planned_at);
                assert_eq!(line.status, visit.status);
                assert_eq!(line.follow_ups.len(), visit.follow_ups.len());
                for (id, follow_up) in &visit.follow_ups {
                    let line = &line.follow_ups[&id.to_string()];
                    assert_eq!(line.due_on, follow_up.due_on);
                    assert_eq!(line.done_on, follow_up.done_on);
                    follow_ups += 1;
                }
            }
        }
        assert!(follow_ups > 0, "the households hold follow-ups to compare");
    }

    #[test]
    fn an_outline_counts_every_visit_in_its_size() {
        let mut sizes: Vec<(usize, usize)> = households()
            .iter()
            .map(|doc| {
                let outline = doc.outline().expect("reads");
                (outline.visits.len(), outline.approximate_bytes())
            })
            .collect();
        sizes.sort_unstable();
        for (visits, bytes) in &sizes {
            assert!(
                *bytes >= size_of::<super::Outline>() + visits * size_of::<super::VisitOutline>()
            );
        }
        let (fewest, most) = (sizes[0], sizes[sizes.len() - 1]);
        assert!(
            most.0 > fewest.0 && most.1 > fewest.1,
            "more visits take more: {sizes:?}"
        );
    }
}

//! A reader that takes each map in one pass, for autosurgeon's hydrate, and reads Text where
//! the schema has a plain string.
//!
//! autosurgeon reads a struct field by field and a map entry by entry, each with `get`. In
//! Automerge 0.12 every `get` seeks the key afresh in the document's columns, which made
//! reading a household the largest part of a first sync in the browser (about 19 ms of a
//! 100-visit household's 85). `ByMap` answers `get` on a map from one `map_range` over it,
//! kept for the reader's life; every other question goes to the document unchanged. No
//! crate offers this, because it is only sound for a reader that lives while the document
//! does not change, as here: `read_household` borrows the document immutably throughout.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::RangeBounds;

use automerge::iter::{ListRange, MapRange};
use automerge::{AutomergeError, ChangeHash, ObjId, ObjType, Prop, ScalarValue, Value};
use autosurgeon::ReadDoc;

/// One map's entries: each key's value as a plain `get` returns it, and its id.
type Entries = HashMap<String, (Value<'static>, ObjId)>;

/// `doc`, with `get` on maps answered from one pass over each map.
pub(crate) struct ByMap<'a, D> {
    doc: &'a D,
    maps: RefCell<HashMap<ObjId, Entries>>,
}

impl<'a, D: ReadDoc> ByMap<'a, D> {
    pub(crate) fn new(doc: &'a D) -> Self {
        Self {
            doc,
            maps: RefCell::new(HashMap::new()),
        }
    }

    /// The value at `key` of the map `obj` from the map's one pass, or `None` when `obj`
    /// is not a map (the document answers then).
    #[allow(clippy::type_complexity)]
    fn map_get(&self, obj: &ObjId, key: &str) -> Option<Option<(Value<'static>, ObjId)>> {
        if let Some(entries) = self.maps.borrow().get(obj) {
            return Some(entries.get(key).cloned());
        }
        if self.doc.object_type(obj) != Some(ObjType::Map) {
            return None;
        }
        let entries: Entries = self
            .doc
            .map_range(obj, ..)
            .map(|entry| {
                let id = entry.id();
                (entry.key.into_owned(), (entry.value.into_value(), id))
            })
            .collect();
        let found = entries.get(key).cloned();
        self.maps.borrow_mut().insert(obj.clone(), entries);
        Some(found)
    }
}

impl<D> ByMap<'_, D> {
    /// Whether the schema has an unsigned number at `key`.
    fn unsigned_key(&self, key: &Option<String>) -> bool {
        key.as_deref()
            .is_some_and(|key| UNSIGNED_KEYS.contains(&key))
    }
}

/// The keys where the schema holds an unsigned number.
const UNSIGNED_KEYS: &[&str] = &[super::SCHEMA_VERSION_KEY, "duration_minutes", "position"];

impl<D: ReadDoc> ReadDoc for ByMap<'_, D> {
    type Parents<'b>
        = D::Parents<'b>
    where
        Self: 'b;

    fn get<P: Into<Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        let prop = prop.into();
        let prop_key = match &prop {
            Prop::Map(key) => Some(key.clone()),
            Prop::Seq(_) => None,
        };
        let found = match prop {
            Prop::Map(key) => match self.map_get(obj, &key) {
                Some(found) => found,
                None => self
                    .doc
                    .get(obj, key)?
                    .map(|(value, id)| (value.into_owned(), id)),
            },
            prop => self
                .doc
                .get(obj, prop)?
                .map(|(value, id)| (value.into_owned(), id)),
        };
        // `@automerge/automerge` writes a JavaScript string as Text unless told otherwise; the
        // schema's plain strings (names, addresses, codes, dates) read the same either way.
        // Notes are Text by design and read from a string as well (`Note::hydrate_string`).
        match found {
            // JavaScript writes a number as an integer unless told otherwise; where the
            // schema has an unsigned number, a non-negative integer reads as one.
            Some((Value::Scalar(scalar), id))
                if matches!(scalar.as_ref(), ScalarValue::Int(n) if *n >= 0)
                    && self.unsigned_key(&prop_key) =>
            {
                let ScalarValue::Int(n) = scalar.as_ref() else {
                    unreachable!("matched above")
                };
                Ok(Some((
                    Value::Scalar(Cow::Owned(ScalarValue::Uint(n.unsigned_abs()))),
                    id,
                )))
            }
            Some((Value::Object(ObjType::Text), id)) => {
                let text = self.doc.text(&id)?;
                Ok(Some((
                    Value::Scalar(Cow::Owned(ScalarValue::Str(text.into()))),
                    id,
                )))
            }
            other => Ok(other),
        }
    }

    // Everything else: the document itself.

    fn get_heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        self.doc.object_type(obj)
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
        R: RangeBounds<String>,
    {
        self.doc.map_range(obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> ListRange<'_> {
        self.doc.list_range(obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        self.doc.length(obj)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        self.doc.text(obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        self.doc.parents(obj)
    }

    fn is_empty(&self) -> bool {
        self.doc.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::schema::household::Household;
    use crate::synthetic::{Generator, HouseholdSpec};
    use crate::{Date, DeviceId, DistrictId, StaffId};

    fn generated(seed: u64, visits: usize) -> crate::HouseholdDoc {
        Generator::new(seed)
            .household(&HouseholdSpec {
                district: DistrictId::new("district-norr").expect("valid"),
                staff: StaffId::new("u-anna").expect("valid"),
                device: DeviceId::new("d-phone").expect("valid"),
                opened_on: Date::from_ymd(2024, 1, 8).expect("valid"),
                visits,
                today: Date::from_ymd(2026, 1, 1).expect("valid"),
            })
            .expect("the generator takes valid actions")
    }

    fn both_ways(doc: &automerge::Automerge) -> (Household, Household) {
        let plain: Household = autosurgeon::hydrate(doc).expect("reads");
        let by_map: Household = autosurgeon::hydrate(&ByMap::new(doc)).expect("reads");
        (plain, by_map)
    }

    #[test]
    fn reads_exactly_what_a_plain_read_does() {
        for (seed, visits) in [(1, 0), (2, 12), (3, 100)] {
            let doc = generated(seed, visits);
            let (plain, by_map) = both_ways(doc.automerge());
            assert_eq!(plain, by_map, "seed {seed}");
        }
    }

    #[test]
    fn a_field_with_concurrent_values_reads_as_the_same_winner() {
        let mut left = generated(4, 3);
        let mut right = left.fork(ActorId::from([9u8; 16]));
        // Each side renames the same member while apart.
        for (doc, name) in [(&mut left, "Left Side"), (&mut right, "Right Side")] {
            let household = doc.household().expect("reads");
            let member = household.members.keys().next().expect("a member").clone();
            let members = crate::schema::map_at(doc.automerge(), &automerge::ROOT, "members")
                .expect("the members' map");
            let obj = crate::schema::map_at(doc.automerge(), &members, member.as_ref())
                .expect("the member's map");
            let mut transaction = doc.automerge_mut().transaction();
            automerge::transaction::Transactable::put(&mut transaction, &obj, "name", name)
                .expect("puts");
            transaction.commit();
        }
        left.merge(&mut right).expect("merges");
        assert!(!left.conflicts().expect("walks").is_empty());
        let (plain, by_map) = both_ways(left.automerge());
        assert_eq!(plain, by_map);
    }
}

//! Value shapes that need their own mapping to Automerge: sets that merge as sets, and notes
//! that merge character by character.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use autosurgeon::reconcile::{MapReconciler, NoKey, TextReconciler};
use autosurgeon::{Hydrate, HydrateError, ReadDoc, Reconcile, Reconciler};

/// A set of codes or ids, stored as a map from each element to `true`.
///
/// A list would let two offline phones that both tick "budget" end up with "budget" twice,
/// and would turn an untick on one phone and a tick on another into a positional edit; a map
/// keyed by the element merges as set union with per-element removal.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Set<T: Ord>(pub BTreeSet<T>);

impl<T: Ord> Set<T> {
    /// An empty set.
    pub fn new() -> Self {
        Self(BTreeSet::new())
    }

    /// Whether `item` is in the set.
    pub fn contains(&self, item: &T) -> bool {
        self.0.contains(item)
    }

    /// The elements in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }

    /// How many elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Ord> FromIterator<T> for Set<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl<T: Ord + fmt::Display> Reconcile for Set<T> {
    type Key<'a> = NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        let mut map = reconciler.map()?;
        let wanted: BTreeSet<String> = self.0.iter().map(ToString::to_string).collect();
        let stale: Vec<String> = map
            .entries()
            .map(|(key, _)| key.into_owned())
            .filter(|key| !wanted.contains(key))
            .collect();
        for key in stale {
            map.delete(&key)?;
        }
        for key in &wanted {
            // Writing an element that is already there would add an op and, worse, a
            // conflict with a concurrent identical tick; leave present elements alone.
            if map.entry(key).is_none() {
                map.put(key, true)?;
            }
        }
        Ok(())
    }
}

impl<T> Hydrate for Set<T>
where
    T: Ord + FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    fn hydrate_map<D: ReadDoc>(doc: &D, obj: &automerge::ObjId) -> Result<Self, HydrateError> {
        let mut set = BTreeSet::new();
        for entry in doc.map_range(obj, ..) {
            let item = entry
                .key
                .parse()
                .map_err(|error| HydrateError::ParseMapKey(Box::new(error)))?;
            set.insert(item);
        }
        Ok(Self(set))
    }
}

/// Free text that several people may edit at once: stored as Automerge Text, so concurrent
/// edits merge character by character. Hydrates to its current string.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Note(pub String);

impl Note {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Reconcile for Note {
    type Key<'a> = NoKey;

    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        // `update` diffs against the stored text, so only the changed characters become ops.
        reconciler.text()?.update(&self.0)
    }
}

impl Hydrate for Note {
    fn hydrate_text<D: ReadDoc>(doc: &D, obj: &automerge::ObjId) -> Result<Self, HydrateError> {
        Ok(Self(doc.text(obj)?))
    }

    fn hydrate_string(value: &'_ str) -> Result<Self, HydrateError> {
        // A writer that stored the note as a plain string (another client) still reads.
        Ok(Self(value.to_owned()))
    }
}

//! Finding fields that replicas set concurrently, and settling them.
//!
//! Automerge keeps every value written concurrently to one map key; a plain read returns an
//! arbitrary (but agreed) winner. Lots never hides the others: this module walks the document
//! for keys holding more than one scalar value and reports each value with the change that
//! wrote it, so a person can pick one.

use std::borrow::Cow;

use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, ValueRef};

use crate::signature::ChangeInfo;

/// A field's place in the document: the map keys from the root, such as
/// `["visits", "v-…", "duration_minutes"]`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct FieldPath(pub Vec<String>);

impl FieldPath {
    /// The field's own key (the last segment).
    pub fn field(&self) -> &str {
        self.0.last().map(String::as_str).unwrap_or("")
    }
}

impl std::fmt::Display for FieldPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// A scalar value as a conflict shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FieldValue {
    /// Nothing (an optional field left empty).
    Null,
    /// Yes or no.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A non-negative whole number.
    Uint(u64),
    /// A decimal number.
    Float(f64),
    /// A string or code.
    Text(String),
    /// An instant in milliseconds.
    Timestamp(i64),
    /// A value of a kind Lots does not write.
    Other(String),
}

impl From<&ScalarValue> for FieldValue {
    fn from(value: &ScalarValue) -> Self {
        match value {
            ScalarValue::Null => Self::Null,
            ScalarValue::Boolean(b) => Self::Bool(*b),
            ScalarValue::Int(i) => Self::Int(*i),
            ScalarValue::Uint(u) => Self::Uint(*u),
            ScalarValue::F64(f) => Self::Float(*f),
            ScalarValue::Str(s) => Self::Text(s.to_string()),
            ScalarValue::Timestamp(t) => Self::Timestamp(*t),
            other => Self::Other(other.to_string()),
        }
    }
}

impl FieldValue {
    /// The Automerge value to write, `None` for values Lots cannot write back.
    fn to_scalar(&self) -> Option<ScalarValue> {
        Some(match self {
            Self::Null => ScalarValue::Null,
            Self::Bool(b) => ScalarValue::Boolean(*b),
            Self::Int(i) => ScalarValue::Int(*i),
            Self::Uint(u) => ScalarValue::Uint(*u),
            Self::Float(f) => ScalarValue::F64(*f),
            Self::Text(s) => ScalarValue::Str(s.as_str().into()),
            Self::Timestamp(t) => ScalarValue::Timestamp(*t),
            Self::Other(_) => return None,
        })
    }
}

/// One of the values a field holds at once.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConflictValue {
    /// The value.
    pub value: FieldValue,
    /// Who wrote it, and when.
    pub written: ChangeInfo,
}

/// A field that holds several values because replicas set it concurrently.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Conflict {
    /// Where the field is.
    pub field: FieldPath,
    /// Every value, the one a plain read shows first.
    pub values: Vec<ConflictValue>,
}

/// Why a conflict could not be settled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    /// The field holds one value (already settled, perhaps on another device).
    #[error("{0} has no conflicting values to choose between")]
    NoConflict(FieldPath),
    /// The chosen value is not one of the field's values.
    #[error("{value:?} is not one of the values of {field}")]
    NotACandidate {
        /// The field.
        field: FieldPath,
        /// The value that was chosen.
        value: FieldValue,
    },
}

/// How deep the walk goes: deeper than any map the schema has (a follow-up's or a step's
/// fields sit at depth five). The server refuses deeper nesting in a change, so this only
/// stops a damaged or foreign document from making the walk unbounded.
const MAX_WALK_DEPTH: usize = 16;

/// Every field with concurrent values, in document order.
pub(crate) fn find(doc: &Automerge) -> Result<Vec<Conflict>, automerge::AutomergeError> {
    walk(doc, ROOT, Vec::new(), None)
}

/// The fields with concurrent values in the map `obj` at `path` and below it, except in the
/// map `skip` and below it: the caseload line counts a household's conflicts visit by visit
/// (see [`at_entry`]), so that a change costs a walk of what it touched. Walking the whole
/// document is walking the root and below.
///
/// The walk keeps its own stack instead of recursing: a document nested thousands of maps
/// deep (a hostile client's) must not overflow the thread's stack, here or in the browser.
/// It borrows keys from the document and builds a field's path only for a conflicted field.
pub(crate) fn walk<'a>(
    doc: &'a Automerge,
    obj: ObjId,
    // The keys from the root to the map on top of the stack.
    mut path: Vec<Cow<'a, str>>,
    skip: Option<&ObjId>,
) -> Result<Vec<Conflict>, automerge::AutomergeError> {
    let mut found = Vec::new();
    // Each frame is a map still being read: its id and its entries not yet visited, in
    // reverse so the next one pops off the end.
    let first = entries(doc, &obj);
    let mut stack: Vec<(ObjId, Vec<Entry<'_>>)> = vec![(obj, first)];
    while let Some((obj, pending)) = stack.last_mut() {
        let Some((key, conflicted, child)) = pending.pop() else {
            stack.pop();
            path.pop();
            continue;
        };
        if conflicted {
            let field: Vec<String> = path.iter().chain([&key]).map(|k| k.to_string()).collect();
            if let Some(conflict) = conflict_at(doc, obj, &key, &field)? {
                found.push(conflict);
            }
        }
        if let Some(child) = child
            && path.len() + 1 < MAX_WALK_DEPTH
            && Some(&child) != skip
        {
            let children = entries(doc, &child);
            path.push(key);
            stack.push((child, children));
        }
    }
    Ok(found)
}

/// The fields with concurrent values at the entry `key` of the map `parent` (at `path`) and,
/// when it holds a map, in it and below it.
pub(crate) fn at_entry<'a>(
    doc: &'a Automerge,
    parent: &ObjId,
    key: &str,
    mut path: Vec<Cow<'a, str>>,
) -> Result<Vec<Conflict>, automerge::AutomergeError> {
    let mut found = Vec::new();
    if doc.get_all(parent, key)?.len() > 1 {
        let field: Vec<String> = path
            .iter()
            .map(|k| k.to_string())
            .chain([key.into()])
            .collect();
        found.extend(conflict_at(doc, parent, key, &field)?);
    }
    if let Some((Value::Object(ObjType::Map), child)) = doc.get(parent, key)?
        && path.len() + 1 < MAX_WALK_DEPTH
    {
        path.push(Cow::Owned(key.to_owned()));
        found.extend(walk(doc, child, path, None)?);
    }
    Ok(found)
}

/// A map entry as the walk needs it: its key, whether other values stand beside the winner,
/// and (for a map) the child map's id.
type Entry<'a> = (Cow<'a, str>, bool, Option<ObjId>);

/// A map's entries in reverse document order.
fn entries<'a>(doc: &'a Automerge, obj: &ObjId) -> Vec<Entry<'a>> {
    // One pass over the map gives each key's winning value, its id (for a map, the child
    // object's id) and whether other values stand beside it. Asking `get` per key instead
    // seeks the key again in the document's columns: in the browser that was most of the
    // walk's time, and the walk runs for every document that arrives.
    let mut entries: Vec<Entry<'a>> = doc
        .map_range(obj, ..)
        .map(|entry| {
            let child = matches!(entry.value, ValueRef::Object(ObjType::Map)).then(|| entry.id());
            (entry.key, entry.conflict, child)
        })
        .collect();
    entries.reverse();
    entries
}

fn conflict_at(
    doc: &Automerge,
    obj: &ObjId,
    key: &str,
    path: &[String],
) -> Result<Option<Conflict>, automerge::AutomergeError> {
    let all = doc.get_all(obj, key)?;
    if all.len() < 2 {
        return Ok(None);
    }
    let winner = doc.get(obj, key)?.map(|(_, op)| op);
    let mut values = Vec::with_capacity(all.len());
    let mut winner_index = 0;
    for (index, (value, op)) in all.iter().enumerate() {
        if Some(op) == winner.as_ref() {
            winner_index = index;
        }
        // Concurrently created objects (two phones creating the same sub-map) merge their
        // contents through the walk; only scalar values are a choice for a person.
        let Value::Scalar(scalar) = value else {
            return Ok(None);
        };
        let written = doc
            .hash_for_opid(op)
            .and_then(|hash| doc.get_change_meta_by_hash(&hash))
            .map(|meta| ChangeInfo::from_meta(&meta))
            .unwrap_or(ChangeInfo {
                signature: None,
                action: None,
                at: crate::calendar::Timestamp::from_millis(0),
            });
        values.push(ConflictValue {
            value: FieldValue::from(scalar.as_ref()),
            written,
        });
    }
    // Two devices writing the same value (both ticking "budget") leave nothing to choose.
    if values.iter().all(|value| value.value == values[0].value) {
        return Ok(None);
    }
    // Show the value a plain read returns first, as the field reads elsewhere.
    values.swap(0, winner_index);
    Ok(Some(Conflict {
        field: FieldPath(path.to_vec()),
        values,
    }))
}

/// Settles the conflict at `field` by writing `chosen`, which must be one of its values.
pub(crate) fn resolve(
    tx: &mut automerge::transaction::Transaction<'_>,
    field: &FieldPath,
    chosen: &FieldValue,
) -> Result<Result<(), ResolveError>, automerge::AutomergeError> {
    use automerge::transaction::Transactable as _;
    let no_conflict = || Ok(Err(ResolveError::NoConflict(field.clone())));
    let Some((key, parents)) = field.0.split_last() else {
        return no_conflict();
    };
    let mut obj = ROOT;
    for segment in parents {
        match tx.get(&obj, segment.as_str())? {
            Some((Value::Object(ObjType::Map), child)) => obj = child,
            _ => return no_conflict(),
        }
    }
    let all = tx.get_all(&obj, key.as_str())?;
    if all.len() < 2 {
        return no_conflict();
    }
    let is_candidate = all.iter().any(|(value, _)| {
        matches!(value, Value::Scalar(scalar) if FieldValue::from(scalar.as_ref()) == *chosen)
    });
    let scalar = chosen.to_scalar().filter(|_| is_candidate);
    let Some(scalar) = scalar else {
        return Ok(Err(ResolveError::NotACandidate {
            field: field.clone(),
            value: chosen.clone(),
        }));
    };
    tx.put(&obj, key.as_str(), scalar)?;
    Ok(Ok(()))
}

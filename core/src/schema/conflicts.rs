//! Finding fields that replicas set concurrently, and settling them.
//!
//! Automerge keeps every value written concurrently to one map key; a plain read returns an
//! arbitrary (but agreed) winner. Lots never hides the others: this module walks the document
//! for keys holding more than one scalar value and reports each value with the change that
//! wrote it, so a person can pick one.

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
///
/// The walk keeps its own stack instead of recursing: a document nested thousands of maps
/// deep (a hostile client's) must not overflow the thread's stack, here or in the browser.
pub(crate) fn find(doc: &Automerge) -> Result<Vec<Conflict>, automerge::AutomergeError> {
    let mut found = Vec::new();
    // Each frame is a map still being read: its path and its entries not yet visited, in
    // reverse so the next one pops off the end.
    let mut stack: Vec<(Vec<String>, ObjId, Vec<Entry>)> =
        vec![(Vec::new(), ROOT, entries(doc, &ROOT))];
    while let Some((path, obj, pending)) = stack.last_mut() {
        let Some((key, conflicted, child)) = pending.pop() else {
            stack.pop();
            continue;
        };
        let mut field = path.clone();
        field.push(key);
        let key = field.last().map(String::as_str).unwrap_or_default();
        if conflicted && let Some(conflict) = conflict_at(doc, obj, key, &field)? {
            found.push(conflict);
        }
        if let Some(child) = child
            && field.len() < MAX_WALK_DEPTH
        {
            let children = entries(doc, &child);
            stack.push((field, child, children));
        }
    }
    Ok(found)
}

/// A map entry as the walk needs it: its key, whether other values stand beside the winner,
/// and (for a map) the child map's id.
type Entry = (String, bool, Option<ObjId>);

/// A map's entries in reverse document order.
fn entries(doc: &Automerge, obj: &ObjId) -> Vec<Entry> {
    // One pass over the map gives each key's winning value, its id (for a map, the child
    // object's id) and whether other values stand beside it. Asking `get` per key instead
    // seeks the key again in the document's columns: in the browser that was most of the
    // walk's time, and the walk runs for every document that arrives.
    let mut entries: Vec<Entry> = doc
        .map_range(obj, ..)
        .map(|entry| {
            let child = matches!(entry.value, ValueRef::Object(ObjType::Map)).then(|| entry.id());
            (entry.key.into_owned(), entry.conflict, child)
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

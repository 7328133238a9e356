//! What one change does to a household document, operation by operation: where each
//! operation lands in the schema, whether the schema allows it there, and (once applied)
//! whether every entry it touched still reads.
//!
//! This is the schema's half of checking a change from another replica (the other half,
//! who signed it and whether they may, is in `validation`). It works on the change's
//! operations rather than on a before/after comparison of whole households, so its cost
//! follows the size of the change, not the size of the household's history.

use std::collections::{BTreeSet, HashMap};

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::household::{Goal, Member, Visit};
use super::{
    GOALS, MEMBERS, NOTES, PLAN, PROFILE, SCHEMA_VERSION, SCHEMA_VERSION_KEY, VISITS, map_at,
    read_entry, read_household, read_profile, schema_version,
};
use crate::actions::{MAX_FIELD_CHARS, MAX_NOTE_CHARS};

/// The keys of each map the schema has. A test checks them against what autosurgeon
/// writes for the structs in `household.rs`.
pub(crate) const ROOT_KEYS: &[&str] = &[SCHEMA_VERSION_KEY, PROFILE, MEMBERS, VISITS, PLAN];
pub(crate) const PROFILE_KEYS: &[&str] = &[
    "district",
    "address",
    "unit",
    "housing_form",
    "arrival_route",
    "arrived_on",
    "opened_on",
    "assigned_staff",
    "status",
    "close_reason",
    "closed_on",
];
pub(crate) const MEMBER_KEYS: &[&str] = &[
    "name",
    "birth_date",
    "gender",
    "residence_permit_on",
    "born_outside_eea",
    "registered_in_district",
    "languages",
    "interpreter_language",
];
pub(crate) const VISIT_KEYS: &[&str] = &[
    "planned_at",
    "staff",
    "status",
    "present",
    "interpreter_language",
    "interpreter_mode",
    "duration_minutes",
    "topics",
    NOTES,
    FOLLOW_UPS,
];
pub(crate) const FOLLOW_UP_KEYS: &[&str] = &[
    "description",
    "owner_kind",
    "owner",
    "agency",
    "due_on",
    "done_on",
];
pub(crate) const PLAN_KEYS: &[&str] = &[GOALS, NOTES];
pub(crate) const GOAL_KEYS: &[&str] = &[
    "member",
    "area",
    "description",
    "status",
    "set_on",
    "reached_on",
    STEPS,
];
pub(crate) const STEP_KEYS: &[&str] = &[
    "description",
    "owner_kind",
    "owner",
    "agency",
    "due_on",
    "status",
    "done_on",
    "position",
];

const FOLLOW_UPS: &str = "follow_ups";
const STEPS: &str = "steps";
const PRESENT: &str = "present";
const TOPICS: &str = "topics";
const LANGUAGES: &str = "languages";

/// The profile fields only a supervisor sets after a household's first change.
pub(crate) const DISTRICT: &str = "district";
/// See [`DISTRICT`].
pub(crate) const ASSIGNED_STAFF: &str = "assigned_staff";

/// The most entries of each kind one change may add: more than any action of the app adds
/// (a household is created empty, a visit with its next visit booked is two).
const MAX_NEW: [(EntryKind, usize); 5] = [
    (EntryKind::Member, 20),
    (EntryKind::Visit, 2),
    (EntryKind::FollowUp, 5),
    (EntryKind::Goal, 5),
    (EntryKind::Step, 20),
];

/// The kinds of entries people add, each in its own keyed map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    /// A person of the household.
    Member,
    /// A visit.
    Visit,
    /// A follow-up of a visit.
    FollowUp,
    /// A goal of the plan.
    Goal,
    /// A step of a goal.
    Step,
}

impl EntryKind {
    fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Member => MEMBER_KEYS,
            Self::Visit => VISIT_KEYS,
            Self::FollowUp => FOLLOW_UP_KEYS,
            Self::Goal => GOAL_KEYS,
            Self::Step => STEP_KEYS,
        }
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Member => "member",
            Self::Visit => "visit",
            Self::FollowUp => "follow-up",
            Self::Goal => "goal",
            Self::Step => "step",
        })
    }
}

/// What is wrong with a change, as the schema sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// An operation removes or overwrites an entry people recorded.
    #[error("it deletes {kind} {id}; entries are corrected or closed, never removed")]
    Deletes {
        /// The kind of entry.
        kind: EntryKind,
        /// Its id.
        id: String,
    },
    /// An operation replaces an object that holds entries or typed text.
    #[error("it replaces {what}, which holds recorded entries")]
    Replaces {
        /// What it replaces, as a path.
        what: String,
    },
    /// A key the schema does not have.
    #[error("{place} has no field {key:?}")]
    UnknownField {
        /// Where.
        place: String,
        /// The key.
        key: String,
    },
    /// A value of the wrong kind for its place.
    #[error("{place} cannot hold {found}")]
    WrongKind {
        /// Where.
        place: String,
        /// What the change put there.
        found: String,
    },
    /// An operation on an object the document does not have.
    #[error("it refers to an object the household does not have")]
    UnknownObject,
    /// Only the server migrates a document.
    #[error("only the server changes a household's schema version")]
    SchemaVersion,
    /// More new entries than any action adds.
    #[error("it adds {count} {kind} entries at once; at most {max} are allowed")]
    TooManyEntries {
        /// The kind.
        kind: EntryKind,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A text longer than its field allows.
    #[error("{field} would be {chars} characters long; at most {max} are allowed")]
    TooLong {
        /// Which field, as a path.
        field: String,
        /// Its length.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// After the change, an entry it touched no longer reads as the schema says.
    #[error("after it, {what} no longer reads as a household entry: {reason}")]
    Unreadable {
        /// Which entry.
        what: String,
        /// Why.
        reason: String,
    },
}

/// An entry a change touched: read again after it is applied.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Touched {
    Profile,
    Member(String),
    Visit(String),
    Goal(String),
    PlanNotes,
}

/// Where an object sits in the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Root,
    Profile,
    Plan,
    /// A keyed map of entries (members, visits, a visit's follow-ups, goals, a goal's steps).
    Entries(EntryKind, Option<Touched>),
    /// One entry's map.
    Entry(EntryKind, Touched),
    /// A set stored as a map to `true` (who was present, topics).
    Set(Touched),
    /// A list of strings (a member's languages).
    List(Touched),
    /// Free text that merges (visit notes, plan notes).
    Note(Touched),
    /// Text written where the schema has a plain string (a JavaScript client's default).
    FieldText(Touched),
}

impl Place {
    fn describe(&self) -> String {
        match self {
            Self::Root => "the household".into(),
            Self::Profile => "the profile".into(),
            Self::Plan => "the plan".into(),
            Self::Entries(kind, _) => format!("the {kind} entries"),
            Self::Entry(kind, _) => format!("a {kind}"),
            Self::Set(_) => "a set".into(),
            Self::List(_) => "a list of languages".into(),
            Self::Note(_) => "a note".into(),
            Self::FieldText(_) => "a text field".into(),
        }
    }

    fn touched(&self) -> Option<Touched> {
        match self {
            Self::Root | Self::Plan => None,
            Self::Profile => Some(Touched::Profile),
            Self::Entries(_, touched) => touched.clone(),
            Self::Entry(_, touched)
            | Self::Set(touched)
            | Self::List(touched)
            | Self::Note(touched)
            | Self::FieldText(touched) => Some(touched.clone()),
        }
    }

    /// The place of the child object of type `kind` at `key`, or why there cannot be one.
    fn child(&self, key: &str, kind: ObjType) -> Result<Place, ShapeError> {
        let wrong = || ShapeError::WrongKind {
            place: format!("{} at {key:?}", self.describe()),
            found: format!("a {kind:?} object"),
        };
        let text_field = |touched: &Touched| match kind {
            ObjType::Text => Ok(Place::FieldText(touched.clone())),
            _ => Err(wrong()),
        };
        match self {
            Self::Root => match (key, kind) {
                (PROFILE, ObjType::Map) => Ok(Self::Profile),
                (MEMBERS, ObjType::Map) => Ok(Self::Entries(EntryKind::Member, None)),
                (VISITS, ObjType::Map) => Ok(Self::Entries(EntryKind::Visit, None)),
                (PLAN, ObjType::Map) => Ok(Self::Plan),
                _ => Err(wrong()),
            },
            Self::Profile => text_field(&Touched::Profile),
            Self::Plan => match (key, kind) {
                (GOALS, ObjType::Map) => Ok(Self::Entries(EntryKind::Goal, None)),
                (NOTES, ObjType::Text) => Ok(Self::Note(Touched::PlanNotes)),
                _ => Err(wrong()),
            },
            Self::Entries(entry, touched) => {
                if kind != ObjType::Map {
                    return Err(wrong());
                }
                let touched = match (entry, touched) {
                    (EntryKind::Member, _) => Touched::Member(key.to_owned()),
                    (EntryKind::Visit, _) => Touched::Visit(key.to_owned()),
                    (EntryKind::Goal, _) => Touched::Goal(key.to_owned()),
                    (EntryKind::FollowUp | EntryKind::Step, Some(parent)) => parent.clone(),
                    (EntryKind::FollowUp | EntryKind::Step, None) => return Err(wrong()),
                };
                Ok(Self::Entry(*entry, touched))
            }
            Self::Entry(entry, touched) => match (entry, key, kind) {
                (EntryKind::Member, LANGUAGES, ObjType::List) => Ok(Self::List(touched.clone())),
                (EntryKind::Visit, PRESENT | TOPICS, ObjType::Map) => {
                    Ok(Self::Set(touched.clone()))
                }
                (EntryKind::Visit, NOTES, ObjType::Text) => Ok(Self::Note(touched.clone())),
                (EntryKind::Visit, FOLLOW_UPS, ObjType::Map) => {
                    Ok(Self::Entries(EntryKind::FollowUp, Some(touched.clone())))
                }
                (EntryKind::Goal, STEPS, ObjType::Map) => {
                    Ok(Self::Entries(EntryKind::Step, Some(touched.clone())))
                }
                _ => text_field(touched),
            },
            Self::List(touched) => text_field(touched),
            Self::Set(_) | Self::Note(_) | Self::FieldText(_) => Err(wrong()),
        }
    }
}

/// What a change touched, to be checked once it is applied.
#[derive(Debug, Default)]
pub(crate) struct ChangeShape {
    /// The entries it touched.
    pub(crate) touched: BTreeSet<Touched>,
    /// The profile fields it wrote.
    pub(crate) profile_keys: BTreeSet<String>,
}

/// Checks every operation of `change` against the schema, on `doc` as it stands before the
/// change is applied. `creating` is true for a household's first change, which alone may
/// write the document's top level and its schema version.
pub(crate) fn check_operations(
    doc: &Automerge,
    change: &automerge::ExpandedChange,
    creating: bool,
) -> Result<ChangeShape, ShapeError> {
    let mut places: HashMap<ObjectId, Place> = HashMap::new();
    let mut shape = ChangeShape::default();
    let mut added: HashMap<EntryKind, usize> = HashMap::new();
    let start = change.start_op.get();
    for (index, op) in change.operations.iter().enumerate() {
        let place = match places.get(&op.obj) {
            Some(place) => place.clone(),
            None => {
                let place = existing_place(doc, &op.obj)?;
                places.insert(op.obj.clone(), place.clone());
                place
            }
        };
        if let Some(touched) = place.touched() {
            shape.touched.insert(touched);
        }
        let overwrites = !op.pred.is_empty() || matches!(op.action, OpType::Delete);
        let key = match &op.key {
            Key::Map(key) => Some(key.as_str()),
            Key::Seq(_) => None,
        };
        let made = match &op.action {
            OpType::Make(kind) => Some(*kind),
            _ => None,
        };
        match (&place, key) {
            // Characters of a note or of a text field, items of a list.
            (Place::Note(_) | Place::FieldText(_), None) => {
                if made.is_some() {
                    return Err(ShapeError::WrongKind {
                        place: place.describe(),
                        found: "an object".into(),
                    });
                }
            }
            (Place::List(_), None) => {}
            (_, None) => {
                return Err(ShapeError::WrongKind {
                    place: place.describe(),
                    found: "list items".into(),
                });
            }
            (_, Some(key)) => {
                check_map_op(&place, key, overwrites, made, &op.action, creating)?;
                if place == Place::Profile {
                    shape.profile_keys.insert(key.to_owned());
                }
                if let Place::Entries(kind, _) = &place
                    && made.is_some()
                {
                    *added.entry(*kind).or_default() += 1;
                }
            }
        }
        if let Some(kind) = made {
            let child = match key {
                Some(key) => place.child(key, kind)?,
                None => place.child("", kind)?,
            };
            if let Some(touched) = child.touched() {
                shape.touched.insert(touched);
            }
            let id = OpId::new(start + index as u64, &change.actor_id);
            places.insert(ObjectId::Id(id), child);
        }
    }
    for (kind, max) in MAX_NEW {
        let count = added.get(&kind).copied().unwrap_or(0);
        if count > max {
            return Err(ShapeError::TooManyEntries { kind, count, max });
        }
    }
    Ok(shape)
}

fn check_map_op(
    place: &Place,
    key: &str,
    overwrites: bool,
    made: Option<ObjType>,
    action: &OpType,
    creating: bool,
) -> Result<(), ShapeError> {
    let unknown = || ShapeError::UnknownField {
        place: place.describe(),
        key: key.to_owned(),
    };
    let replaces = |what: String| ShapeError::Replaces { what };
    match place {
        Place::Root => {
            if !ROOT_KEYS.contains(&key) {
                return Err(unknown());
            }
            if key == SCHEMA_VERSION_KEY {
                return if creating && !overwrites {
                    Ok(())
                } else {
                    Err(ShapeError::SchemaVersion)
                };
            }
            if overwrites {
                return Err(replaces(format!("the household's {key}")));
            }
            Ok(())
        }
        Place::Profile => {
            if PROFILE_KEYS.contains(&key) {
                Ok(())
            } else {
                Err(unknown())
            }
        }
        Place::Plan => {
            if !PLAN_KEYS.contains(&key) {
                return Err(unknown());
            }
            if overwrites {
                return Err(replaces(format!("the plan's {key}")));
            }
            Ok(())
        }
        Place::Entries(kind, _) => {
            if overwrites {
                return Err(ShapeError::Deletes {
                    kind: *kind,
                    id: key.to_owned(),
                });
            }
            if crate::ids::validate("an entry id", key).is_err() {
                return Err(ShapeError::WrongKind {
                    place: place.describe(),
                    found: format!("the key {key:?}, which is not an id"),
                });
            }
            match made {
                Some(ObjType::Map) => Ok(()),
                _ => Err(ShapeError::WrongKind {
                    place: place.describe(),
                    found: "a value that is not an entry".into(),
                }),
            }
        }
        Place::Entry(kind, _) => {
            if !kind.keys().contains(&key) {
                return Err(unknown());
            }
            let holds_entries = matches!(key, FOLLOW_UPS | STEPS | PRESENT | TOPICS | NOTES);
            if holds_entries && overwrites {
                return Err(replaces(format!("the {key} of a {kind}")));
            }
            Ok(())
        }
        Place::Set(_) => match action {
            OpType::Put(ScalarValue::Boolean(true)) | OpType::Delete => Ok(()),
            _ => Err(ShapeError::WrongKind {
                place: place.describe(),
                found: "something other than a tick".into(),
            }),
        },
        Place::List(_) | Place::Note(_) | Place::FieldText(_) => Err(ShapeError::WrongKind {
            place: place.describe(),
            found: format!("the key {key:?}"),
        }),
    }
}

/// The place of an object the document already has, from its path to the root.
fn existing_place(doc: &Automerge, obj: &ObjectId) -> Result<Place, ShapeError> {
    let id = match obj {
        ObjectId::Root => return Ok(Place::Root),
        ObjectId::Id(id) => id,
    };
    let exid = doc
        .import_obj(&format!("{}@{}", id.counter(), id.actor()))
        .map_err(|_| ShapeError::UnknownObject)?;
    let kind = doc
        .object_type(&exid)
        .map_err(|_| ShapeError::UnknownObject)?;
    // Parents run from the object up to the root; each names the parent's type and the
    // property in it that leads down. Every object the server holds passed this check, so
    // the path is as short as the schema's.
    let parents: Vec<automerge::Parent> = doc
        .parents(&exid)
        .map_err(|_| ShapeError::UnknownObject)?
        .collect();
    let mut place = Place::Root;
    for (index, parent) in parents.iter().enumerate().rev() {
        let child_kind = match index {
            0 => kind,
            _ => parents[index - 1].typ,
        };
        let key = match &parent.prop {
            automerge::Prop::Map(key) => key.clone(),
            automerge::Prop::Seq(_) => String::new(),
        };
        place = place.child(&key, child_kind)?;
    }
    Ok(place)
}

/// After the change is applied: every entry it touched reads, and every text in it is
/// within its field's limit.
pub(crate) fn check_touched(doc: &Automerge, shape: &ChangeShape) -> Result<(), ShapeError> {
    for touched in &shape.touched {
        let unreadable = |what: String, reason: String| ShapeError::Unreadable { what, reason };
        let (what, obj) = match touched {
            Touched::Profile => {
                read_profile(doc)
                    .map_err(|error| unreadable("the profile".into(), error.to_string()))?;
                ("the profile".to_owned(), map_at(doc, &ROOT, PROFILE))
            }
            Touched::Member(id) => {
                let members = map_at(doc, &ROOT, MEMBERS)
                    .map_err(|error| unreadable("the members".into(), error.to_string()))?;
                let what = format!("member {id}");
                entry_reads::<Member>(doc, &members, id, &what)?;
                let obj = map_at(doc, &members, id);
                (what, obj)
            }
            Touched::Visit(id) => {
                let visits = map_at(doc, &ROOT, VISITS)
                    .map_err(|error| unreadable("the visits".into(), error.to_string()))?;
                let what = format!("visit {id}");
                entry_reads::<Visit>(doc, &visits, id, &what)?;
                let obj = map_at(doc, &visits, id);
                (what, obj)
            }
            Touched::Goal(id) => {
                let plan = map_at(doc, &ROOT, PLAN)
                    .map_err(|error| unreadable("the plan".into(), error.to_string()))?;
                let goals = map_at(doc, &plan, GOALS)
                    .map_err(|error| unreadable("the goals".into(), error.to_string()))?;
                let what = format!("goal {id}");
                entry_reads::<Goal>(doc, &goals, id, &what)?;
                let obj = map_at(doc, &goals, id);
                (what, obj)
            }
            Touched::PlanNotes => ("the plan".to_owned(), map_at(doc, &ROOT, PLAN)),
        };
        let obj = obj.map_err(|error| unreadable(what.clone(), error.to_string()))?;
        texts_within_limits(doc, obj, &what)?;
    }
    Ok(())
}

fn entry_reads<T: autosurgeon::Hydrate>(
    doc: &Automerge,
    entries: &ObjId,
    id: &str,
    what: &str,
) -> Result<(), ShapeError> {
    match read_entry::<_, T>(doc, entries, id) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ShapeError::Unreadable {
            what: what.to_owned(),
            reason: "it is missing".into(),
        }),
        Err(error) => Err(ShapeError::Unreadable {
            what: what.to_owned(),
            reason: error.to_string(),
        }),
    }
}

/// Every string and text under `obj` within its limit: notes [`MAX_NOTE_CHARS`], every
/// other field [`MAX_FIELD_CHARS`]. Iterative, and the schema's objects are shallow.
fn texts_within_limits(doc: &Automerge, obj: ObjId, what: &str) -> Result<(), ShapeError> {
    let mut stack: Vec<(ObjId, String)> = vec![(obj, String::new())];
    while let Some((obj, key)) = stack.pop() {
        let kind = doc.object_type(&obj).ok();
        let limit = |key: &str| {
            if key == NOTES {
                MAX_NOTE_CHARS
            } else {
                MAX_FIELD_CHARS
            }
        };
        let too_long = |key: &str, chars: usize| {
            let max = limit(key);
            (chars > max).then(|| ShapeError::TooLong {
                field: format!("{what}: {key}"),
                chars,
                max,
            })
        };
        match kind {
            Some(ObjType::Text) => {
                if let Some(error) = too_long(&key, doc.length(&obj)) {
                    return Err(error);
                }
            }
            Some(ObjType::Map | ObjType::Table) => {
                for entry in doc.map_range(&obj, ..) {
                    let child_key = entry.key.to_string();
                    match entry.value {
                        automerge::ValueRef::Object(_) => stack.push((entry.id(), child_key)),
                        automerge::ValueRef::Scalar(automerge::ScalarValueRef::Str(text)) => {
                            if let Some(error) = too_long(&child_key, text.chars().count()) {
                                return Err(error);
                            }
                        }
                        automerge::ValueRef::Scalar(_) => {}
                    }
                }
            }
            Some(ObjType::List) => {
                for item in doc.list_range(&obj, ..) {
                    match doc.get(&obj, item.index) {
                        Ok(Some((Value::Object(_), id))) => stack.push((id, key.clone())),
                        Ok(Some((Value::Scalar(scalar), _))) => {
                            if let ScalarValue::Str(text) = scalar.as_ref()
                                && let Some(error) = too_long(&key, text.chars().count())
                            {
                                return Err(error);
                            }
                        }
                        _ => {}
                    }
                }
            }
            None => {}
        }
    }
    Ok(())
}

/// A household's first change: the whole household reads, at the schema version this build
/// writes.
pub(crate) fn check_created(doc: &Automerge) -> Result<(), ShapeError> {
    let unreadable = |reason: String| ShapeError::Unreadable {
        what: "the new household".into(),
        reason,
    };
    match schema_version(doc) {
        Ok(Some(SCHEMA_VERSION)) => {}
        Ok(Some(found)) => {
            return Err(unreadable(format!(
                "schema version {found}; this server writes {SCHEMA_VERSION}"
            )));
        }
        Ok(None) => return Err(unreadable("it has no schema version".into())),
        Err(error) => return Err(unreadable(error.to_string())),
    }
    read_household(doc).map_err(|error| unreadable(error.to_string()))?;
    Ok(())
}

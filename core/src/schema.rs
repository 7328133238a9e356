//! The only module that knows Automerge keys and object ids.
//!
//! Everything else in core works with the plain structs of [`household`] and asks this module
//! to read or write a part of a document. Targeted reads and writes (one visit, one goal)
//! keep an action's cost independent of how many visits a household has.

mod by_map;
pub(crate) mod codes;
pub(crate) mod conflicts;
pub(crate) mod household;
pub(crate) mod outline;
pub(crate) mod values;
pub(crate) mod vet;

use automerge::{AutomergeError, ObjId, ObjType, ROOT, TextEncoding};
use autosurgeon::{Doc, Hydrate, HydrateError, ReadDoc, ReconcileError};

use crate::ids::{GoalId, VisitId};
use household::{Goal, Household, Profile, Visit};

/// The schema version this build writes. Bump it together with a migration in
/// [`MIGRATIONS`] and a new fixture in `core/tests/fixtures/`.
pub const SCHEMA_VERSION: u64 = 1;

/// How text positions are counted in notes: one unit per Unicode scalar value (Rust `char`).
pub const TEXT_ENCODING: TextEncoding = TextEncoding::UnicodeCodePoint;

const SCHEMA_VERSION_KEY: &str = "schema_version";
const PROFILE: &str = "profile";
const MEMBERS: &str = "members";
const VISITS: &str = "visits";
const PLAN: &str = "plan";
const GOALS: &str = "goals";
const NOTES: &str = "notes";

/// A migration lifts a document from version `n` (its index plus one) to `n + 1`.
/// Version 1 is the first released schema, so there is none yet; the loop in [`migrate`]
/// is the path later versions take.
type Migration = fn(&mut automerge::transaction::Transaction<'_>) -> Result<(), AutomergeError>;
const MIGRATIONS: &[Migration] = &[];

/// What is wrong with a document, as a household document.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The bytes are not an Automerge document at all, or a damaged one.
    #[error("the data is not a readable Automerge document: {0}")]
    Automerge(#[from] AutomergeError),
    /// The bytes hold a chunk larger, once expanded, than any household's: refused before
    /// Automerge expands it.
    #[error("the data is not a readable household document: {0}")]
    Chunk(#[from] crate::sync::chunks::ChunkError),
    /// The document has no schema version: it is not a household document.
    #[error("the document is not a household document (it has no schema version)")]
    NotAHousehold,
    /// The document was written by a newer version of Lots.
    #[error(
        "the document has schema version {found}, newer than this app's {supported}; update the app"
    )]
    TooNew {
        /// The version in the document.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// The document was written by an older version of Lots and waits for the server to
    /// bring it up to date.
    #[error(
        "the document has schema version {found}, older than this app's {current}; the server brings it up to date"
    )]
    TooOld {
        /// The version in the document.
        found: u64,
        /// The version this build writes.
        current: u64,
    },
    /// A value in the document does not have the shape the schema expects.
    #[error("the household document has an unexpected shape: {0}")]
    Shape(#[from] HydrateError),
    /// Writing a value into the document failed.
    #[error("could not write to the household document: {0}")]
    Write(#[from] ReconcileError),
}

/// The document's schema version, if it has one.
pub(crate) fn schema_version<D: autosurgeon::ReadDoc>(doc: &D) -> Result<Option<u64>, SchemaError> {
    read_entry(doc, &ROOT, SCHEMA_VERSION_KEY)
}

/// Checks the version and, for an older document, returns the migrations it needs.
pub(crate) fn pending_migrations(
    doc: &automerge::Automerge,
) -> Result<&'static [Migration], SchemaError> {
    let found = schema_version(doc)?.ok_or(SchemaError::NotAHousehold)?;
    if found > SCHEMA_VERSION {
        return Err(SchemaError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let first = usize::try_from(found.max(1) - 1).unwrap_or(usize::MAX);
    Ok(MIGRATIONS.get(first..).unwrap_or(&[]))
}

/// Runs `migrations` in one transaction and stamps the current version.
pub(crate) fn migrate(
    tx: &mut automerge::transaction::Transaction<'_>,
    migrations: &[Migration],
) -> Result<(), SchemaError> {
    for migration in migrations {
        migration(tx)?;
    }
    tx.put(ROOT, SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
    Ok(())
}

/// Writes a whole new household into an empty document.
pub(crate) fn init<D: Doc>(doc: &mut D, household: &Household) -> Result<(), SchemaError> {
    doc.put(ROOT, SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
    autosurgeon::reconcile(doc, household)?;
    Ok(())
}

/// The whole household.
pub(crate) fn read_household<D: ReadDoc>(doc: &D) -> Result<Household, SchemaError> {
    Ok(autosurgeon::hydrate(&by_map::ByMap::new(doc))?)
}

/// The profile alone: the cheapest read, used to check that a case is open.
pub(crate) fn read_profile<D: ReadDoc>(doc: &D) -> Result<Profile, SchemaError> {
    Ok(autosurgeon::hydrate_prop(
        &by_map::ByMap::new(doc),
        &ROOT,
        PROFILE,
    )?)
}

/// Replaces the profile; only changed fields become operations.
pub(crate) fn write_profile<D: Doc>(doc: &mut D, profile: &Profile) -> Result<(), SchemaError> {
    autosurgeon::reconcile_prop(doc, ROOT, PROFILE, profile)?;
    Ok(())
}

fn map_at<D: ReadDoc>(doc: &D, parent: &ObjId, key: &str) -> Result<ObjId, SchemaError> {
    match doc.get(parent, key)? {
        Some((automerge::Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(SchemaError::Shape(HydrateError::unexpected(
            format!("a map at {key:?}"),
            "something else or nothing".to_owned(),
        ))),
    }
}

/// Reads one entry of a keyed collection, `None` when there is no such key.
fn read_entry<D: ReadDoc, T: Hydrate>(
    doc: &D,
    parent: &ObjId,
    key: &str,
) -> Result<Option<T>, SchemaError> {
    // autosurgeon reads a missing key as an error even for `Option`: look first.
    if doc.get(parent, key)?.is_none() {
        return Ok(None);
    }
    Ok(Some(autosurgeon::hydrate_prop(
        &by_map::ByMap::new(doc),
        parent,
        key,
    )?))
}

/// Whether the household has a member with this id.
pub(crate) fn has_member<D: ReadDoc>(doc: &D, member: &str) -> Result<bool, SchemaError> {
    let members = map_at(doc, &ROOT, MEMBERS)?;
    Ok(doc.get(&members, member)?.is_some())
}

/// Creates or updates one member.
pub(crate) fn write_member<D: Doc>(
    doc: &mut D,
    member: &str,
    value: &household::Member,
) -> Result<(), SchemaError> {
    let members = map_at(doc, &ROOT, MEMBERS)?;
    autosurgeon::reconcile_prop(doc, members, member, value)?;
    Ok(())
}

/// Reads one visit.
pub(crate) fn read_visit<D: ReadDoc>(
    doc: &D,
    visit: &VisitId,
) -> Result<Option<Visit>, SchemaError> {
    read_entry(doc, &map_at(doc, &ROOT, VISITS)?, visit.as_str())
}

/// Creates or updates one visit; only changed fields become operations.
pub(crate) fn write_visit<D: Doc>(
    doc: &mut D,
    visit: &VisitId,
    value: &Visit,
) -> Result<(), SchemaError> {
    let visits = map_at(doc, &ROOT, VISITS)?;
    autosurgeon::reconcile_prop(doc, visits, visit.as_str(), value)?;
    Ok(())
}

/// Reads one goal.
pub(crate) fn read_goal<D: ReadDoc>(doc: &D, goal: &GoalId) -> Result<Option<Goal>, SchemaError> {
    let plan = map_at(doc, &ROOT, PLAN)?;
    read_entry(doc, &map_at(doc, &plan, GOALS)?, goal.as_str())
}

/// Creates or updates one goal.
pub(crate) fn write_goal<D: Doc>(
    doc: &mut D,
    goal: &GoalId,
    value: &Goal,
) -> Result<(), SchemaError> {
    let plan = map_at(doc, &ROOT, PLAN)?;
    let goals = map_at(doc, &plan, GOALS)?;
    autosurgeon::reconcile_prop(doc, goals, goal.as_str(), value)?;
    Ok(())
}

/// Which free-text note an edit is aimed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteRef {
    /// The notes of one visit.
    Visit(VisitId),
    /// The plan notes.
    Plan,
}

/// The note's Text object, if the note exists.
fn note_object<D: ReadDoc>(doc: &D, note: &NoteRef) -> Result<Option<ObjId>, SchemaError> {
    let parent = match note {
        NoteRef::Visit(visit) => {
            let visits = map_at(doc, &ROOT, VISITS)?;
            match doc.get(&visits, visit.as_str())? {
                Some((automerge::Value::Object(ObjType::Map), id)) => id,
                _ => return Ok(None),
            }
        }
        NoteRef::Plan => map_at(doc, &ROOT, PLAN)?,
    };
    match doc.get(&parent, NOTES)? {
        Some((automerge::Value::Object(ObjType::Text), id)) => Ok(Some(id)),
        _ => Ok(None),
    }
}

/// The length of a note in characters, `None` when the note does not exist.
pub(crate) fn note_len<D: ReadDoc>(doc: &D, note: &NoteRef) -> Result<Option<usize>, SchemaError> {
    Ok(note_object(doc, note)?.map(|text| doc.length(&text)))
}

/// A note's text, `None` when the note does not exist.
pub(crate) fn note_text<D: ReadDoc>(
    doc: &D,
    note: &NoteRef,
) -> Result<Option<String>, SchemaError> {
    note_object(doc, note)?
        .map(|text| doc.text(&text))
        .transpose()
        .map_err(SchemaError::from)
}

/// Splices a note: deletes `delete` characters at `position` and inserts `insert` there.
/// The caller has checked the range.
pub(crate) fn splice_note(
    tx: &mut automerge::transaction::Transaction<'_>,
    note: &NoteRef,
    position: usize,
    delete: usize,
    insert: &str,
) -> Result<(), SchemaError> {
    let Some(text) = note_object(tx, note)? else {
        return Err(SchemaError::Shape(HydrateError::unexpected(
            "a note",
            "nothing".to_owned(),
        )));
    };
    let delete = isize::try_from(delete).unwrap_or(isize::MAX);
    automerge::transaction::Transactable::splice_text(tx, &text, position, delete, insert)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key constants must name the struct fields autosurgeon writes.
    #[test]
    fn key_constants_match_the_structs() {
        let household = crate::synthetic::Generator::new(7).household_value();
        let mut doc = automerge::AutoCommit::new();
        init(&mut doc, &household).unwrap();
        for key in [SCHEMA_VERSION_KEY, PROFILE, MEMBERS, VISITS, PLAN] {
            assert!(doc.get(&ROOT, key).unwrap().is_some(), "missing {key}");
        }
        let plan = map_at(&doc, &ROOT, PLAN).unwrap();
        assert!(doc.get(&plan, GOALS).unwrap().is_some());
        assert!(doc.get(&plan, NOTES).unwrap().is_some());
        let profile = read_profile(&doc).unwrap();
        assert_eq!(profile, household.profile);
    }
}

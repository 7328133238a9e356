//! [`HouseholdDoc`]: one household's Automerge document, with loading, saving and reading.
//! The actions that change it are in `actions`, its past in `history`.

use std::borrow::{Borrow, BorrowMut};

use automerge::{ActorId, Automerge, ChangeHash, LoadOptions};

use crate::schema::conflicts::Conflict;
use crate::schema::household::Household;
use crate::schema::{self, SchemaError};

/// Loads bytes from storage — any document the server or a device keeps, household or not —
/// with the schema's text encoding, once [`crate::check_stored`] has found nothing in them
/// that would expand past what a household ever holds. Damaged storage is then an error
/// rather than gigabytes allocated.
pub fn load_stored(bytes: &[u8]) -> Result<Automerge, SchemaError> {
    crate::sync::chunks::check_stored(bytes)?;
    let options = LoadOptions::new().text_encoding(schema::TEXT_ENCODING);
    Ok(Automerge::load_with_options(bytes, options)?)
}

/// One household's document.
///
/// `D` is how the Automerge document is held: owned (`HouseholdDoc::load`), or borrowed from
/// a sync peer that owns it (`HouseholdDoc::new(&mut automerge)`), so the same typed actions
/// run wherever the document lives.
#[derive(Debug, Clone)]
pub struct HouseholdDoc<D = Automerge> {
    pub(crate) doc: D,
}

impl HouseholdDoc<Automerge> {
    /// Loads a saved document (a full save, optionally followed by incremental saves) and
    /// brings it to the current schema version. `actor` names this replica; give every
    /// running instance (every browser tab) its own.
    pub fn load(bytes: &[u8], actor: ActorId) -> Result<Self, SchemaError> {
        crate::sync::chunks::check_stored(bytes)?;
        let doc = LoadOptions::new()
            .text_encoding(schema::TEXT_ENCODING)
            .verification_mode(automerge::VerificationMode::Check);
        let doc = Automerge::load_with_options(bytes, doc)?.with_actor(actor);
        Self::from_automerge(doc)
    }

    /// Wraps a document received from elsewhere, checking that it is a household document
    /// this build can read. A document of an older schema version is refused: only the
    /// server migrates, as one change it signs itself ([`HouseholdDoc::migrate`]), so that no
    /// replica writes an unsigned change and every replica sees the same migration.
    pub fn from_automerge(doc: Automerge) -> Result<Self, SchemaError> {
        if !schema::pending_migrations(&doc)?.is_empty() {
            let found = schema::schema_version(&doc)?.unwrap_or_default();
            return Err(SchemaError::TooOld {
                found,
                current: schema::SCHEMA_VERSION,
            });
        }
        Ok(Self { doc })
    }

    /// Brings a document of an older schema version to this build's, in one change signed
    /// by `signature` (the server's). Returns whether there was anything to do.
    pub fn migrate(doc: &mut Automerge, signature: &crate::Signature) -> Result<bool, SchemaError> {
        let migrations = schema::pending_migrations(doc)?;
        if migrations.is_empty() {
            return Ok(false);
        }
        doc.transact_with(
            |_| signature.commit_options("migrate_schema"),
            |tx| schema::migrate(tx, migrations),
        )
        .map_err(|failure| failure.error)?;
        Ok(true)
    }

    /// The Automerge document.
    pub fn into_automerge(self) -> Automerge {
        self.doc
    }

    /// The document's full, compressed bytes.
    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made since `heads`, to append to an earlier save.
    pub fn save_after(&self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Applies bytes from [`HouseholdDoc::save_after`] (or another replica's save).
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<(), SchemaError> {
        self.doc.load_incremental(bytes)?;
        Ok(())
    }

    /// Merges another replica of the same household into this one.
    pub fn merge(&mut self, other: &mut HouseholdDoc) -> Result<(), SchemaError> {
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }

    /// An independent copy that will write as `actor`.
    pub fn fork(&self, actor: ActorId) -> Self {
        Self {
            doc: self.doc.fork().with_actor(actor),
        }
    }
}

impl<D: Borrow<Automerge>> HouseholdDoc<D> {
    /// Wraps a document held elsewhere. Call [`HouseholdDoc::from_automerge`] first on
    /// documents that may be old or foreign: this does not check the schema version.
    pub fn new(doc: D) -> Self {
        Self { doc }
    }

    pub(crate) fn automerge(&self) -> &Automerge {
        self.doc.borrow()
    }

    /// The household as it stands.
    pub fn household(&self) -> Result<Household, SchemaError> {
        schema::read_household(self.automerge())
    }

    /// The profile alone: where the household lives, its district, caseload and status.
    /// Much cheaper than [`HouseholdDoc::household`] on a long history.
    pub fn profile(&self) -> Result<crate::schema::household::Profile, SchemaError> {
        schema::read_profile(self.automerge())
    }

    /// What a caseload line shows (address, status, how many people, each visit's time,
    /// status and follow-ups), read without the notes, the members or the plan.
    /// Keep it, and bring it up to date with [`HouseholdDoc::catch_up_outline`] after
    /// changes: that reads again only what they touched.
    pub fn outline(&self) -> Result<crate::schema::outline::Outline, SchemaError> {
        crate::schema::outline::Outline::read(self.automerge())
    }

    /// Brings an outline read from this document, at any earlier state, up to date.
    pub fn catch_up_outline(
        &self,
        outline: &mut crate::schema::outline::Outline,
    ) -> Result<(), SchemaError> {
        outline.catch_up(self.automerge())
    }

    /// Every field that replicas set concurrently and nobody has settled yet.
    pub fn conflicts(&self) -> Result<Vec<Conflict>, SchemaError> {
        Ok(schema::conflicts::find(self.automerge())?)
    }

    /// The length of a note in characters, `None` when there is no such note. Positions for
    /// [`HouseholdDoc::splice_note`] run from 0 to this length.
    pub fn note_len(&self, note: &crate::schema::NoteRef) -> Result<Option<usize>, SchemaError> {
        schema::note_len(self.automerge(), note)
    }

    /// The document's current heads: the changes nothing else depends on yet.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.automerge().get_heads()
    }

    /// The Automerge document, for syncing and storage.
    pub fn as_automerge(&self) -> &Automerge {
        self.automerge()
    }
}

impl<D: BorrowMut<Automerge>> HouseholdDoc<D> {
    pub(crate) fn automerge_mut(&mut self) -> &mut Automerge {
        self.doc.borrow_mut()
    }
}

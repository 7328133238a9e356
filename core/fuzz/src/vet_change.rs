//! `vet_change`: bytes as Automerge change chunks a device sends, vetted as the server vets
//! them against the fixture household.

use lots_core::automerge::{Automerge, Change};
use lots_core::{HouseholdDoc, TEXT_ENCODING, Vetting, vet_changes};

use crate::chunks;
use crate::world::{Tables, anna, now, world};

/// The most changes one input is read as: enough for dependencies among them.
const MAX_CHANGES: usize = 16;

/// Reads `data` as one or more change chunks (split where their headers say) and vets those
/// that parse as Anna's, on her phone, against the fixture household; when the first has no
/// dependencies, also against an empty document (a household's first change).
pub fn vet_change(data: &[u8]) {
    let changes: Vec<Change> = chunks::split(data)
        .into_iter()
        .take(MAX_CHANGES)
        .filter_map(|chunk| Change::try_from(chunk).ok())
        .collect();
    let Some(first) = changes.first() else {
        return;
    };
    let creates = first.deps().is_empty();
    let tables = Tables::for_fixture();
    if creates {
        let empty = Automerge::new_with_encoding(TEXT_ENCODING);
        let vetting = vet_changes(&empty, changes.clone(), &anna(), &tables, now());
        still_reads(&vetting);
    }
    let vetting = vet_changes(&world().household, changes, &anna(), &tables, now());
    still_reads(&vetting);
}

/// What the trust boundary promises: with the changes it accepted applied, the household
/// reads in every way the app reads it.
pub(crate) fn still_reads(vetting: &Vetting) {
    let Some(merged) = &vetting.merged else {
        return;
    };
    let doc = HouseholdDoc::new(merged);
    if let Err(error) = doc.household() {
        panic!("vet_changes accepted changes after which the household does not read: {error}");
    }
    if let Err(error) = doc.profile() {
        panic!("vet_changes accepted changes after which the profile does not read: {error}");
    }
    if let Err(error) = doc.conflicts() {
        panic!("vet_changes accepted changes after which the conflicts do not read: {error}");
    }
}

//! `document_load`: bytes as storage hands them back (the server's database, the browser's
//! IndexedDB), loaded as a household and read every way the app reads one.

use lots_core::HouseholdDoc;
use lots_core::automerge::ActorId;

use crate::chunks;

/// Loads `data` (with its chunks' checksums set right, see `chunks`) as a household, then
/// reads the household, its profile and its conflicts. A document that loads must save to
/// bytes that load again.
pub fn document_load(data: &[u8]) {
    let bytes = chunks::with_checksums(data);
    let actor = ActorId::from([0x10; 16].as_slice());
    let Ok(doc) = HouseholdDoc::load(&bytes, actor.clone()) else {
        return;
    };
    let _ = doc.household();
    let _ = doc.profile();
    let _ = doc.conflicts();
    if let Err(error) = HouseholdDoc::load(&doc.save(), actor) {
        panic!("a household that loaded does not load again once saved: {error}");
    }
}

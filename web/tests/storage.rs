//! The device's storage in a real browser (headless Chromium through `wasm-pack test`):
//! documents written in chunks read back after reopening, the engine compacts them, and a
//! write that fails is reported without losing what was saved before or what is on screen.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use idb::{Factory, TransactionMode};
use lots_core::automerge::ActorId;
use lots_core::{DocumentId, HouseholdDoc, NoteRef};
use lots_web::engine::ActError;
use lots_web::storage::{COMPACT_AFTER_CHUNKS, Storage, StorageError};
use wasm_bindgen_test::*;

mod common;

use common::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_document_written_in_chunks_reads_back_after_reopening() {
    let name = fresh_name("reopen");
    let document = DocumentId::from_bytes([1; 16]);
    let mut doc = household(1);
    let storage = Storage::open_named(&name).await.unwrap();
    storage.append(&document, &doc.save(), false).await.unwrap();
    let saved = doc.heads();
    doc.splice_note(&signature(1), &NoteRef::Plan, 0, 0, "Boka tolk. ")
        .unwrap();
    storage
        .append(&document, &doc.save_after(&saved), true)
        .await
        .unwrap();
    storage.close();

    let again = Storage::open_named(&name).await.unwrap();
    let stored = again.load().await.unwrap();
    let (bytes, chunks) = &stored.documents[&document];
    assert_eq!(*chunks, 2);
    let loaded = HouseholdDoc::load(bytes, ActorId::random()).unwrap();
    assert_eq!(loaded.heads(), doc.heads());
    assert_eq!(loaded.household().unwrap(), doc.household().unwrap());
    assert_eq!(stored.dirty, vec![document]);

    // Once the server has it, the document is no longer waiting — also after a reload.
    again.mark_clean(&[document]).await.unwrap();
    again.close();
    let third = Storage::open_named(&name).await.unwrap();
    assert!(third.load().await.unwrap().dirty.is_empty());
    third.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_engine_compacts_a_document_it_keeps_changing() {
    let document = DocumentId::from_bytes([2; 16]);
    let (name, storage, engine) = engine_holding("compact", document, household(2)).await;
    let edits = COMPACT_AFTER_CHUNKS + 8;
    for minute in 0..edits {
        engine
            .act(document, |doc| {
                doc.splice_note(&signature(minute as i64), &NoteRef::Plan, 0, 0, "x")
            })
            .await
            .unwrap();
    }
    let expected_heads = engine.with_document(&document, |doc| doc.heads()).unwrap();
    storage.close();

    let again = Storage::open_named(&name).await.unwrap();
    let stored = again.load().await.unwrap();
    let (bytes, chunks) = &stored.documents[&document];
    assert!(
        *chunks <= COMPACT_AFTER_CHUNKS,
        "{chunks} chunks after {edits} edits: the document was never compacted"
    );
    let loaded = HouseholdDoc::load(bytes, ActorId::random()).unwrap();
    assert_eq!(loaded.heads(), expected_heads);
    assert!(plan_notes(&HouseholdDoc::new(loaded.as_automerge())).starts_with(&"x".repeat(edits)));
    again.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_failed_write_is_reported_and_loses_nothing() {
    let document = DocumentId::from_bytes([3; 16]);
    let (name, _storage, engine) = engine_holding("closed", document, household(2)).await;
    engine
        .act(document, |doc| {
            doc.splice_note(&signature(1), &NoteRef::Plan, 0, 0, "Sparad. ")
        })
        .await
        .unwrap();

    // A newer version of the app opens the database in another tab: this tab's connection
    // closes so that the upgrade can go on.
    let newer = Factory::new()
        .unwrap()
        .open(&name, Some(1_000))
        .unwrap()
        .await
        .unwrap();

    let error = engine
        .act(document, |doc| {
            doc.splice_note(&signature(2), &NoteRef::Plan, 0, 0, "Osparad. ")
        })
        .await
        .unwrap_err();
    assert!(
        matches!(error, ActError::Storage(StorageError::Closed)),
        "{error:?}"
    );
    let problem = engine.status().problem.unwrap();
    assert!(problem.contains("reload"), "{problem}");
    // What the person typed is still on screen…
    let shown = engine
        .with_document(&document, |doc| plan_notes(&doc))
        .unwrap();
    assert!(shown.starts_with("Osparad. Sparad. "), "{shown}");
    // …and what was saved before is still on the device.
    let transaction = newer
        .transaction(&["chunks"], TransactionMode::ReadOnly)
        .unwrap();
    let chunks = transaction
        .object_store("chunks")
        .unwrap()
        .count(None)
        .unwrap()
        .await
        .unwrap();
    assert_eq!(chunks, 2, "the full save and the first change");
    transaction.await.unwrap();
    newer.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn households_show_from_their_summaries_before_the_documents_load() {
    let document = DocumentId::from_bytes([4; 16]);
    let (name, storage, engine) = engine_holding("summary", document, household(2)).await;
    engine
        .act(document, |doc| {
            doc.splice_note(&signature(1), &NoteRef::Plan, 0, 0, "Sammanfattad. ")
        })
        .await
        .unwrap();
    let shown = engine.households()[&document].clone();
    // The summary is written in the background once the household has been read.
    for _ in 0..100 {
        if !storage.load().await.unwrap().summaries.is_empty() {
            break;
        }
        pause().await;
    }

    let reopened = lots_web::engine::Engine::open(
        storage.clone(),
        lots_core::PeerId::new("summary-again").unwrap(),
        "ws://127.0.0.1:9/sync".into(),
    )
    .await
    .unwrap();
    // Straight after opening, before the document is loaded, the household is there…
    assert_eq!(*reopened.households()[&document], *shown);
    // …with its timeline, so the desk's reports know without the document whether it is
    // as it is now at an instant.
    let (_, timeline) = &reopened.households_with_timelines()[&document];
    let expected = engine
        .with_document(&document, |doc| lots_core::Timeline::of(&doc))
        .unwrap();
    let timeline = timeline.as_ref().unwrap();
    assert_eq!(timeline.heads(), expected.heads());
    assert_eq!(
        timeline.at(lots_core::Timestamp::from_millis(i64::MAX)),
        lots_core::Past::Now
    );
    // …and once loaded it is read from the document, the same.
    let heads = reopened
        .with_document(&document, |doc| doc.heads())
        .unwrap();
    assert_eq!(
        heads,
        engine.with_document(&document, |doc| doc.heads()).unwrap()
    );
    assert_eq!(*reopened.households()[&document], *shown);
    storage.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn households_as_at_an_instant_are_kept_per_instant_and_cleared_on_sign_out() {
    let name = fresh_name("past");
    let storage = Storage::open_named(&name).await.unwrap();
    let (one, two) = (
        DocumentId::from_bytes([5; 16]),
        DocumentId::from_bytes([6; 16]),
    );
    let end_of_april = 1_777_593_600_000;
    let end_of_august = 1_788_220_800_000;
    storage
        .save_past(
            end_of_april,
            &[(one, "{\"april\":1}".into()), (two, "{\"april\":2}".into())],
        )
        .await
        .unwrap();
    storage
        .save_past(end_of_august, &[(one, "{\"august\":1}".into())])
        .await
        .unwrap();
    let mut april = storage.past(end_of_april).await.unwrap();
    april.sort();
    assert_eq!(
        april,
        vec![
            (one, "{\"april\":1}".to_owned()),
            (two, "{\"april\":2}".to_owned())
        ]
    );
    assert_eq!(
        storage.past(end_of_august).await.unwrap(),
        vec![(one, "{\"august\":1}".to_owned())]
    );
    // An instant whose digits begin another's is its own range.
    assert!(storage.past(1_777).await.unwrap().is_empty());

    storage.clear().await.unwrap();
    assert!(storage.past(end_of_april).await.unwrap().is_empty());
    storage.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_forgotten_document_leaves_nothing_behind_and_the_others_stay() {
    let name = fresh_name("forget");
    let (gone, kept) = (
        DocumentId::from_bytes([5; 16]),
        DocumentId::from_bytes([6; 16]),
    );
    let storage = Storage::open_named(&name).await.unwrap();
    for (document, seed) in [(gone, 5), (kept, 6)] {
        let bytes = household(seed).save();
        storage.append(&document, &bytes, true).await.unwrap();
        storage.save_summary(&document, "{}").await.unwrap();
        storage
            .save_sync_states(&[("server".into(), document, vec![1, 2, 3])])
            .await
            .unwrap();
    }
    storage.forget(&gone).await.unwrap();
    let stored = storage.load().await.unwrap();
    assert!(!stored.documents.contains_key(&gone));
    assert!(stored.documents.contains_key(&kept));
    assert_eq!(stored.dirty, vec![kept]);
    assert_eq!(
        stored
            .summaries
            .iter()
            .map(|(document, _)| *document)
            .collect::<Vec<_>>(),
        vec![kept]
    );
    assert_eq!(
        stored
            .sync_states
            .iter()
            .map(|(_, document, _)| *document)
            .collect::<Vec<_>>(),
        vec![kept]
    );
    storage.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_stored_household_that_does_not_load_is_listed_with_why() {
    let name = fresh_name("damaged");
    let (damaged, fine) = (
        DocumentId::from_bytes([7; 16]),
        DocumentId::from_bytes([8; 16]),
    );
    let storage = Storage::open_named(&name).await.unwrap();
    storage
        .append(&damaged, &[133, 111, 74, 131, 1, 2, 3], false)
        .await
        .unwrap();
    storage
        .append(&fine, &household(8).save(), false)
        .await
        .unwrap();
    let engine = lots_web::engine::Engine::open(
        storage.clone(),
        lots_core::PeerId::new(format!("{name}-peer")).unwrap(),
        "ws://127.0.0.1:9/sync".into(),
    )
    .await
    .unwrap();
    until("the stored households to load", || !engine.loading()).await;
    assert!(engine.households().contains_key(&fine));
    let unreadable = engine.unreadable();
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert_eq!(unreadable[0].document, damaged);
    assert_eq!(unreadable[0].place, lots_web::unreadable::Place::Device);
    assert!(unreadable[0].reason.contains("does not load"));
    let status = engine.status();
    assert_eq!(status.unreadable, 1);
    assert!(!status.synced());
    engine.end();
    storage.close();
    Storage::delete_named(&name).await.unwrap();
}

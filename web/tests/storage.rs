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
use lots_web::vault::{Keyring, VaultError};
use wasm_bindgen_test::*;

mod common;

use common::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_document_written_in_chunks_reads_back_after_reopening() {
    let name = fresh_name("reopen");
    let document = DocumentId::from_bytes([1; 16]);
    let mut doc = household(1);
    let storage = open_unlocked(&name).await;
    storage.append(&document, &doc.save(), false).await.unwrap();
    let saved = doc.heads();
    doc.splice_note(&signature(1), &NoteRef::Plan, 0, 0, "Boka tolk. ")
        .unwrap();
    storage
        .append(&document, &doc.save_after(&saved), true)
        .await
        .unwrap();
    storage.close();

    let again = open_unlocked(&name).await;
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
    let third = open_unlocked(&name).await;
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

    let again = open_unlocked(&name).await;
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
    let storage = open_unlocked(&name).await;
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
    let storage = open_unlocked(&name).await;
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
    let storage = open_unlocked(&name).await;
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

/// Runs `body` (JavaScript, may `await`) in the page and returns what it returns.
async fn in_page(body: &str) -> wasm_bindgen::JsValue {
    let promise: js_sys::Promise = js_sys::eval(&format!("(async () => {{ {body} }})()"))
        .unwrap()
        .into();
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap()
}

/// Every record of database `name`, read raw, as Latin-1 text (so that UTF-8 in bytes shows).
async fn raw_text(name: &str) -> String {
    in_page(&format!(
        r#"
        const database = await new Promise((done, fail) => {{
            const open = indexedDB.open("{name}");
            open.onsuccess = () => done(open.result);
            open.onerror = () => fail(open.error);
        }});
        const latin1 = new TextDecoder("latin1");
        const text = (value) => value instanceof Uint8Array ? latin1.decode(value)
            : typeof value === "object" && value !== null
                ? Object.values(value).map(text).join("\n") : String(value);
        let all = "";
        for (const store of database.objectStoreNames) {{
            const values = await new Promise((done) => {{
                const request = database.transaction(store).objectStore(store).getAll();
                request.onsuccess = () => done(request.result);
            }});
            all += values.map(text).join("\n");
        }}
        database.close();
        return all;
        "#
    ))
    .await
    .as_string()
    .unwrap()
}

#[wasm_bindgen_test]
async fn what_is_stored_is_sealed_and_opens_only_with_its_key() {
    let name = fresh_name("sealed");
    let document = DocumentId::from_bytes([9; 16]);
    let storage = open_unlocked(&name).await;
    let bytes = household(9).save();
    storage.append(&document, &bytes, true).await.unwrap();
    storage
        .save_summary(&document, "{\"address\":\"Kanariegatan 7\"}")
        .await
        .unwrap();
    storage
        .set_meta("note", Some(&"Kanariegatan 7".to_owned()))
        .await
        .unwrap();
    storage.close();
    assert!(!raw_text(&name).await.contains("Kanariegatan"));

    // Locked, nothing of a person reads; what the lock screen needs does.
    let locked = Storage::open_named(&name).await.unwrap();
    assert_eq!(locked.load().await.unwrap_err(), StorageError::Locked);
    assert_eq!(
        locked.meta::<String>("note").await.unwrap_err(),
        StorageError::Locked
    );
    assert_eq!(locked.waiting().await.unwrap(), 1);
    assert!(locked.keyring().await.unwrap().is_some());
    // Under another key the household is listed as damaged, never loaded or dropped.
    let (_, other) = Keyring::create("u-anna", "ett helt annat lösenord", 0)
        .await
        .unwrap();
    let wrong = locked.unlocked(other).load().await.unwrap();
    assert!(wrong.documents.is_empty());
    assert!(wrong.damaged.contains_key(&document), "{wrong:?}");
    assert!(wrong.summaries.is_empty());
    assert_eq!(wrong.dirty, vec![document]);
    locked.close();

    let right = open_unlocked(&name).await;
    let stored = right.load().await.unwrap();
    assert_eq!(stored.documents[&document].0, bytes);
    assert_eq!(
        right.meta::<String>("note").await.unwrap().as_deref(),
        Some("Kanariegatan 7")
    );
    right.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_key_opens_with_its_secret_only_and_follows_a_new_password() {
    let (keyring, key) = Keyring::create("u-anna", SECRET, 0).await.unwrap();
    assert_eq!(
        keyring.open("fel lösenord").await.unwrap_err(),
        VaultError::WrongSecret
    );
    let sealed = key.seal("meta/x", b"hemligt").await.unwrap();
    let again = keyring.open(SECRET).await.unwrap();
    assert_eq!(again.open("meta/x", &sealed).await.unwrap(), b"hemligt");
    // Bound to its record: moved to another, it does not open.
    assert!(again.open("meta/y", &sealed).await.is_err());
    let new_password = "ett nytt eget lösenord";
    let rewrapped = keyring.rewrap(SECRET, new_password).await.unwrap();
    assert_eq!(
        rewrapped.open(SECRET).await.unwrap_err(),
        VaultError::WrongSecret
    );
    let same = rewrapped.open(new_password).await.unwrap();
    assert_eq!(same.open("meta/x", &sealed).await.unwrap(), b"hemligt");
}

#[wasm_bindgen_test]
async fn a_device_from_before_sealing_is_sealed_at_its_first_unlock() {
    let name = fresh_name("legacy");
    let document = DocumentId::from_bytes([10; 16]);
    let bytes = household(10).save();
    // A version-3 database, as an older Lots left it: everything in the clear.
    in_page(&format!(
        r#"
        await new Promise((done, fail) => {{
            const open = indexedDB.open("{name}", 3);
            open.onupgradeneeded = () => {{
                const database = open.result;
                database.createObjectStore("chunks", {{ autoIncrement: true }})
                    .createIndex("by_document", "document");
                for (const store of ["sync_states", "dirty", "meta", "summaries", "past"]) {{
                    database.createObjectStore(store);
                }}
            }};
            open.onsuccess = () => {{
                const database = open.result;
                const transaction = database.transaction(["chunks", "dirty", "meta", "summaries"], "readwrite");
                transaction.objectStore("chunks").put({{ document: "{document}", bytes: new Uint8Array({bytes:?}) }});
                transaction.objectStore("dirty").put(true, "{document}");
                transaction.objectStore("meta").put(JSON.stringify("Kanariegatan 7"), "me");
                transaction.objectStore("summaries").put("{{}}", "{document}");
                transaction.oncomplete = () => {{ database.close(); done(); }};
                transaction.onerror = () => fail(transaction.error);
            }};
            open.onerror = () => fail(open.error);
        }});
        "#
    ))
    .await;
    let storage = Storage::open_named(&name).await.unwrap();
    assert!(storage.has_legacy().await.unwrap());
    assert!(storage.keyring().await.unwrap().is_none());
    assert_eq!(
        storage
            .legacy_meta::<String>("me")
            .await
            .unwrap()
            .as_deref(),
        Some("Kanariegatan 7")
    );
    let (keyring, key) = Keyring::create("u-anna", SECRET, 0).await.unwrap();
    storage.set_keyring(&keyring).await.unwrap();
    let unlocked = storage.unlocked(key);
    unlocked.seal_legacy().await.unwrap();
    assert!(!unlocked.has_legacy().await.unwrap());
    let stored = unlocked.load().await.unwrap();
    assert_eq!(stored.documents[&document].0, bytes);
    assert_eq!(stored.dirty, vec![document]);
    assert_eq!(
        unlocked.meta::<String>("me").await.unwrap().as_deref(),
        Some("Kanariegatan 7")
    );
    unlocked.close();
    assert!(!raw_text(&name).await.contains("Kanariegatan"));
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
fn a_sign_in_and_a_key_handed_to_the_next_app_are_taken_once() {
    let me: lots_web::api::Me = serde_json::from_value(serde_json::json!({
        "user": {
            "id": "u-anna", "username": "anna", "display_name": "Anna",
            "role": "staff", "districts": [], "disabled": false
        },
        "device_id": "d-new"
    }))
    .unwrap();
    lots_web::lock::hand_over_sign_in(&me);
    assert_eq!(lots_web::lock::handed_over_sign_in(), Some(me));
    assert_eq!(lots_web::lock::handed_over_sign_in(), None);
    assert!(lots_web::lock::handed_over().is_none());
}

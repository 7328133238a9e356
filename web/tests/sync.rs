//! The sync client in a real browser against the real server. `cargo xtask test` starts
//! lots-server with its demo data (tests/e2e/web-sync.mjs), signs in as a field worker and
//! builds these tests with the socket's address, her session cookie (which the page sets, as
//! signing in sets it for the app), her id and her session's device (changes are signed so)
//! and one household of her caseload.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

mod common;

use common::*;
use lots_core::{DocumentId, NoteRef};
use lots_web::engine::{Connection, Engine};
use lots_web::storage::Storage;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The server's socket and a household the signed-in worker may sync.
fn fixture() -> (&'static str, DocumentId) {
    const HOW: &str = "run these tests with `cargo xtask test`, which starts the server";
    let url = option_env!("LOTS_TEST_SYNC_URL")
        .unwrap_or_else(|| panic!("LOTS_TEST_SYNC_URL is not set: {HOW}"));
    let document = option_env!("LOTS_TEST_DOCUMENT")
        .unwrap_or_else(|| panic!("LOTS_TEST_DOCUMENT is not set: {HOW}"));
    let cookie = option_env!("LOTS_TEST_SESSION_COOKIE")
        .unwrap_or_else(|| panic!("LOTS_TEST_SESSION_COOKIE is not set: {HOW}"));
    let page = web_sys::window().unwrap().document().unwrap();
    js_sys::Reflect::set(
        &page,
        &"cookie".into(),
        &format!("{cookie}; Path=/; SameSite=Strict").into(),
    )
    .unwrap();
    (url, document.parse().unwrap())
}

/// A signature the server takes: the signed-in worker on the device her session belongs
/// to, now (the server refuses changes signed by anyone else, on another device, or ahead of
/// its clock).
fn session_signature() -> lots_core::Signature {
    const HOW: &str = "run these tests with `cargo xtask test`, which starts the server";
    let staff = option_env!("LOTS_TEST_STAFF")
        .unwrap_or_else(|| panic!("LOTS_TEST_STAFF is not set: {HOW}"));
    let device = option_env!("LOTS_TEST_DEVICE")
        .unwrap_or_else(|| panic!("LOTS_TEST_DEVICE is not set: {HOW}"));
    lots_core::Signature::new(
        lots_core::StaffId::new(staff).unwrap(),
        lots_core::DeviceId::new(device).unwrap(),
        lots_web::browser::now(),
    )
}

/// A new device that has synced `document` from the server.
async fn synced_device(what: &str) -> (String, Storage, Engine) {
    let (url, document) = fixture();
    let (name, storage, engine) = engine(what, url).await;
    engine.connect();
    engine.want([document]);
    until("the household to arrive", || {
        engine.households().contains_key(&document)
    })
    .await;
    until("the arrival to be saved", || engine.status().saving == 0).await;
    (name, storage, engine)
}

fn notes(engine: &Engine, document: &DocumentId) -> String {
    engine
        .with_document(document, |doc| plan_notes(&doc))
        .unwrap()
}

#[wasm_bindgen_test]
async fn a_household_syncs_from_the_server_and_is_kept_on_the_device() {
    let (_, document) = fixture();
    let (name, storage, engine) = synced_device("down").await;
    assert_eq!(engine.status().link, Connection::Online);
    assert_eq!(engine.status().waiting, 0);
    let heads = engine.with_document(&document, |doc| doc.heads()).unwrap();
    engine.offline();
    storage.close();

    // Opened again with no network, the device has the household as it synced it.
    let again = open_unlocked(&name).await;
    let offline = Engine::open(
        again.clone(),
        lots_core::PeerId::new("reopened").unwrap(),
        "ws://127.0.0.1:9/sync".into(),
    )
    .await
    .unwrap();
    assert_eq!(
        offline.with_document(&document, |doc| doc.heads()).unwrap(),
        heads
    );
    assert!(offline.households().contains_key(&document));
    again.close();
    Storage::delete_named(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_change_made_offline_reaches_another_device_on_reconnect() {
    let (_, document) = fixture();
    let (name, storage, phone) = synced_device("phone").await;
    let (other_name, other_storage, desk) = synced_device("desk").await;

    phone.offline();
    let marker = format!("Skrivet utan nät {}. ", js_sys::Math::random().to_bits());
    let signed = session_signature();
    phone
        .act(document, |doc| {
            doc.splice_note(&signed, &NoteRef::Plan, 0, 0, &marker)
        })
        .await
        .unwrap();
    assert_eq!(phone.status().waiting, 1);
    assert_eq!(storage.load().await.unwrap().dirty, vec![document]);
    assert!(!notes(&desk, &document).contains(&marker));

    phone.connect();
    until("the server to acknowledge the change", || {
        phone.status().waiting == 0
    })
    .await;
    // Acknowledged, not refused and held back.
    assert_eq!(phone.status().held_back, 0);
    until("the other device to receive the change", || {
        notes(&desk, &document).contains(&marker)
    })
    .await;
    // The device forgets that the household was waiting once the server has it.
    let mut dirty = storage.load().await.unwrap().dirty;
    for _ in 0..100 {
        if dirty.is_empty() {
            break;
        }
        pause().await;
        dirty = storage.load().await.unwrap().dirty;
    }
    assert!(dirty.is_empty(), "still waiting on the device: {dirty:?}");

    for (engine, storage, name) in [(phone, storage, name), (desk, other_storage, other_name)] {
        engine.offline();
        storage.close();
        Storage::delete_named(&name).await.unwrap();
    }
}

//! What the browser tests share: throwaway databases, a synthetic household, an engine.

#![allow(dead_code)] // Each test file uses its own part.

use lots_core::automerge::Automerge;
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{
    Date, DeviceId, DistrictId, DocumentId, HouseholdDoc, PeerId, Signature, StaffId, Timestamp,
};
use lots_web::engine::Engine;
use lots_web::storage::Storage;
use lots_web::vault::Keyring;

/// A database name no other test (or earlier run) uses.
pub fn fresh_name(what: &str) -> String {
    format!("lots-test-{what}-{}", js_sys::Math::random().to_bits())
}

pub fn staff() -> StaffId {
    StaffId::new("u-anna").unwrap()
}

pub fn signature(minute: i64) -> Signature {
    let at = Timestamp::start_of(Date::from_ymd(2026, 3, 2).unwrap()).plus_minutes(9 * 60 + minute);
    Signature::new(staff(), DeviceId::new("d-test").unwrap(), at)
}

/// A synthetic household with a few visits, as a document.
pub fn household(seed: u64) -> HouseholdDoc {
    Generator::new(seed)
        .household(&HouseholdSpec {
            district: DistrictId::new("norrmalm").unwrap(),
            staff: staff(),
            device: DeviceId::new("d-test").unwrap(),
            opened_on: Date::from_ymd(2025, 9, 1).unwrap(),
            visits: 6,
            today: Date::from_ymd(2026, 3, 1).unwrap(),
        })
        .unwrap()
}

pub fn plan_notes(doc: &HouseholdDoc<&Automerge>) -> String {
    doc.household().unwrap().plan.notes.as_str().to_owned()
}

/// The passphrase the tests' devices are locked with (synthetic).
pub const SECRET: &str = "tre ord för testerna";

/// Opens database `name` unlocked: with its key when it has one, else with a new one.
pub async fn open_unlocked(name: &str) -> Storage {
    let storage = Storage::open_named(name).await.unwrap();
    let key = match storage.keyring().await.unwrap() {
        Some(keyring) => keyring.open(SECRET).await.unwrap(),
        None => {
            let (keyring, key) = Keyring::create("u-anna", SECRET, 0).await.unwrap();
            storage.set_keyring(&keyring).await.unwrap();
            key
        }
    };
    storage.unlocked(key)
}

/// A fresh database and an engine on it, for a peer named after `what`; `sync_url` is where
/// it connects when asked to.
pub async fn engine(what: &str, sync_url: &str) -> (String, Storage, Engine) {
    let name = fresh_name(what);
    let storage = open_unlocked(&name).await;
    let peer = PeerId::new(format!("{name}-peer")).unwrap();
    let engine = Engine::open(storage.clone(), peer, sync_url.to_owned())
        .await
        .unwrap();
    (name, storage, engine)
}

/// An engine that holds `household` as `document` (never connected).
pub async fn engine_holding(
    what: &str,
    document: DocumentId,
    household: HouseholdDoc,
) -> (String, Storage, Engine) {
    let (name, storage, engine) = engine(what, "ws://127.0.0.1:9/sync").await;
    engine
        .add(document, household.into_automerge())
        .await
        .unwrap();
    (name, storage, engine)
}

/// Waits (up to 30 s, polling) until `done` holds; panics naming `what` otherwise.
pub async fn until(what: &str, mut done: impl FnMut() -> bool) {
    wasm_bindgen_test::console_log!("waiting for {what}");
    for _ in 0..600 {
        if done() {
            return;
        }
        pause().await;
    }
    panic!("waited 30 s for {what}");
}

/// Lets the browser run for 50 ms.
pub async fn pause() {
    gloo::timers::future::TimeoutFuture::new(50).await;
}

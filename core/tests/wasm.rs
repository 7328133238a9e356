//! Core in a real browser: the same actions, merges, history, fixtures and sync as natively,
//! compiled to WebAssembly and run in headless Chromium by `wasm-pack test --headless --chrome`.
//! Time and randomness come from the test, as in every build: core never reads the clock.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

mod common;

use common::*;
use lots_core::automerge::{ActorId, Automerge};
use lots_core::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn actions_validate_and_commit_in_the_browser() {
    let mut doc = household(1);
    let visit = VisitId::new("v-1").unwrap();
    doc.record_visit(
        &sign("u-anna", at("2024-01-15", 12)),
        &visit,
        visit_record(at("2024-01-15", 10), "u-anna", "Anteckning."),
    )
    .unwrap();
    let heads = doc.heads();
    let error = doc
        .cancel_visit(&sign("u-anna", at("2024-01-15", 13)), &visit)
        .unwrap_err();
    assert!(matches!(error, ActionError::VisitStatus { .. }));
    assert_eq!(doc.heads(), heads);
    assert_eq!(
        doc.household().unwrap().visits[&visit].notes.as_str(),
        "Anteckning."
    );
}

#[wasm_bindgen_test]
fn concurrent_edits_merge_and_conflicts_show_in_the_browser() {
    let mut phone = household(1);
    let visit = VisitId::new("v-1").unwrap();
    phone
        .record_visit(
            &sign("u-anna", at("2024-01-15", 12)),
            &visit,
            visit_record(at("2024-01-15", 10), "u-anna", "Mitten."),
        )
        .unwrap();
    let mut desk = phone.fork(actor(2));
    let mut longer = visit_record(at("2024-01-15", 10), "u-anna", "Mitten.");
    longer.duration_minutes = 90;
    desk.record_visit(&sign("u-boss", at("2024-01-15", 13)), &visit, longer)
        .unwrap();
    let mut shorter = visit_record(at("2024-01-15", 10), "u-anna", "Mitten.");
    shorter.duration_minutes = 30;
    phone
        .record_visit(&sign("u-anna", at("2024-01-15", 13)), &visit, shorter)
        .unwrap();
    let note = NoteRef::Visit(visit.clone());
    phone
        .splice_note(
            &sign("u-anna", at("2024-01-15", 14)),
            &note,
            0,
            0,
            "Början. ",
        )
        .unwrap();
    desk.splice_note(
        &sign("u-boss", at("2024-01-15", 14)),
        &note,
        7,
        0,
        " Slutet.",
    )
    .unwrap();
    phone.merge(&mut desk).unwrap();
    let household = phone.household().unwrap();
    assert_eq!(
        household.visits[&visit].notes.as_str(),
        "Början. Mitten. Slutet."
    );
    let conflicts = phone.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].values.len(), 2);
    phone
        .resolve_conflict(
            &sign("u-anna", at("2024-01-15", 15)),
            &conflicts[0].field,
            &FieldValue::Uint(90),
        )
        .unwrap();
    assert_eq!(
        phone.household().unwrap().visits[&visit].duration_minutes,
        Some(90)
    );
}

#[wasm_bindgen_test]
fn history_and_saved_bytes_work_in_the_browser() {
    let mut doc = household(1);
    doc.close_case(
        &sign("u-anna", at("2024-02-01", 9)),
        CloseReason::Work,
        date("2024-02-01"),
    )
    .unwrap();
    let before = doc.household_at(at("2024-01-20", 0)).unwrap().unwrap();
    assert_eq!(before.profile.status, CaseStatus::Active);
    let loaded = HouseholdDoc::load(&doc.save(), ActorId::from([9u8; 16].as_slice())).unwrap();
    assert_eq!(loaded.household().unwrap(), doc.household().unwrap());
    assert!(HouseholdDoc::load(b"junk", actor(3)).is_err());
}

#[wasm_bindgen_test]
fn the_released_fixture_loads_in_the_browser() {
    let bytes = include_bytes!("fixtures/household-v1.automerge");
    let expected = include_str!("fixtures/household-v1.json");
    let doc = HouseholdDoc::load(bytes, actor(4)).unwrap();
    let actual = serde_json::to_string_pretty(&doc.household().unwrap()).unwrap() + "\n";
    assert_eq!(actual, expected);
}

#[wasm_bindgen_test]
fn two_phones_sync_through_a_server_peer_in_the_browser() {
    const DOC: DocumentId = DocumentId::from_bytes([5; 16]);
    let mut net = MemoryNetwork::new();
    let server = net.add_peer("server", Role::Server);
    let phone1 = net.add_peer("phone-1", Role::Client);
    let phone2 = net.add_peer("phone-2", Role::Client);
    net.peers[phone1].insert_document(DOC, household(1).into_automerge());
    net.connect(phone1, server);
    net.connect(phone2, server);
    net.input(phone2, Input::Want { document: DOC });
    net.run_until_quiet();
    let read = |net: &MemoryNetwork, peer: usize| {
        HouseholdDoc::new(net.peers[peer].document(&DOC).unwrap())
            .household()
            .unwrap()
    };
    assert_eq!(read(&net, phone2), read(&net, phone1));
    let automerge: &mut Automerge = net.peers[phone2].document_mut(&DOC).unwrap();
    HouseholdDoc::new(automerge)
        .record_visit(
            &sign("u-omar", at("2024-01-16", 12)),
            &VisitId::new("v-2").unwrap(),
            visit_record(at("2024-01-16", 10), "u-omar", "Från telefon två."),
        )
        .unwrap();
    net.input(phone2, Input::LocalChange { document: DOC });
    net.run_until_quiet();
    assert!(
        read(&net, phone1)
            .visits
            .contains_key(&VisitId::new("v-2").unwrap())
    );
    assert_eq!(net.peers[phone2].status().dirty_documents, 0);
}

//! Tests of the trust boundary: honest changes pass, each kind of hostile change is refused
//! with its own reason, and nothing refused reaches the merged document.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::collections::{HashMap, HashSet};

use automerge::transaction::Transactable as _;
use automerge::{ActorId, Automerge, ObjType, ROOT};

use super::*;
use crate::synthetic::{Generator, HouseholdSpec};
use crate::{Date, HouseholdDoc};

#[derive(Default)]
struct Tables {
    actors: HashMap<ActorId, DeviceId>,
    quarantined: HashSet<ChangeHash>,
    holders: Vec<(StaffId, DistrictId)>,
}

impl Directory for Tables {
    fn actor_device(&self, actor: &ActorId) -> Option<DeviceId> {
        self.actors.get(actor).cloned()
    }
    fn may_hold(&self, staff: &StaffId, district: &DistrictId) -> bool {
        self.holders
            .iter()
            .any(|(holder, at)| holder == staff && at == district)
    }
    fn is_quarantined(&self, change: &ChangeHash) -> bool {
        self.quarantined.contains(change)
    }
}

fn norr() -> DistrictId {
    DistrictId::new("district-norr").unwrap()
}

fn anna() -> Writer {
    Writer {
        staff: StaffId::new("u-anna").unwrap(),
        device: DeviceId::new("d-phone").unwrap(),
        role: WriterRole::Staff,
        districts: vec![norr()],
    }
}

fn sara() -> Writer {
    Writer {
        staff: StaffId::new("u-sara").unwrap(),
        device: DeviceId::new("d-desk").unwrap(),
        role: WriterRole::Supervisor,
        districts: vec![norr()],
    }
}

fn now() -> Timestamp {
    Timestamp::start_of(Date::from_ymd(2026, 1, 1).unwrap())
}

/// A household recorded on Anna's phone through the app's actions.
fn household(seed: u64, visits: usize) -> HouseholdDoc {
    Generator::new(seed)
        .household(&HouseholdSpec {
            district: norr(),
            staff: anna().staff,
            device: anna().device,
            opened_on: Date::from_ymd(2024, 1, 8).unwrap(),
            visits,
            today: Date::from_ymd(2025, 12, 30).unwrap(),
        })
        .unwrap()
}

fn all_changes(doc: &Automerge) -> Vec<Change> {
    doc.get_changes(&[])
}

/// The server's copy: every change of the phone's document, already vetted.
fn server_copy(phone: &HouseholdDoc) -> Automerge {
    let mut server = Automerge::new();
    server
        .apply_changes(all_changes(phone.as_automerge()))
        .unwrap();
    server
}

/// One change made by hand on a copy of `doc`, signed as `signer`.
fn hand_change(
    doc: &Automerge,
    actor: ActorId,
    signer: &Writer,
    at: Timestamp,
    edit: impl FnOnce(&mut automerge::transaction::Transaction<'_>),
) -> Change {
    let mut copy = doc.fork().with_actor(actor);
    let signature = Signature::new(signer.staff.clone(), signer.device.clone(), at);
    let mut tx = copy.transaction();
    edit(&mut tx);
    tx.commit_with(signature.commit_options("by_hand"));
    copy.get_last_local_change().unwrap()
}

fn phone_actor(phone: &HouseholdDoc) -> ActorId {
    phone.as_automerge().get_actor().clone()
}

fn tables_for(phone: &HouseholdDoc) -> Tables {
    let mut tables = Tables::default();
    tables.actors.insert(phone_actor(phone), anna().device);
    tables.holders.push((anna().staff, norr()));
    tables
}

fn only_refusal(vetting: &Vetting) -> &Refusal {
    assert!(
        vetting.accepted.is_empty(),
        "accepted: {:?}",
        vetting.accepted.len()
    );
    assert_eq!(vetting.refused.len(), 1, "{:?}", vetting.refused);
    &vetting.refused[0].reason
}

fn map(doc: &impl automerge::ReadDoc, parent: &automerge::ObjId, key: &str) -> automerge::ObjId {
    match doc.get(parent, key).unwrap() {
        Some((automerge::Value::Object(_), id)) => id,
        other => panic!("no object at {key}: {other:?}"),
    }
}

#[test]
fn every_change_the_app_makes_passes() {
    let phone = household(1, 12);
    let vetting = vet_changes(
        &Automerge::new(),
        all_changes(phone.as_automerge()),
        &anna(),
        &Tables::default(),
        now(),
    );
    assert!(vetting.refused.is_empty(), "{:?}", vetting.refused);
    assert_eq!(
        vetting.accepted.len(),
        phone.as_automerge().get_changes(&[]).len()
    );
    assert_eq!(vetting.new_actors, vec![phone_actor(&phone)]);
    let merged = vetting.merged.unwrap();
    assert_eq!(merged.get_heads(), phone.heads());
}

#[test]
fn changes_arriving_out_of_order_are_taken_dependencies_first() {
    let phone = household(2, 5);
    let mut changes = all_changes(phone.as_automerge());
    changes.reverse();
    let vetting = vet_changes(
        &Automerge::new(),
        changes,
        &anna(),
        &Tables::default(),
        now(),
    );
    assert!(vetting.refused.is_empty());
    assert_eq!(vetting.merged.unwrap().get_heads(), phone.heads());
}

#[test]
fn a_change_signed_by_a_colleague_is_refused() {
    let phone = household(3, 2);
    let server = server_copy(&phone);
    let omar = Writer {
        staff: StaffId::new("u-omar").unwrap(),
        ..anna()
    };
    let change = hand_change(&server, phone_actor(&phone), &omar, now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 9").unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert_eq!(only_refusal(&vetting).code(), "signer");
    assert!(vetting.merged.is_none());
}

#[test]
fn an_unsigned_change_is_refused() {
    let phone = household(4, 2);
    let server = server_copy(&phone);
    let mut copy = server.fork().with_actor(phone_actor(&phone));
    let mut tx = copy.transaction();
    let profile = map(&tx, &ROOT, "profile");
    tx.put(&profile, "unit", "lgh 7").unwrap();
    tx.commit();
    let change = copy.get_last_local_change().unwrap();
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert_eq!(only_refusal(&vetting), &Refusal::Unsigned);
}

#[test]
fn another_devices_actor_is_refused() {
    let phone = household(5, 2);
    let server = server_copy(&phone);
    let mut tables = tables_for(&phone);
    let colleague_actor = ActorId::from([7u8; 16].as_slice());
    tables
        .actors
        .insert(colleague_actor.clone(), DeviceId::new("d-other").unwrap());
    let change = hand_change(&server, colleague_actor, &anna(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 8").unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables, now());
    assert_eq!(only_refusal(&vetting).code(), "actor");
}

#[test]
fn a_change_signed_a_day_ahead_is_refused_and_ten_minutes_is_not() {
    let phone = household(6, 2);
    let server = server_copy(&phone);
    let tables = tables_for(&phone);
    let ahead = hand_change(
        &server,
        phone_actor(&phone),
        &anna(),
        now().plus_minutes(24 * 60),
        |tx| {
            let profile = map(tx, &ROOT, "profile");
            tx.put(&profile, "unit", "lgh 8").unwrap();
        },
    );
    let vetting = vet_changes(&server, vec![ahead], &anna(), &tables, now());
    assert_eq!(only_refusal(&vetting).code(), "clock");
    let near = hand_change(
        &server,
        phone_actor(&phone),
        &anna(),
        now().plus_minutes(10),
        |tx| {
            let profile = map(tx, &ROOT, "profile");
            tx.put(&profile, "unit", "lgh 8").unwrap();
        },
    );
    let vetting = vet_changes(&server, vec![near], &anna(), &tables, now());
    assert!(vetting.refused.is_empty(), "{:?}", vetting.refused);
}

/// A change refused once (here: signed a day ahead) stays in quarantine when it is sent again
/// after the clock has caught up: only a supervisor's decision lets it in. Taken in, it would
/// sit in the document while held in quarantine, and every later change building on it would
/// be refused as depending on a refused change.
#[test]
fn a_quarantined_change_sent_again_stays_refused_once_it_would_pass() {
    let phone = household(6, 2);
    let server = server_copy(&phone);
    let mut tables = tables_for(&phone);
    let ahead = hand_change(
        &server,
        phone_actor(&phone),
        &anna(),
        now().plus_minutes(24 * 60),
        |tx| {
            let profile = map(tx, &ROOT, "profile");
            tx.put(&profile, "unit", "lgh 8").unwrap();
        },
    );
    let vetting = vet_changes(&server, vec![ahead.clone()], &anna(), &tables, now());
    assert_eq!(only_refusal(&vetting).code(), "clock");
    tables.quarantined.insert(ahead.hash());
    let next_day = now().plus_minutes(24 * 60);
    let vetting = vet_changes(&server, vec![ahead], &anna(), &tables, next_day);
    assert_eq!(only_refusal(&vetting), &Refusal::HeldInQuarantine);
}

#[test]
fn deleting_a_visit_is_refused() {
    let phone = household(7, 3);
    let server = server_copy(&phone);
    let visit = phone
        .household()
        .unwrap()
        .visits
        .keys()
        .next()
        .unwrap()
        .clone();
    let change = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        let visits = map(tx, &ROOT, "visits");
        tx.delete(&visits, visit.as_str()).unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert_eq!(only_refusal(&vetting).code(), "deletes");
}

#[test]
fn retyping_the_plan_is_refused() {
    let phone = household(8, 3);
    let server = server_copy(&phone);
    let change = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        tx.put(ROOT, "plan", "nothing").unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert_eq!(only_refusal(&vetting).code(), "replaces");
}

#[test]
fn staff_cannot_move_a_household_and_a_supervisor_can_within_their_districts() {
    let phone = household(9, 2);
    let server = server_copy(&phone);
    let mut tables = tables_for(&phone);
    let by_staff = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "assigned_staff", "u-omar").unwrap();
    });
    let vetting = vet_changes(&server, vec![by_staff], &anna(), &tables, now());
    assert_eq!(only_refusal(&vetting).code(), "role");

    let desk = ActorId::from([3u8; 16].as_slice());
    tables.actors.insert(desk.clone(), sara().device);
    tables
        .holders
        .push((StaffId::new("u-omar").unwrap(), norr()));
    let by_supervisor = hand_change(&server, desk.clone(), &sara(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "assigned_staff", "u-omar").unwrap();
    });
    let vetting = vet_changes(&server, vec![by_supervisor], &sara(), &tables, now());
    assert!(vetting.refused.is_empty(), "{:?}", vetting.refused);

    let elsewhere = hand_change(&server, desk, &sara(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "district", "district-syd").unwrap();
    });
    let vetting = vet_changes(&server, vec![elsewhere], &sara(), &tables, now());
    assert_eq!(only_refusal(&vetting).code(), "role");
}

/// A change Anna made offline before her phone heard that Sara moved the household to
/// Omar passes as hers; a change built on the reassignment does not, nor one that comes
/// after the former holder's window, nor one from somebody who never held it.
#[test]
fn a_former_holders_change_passes_only_when_it_does_not_build_on_the_reassignment() {
    let phone = household(10, 2);
    let mut server = server_copy(&phone);
    let mut tables = tables_for(&phone);
    let desk = ActorId::from([3u8; 16].as_slice());
    tables.actors.insert(desk.clone(), sara().device);
    tables
        .holders
        .push((StaffId::new("u-omar").unwrap(), norr()));
    let reassign = hand_change(&server, desk, &sara(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "assigned_staff", "u-omar").unwrap();
    });
    // Made on the phone's copy, which has not heard of the reassignment.
    let offline = hand_change(
        phone.as_automerge(),
        phone_actor(&phone),
        &anna(),
        now(),
        |tx| {
            let profile = map(tx, &ROOT, "profile");
            tx.put(&profile, "unit", "lgh 8").unwrap();
        },
    );
    server.apply_changes([reassign.clone()]).unwrap();
    let access = Access::FormerHolder {
        reassigned_at: now(),
    };
    let later = now().plus_minutes(60);

    let vetting = vet_changes_with(
        &server,
        vec![offline.clone()],
        &anna(),
        access,
        &tables,
        later,
    );
    assert!(vetting.refused.is_empty(), "{:?}", vetting.refused);
    assert_eq!(vetting.accepted.len(), 1);

    // Built on the reassignment: refused.
    let after = hand_change(&server, phone_actor(&phone), &anna(), later, |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 9").unwrap();
    });
    let vetting = vet_changes_with(&server, vec![after], &anna(), access, &tables, later);
    let refusal = only_refusal(&vetting);
    assert_eq!(refusal.code(), "role");
    assert!(refusal.to_string().contains("no longer yours"), "{refusal}");

    // The same offline change, arriving after the window: refused, for a supervisor to decide.
    let too_late = now().plus_minutes(FORMER_HOLDER_DAYS * 24 * 60 + 1);
    let vetting = vet_changes_with(
        &server,
        vec![offline.clone()],
        &anna(),
        access,
        &tables,
        too_late,
    );
    let refusal = only_refusal(&vetting);
    assert_eq!(refusal.code(), "role");
    assert!(refusal.to_string().contains("days ago"), "{refusal}");

    // Somebody who never held it: refused even on the old dependencies.
    let bea = Writer {
        staff: StaffId::new("u-bea").unwrap(),
        device: DeviceId::new("d-bea").unwrap(),
        role: WriterRole::Staff,
        districts: vec![norr()],
    };
    let stranger = hand_change(
        phone.as_automerge(),
        ActorId::from([9u8; 16].as_slice()),
        &bea,
        later,
        |tx| {
            let profile = map(tx, &ROOT, "profile");
            tx.put(&profile, "unit", "lgh 10").unwrap();
        },
    );
    let vetting = vet_changes_with(&server, vec![stranger], &bea, access, &tables, later);
    assert_eq!(only_refusal(&vetting).code(), "role");
}

#[test]
fn staff_create_households_only_for_themselves_in_their_districts() {
    let phone = household(10, 0);
    let first = all_changes(phone.as_automerge()).remove(0);
    let omar = Writer {
        staff: StaffId::new("u-omar").unwrap(),
        device: anna().device,
        role: WriterRole::Staff,
        districts: vec![DistrictId::new("district-syd").unwrap()],
    };
    // Signed by Anna, so sent by Omar it is someone else's change anyway: re-sign it.
    let created = hand_change(
        &Automerge::new(),
        ActorId::from([4u8; 16].as_slice()),
        &omar,
        now(),
        |tx| {
            let copy = {
                let mut copy = Automerge::new();
                copy.apply_changes([first.clone()]).unwrap();
                copy
            };
            let household = crate::schema::read_household(&copy).unwrap();
            crate::schema::init(tx, &household).unwrap();
        },
    );
    let vetting = vet_changes(
        &Automerge::new(),
        vec![created],
        &omar,
        &Tables::default(),
        now(),
    );
    assert_eq!(only_refusal(&vetting).code(), "role");
}

#[test]
fn nesting_a_hundred_thousand_maps_deep_is_refused_without_a_stack_overflow() {
    let phone = household(11, 1);
    let server = server_copy(&phone);
    let visit = phone
        .household()
        .unwrap()
        .visits
        .keys()
        .next()
        .unwrap()
        .clone();
    let change = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        let visits = map(tx, &ROOT, "visits");
        let visit = map(tx, &visits, visit.as_str());
        let mut obj = tx
            .put_object(&visit, "topics", ObjType::Map)
            .unwrap_or(visit);
        for _ in 0..100_000 {
            obj = tx.put_object(&obj, "x", ObjType::Map).unwrap();
        }
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    let reason = only_refusal(&vetting).code();
    assert!(matches!(reason, "replaces" | "shape"), "{reason}");
}

#[test]
fn a_million_operations_are_refused_before_they_are_read() {
    let phone = household(12, 1);
    let server = server_copy(&phone);
    let change = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        let plan = map(tx, &ROOT, "plan");
        let notes = map(tx, &plan, "notes");
        tx.splice_text(&notes, 0, 0, &"a".repeat(1_000_000))
            .unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert_eq!(only_refusal(&vetting).code(), "too-large");
}

#[test]
fn a_note_over_its_limit_is_refused() {
    let phone = household(13, 1);
    let server = server_copy(&phone);
    let change = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "address", "x".repeat(501)).unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert_eq!(only_refusal(&vetting).code(), "too-large");
}

#[test]
fn an_unknown_field_is_refused() {
    let phone = household(14, 1);
    let server = server_copy(&phone);
    let change = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        tx.put(ROOT, "stash", "hidden").unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert_eq!(only_refusal(&vetting).code(), "shape");
}

#[test]
fn text_where_the_schema_has_a_string_is_accepted_and_reads_as_that_string() {
    let phone = household(15, 1);
    let server = server_copy(&phone);
    let change = hand_change(&server, phone_actor(&phone), &anna(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        let address = tx.put_object(&profile, "address", ObjType::Text).unwrap();
        tx.splice_text(&address, 0, 0, "Textgatan 1").unwrap();
    });
    let vetting = vet_changes(&server, vec![change], &anna(), &tables_for(&phone), now());
    assert!(vetting.refused.is_empty(), "{:?}", vetting.refused);
    let merged = HouseholdDoc::new(vetting.merged.unwrap());
    assert_eq!(merged.household().unwrap().profile.address, "Textgatan 1");
}

#[test]
fn a_change_that_depends_on_a_refused_one_is_refused_with_it_and_others_pass() {
    let phone = household(16, 2);
    let server = server_copy(&phone);
    let actor = phone_actor(&phone);
    let mut copy = server.fork().with_actor(actor.clone());
    let signature = Signature::new(anna().staff, anna().device, now());
    let mut tx = copy.transaction();
    let visits = map(&tx, &ROOT, "visits");
    let first = phone
        .household()
        .unwrap()
        .visits
        .keys()
        .next()
        .unwrap()
        .clone();
    tx.delete(&visits, first.as_str()).unwrap();
    tx.commit_with(signature.commit_options("bad"));
    let bad = copy.get_last_local_change().unwrap();
    let mut tx = copy.transaction();
    let profile = map(&tx, &ROOT, "profile");
    tx.put(&profile, "unit", "lgh 5").unwrap();
    tx.commit_with(signature.commit_options("after"));
    let after = copy.get_last_local_change().unwrap();
    // An honest change made apart, on the server's heads.
    let honest = hand_change(&server, actor, &anna(), now(), |tx| {
        let profile = map(tx, &ROOT, "profile");
        tx.put(&profile, "address", "Nygatan 2").unwrap();
    });
    let vetting = vet_changes(
        &server,
        vec![after, bad, honest.clone()],
        &anna(),
        &tables_for(&phone),
        now(),
    );
    let codes: Vec<&str> = vetting
        .refused
        .iter()
        .map(|refused| refused.reason.code())
        .collect();
    assert_eq!(codes, vec!["deletes", "depends"]);
    assert_eq!(vetting.accepted.len(), 1);
    assert_eq!(vetting.accepted[0].hash(), honest.hash());
}

#[test]
fn the_conflicts_walk_survives_a_document_nested_a_hundred_thousand_maps_deep() {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let mut obj = ROOT;
    for _ in 0..100_000 {
        obj = tx.put_object(&obj, "x", ObjType::Map).unwrap();
    }
    tx.commit();
    assert!(HouseholdDoc::new(&doc).conflicts().unwrap().is_empty());
}

#[test]
fn a_refused_change_prints_without_its_bytes() {
    let refused = RefusedChange {
        hash: automerge::ChangeHash([7; 32]),
        bytes: b"Anteckning: hemlig uppgift om hushallet".to_vec(),
        signature: None,
        reason: Refusal::Unsigned,
    };
    let printed = format!("{refused:?}");
    assert!(printed.contains("<39 bytes>"), "{printed}");
    assert!(!printed.contains("hemlig"), "{printed}");
    assert!(
        !printed.contains("65, 110"),
        "the bytes as numbers: {printed}"
    );
}

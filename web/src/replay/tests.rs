//! The recovery after a rejection, on documents made by core's actions: the server's copy
//! without the rejected change, later actions made again under a fresh actor and passing the
//! server's check, and what cannot come back kept in words.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::collections::{HashMap, HashSet};

use lots_core::automerge::{ActorId, Automerge, ChangeHash};
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{
    Date, DeviceId, Directory, DistrictId, FollowUpId, HouseholdDoc, NewFollowUp, NoteRef, Owner,
    Set, Signature, StaffId, Timestamp, VisitId, VisitRecord, Writer, WriterRole, vet_changes,
};

use super::*;

fn anna() -> Writer {
    Writer {
        staff: StaffId::new("u-anna").unwrap(),
        device: DeviceId::new("d-phone").unwrap(),
        role: WriterRole::Staff,
        districts: vec![DistrictId::new("district-norr").unwrap()],
    }
}

fn at(day: u8, minute: i64) -> Timestamp {
    let start = Timestamp::start_of(Date::from_ymd(2026, 1, day).unwrap());
    Timestamp::from_millis(start.as_millis() + minute * 60_000)
}

fn signed(minute: i64) -> Signature {
    let writer = anna();
    Signature::new(writer.staff, writer.device, at(1, minute))
}

/// The household as the server has it: made on Anna's phone, every change taken.
fn server_copy() -> Automerge {
    let writer = anna();
    Generator::new(7)
        .household(&HouseholdSpec {
            district: writer.districts[0].clone(),
            staff: writer.staff,
            device: writer.device,
            opened_on: Date::from_ymd(2025, 6, 2).unwrap(),
            visits: 3,
            today: Date::from_ymd(2025, 12, 30).unwrap(),
        })
        .unwrap()
        .into_automerge()
}

fn record(notes: &str, minute: i64) -> VisitRecord {
    VisitRecord {
        held_at: at(1, minute - 60),
        staff: anna().staff,
        present: Set::new(),
        interpreter: None,
        duration_minutes: 45,
        topics: Set::new(),
        notes: notes.into(),
    }
}

/// The server's tables: the phone's old actor is bound to it, the rejected changes are in
/// quarantine.
struct Server {
    actors: HashMap<ActorId, DeviceId>,
    quarantined: HashSet<ChangeHash>,
}

impl Directory for Server {
    fn actor_device(&self, actor: &ActorId) -> Option<DeviceId> {
        self.actors.get(actor).cloned()
    }
    fn may_hold(&self, _: &StaffId, _: &DistrictId) -> bool {
        false
    }
    fn is_quarantined(&self, change: &ChangeHash) -> bool {
        self.quarantined.contains(change)
    }
}

/// The phone's copy: the server's, then a visit the server refused (the root), then later
/// actions built on it: a visit, a plan note, an edit of the refused visit's notes, and a
/// follow-up of the later visit. Returns the copy, the root and every later change's hash.
fn phone_copy(server: &Automerge) -> (Automerge, ChangeHash, Vec<ChangeHash>) {
    let old = ActorId::from([1u8; 16]);
    let mut phone = server.fork().with_actor(old);
    let (refused, later) = (
        VisitId::new("v-refused").unwrap(),
        VisitId::new("v-later").unwrap(),
    );
    let mut doc = HouseholdDoc::new(&mut phone);
    doc.record_visit(
        &signed(600),
        &refused,
        record("Talked about the rent letter.", 600),
    )
    .unwrap();
    let root = doc.heads()[0];
    doc.record_visit(
        &signed(700),
        &later,
        record("Helped with the SFI form.", 700),
    )
    .unwrap();
    let plan_len = doc.note_len(&NoteRef::Plan).unwrap().unwrap();
    doc.splice_note(
        &signed(701),
        &NoteRef::Plan,
        plan_len,
        0,
        " Call the landlord.",
    )
    .unwrap();
    let visit_len = doc
        .note_len(&NoteRef::Visit(refused.clone()))
        .unwrap()
        .unwrap();
    doc.splice_note(
        &signed(702),
        &NoteRef::Visit(refused),
        visit_len,
        0,
        " The landlord answers Friday.",
    )
    .unwrap();
    let follow_up = NewFollowUp {
        description: "Send the SFI form".into(),
        owner: Owner::Staff(anna().staff),
        agency: None,
        due_on: Date::from_ymd(2026, 1, 9).unwrap(),
    };
    doc.add_follow_up(
        &signed(703),
        &later,
        &FollowUpId::new("f-sfi").unwrap(),
        follow_up,
    )
    .unwrap();
    let later_changes = phone
        .get_changes(&[root])
        .iter()
        .map(|change| change.hash())
        .collect();
    (phone, root, later_changes)
}

#[test]
fn the_server_copy_continues_with_the_later_actions_that_still_pass() {
    let server = server_copy();
    let (phone, root, later) = phone_copy(&server);
    let rejected: HashSet<ChangeHash> = std::iter::once(root).chain(later.clone()).collect();
    let fresh = ActorId::from([2u8; 16]);
    let now = at(2, 0);
    let recovery = recover(
        &phone,
        &HashSet::from([root]),
        &rejected,
        &anna(),
        &Quarantined(&rejected),
        now,
        fresh.clone(),
    )
    .unwrap();
    let doc = recovery.doc.unwrap();
    assert_eq!(doc.get_actor(), &fresh);

    // The server's copy whole, the rejected visit not in it, the later ones made again.
    for head in server.get_heads() {
        assert!(doc.get_change_meta_by_hash(&head).is_some());
    }
    for hash in &rejected {
        assert!(
            doc.get_change_meta_by_hash(hash).is_none(),
            "a rejected change came back"
        );
    }
    let household = HouseholdDoc::new(&doc).household().unwrap();
    assert!(
        !household
            .visits
            .contains_key(&VisitId::new("v-refused").unwrap())
    );
    let visit = &household.visits[&VisitId::new("v-later").unwrap()];
    assert_eq!(visit.notes.as_str(), "Helped with the SFI form.");
    assert_eq!(visit.duration_minutes, Some(45));
    assert_eq!(visit.planned_at, at(1, 640), "the visit keeps its own time");
    assert!(
        visit
            .follow_ups
            .contains_key(&FollowUpId::new("f-sfi").unwrap())
    );
    assert!(
        household
            .plan
            .notes
            .as_str()
            .ends_with(" Call the landlord.")
    );
    assert_eq!(recovery.replayed, 3);

    // Every new change is the fresh actor's, signed now, and the server takes them all.
    let new = doc.get_changes(&server.get_heads());
    assert_eq!(new.len(), 3);
    for change in &new {
        assert_eq!(change.actor_id(), &fresh);
        let (signature, _) = Signature::from_change_message(change.message().unwrap()).unwrap();
        assert_eq!(signature.at, now);
    }
    let tables = Server {
        actors: HashMap::from([(ActorId::from([1u8; 16]), anna().device)]),
        quarantined: rejected.clone(),
    };
    let vetting = vet_changes(&server, new, &anna(), &tables, now);
    assert!(vetting.refused.is_empty(), "{:?}", vetting.refused);
    assert_eq!(vetting.accepted.len(), 3);

    // What did not come back, in words: the refused visit, and the edit of its notes.
    let kept: Vec<(&str, What, &str)> = recovery
        .kept
        .iter()
        .flat_map(|change| {
            change
                .texts
                .iter()
                .map(|text| (change.action.as_str(), text.what, text.text.as_str()))
        })
        .collect();
    assert_eq!(
        kept,
        [
            (
                "record_visit",
                What::VisitRecorded,
                "Talked about the rent letter."
            ),
            (
                "splice_note",
                What::VisitNotes,
                "Talked about the rent letter. The landlord answers Friday."
            ),
        ]
    );
    assert_eq!(recovery.kept[0].signed_at, Some(at(1, 600)));
    assert_eq!(recovery.kept[0].texts[0].minutes, Some(45));
    assert_eq!(recovery.kept[0].texts[0].when, Some(at(1, 540)));
}

#[test]
fn what_the_servers_check_would_refuse_is_not_made_again_but_kept() {
    let server = server_copy();
    let (phone, root, later) = phone_copy(&server);
    let rejected: HashSet<ChangeHash> = std::iter::once(root).chain(later).collect();
    let fresh = ActorId::from([3u8; 16]);
    // A server that has the fresh actor bound to another device refuses every change of it.
    let tables = Server {
        actors: HashMap::from([(fresh.clone(), DeviceId::new("d-other").unwrap())]),
        quarantined: rejected.clone(),
    };
    let roots = HashSet::from([root]);
    let recovery = recover(&phone, &roots, &rejected, &anna(), &tables, at(2, 0), fresh).unwrap();
    let doc = recovery.doc.unwrap();
    assert_eq!(recovery.replayed, 0);
    assert_eq!(
        doc.get_heads(),
        server.get_heads(),
        "nothing refused was kept"
    );
    let whats: Vec<What> = recovery
        .kept
        .iter()
        .flat_map(|change| change.texts.iter().map(|text| text.what))
        .collect();
    assert_eq!(
        whats,
        [
            What::VisitRecorded,
            What::VisitRecorded,
            What::PlanNotes,
            What::VisitNotes,
            What::FollowUp
        ]
    );
}

#[test]
fn a_later_edit_of_a_note_the_rejected_change_edited_is_kept_whole() {
    let server = server_copy();
    let mut phone = server.fork().with_actor(ActorId::from([1u8; 16]));
    let mut doc = HouseholdDoc::new(&mut phone);
    let len = doc.note_len(&NoteRef::Plan).unwrap().unwrap();
    doc.splice_note(&signed(600), &NoteRef::Plan, len, 0, " Refused.")
        .unwrap();
    let root = doc.heads()[0];
    let len = doc.note_len(&NoteRef::Plan).unwrap().unwrap();
    doc.splice_note(&signed(601), &NoteRef::Plan, len, 0, " Later.")
        .unwrap();
    let written = doc.household().unwrap().plan.notes;
    let roots = HashSet::from([root]);
    let recovery = recover(
        &phone,
        &roots,
        &roots,
        &anna(),
        &Quarantined(&roots),
        at(2, 0),
        ActorId::random(),
    )
    .unwrap();
    assert_eq!(recovery.replayed, 0);
    assert_eq!(recovery.doc.unwrap().get_heads(), server.get_heads());
    let last = recovery.kept.last().unwrap();
    assert_eq!(last.texts[0].what, What::PlanNotes);
    assert_eq!(last.texts[0].text, written.as_str());
}

/// Recovers with `rejected` as the roots too, as the app's own check would.
fn recover_all(device: &Automerge, rejected: HashSet<ChangeHash>) -> Option<Recovery> {
    let directory = Quarantined(&rejected);
    let (writer, now) = (anna(), at(2, 0));
    recover(
        device,
        &rejected,
        &rejected,
        &writer,
        &directory,
        now,
        ActorId::random(),
    )
}

#[test]
fn nothing_rejected_on_the_device_is_nothing_to_do() {
    let server = server_copy();
    let elsewhere = ChangeHash([9; 32]);
    assert!(recover_all(&server, HashSet::from([elsewhere])).is_none());
}

#[test]
fn a_rejected_first_change_leaves_no_copy_and_keeps_the_address() {
    let server = server_copy();
    let first = server.get_changes(&[])[0].hash();
    let recovery = recover_all(&server, HashSet::from([first])).unwrap();
    assert!(recovery.doc.is_none());
    assert_eq!(recovery.replayed, 0);
    let texts = &recovery.kept[0].texts;
    assert_eq!(recovery.kept[0].action, "create_household");
    assert_eq!(texts[0].what, What::Address);
    assert!(!texts[0].text.is_empty());
    // Everything after it is kept too, in words.
    assert!(
        recovery
            .kept
            .iter()
            .any(|change| change.action == "record_visit")
    );
}

#[test]
fn a_splice_keeps_the_common_start_and_end() {
    assert_eq!(splice("abc", "abXc"), (2, 0, "X".into()));
    assert_eq!(splice("Hej då", "Hej"), (3, 3, String::new()));
    assert_eq!(splice("åäö", "åxö"), (1, 1, "x".into()));
    assert_eq!(splice("", "ny"), (0, 0, "ny".into()));
    assert_eq!(splice("aa", "aaa"), (2, 0, "a".into()));
}

#[test]
fn the_record_reads_back_from_storage() {
    let bytes = server_copy().save();
    assert_eq!(from_hex(&to_hex(&bytes)).unwrap(), bytes);
    assert_eq!(from_hex("abc"), None);
    assert_eq!(from_hex("zz"), None);
    let kept = Kept {
        document: lots_core::DocumentId::from_bytes([4; 16]),
        household: "Storgatan 1".into(),
        codes: vec!["clock".into()],
        since: 5,
        changes: vec![KeptChange {
            action: "record_visit".into(),
            signed_at: Some(at(1, 0)),
            texts: vec![KeptText {
                when: Some(at(1, 0)),
                minutes: Some(30),
                codes: vec!["budget".into()],
                ..KeptText::plain(What::VisitRecorded, "Anteckning\nrad två".into())
            }],
        }],
        replayed: 2,
        device_copy: to_hex(&bytes),
    };
    let json = serde_json::to_string(&kept).unwrap();
    assert_eq!(serde_json::from_str::<Kept>(&json).unwrap(), kept);
    assert!(json.contains("\"visit_recorded\""));
}

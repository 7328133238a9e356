//! The person copy against synthetic households: exactly their entries, who wrote each, and
//! withholding at review.

use std::collections::BTreeSet;

use super::{PassageKind, PersonCopy, UnknownPassage};
use crate::actions::MemberDetails;
use crate::calendar::{Date, Timestamp};
use crate::document::HouseholdDoc;
use crate::ids::{DeviceId, DistrictId, StaffId};
use crate::signature::Signature;
use crate::synthetic::{Generator, HouseholdSpec};

fn spec() -> HouseholdSpec {
    HouseholdSpec {
        district: DistrictId::new("district-norrmalm").unwrap(),
        staff: StaffId::new("u-anna").unwrap(),
        device: DeviceId::new("d-anna").unwrap(),
        opened_on: Date::from_ymd(2025, 3, 1).unwrap(),
        visits: 30,
        today: Date::from_ymd(2026, 5, 1).unwrap(),
    }
}

/// A synthetic household with at least three members, the first adult's name then
/// corrected by a colleague on another device.
fn household() -> HouseholdDoc {
    let mut seed = 1;
    let mut doc = loop {
        let doc = Generator::new(seed).household(&spec()).unwrap();
        if doc.household().unwrap().members.len() >= 3 {
            break doc;
        }
        seed += 1;
    };
    let household = doc.household().unwrap();
    let (id, member) = household.members.iter().next().unwrap();
    let colleague = Signature::new(
        StaffId::new("u-bert").unwrap(),
        DeviceId::new("d-bert").unwrap(),
        Timestamp::start_of(Date::from_ymd(2026, 4, 20).unwrap()),
    );
    doc.update_member(
        &colleague,
        id,
        MemberDetails {
            name: format!("{} Corrected", member.name),
            ..MemberDetails::from(member)
        },
    )
    .unwrap();
    doc
}

fn keys(copy: &PersonCopy, kind: PassageKind) -> BTreeSet<String> {
    copy.passages
        .iter()
        .filter(|passage| passage.kind == kind)
        .map(|passage| passage.key.clone())
        .collect()
}

#[test]
fn a_copy_holds_the_persons_entries_and_nobody_elses() {
    let doc = household();
    let household = doc.household().unwrap();
    let mut checked_visits = 0;
    for (id, member) in &household.members {
        let copy = doc.person_copy(id).unwrap().unwrap();
        let json = serde_json::to_string(&copy).unwrap();
        assert!(json.contains(&member.name), "their own name is in the copy");
        for (other_id, other) in &household.members {
            if other_id != id {
                assert!(
                    !json.contains(&other.name),
                    "{} is in {}'s copy",
                    other.name,
                    member.name
                );
                assert!(
                    !json.contains(other_id.as_str()),
                    "another member's id is in the copy"
                );
            }
        }
        // The visits held with them, and every one booked for the household and not held.
        let visits: BTreeSet<String> = household
            .visits
            .iter()
            .filter(|(_, visit)| {
                visit.present.contains(id) || visit.status != crate::VisitStatus::Done
            })
            .map(|(visit, _)| format!("visit/{visit}"))
            .collect();
        assert_eq!(
            keys(&copy, PassageKind::Visit),
            visits,
            "exactly the visits that concern them"
        );
        checked_visits += visits.len();
        let goals: BTreeSet<String> = household
            .plan
            .goals
            .iter()
            .filter(|(_, goal)| &goal.member == id)
            .map(|(goal, _)| format!("goal/{goal}"))
            .collect();
        assert_eq!(keys(&copy, PassageKind::Goal), goals, "exactly their goals");
        let steps: usize = household
            .plan
            .goals
            .values()
            .map(|goal| {
                goal.steps
                    .values()
                    .filter(|step| {
                        &goal.member == id
                            || (step.owner_kind == crate::OwnerKind::Member
                                && step.owner.as_deref() == Some(id.as_str()))
                    })
                    .count()
            })
            .sum();
        assert_eq!(keys(&copy, PassageKind::Step).len(), steps);
        // No follow-up another member carries out.
        for passage in copy
            .passages
            .iter()
            .filter(|passage| passage.kind == PassageKind::FollowUp)
        {
            let owner = passage
                .fields
                .iter()
                .find(|field| field.key == "owner")
                .unwrap();
            assert_ne!(
                owner.value.as_deref(),
                Some("another_member"),
                "{}",
                passage.key
            );
        }
        assert_eq!(
            keys(&copy, PassageKind::PlanNotes),
            BTreeSet::from(["plan/notes".to_owned()])
        );
        for passage in &copy.passages {
            assert!(
                !passage.written.is_empty(),
                "{} says who wrote it",
                passage.key
            );
            assert!(
                passage
                    .written
                    .windows(2)
                    .all(|pair| pair[0].at <= pair[1].at),
                "oldest first"
            );
        }
    }
    assert!(checked_visits > 0, "the household's members were at visits");
}

#[test]
fn each_entry_names_who_wrote_it_and_when() {
    let doc = household();
    let household = doc.household().unwrap();
    let (first, _) = household.members.iter().next().unwrap();
    let copy = doc.person_copy(first).unwrap().unwrap();
    let writers = |key: &str| -> Vec<String> {
        let passage = copy
            .passages
            .iter()
            .find(|passage| passage.key == key)
            .unwrap();
        passage
            .written
            .iter()
            .map(|written| written.staff.as_ref().unwrap().to_string())
            .collect()
    };
    // Added by Anna, the name corrected by Bert on his own device.
    assert_eq!(writers("member"), ["u-anna", "u-bert"]);
    let member = copy
        .passages
        .iter()
        .find(|passage| passage.key == "member")
        .unwrap();
    let correction = member.written.last().unwrap();
    assert_eq!(correction.device.as_ref().unwrap().as_str(), "d-bert");
    assert_eq!(correction.action.as_deref(), Some("update_member"));
    assert_eq!(
        correction.at,
        Timestamp::start_of(Date::from_ymd(2026, 4, 20).unwrap())
    );
    // Bert touched nothing else.
    assert!(writers("household").iter().all(|staff| staff == "u-anna"));
    // Another member's record is theirs alone.
    let (second, _) = household.members.iter().nth(1).unwrap();
    let theirs = doc.person_copy(second).unwrap().unwrap();
    let member = theirs
        .passages
        .iter()
        .find(|passage| passage.key == "member")
        .unwrap();
    assert!(
        member
            .written
            .iter()
            .all(|written| written.staff.as_ref().unwrap().as_str() == "u-anna")
    );
}

#[test]
fn withheld_passages_keep_only_their_kind_and_an_unknown_key_is_refused() {
    let doc = household();
    let household = doc.household().unwrap();
    let (id, _) = household
        .members
        .iter()
        .find(|(id, _)| {
            household
                .visits
                .values()
                .any(|visit| visit.present.contains(id))
        })
        .unwrap();
    let copy = doc.person_copy(id).unwrap().unwrap();
    let notes = keys(&copy, PassageKind::VisitNotes);
    let first_notes = notes.iter().next().unwrap().clone();
    let withheld = copy
        .clone()
        .withhold(&BTreeSet::from([first_notes.clone()]))
        .unwrap();
    assert_eq!(withheld.passages.len(), copy.passages.len());
    for (before, after) in copy.passages.iter().zip(&withheld.passages) {
        assert_eq!(before.key, after.key);
        if after.key == first_notes {
            assert!(after.withheld && after.fields.is_empty() && after.written.is_empty());
            assert!(!before.fields.is_empty());
        } else {
            assert_eq!(before, after);
        }
    }
    assert_eq!(
        copy.withhold(&BTreeSet::from(["visit/nothing".to_owned()])),
        Err(UnknownPassage("visit/nothing".into()))
    );
}

#[test]
fn a_member_the_household_does_not_have_has_no_copy() {
    let doc = household();
    let stranger = crate::ids::MemberId::new("m-nobody").unwrap();
    assert_eq!(doc.person_copy(&stranger).unwrap(), None);
}

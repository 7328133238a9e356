//! Tests of every action: what it writes, and that each refusal leaves the document as it was.

use automerge::ActorId;

use super::*;
use crate::schema::household::Household;

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn at(text: &str, hour: i64) -> Timestamp {
    Timestamp::start_of(date(text)).plus_minutes(hour * 60)
}

fn staff() -> StaffId {
    StaffId::new("u-anna").unwrap()
}

fn sign(when: Timestamp) -> Signature {
    Signature::new(staff(), crate::ids::DeviceId::new("d-phone").unwrap(), when)
}

fn actor(byte: u8) -> ActorId {
    ActorId::from([byte; 16].as_slice())
}

fn new_household() -> HouseholdDoc {
    HouseholdDoc::create(
        actor(1),
        &sign(at("2024-01-10", 9)),
        NewHousehold {
            district: DistrictId::new("district-norr").unwrap(),
            address: "Exempelgatan 3".into(),
            unit: "lgh 1102".into(),
            housing_form: HousingForm::TransitionalHousing,
            arrival_route: ArrivalRoute::QuotaRefugee,
            arrived_on: date("2024-01-05"),
            opened_on: date("2024-01-10"),
            assigned_staff: Some(staff()),
        },
    )
    .unwrap()
}

fn adult() -> MemberDetails {
    MemberDetails {
        name: "Amina Haddad".into(),
        birth_date: date("1990-04-01"),
        gender: Gender::Female,
        residence_permit_on: Some(date("2023-11-20")),
        born_outside_eea: true,
        registered_in_district: true,
        languages: vec!["ar".into(), "en".into()],
        interpreter_language: Some("ar".into()),
    }
}

fn member_id() -> MemberId {
    MemberId::new("m-amina").unwrap()
}

fn visit_id() -> VisitId {
    VisitId::new("v-1").unwrap()
}

fn with_member() -> HouseholdDoc {
    let mut doc = new_household();
    doc.add_member(&sign(at("2024-01-10", 10)), &member_id(), adult())
        .unwrap();
    doc
}

fn record() -> VisitRecord {
    VisitRecord {
        held_at: at("2024-01-15", 10),
        staff: staff(),
        present: [member_id()].into_iter().collect(),
        interpreter: Some(Interpreter {
            language: "ar".into(),
            mode: InterpreterMode::Phone,
        }),
        duration_minutes: 60,
        topics: [Topic::Budget, Topic::Letters].into_iter().collect(),
        notes: "Vi gick igenom brevet.".into(),
    }
}

/// Runs a refused action and checks the document did not change at all.
fn refused<T: std::fmt::Debug>(
    doc: &mut HouseholdDoc,
    action: impl FnOnce(&mut HouseholdDoc) -> Result<T, ActionError>,
) -> ActionError {
    let heads = doc.heads();
    let before: Household = doc.household().unwrap();
    let error = action(doc).expect_err("the action should be refused");
    assert_eq!(
        doc.heads(),
        heads,
        "a refused action must not commit ({error})"
    );
    assert_eq!(doc.household().unwrap(), before);
    error
}

#[test]
fn creating_a_household_writes_one_signed_change() {
    let doc = new_household();
    let household = doc.household().unwrap();
    assert_eq!(household.profile.status, CaseStatus::Active);
    assert_eq!(household.profile.address, "Exempelgatan 3");
    let history = doc.history();
    assert_eq!(history.len(), 1);
    let signature = history[0].info.signature.clone().unwrap();
    assert_eq!(signature.staff, staff());
    assert_eq!(signature.at, at("2024-01-10", 9));
    assert_eq!(history[0].info.action.as_deref(), Some("create_household"));
}

#[test]
fn creating_a_household_checks_its_input() {
    let mut new = NewHousehold {
        district: DistrictId::new("district-norr").unwrap(),
        address: "  ".into(),
        unit: String::new(),
        housing_form: HousingForm::OwnHousing,
        arrival_route: ArrivalRoute::OwnHousing,
        arrived_on: date("2024-01-05"),
        opened_on: date("2024-01-04"),
        assigned_staff: None,
    };
    let signature = sign(at("2024-01-10", 9));
    assert!(matches!(
        HouseholdDoc::create(actor(1), &signature, new.clone()),
        Err(ActionError::Empty { field: "address" })
    ));
    new.address = "Lindvägen 2".into();
    assert!(matches!(
        HouseholdDoc::create(actor(1), &signature, new.clone()),
        Err(ActionError::BeforeDate {
            field: "opening date",
            ..
        })
    ));
    new.arrived_on = date("2024-02-01");
    new.opened_on = date("2024-02-01");
    assert!(matches!(
        HouseholdDoc::create(actor(1), &signature, new),
        Err(ActionError::InFuture {
            field: "arrival date",
            ..
        })
    ));
}

#[test]
fn members_are_added_and_corrected() {
    let mut doc = with_member();
    let household = doc.household().unwrap();
    assert_eq!(household.members[&member_id()].name, "Amina Haddad");
    let mut corrected = adult();
    corrected.name = "Amina K. Haddad".into();
    doc.update_member(&sign(at("2024-01-11", 9)), &member_id(), corrected)
        .unwrap();
    assert_eq!(
        doc.household().unwrap().members[&member_id()].name,
        "Amina K. Haddad"
    );
}

#[test]
fn bad_members_are_refused() {
    let mut doc = with_member();
    let when = sign(at("2024-01-11", 9));
    let error = refused(&mut doc, |doc| doc.add_member(&when, &member_id(), adult()));
    assert!(matches!(error, ActionError::DuplicateId(_)));
    let mut unborn = adult();
    unborn.birth_date = date("2025-01-01");
    let other = MemberId::new("m-2").unwrap();
    let error = refused(&mut doc, |doc| doc.add_member(&when, &other, unborn));
    assert!(matches!(
        error,
        ActionError::InFuture {
            field: "birth date",
            ..
        }
    ));
    let mut early_permit = adult();
    early_permit.residence_permit_on = Some(date("1980-01-01"));
    let error = refused(&mut doc, |doc| doc.add_member(&when, &other, early_permit));
    assert!(matches!(
        error,
        ActionError::BeforeDate {
            field: "residence permit date",
            ..
        }
    ));
    let mut nameless = adult();
    nameless.name = "\t".into();
    let error = refused(&mut doc, |doc| doc.add_member(&when, &other, nameless));
    assert!(matches!(error, ActionError::Empty { field: "name" }));
    let error = refused(&mut doc, |doc| doc.update_member(&when, &other, adult()));
    assert!(matches!(error, ActionError::UnknownMember(_)));
}

#[test]
fn a_visit_is_scheduled_then_recorded() {
    let mut doc = with_member();
    doc.schedule_visit(
        &sign(at("2024-01-11", 9)),
        &visit_id(),
        at("2024-01-15", 10),
        &staff(),
    )
    .unwrap();
    assert_eq!(
        doc.household().unwrap().visits[&visit_id()].status,
        VisitStatus::Planned
    );
    doc.record_visit(&sign(at("2024-01-15", 12)), &visit_id(), record())
        .unwrap();
    let visit = doc.household().unwrap().visits[&visit_id()].clone();
    assert_eq!(visit.status, VisitStatus::Done);
    assert_eq!(visit.duration_minutes, Some(60));
    assert_eq!(visit.interpreter_language.as_deref(), Some("ar"));
    assert_eq!(visit.interpreter_mode, Some(InterpreterMode::Phone));
    assert!(visit.topics.contains(&Topic::Budget));
    assert_eq!(visit.notes.as_str(), "Vi gick igenom brevet.");
    // Every action is one change.
    assert_eq!(doc.history().len(), 4);
}

#[test]
fn an_unplanned_visit_can_be_recorded_directly() {
    let mut doc = with_member();
    doc.record_visit(&sign(at("2024-01-15", 12)), &visit_id(), record())
        .unwrap();
    assert_eq!(doc.household().unwrap().visits.len(), 1);
}

#[test]
fn bad_visits_are_refused() {
    let mut doc = with_member();
    let when = sign(at("2024-01-15", 12));
    let mut in_future = record();
    in_future.held_at = at("2024-01-16", 10);
    let error = refused(&mut doc, |doc| {
        doc.record_visit(&when, &visit_id(), in_future)
    });
    assert!(matches!(error, ActionError::NotYetHappened { .. }));
    let mut zero = record();
    zero.duration_minutes = 0;
    let error = refused(&mut doc, |doc| doc.record_visit(&when, &visit_id(), zero));
    assert!(matches!(error, ActionError::Duration { minutes: 0, .. }));
    let mut stranger = record();
    stranger.present = [MemberId::new("m-nobody").unwrap()].into_iter().collect();
    let error = refused(&mut doc, |doc| {
        doc.record_visit(&when, &visit_id(), stranger)
    });
    assert!(matches!(error, ActionError::UnknownMember(_)));
    let mut before_opening = record();
    before_opening.held_at = at("2024-01-01", 10);
    let error = refused(&mut doc, |doc| {
        doc.record_visit(&when, &visit_id(), before_opening)
    });
    assert!(matches!(
        error,
        ActionError::BeforeDate {
            field: "visit date",
            ..
        }
    ));
    let mut no_language = record();
    no_language.interpreter = Some(Interpreter {
        language: " ".into(),
        mode: InterpreterMode::InPerson,
    });
    let error = refused(&mut doc, |doc| {
        doc.record_visit(&when, &visit_id(), no_language)
    });
    assert!(matches!(
        error,
        ActionError::Empty {
            field: "interpreter language"
        }
    ));
    let error = refused(&mut doc, |doc| doc.cancel_visit(&when, &visit_id()));
    assert!(matches!(error, ActionError::UnknownVisit(_)));
}

#[test]
fn only_planned_visits_are_cancelled_or_missed() {
    let mut doc = with_member();
    let booked = sign(at("2024-01-11", 9));
    doc.schedule_visit(&booked, &visit_id(), at("2024-01-15", 10), &staff())
        .unwrap();
    let error = refused(&mut doc, |doc| doc.mark_no_show(&booked, &visit_id()));
    assert!(matches!(
        error,
        ActionError::NotYetHappened {
            what: "a no-show",
            ..
        }
    ));
    doc.cancel_visit(&booked, &visit_id()).unwrap();
    assert_eq!(
        doc.household().unwrap().visits[&visit_id()].status,
        VisitStatus::Cancelled
    );
    let later = sign(at("2024-01-16", 9));
    let error = refused(&mut doc, |doc| {
        doc.record_visit(&later, &visit_id(), record())
    });
    assert!(matches!(
        error,
        ActionError::VisitStatus {
            status: VisitStatus::Cancelled,
            ..
        }
    ));
    let error = refused(&mut doc, |doc| doc.mark_no_show(&later, &visit_id()));
    assert!(matches!(error, ActionError::VisitStatus { .. }));
    let second = VisitId::new("v-2").unwrap();
    doc.schedule_visit(&booked, &second, at("2024-01-15", 14), &staff())
        .unwrap();
    doc.mark_no_show(&later, &second).unwrap();
    assert_eq!(
        doc.household().unwrap().visits[&second].status,
        VisitStatus::NoShow
    );
}

#[test]
fn notes_are_spliced_by_character() {
    let mut doc = with_member();
    let when = sign(at("2024-01-15", 12));
    doc.record_visit(&when, &visit_id(), record()).unwrap();
    let note = NoteRef::Visit(visit_id());
    doc.splice_note(&when, &note, 0, 7, "Idag gick vi").unwrap();
    assert_eq!(
        doc.household().unwrap().visits[&visit_id()].notes.as_str(),
        "Idag gick vi igenom brevet."
    );
    // Positions count characters, not bytes.
    doc.splice_note(&when, &NoteRef::Plan, 0, 0, "Målet är självständighet.")
        .unwrap();
    doc.splice_note(&when, &NoteRef::Plan, 1, 1, "å").unwrap();
    assert_eq!(
        doc.household().unwrap().plan.notes.as_str(),
        "Målet är självständighet."
    );
    let error = refused(&mut doc, |doc| doc.splice_note(&when, &note, 20, 50, ""));
    assert!(matches!(
        error,
        ActionError::NoteRange {
            position: 20,
            delete: 50,
            ..
        }
    ));
    let error = refused(&mut doc, |doc| {
        doc.splice_note(
            &when,
            &NoteRef::Visit(VisitId::new("v-x").unwrap()),
            0,
            0,
            "x",
        )
    });
    assert!(matches!(error, ActionError::UnknownVisit(_)));
}

#[test]
fn a_note_edited_in_several_places_is_one_change_that_merges() {
    let mut phone = with_member();
    let when = sign(at("2024-01-15", 12));
    phone
        .edit_note(&when, &NoteRef::Plan, "Ring SFI. Boka tolk. Betala hyran.")
        .unwrap();
    let mut desk = phone.fork(actor(2));
    let before = phone.automerge().get_changes(&[]).len();
    phone
        .edit_note(&when, &NoteRef::Plan, "Ring SFI i dag. Betala hyran i tid.")
        .unwrap();
    let changes = phone.automerge().get_changes(&[]);
    assert_eq!(changes.len(), before + 1, "one action, one change");
    desk.splice_note(&when, &NoteRef::Plan, 0, 0, "Viktigt: ")
        .unwrap();
    phone.merge(&mut desk).unwrap();
    assert_eq!(
        phone.household().unwrap().plan.notes.as_str(),
        "Viktigt: Ring SFI i dag. Betala hyran i tid."
    );
    let unchanged = phone.automerge().get_changes(&[]).len();
    let notes = phone.household().unwrap().plan.notes.as_str().to_owned();
    phone.edit_note(&when, &NoteRef::Plan, &notes).unwrap();
    assert_eq!(
        phone.automerge().get_changes(&[]).len(),
        unchanged,
        "no edit, no change"
    );
    let error = refused(&mut phone, |doc| {
        doc.edit_note(&when, &NoteRef::Visit(VisitId::new("v-x").unwrap()), "x")
    });
    assert!(matches!(error, ActionError::UnknownVisit(_)));
    let too_long = "x".repeat(MAX_NOTE_CHARS + 1);
    refused(&mut phone, |doc| {
        doc.edit_note(&when, &NoteRef::Plan, &too_long)
    });
}

#[test]
fn follow_ups_are_added_and_completed() {
    let mut doc = with_member();
    let when = sign(at("2024-01-15", 12));
    doc.record_visit(&when, &visit_id(), record()).unwrap();
    let follow_up = FollowUpId::new("f-1").unwrap();
    let referral = NewFollowUp {
        description: "Boka tid för id-kort".into(),
        owner: Owner::Member(member_id()),
        agency: Some(Agency::TaxAgency),
        due_on: date("2024-01-30"),
    };
    doc.add_follow_up(&when, &visit_id(), &follow_up, referral.clone())
        .unwrap();
    let stored = doc.household().unwrap().visits[&visit_id()].follow_ups[&follow_up].clone();
    assert_eq!(stored.owner_kind, OwnerKind::Member);
    assert_eq!(stored.agency, Some(Agency::TaxAgency));
    let error = refused(&mut doc, |doc| {
        doc.add_follow_up(&when, &visit_id(), &follow_up, referral.clone())
    });
    assert!(matches!(error, ActionError::DuplicateId(_)));
    let mut early = referral.clone();
    early.due_on = date("2024-01-01");
    let error = refused(&mut doc, |doc| {
        doc.add_follow_up(&when, &visit_id(), &FollowUpId::new("f-2").unwrap(), early)
    });
    assert!(matches!(
        error,
        ActionError::BeforeDate {
            field: "due date",
            ..
        }
    ));
    let mut stranger = referral;
    stranger.owner = Owner::Member(MemberId::new("m-nobody").unwrap());
    let error = refused(&mut doc, |doc| {
        doc.add_follow_up(
            &when,
            &visit_id(),
            &FollowUpId::new("f-3").unwrap(),
            stranger,
        )
    });
    assert!(matches!(error, ActionError::UnknownMember(_)));
    let done = sign(at("2024-01-29", 9));
    doc.complete_follow_up(&done, &visit_id(), &follow_up, date("2024-01-29"))
        .unwrap();
    let error = refused(&mut doc, |doc| {
        doc.complete_follow_up(&done, &visit_id(), &follow_up, date("2024-01-29"))
    });
    assert!(matches!(error, ActionError::AlreadyDone(..)));
    let error = refused(&mut doc, |doc| {
        doc.complete_follow_up(
            &done,
            &visit_id(),
            &FollowUpId::new("f-9").unwrap(),
            date("2024-01-29"),
        )
    });
    assert!(matches!(error, ActionError::UnknownFollowUp { .. }));
}

#[test]
fn the_plan_has_goals_and_steps() {
    let mut doc = with_member();
    let when = sign(at("2024-01-12", 9));
    let goal = GoalId::new("g-1").unwrap();
    doc.add_goal(
        &when,
        &goal,
        NewGoal {
            member: member_id(),
            area: GoalArea::Sfi,
            description: "Klara SFI kurs C".into(),
        },
    )
    .unwrap();
    let step = StepId::new("s-1").unwrap();
    let new_step = NewStep {
        description: "Anmälan till SFI".into(),
        owner: Owner::Member(member_id()),
        due_on: Some(date("2024-02-01")),
    };
    doc.add_step(&when, &goal, &step, new_step.clone()).unwrap();
    doc.add_step(&when, &goal, &StepId::new("s-2").unwrap(), new_step.clone())
        .unwrap();
    let stored = doc.household().unwrap().plan.goals[&goal].clone();
    assert_eq!(
        stored.status,
        GoalStatus::InProgress,
        "a first step starts the goal"
    );
    assert_eq!(stored.steps[&StepId::new("s-2").unwrap()].position, 1);
    doc.set_step_status(&when, &goal, &step, StepStatus::Done, date("2024-01-12"))
        .unwrap();
    doc.set_goal_status(&when, &goal, GoalStatus::Reached, date("2024-01-12"))
        .unwrap();
    let stored = doc.household().unwrap().plan.goals[&goal].clone();
    assert_eq!(stored.reached_on, Some(date("2024-01-12")));
    assert_eq!(stored.steps[&step].done_on, Some(date("2024-01-12")));
    let error = refused(&mut doc, |doc| {
        doc.set_step_status(
            &when,
            &goal,
            &StepId::new("s-9").unwrap(),
            StepStatus::Done,
            date("2024-01-12"),
        )
    });
    assert!(matches!(error, ActionError::UnknownStep { .. }));
    let error = refused(&mut doc, |doc| {
        doc.add_step(&when, &GoalId::new("g-9").unwrap(), &step, new_step)
    });
    assert!(matches!(error, ActionError::UnknownGoal(_)));
    let error = refused(&mut doc, |doc| {
        doc.add_goal(
            &when,
            &GoalId::new("g-2").unwrap(),
            NewGoal {
                member: MemberId::new("m-x").unwrap(),
                area: GoalArea::Health,
                description: "x".into(),
            },
        )
    });
    assert!(matches!(error, ActionError::UnknownMember(_)));
    let error = refused(&mut doc, |doc| {
        doc.set_goal_status(&when, &goal, GoalStatus::Stalled, date("2023-01-01"))
    });
    assert!(matches!(error, ActionError::BeforeDate { .. }));
}

#[test]
fn a_closed_case_takes_no_new_work_until_reopened() {
    let mut doc = with_member();
    let when = sign(at("2024-03-01", 9));
    doc.assign_staff(&when, None).unwrap();
    assert_eq!(doc.household().unwrap().profile.assigned_staff, None);
    doc.close_case(&when, CloseReason::Work, date("2024-03-01"))
        .unwrap();
    let profile = doc.household().unwrap().profile;
    assert_eq!(
        (profile.status, profile.close_reason),
        (CaseStatus::Closed, Some(CloseReason::Work))
    );
    let error = refused(&mut doc, |doc| {
        doc.record_visit(&when, &visit_id(), record())
    });
    assert!(matches!(error, ActionError::CaseClosed { .. }));
    let error = refused(&mut doc, |doc| {
        doc.close_case(&when, CloseReason::Moved, date("2024-03-01"))
    });
    assert!(matches!(error, ActionError::CaseClosed { .. }));
    doc.reopen_case(&when).unwrap();
    let error = refused(&mut doc, |doc| doc.reopen_case(&when));
    assert!(matches!(error, ActionError::CaseOpen));
    doc.record_visit(&when, &visit_id(), record()).unwrap();
    let error = refused(&mut doc, |doc| {
        doc.close_case(&when, CloseReason::Other, date("2023-12-31"))
    });
    assert!(matches!(
        error,
        ActionError::BeforeDate {
            field: "closing date",
            ..
        }
    ));
}

#[test]
fn concurrent_values_are_all_shown_and_one_is_chosen() {
    let mut phone = with_member();
    phone
        .record_visit(&sign(at("2024-01-15", 12)), &visit_id(), record())
        .unwrap();
    let mut desk = phone.fork(actor(2));
    let mut longer = record();
    longer.duration_minutes = 90;
    phone
        .record_visit(&sign(at("2024-01-15", 13)), &visit_id(), longer)
        .unwrap();
    let mut shorter = record();
    shorter.duration_minutes = 45;
    let office = Signature::new(
        StaffId::new("u-boss").unwrap(),
        crate::ids::DeviceId::new("d-desk").unwrap(),
        at("2024-01-15", 14),
    );
    desk.record_visit(&office, &visit_id(), shorter).unwrap();
    phone.merge(&mut desk).unwrap();

    let conflicts = phone.conflicts().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let conflict = &conflicts[0];
    assert_eq!(
        conflict.field.0,
        vec![
            "visits".to_owned(),
            "v-1".to_owned(),
            "duration_minutes".to_owned()
        ]
    );
    let mut values: Vec<(FieldValue, String)> = conflict
        .values
        .iter()
        .map(|value| {
            (
                value.value.clone(),
                value.written.signature.clone().unwrap().staff.to_string(),
            )
        })
        .collect();
    values.sort_by_key(|(_, staff)| staff.clone());
    assert_eq!(
        values,
        vec![
            (FieldValue::Uint(90), "u-anna".into()),
            (FieldValue::Uint(45), "u-boss".into())
        ]
    );
    // The first value shown is the one a plain read returns.
    let shown = phone.household().unwrap().visits[&visit_id()].duration_minutes;
    assert_eq!(
        FieldValue::Uint(u64::from(shown.unwrap())),
        conflict.values[0].value
    );

    let error = refused(&mut phone, |doc| {
        doc.resolve_conflict(&office, &conflict.field, &FieldValue::Uint(60))
    });
    assert!(matches!(
        error,
        ActionError::Resolve(ResolveError::NotACandidate { .. })
    ));
    phone
        .resolve_conflict(&office, &conflict.field, &FieldValue::Uint(45))
        .unwrap();
    assert!(phone.conflicts().unwrap().is_empty());
    assert_eq!(
        phone.household().unwrap().visits[&visit_id()].duration_minutes,
        Some(45)
    );
    let error = refused(&mut phone, |doc| {
        doc.resolve_conflict(&office, &conflict.field, &FieldValue::Uint(45))
    });
    assert!(matches!(
        error,
        ActionError::Resolve(ResolveError::NoConflict(_))
    ));
}

#[test]
fn concurrent_note_edits_both_survive() {
    let mut phone = with_member();
    let when = sign(at("2024-01-15", 12));
    phone.record_visit(&when, &visit_id(), record()).unwrap();
    let mut desk = phone.fork(actor(2));
    let note = NoteRef::Visit(visit_id());
    phone.splice_note(&when, &note, 0, 0, "Telefon: ").unwrap();
    let len = "Vi gick igenom brevet.".chars().count();
    desk.splice_note(&when, &note, len, 0, " Kontor.").unwrap();
    phone.merge(&mut desk).unwrap();
    desk.merge(&mut phone).unwrap();
    let merged = phone.household().unwrap().visits[&visit_id()].notes.clone();
    assert_eq!(merged.as_str(), "Telefon: Vi gick igenom brevet. Kontor.");
    assert_eq!(desk.household().unwrap(), phone.household().unwrap());
    assert!(phone.conflicts().unwrap().is_empty());
}

#[test]
fn ticking_the_same_topic_on_two_devices_is_no_conflict() {
    let mut phone = with_member();
    phone
        .record_visit(&sign(at("2024-01-15", 12)), &visit_id(), record())
        .unwrap();
    let mut desk = phone.fork(actor(2));
    let mut with_sfi = record();
    with_sfi.topics = [Topic::Budget, Topic::Letters, Topic::Sfi]
        .into_iter()
        .collect();
    phone
        .record_visit(&sign(at("2024-01-15", 13)), &visit_id(), with_sfi.clone())
        .unwrap();
    desk.record_visit(&sign(at("2024-01-15", 13)), &visit_id(), with_sfi)
        .unwrap();
    phone.merge(&mut desk).unwrap();
    assert!(phone.conflicts().unwrap().is_empty());
    assert_eq!(
        phone.household().unwrap().visits[&visit_id()].topics.len(),
        3
    );
}

#[test]
fn the_household_reads_as_it_was_at_any_instant() {
    let mut doc = with_member();
    doc.schedule_visit(
        &sign(at("2024-01-11", 9)),
        &visit_id(),
        at("2024-01-15", 10),
        &staff(),
    )
    .unwrap();
    doc.record_visit(&sign(at("2024-01-15", 12)), &visit_id(), record())
        .unwrap();
    doc.close_case(
        &sign(at("2024-02-01", 9)),
        CloseReason::Studies,
        date("2024-02-01"),
    )
    .unwrap();

    assert_eq!(doc.household_at(at("2024-01-01", 0)).unwrap(), None);
    let opened = doc.household_at(at("2024-01-10", 9)).unwrap().unwrap();
    assert!(opened.members.is_empty());
    let planned = doc.household_at(at("2024-01-12", 0)).unwrap().unwrap();
    assert_eq!(planned.visits[&visit_id()].status, VisitStatus::Planned);
    let held = doc.household_at(at("2024-01-31", 23)).unwrap().unwrap();
    assert_eq!(held.visits[&visit_id()].status, VisitStatus::Done);
    assert_eq!(held.profile.status, CaseStatus::Active);
    assert_eq!(
        doc.household_at(at("2024-02-02", 0)).unwrap().unwrap(),
        doc.household().unwrap()
    );
}

#[test]
fn save_and_load_keep_everything() {
    let mut doc = with_member();
    let saved = doc.save();
    let heads = doc.heads();
    doc.record_visit(&sign(at("2024-01-15", 12)), &visit_id(), record())
        .unwrap();
    let mut bytes = saved.clone();
    bytes.extend(doc.save_after(&heads));
    let loaded = HouseholdDoc::load(&bytes, actor(9)).unwrap();
    assert_eq!(loaded.household().unwrap(), doc.household().unwrap());
    assert_eq!(loaded.heads(), doc.heads());
}

#[test]
fn damaged_or_foreign_bytes_are_refused_clearly() {
    // Storage's bytes are walked before Automerge reads them (`check_stored`).
    assert!(matches!(
        HouseholdDoc::load(b"not automerge", actor(1)),
        Err(SchemaError::Chunk(crate::ChunkError::Damaged(_)))
    ));
    let mut truncated = with_member().save();
    truncated.truncate(truncated.len() / 2);
    assert!(HouseholdDoc::load(&truncated, actor(1)).is_err());
    let empty = Automerge::new().save();
    assert!(matches!(
        HouseholdDoc::load(&empty, actor(1)),
        Err(SchemaError::NotAHousehold)
    ));
    let mut newer = Automerge::new();
    newer
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            use automerge::transaction::Transactable as _;
            tx.put(automerge::ROOT, "schema_version", 99_u64)?;
            Ok(())
        })
        .unwrap();
    assert!(matches!(
        HouseholdDoc::load(&newer.save(), actor(1)),
        Err(SchemaError::TooNew {
            found: 99,
            supported: 1
        })
    ));
}

/// Brings `kept` up to `doc` and checks it against a fresh read and a whole-document walk.
fn outline_keeps_up(doc: &HouseholdDoc, kept: &mut crate::Outline) {
    doc.catch_up_outline(kept).unwrap();
    assert_eq!(*kept, doc.outline().unwrap());
    assert_eq!(kept.conflicts(), doc.conflicts().unwrap().len());
}

#[test]
fn a_caseload_outline_kept_up_change_by_change_reads_as_a_fresh_one() {
    let mut phone = with_member();
    let mut kept = phone.outline().unwrap();
    let when = sign(at("2024-01-15", 12));
    phone.record_visit(&when, &visit_id(), record()).unwrap();
    outline_keeps_up(&phone, &mut kept);
    let follow_up = FollowUpId::new("f-1").unwrap();
    let new_follow_up = NewFollowUp {
        description: "Ring hyresvärden".into(),
        owner: Owner::Staff(staff()),
        agency: None,
        due_on: date("2024-01-30"),
    };
    phone
        .add_follow_up(&when, &visit_id(), &follow_up, new_follow_up)
        .unwrap();
    outline_keeps_up(&phone, &mut kept);

    // Two replicas apart: each changes the profile, the same visit, the same follow-up, and
    // schedules a visit of its own.
    let mut desk = phone.fork(actor(2));
    let office = Signature::new(
        StaffId::new("u-boss").unwrap(),
        crate::ids::DeviceId::new("d-desk").unwrap(),
        at("2024-01-20", 14),
    );
    let later = sign(at("2024-01-20", 13));
    phone
        .update_housing(
            &later,
            "Norra vägen 1",
            "",
            HousingForm::TransitionalHousing,
        )
        .unwrap();
    desk.update_housing(
        &office,
        "Södra vägen 2",
        "",
        HousingForm::TransitionalHousing,
    )
    .unwrap();
    let mut longer = record();
    longer.duration_minutes = 90;
    phone.record_visit(&later, &visit_id(), longer).unwrap();
    let mut shorter = record();
    shorter.duration_minutes = 45;
    desk.record_visit(&office, &visit_id(), shorter).unwrap();
    phone
        .complete_follow_up(&later, &visit_id(), &follow_up, date("2024-01-19"))
        .unwrap();
    desk.complete_follow_up(&office, &visit_id(), &follow_up, date("2024-01-20"))
        .unwrap();
    let phones_visit = VisitId::new("v-2").unwrap();
    phone
        .schedule_visit(&later, &phones_visit, at("2024-02-01", 10), &staff())
        .unwrap();
    desk.schedule_visit(
        &office,
        &VisitId::new("v-3").unwrap(),
        at("2024-02-02", 10),
        &staff(),
    )
    .unwrap();
    outline_keeps_up(&phone, &mut kept);
    phone.merge(&mut desk).unwrap();
    outline_keeps_up(&phone, &mut kept);
    assert_eq!(kept.conflicts(), 3, "the address, a duration, a completion");
    assert_eq!(kept.visits.len(), 3);

    // Settling the conflicts one by one, and a visit cancelled.
    for conflict in phone.conflicts().unwrap() {
        let chosen = conflict.values[1].value.clone();
        phone
            .resolve_conflict(&office, &conflict.field, &chosen)
            .unwrap();
        outline_keeps_up(&phone, &mut kept);
    }
    assert_eq!(kept.conflicts(), 0);
    phone.cancel_visit(&office, &phones_visit).unwrap();
    outline_keeps_up(&phone, &mut kept);

    // An outline of a history the document does not hold is read again whole.
    let mut elsewhere = new_household();
    elsewhere
        .add_member(&sign(at("2024-01-11", 10)), &member_id(), adult())
        .unwrap();
    let mut other = elsewhere.outline().unwrap();
    assert_ne!(other, kept);
    outline_keeps_up(&phone, &mut other);
}

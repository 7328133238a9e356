//! The plan's forms, one action at a time.

use super::*;

fn member(id: &str) -> MemberId {
    MemberId::new(id).expect("a member id")
}

fn heads(byte: u8) -> Vec<ChangeHash> {
    vec![ChangeHash([byte; 32])]
}

#[test]
fn a_step_is_the_members_unless_the_staff_member_takes_it() {
    let form = Rc::new(StepForm::default())
        .reduce(StepAction::Describe("Boka tid hos SFI".into()))
        .reduce(StepAction::Due("2026-12-15".into()));
    let step = form
        .to_new_step(&member("m1"), None)
        .expect("a member's step needs nobody signed in");
    assert_eq!(step.owner, Owner::Member(member("m1")));
    assert_eq!(step.due_on, Some("2026-12-15".parse().expect("a date")));
    assert_eq!(step.description, "Boka tid hos SFI");

    let form = form.reduce(StepAction::Owner("staff".into()));
    let staff = StaffId::new("anna").expect("a staff id");
    assert_eq!(
        form.to_new_step(&member("m1"), Some(staff.clone()))
            .expect("saved")
            .owner,
        Owner::Staff(staff)
    );
    assert_eq!(
        form.to_new_step(&member("m1"), None),
        Err(PlanFormError::NoStaff)
    );
}

#[test]
fn a_step_without_a_due_date_has_none_and_a_wrong_one_is_refused() {
    let form = Rc::new(StepForm::default()).reduce(StepAction::Describe("Ring".into()));
    assert_eq!(
        form.to_new_step(&member("m1"), None).expect("saved").due_on,
        None
    );
    let form = form.reduce(StepAction::Due("15/12/2026".into()));
    assert_eq!(
        form.to_new_step(&member("m1"), None),
        Err(PlanFormError::Due)
    );
}

#[test]
fn a_saved_step_empties_the_form_but_a_failed_one_keeps_what_was_typed() {
    let typed = Rc::new(StepForm::default())
        .reduce(StepAction::Describe("Ring".into()))
        .reduce(StepAction::Owner("staff".into()))
        .reduce(StepAction::Due("2026-12-15".into()));
    let failed = typed.clone().reduce(StepAction::Failed("full".into()));
    assert_eq!(failed.description, "Ring");
    assert_eq!(failed.outcome, Some(Outcome::Failed("full".into())));
    // Typing again clears the message.
    assert_eq!(
        failed.reduce(StepAction::Describe("Ring!".into())).outcome,
        None
    );

    let saved = typed.reduce(StepAction::Saved);
    assert_eq!(saved.description, "");
    assert_eq!(saved.due, "");
    assert_eq!(
        saved.owner,
        StepOwner::Staff,
        "the owner chosen stays for the next step"
    );
    assert_eq!(saved.outcome, Some(Outcome::Saved));
}

#[test]
fn a_goal_starts_with_the_first_member_and_area_and_keeps_them_after_saving() {
    let form = Rc::new(GoalForm::new(Some(&member("m1"))));
    assert_eq!(form.area, GoalArea::ALL[0]);
    let form = form
        .reduce(GoalAction::Member("m2".into()))
        .reduce(GoalAction::Area(GoalArea::ALL[1].code().into()))
        .reduce(GoalAction::Describe("Eget boende".into()));
    let goal = form.to_new_goal().expect("a goal");
    assert_eq!(
        goal,
        NewGoal {
            member: member("m2"),
            area: GoalArea::ALL[1],
            description: "Eget boende".into(),
        }
    );
    let saved = form.reduce(GoalAction::Saved);
    assert_eq!(
        (saved.member.as_str(), saved.area),
        ("m2", GoalArea::ALL[1])
    );
    assert_eq!(saved.description, "");
    assert_eq!(saved.outcome, Some(Outcome::Saved));
    // An unknown area leaves the one chosen.
    assert_eq!(
        saved.reduce(GoalAction::Area("nope".into())).area,
        GoalArea::ALL[1]
    );
}

#[test]
fn a_household_without_members_has_no_goal_to_save() {
    let form = Rc::new(GoalForm::new(None)).reduce(GoalAction::Describe("Mål".into()));
    assert_eq!(form.to_new_goal(), Err(PlanFormError::Member));
}

#[test]
fn the_notes_edit_keeps_the_heads_it_began_at_and_its_text_when_saving_fails() {
    let edit = Rc::new(NotesEdit::default()).reduce(NotesAction::Typed {
        text: "a".into(),
        heads: heads(1),
    });
    // Another device's change arrived meanwhile: the edit still began at the first heads.
    let edit = edit.reduce(NotesAction::Typed {
        text: "ab".into(),
        heads: heads(2),
    });
    let draft = edit.draft.clone().expect("an edit in progress");
    assert_eq!((draft.base, draft.text.as_str()), (heads(1), "ab"));

    let failed = edit.reduce(NotesAction::Failed("storage full".into()));
    assert_eq!(
        failed.draft.as_ref().map(|draft| draft.text.as_str()),
        Some("ab")
    );
    assert_eq!(failed.outcome, Some(Outcome::Failed("storage full".into())));

    let saved = failed.reduce(NotesAction::Saved);
    assert_eq!(saved.draft, None);
    assert_eq!(saved.outcome, Some(Outcome::Saved));
    // The next edit begins at the heads shown then.
    let next = saved.reduce(NotesAction::Typed {
        text: "abc".into(),
        heads: heads(3),
    });
    assert_eq!(next.draft.as_ref().expect("an edit").base, heads(3));
}

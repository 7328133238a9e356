//! The user forms: what they send, what they refuse, one action at a time.

use super::*;
use crate::admin::tests::person;
use crate::i18n::{Language, set_language};

#[test]
fn a_new_user_needs_a_name_a_district_and_a_long_password() {
    set_language(Language::English);
    assert_eq!(
        UserDraft::default().role,
        Role::Staff,
        "staff unless chosen"
    );
    let mut draft = UserDraft {
        username: " Lina.B ".into(),
        display_name: "Lina Berg".into(),
        role: Role::Staff,
        districts: BTreeSet::new(),
        password: "short".into(),
    };
    assert_eq!(draft.to_request().unwrap_err().len(), 2);
    draft.districts.insert("district-norrmalm".into());
    draft.password = "a long first password".into();
    let request = draft.to_request().expect("valid");
    assert_eq!(request.username, "lina.b");
    assert_eq!(request.districts, ["district-norrmalm"]);
    assert_eq!(request.role, Role::Staff);
    draft.role = Role::Admin;
    assert!(draft.to_request().expect("valid").districts.is_empty());
}

#[test]
fn an_edit_sends_only_what_changed_and_never_ones_own_role() {
    set_language(Language::English);
    let mut anna = person("u-anna", "Anna Lind");
    anna.districts = vec!["district-norrmalm".into()];
    let mut edit = UserEdit::of(&anna);
    assert_eq!(edit.change_from(&anna, false), Ok(None));
    edit.role = Role::Supervisor;
    edit.districts.insert("district-kungsholmen".into());
    let change = edit.change_from(&anna, false).unwrap().unwrap();
    assert_eq!(change.role, Some(Role::Supervisor));
    assert_eq!(change.districts.unwrap().len(), 2);
    assert_eq!(change.display_name, None);
    edit.display_name = "Anna Lind-Berg".into();
    let own = edit.change_from(&anna, true).unwrap().unwrap();
    assert_eq!((own.role, own.districts), (None, None));
    assert_eq!(own.display_name.as_deref(), Some("Anna Lind-Berg"));
}

#[test]
fn the_forms_change_one_action_at_a_time_and_ignore_a_role_that_is_none() {
    set_language(Language::English);
    let draft = Rc::new(UserDraft::default())
        .reduce(UserDraftAction::Username("berit".into()))
        .reduce(UserDraftAction::DisplayName("Berit Ek".into()))
        .reduce(UserDraftAction::Role("supervisor".into()))
        .reduce(UserDraftAction::Districts(
            ["district-norrmalm".to_owned()].into(),
        ))
        .reduce(UserDraftAction::Password("korv-med-bröd-123".into()));
    let request = draft.to_request().expect("a whole form");
    assert_eq!(
        (
            request.username.as_str(),
            request.role,
            request.districts.len()
        ),
        ("berit", Role::Supervisor, 1)
    );
    assert_eq!(
        draft.reduce(UserDraftAction::Role("boss".into())).role,
        Role::Supervisor
    );

    let mut anna = person("anna", "Anna");
    anna.districts = vec!["district-norrmalm".into()];
    let edit = Rc::new(UserEdit::of(&anna))
        .reduce(UserEditAction::Role("admin".into()))
        .reduce(UserEditAction::DisplayName("Anna A".into()));
    let change = edit
        .change_from(&anna, false)
        .expect("a whole form")
        .expect("a change");
    assert_eq!(change.role, Some(Role::Admin));
    assert_eq!(change.display_name.as_deref(), Some("Anna A"));
    // An administrator has no districts: they are sent empty.
    assert_eq!(change.districts, Some(Vec::new()));
    assert_eq!(
        edit.reduce(UserEditAction::Role("".into())).role,
        Role::Admin
    );
}

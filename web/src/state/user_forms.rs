//! The administrator's forms for a user: a new one, and a change to one, as typed, changed
//! one action at a time and read as the server's request (with what to fix first, in words).

use std::collections::BTreeSet;
use std::rc::Rc;

use yew::Reducible;

use crate::admin::{MIN_PASSWORD_CHARS, role_has_districts};
use crate::api::{NewUser, Role, User, UserUpdate};
use crate::i18n::{t, t_args};

/// The new-user form as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDraft {
    /// The name to sign in with.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// One of [`crate::admin::ROLES`].
    pub role: Role,
    /// District ids.
    pub districts: BTreeSet<String>,
    /// The first password.
    pub password: String,
}

/// An empty form, for staff: most new users are.
impl Default for UserDraft {
    fn default() -> Self {
        Self {
            username: String::new(),
            display_name: String::new(),
            role: Role::Staff,
            districts: BTreeSet::new(),
            password: String::new(),
        }
    }
}

impl UserDraft {
    /// What to send the server, or what to fix first, in words.
    pub fn to_request(&self) -> Result<NewUser, Vec<String>> {
        let mut problems = Vec::new();
        let username = self.username.trim().to_lowercase();
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
        if username.is_empty() || username.len() > 64 || !username.chars().all(allowed) {
            problems.push(t("admin-error-username-invalid"));
        }
        if self.display_name.trim().is_empty() {
            problems.push(t("admin-error-display-name"));
        }
        if role_has_districts(self.role) && self.districts.is_empty() {
            problems.push(t("admin-error-no-district"));
        }
        if self.password.chars().count() < MIN_PASSWORD_CHARS {
            problems.push(t_args(
                "admin-error-weak-password",
                &[("count", MIN_PASSWORD_CHARS.into())],
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(NewUser {
            username,
            display_name: self.display_name.trim().to_owned(),
            password: self.password.clone(),
            role: self.role,
            districts: if role_has_districts(self.role) {
                self.districts.iter().cloned().collect()
            } else {
                Vec::new()
            },
        })
    }
}

/// The edit form of one user as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEdit {
    /// Whom.
    pub id: String,
    /// The name shown.
    pub display_name: String,
    /// One of [`crate::admin::ROLES`].
    pub role: Role,
    /// District ids.
    pub districts: BTreeSet<String>,
}

impl UserEdit {
    /// The form filled in with how `person` is now.
    pub fn of(person: &User) -> Self {
        Self {
            id: person.id.clone(),
            display_name: person.display_name.clone(),
            role: person.role,
            districts: person.districts.iter().cloned().collect(),
        }
    }

    /// What changed from `person`, to send; `Ok(None)` when nothing did. An administrator's
    /// own role and districts are never sent (the server refuses: another administrator
    /// changes them).
    pub fn change_from(&self, person: &User, own: bool) -> Result<Option<UserUpdate>, Vec<String>> {
        let mut problems = Vec::new();
        let display_name = self.display_name.trim();
        if display_name.is_empty() {
            problems.push(t("admin-error-display-name"));
        }
        if !own && role_has_districts(self.role) && self.districts.is_empty() {
            problems.push(t("admin-error-no-district"));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let districts: Vec<String> = if role_has_districts(self.role) {
            self.districts.iter().cloned().collect()
        } else {
            Vec::new()
        };
        let before: BTreeSet<&String> = person.districts.iter().collect();
        let after: BTreeSet<&String> = districts.iter().collect();
        let change = UserUpdate {
            disabled: None,
            display_name: (display_name != person.display_name).then(|| display_name.to_owned()),
            role: (!own && self.role != person.role).then_some(self.role),
            districts: (!own && before != after).then_some(districts),
        };
        Ok((change != UserUpdate::default()).then_some(change))
    }
}

/// One thing the administrator does on the new-user form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserDraftAction {
    /// The name to sign in with.
    Username(String),
    /// The name shown.
    DisplayName(String),
    /// The role, by its name (a name that is no role leaves the one chosen).
    Role(String),
    /// The districts chosen.
    Districts(BTreeSet<String>),
    /// The first password, typed or suggested.
    Password(String),
}

impl Reducible for UserDraft {
    type Action = UserDraftAction;

    fn reduce(self: Rc<Self>, action: UserDraftAction) -> Rc<Self> {
        let mut draft = (*self).clone();
        match action {
            UserDraftAction::Username(text) => draft.username = text,
            UserDraftAction::DisplayName(text) => draft.display_name = text,
            UserDraftAction::Role(name) => draft.role = name.parse().unwrap_or(draft.role),
            UserDraftAction::Districts(districts) => draft.districts = districts,
            UserDraftAction::Password(text) => draft.password = text,
        }
        Rc::new(draft)
    }
}

/// One thing the administrator does on a user's edit form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserEditAction {
    /// The name shown.
    DisplayName(String),
    /// The role, by its name (a name that is no role leaves the one chosen).
    Role(String),
    /// The districts chosen.
    Districts(BTreeSet<String>),
}

impl Reducible for UserEdit {
    type Action = UserEditAction;

    fn reduce(self: Rc<Self>, action: UserEditAction) -> Rc<Self> {
        let mut edit = (*self).clone();
        match action {
            UserEditAction::DisplayName(text) => edit.display_name = text,
            UserEditAction::Role(name) => edit.role = name.parse().unwrap_or(edit.role),
            UserEditAction::Districts(districts) => edit.districts = districts,
        }
        Rc::new(edit)
    }
}

#[cfg(test)]
mod tests;

//! Who uses the server: roles, users (as the API shows them, and as an administrator creates
//! and changes them), their devices, and the districts they work in.

use std::str::FromStr;

/// The fewest characters of a password the server accepts, and of a passphrase that unlocks
/// a device.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A role, deciding what a user may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Field staff: their own caseload.
    Staff,
    /// Supervisors: every household of their districts.
    Supervisor,
    /// Administrators: users and devices, no records.
    Admin,
}

impl Role {
    /// Its name, as stored and as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

/// A role's name that is none of [`Role`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, UnknownRole> {
        match text {
            "staff" => Ok(Role::Staff),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_owned())),
        }
    }
}

/// A user as the API shows them: the signed-in person, and every user to supervisors (to
/// assign households and name who did what) and administrators (to manage them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// Their id, also their staff id in documents.
    pub id: String,
    /// The name they sign in with.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// Their districts.
    pub districts: Vec<String>,
    /// Whether they are shut out. Devices signed in before the API said so kept their
    /// person without it: not shut out, or they would not have signed in.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub disabled: bool,
}

/// `POST /api/users` body: a new user, as an administrator fills in the form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// The name they sign in with.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// Their first password, handed over by the administrator.
    pub password: String,
    /// Their role.
    pub role: Role,
    /// Their districts.
    #[serde(default)]
    pub districts: Vec<String>,
}

/// `PATCH /api/users/{id}` body: what an administrator changes about a user, only the fields
/// given (`Some`); the server refuses fields it does not know.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// Shut the user out (their sessions end, their sockets close) or let them back in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// A new role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Their districts, replacing all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub districts: Option<Vec<String>>,
    /// A new display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `POST /api/users/{id}/reset-password` answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemporaryPassword {
    /// To hand to the user, once: it is not stored, and must be changed at the next sign-in.
    pub temporary_password: String,
}

/// A signed-in device, as administrators see every user's (and each person their own).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    /// Its id.
    pub id: String,
    /// Whose.
    pub user_id: String,
    /// What it was called when it signed in (the browser's name for itself).
    pub label: String,
    /// When it first signed in (ms since the epoch).
    pub created_at: i64,
    /// When it was last used (ms since the epoch).
    pub last_seen_at: i64,
    /// When it was revoked, if it was.
    #[serde(default)]
    pub revoked_at: Option<i64>,
}

/// A district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct District {
    /// Its id, as household documents record it.
    pub id: String,
    /// Its name.
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reads_back_from_its_name_and_nothing_else_reads_as_one() {
        for role in [Role::Staff, Role::Supervisor, Role::Admin] {
            assert_eq!(role.as_str().parse(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(
            "Admin".parse::<Role>(),
            Err(UnknownRole("Admin".to_owned()))
        );
    }

    #[test]
    fn a_user_kept_before_the_api_said_whether_they_are_shut_out_still_reads() {
        let kept = r#"{"id":"u-anna","username":"anna","display_name":"Anna Lind",
            "role":"staff","districts":["district-norrmalm"]}"#;
        let user: User = serde_json::from_str(kept).unwrap();
        assert_eq!(user.role, Role::Staff);
        assert!(!user.disabled);
    }

    #[test]
    fn an_update_sends_only_what_changes_and_refuses_what_it_does_not_know() {
        let update = UserUpdate {
            role: Some(Role::Supervisor),
            ..UserUpdate::default()
        };
        assert_eq!(
            serde_json::to_string(&update).unwrap(),
            r#"{"role":"supervisor"}"#
        );
        assert!(serde_json::from_str::<UserUpdate>(r#"{"password":"x"}"#).is_err());
    }
}

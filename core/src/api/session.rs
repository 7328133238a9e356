//! Signing in: how one may sign in on a server, and who is signed in on a device.

use super::{Role, User};
use crate::{DeviceId, DistrictId, StaffId, Writer, WriterRole};

/// `GET /api/me` answer: who is signed in, on which device. The app keeps it on the device
/// between starts, so fields added later have defaults: what a device kept from an older
/// version still reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// The person.
    pub user: User,
    /// This device, as the server registered it.
    pub device_id: String,
    /// The server's clock, milliseconds since the Unix epoch: the app signs its changes with
    /// its offset from this, so a phone with a wrong clock neither backdates entries nor has
    /// them refused as signed in the future. `None` where the server did not say (the
    /// sign-in's answer, an older server).
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<i64>,
    /// Signed in with a temporary password an administrator set: a new one must be chosen
    /// (`POST /api/me/password`) before anything else (the server refuses everything else
    /// until then).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub must_change_password: bool,
    /// How devices lock, as the installation's administrator set it; `None` from an older
    /// server (the app keeps [`DeviceLock::default`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_lock: Option<DeviceLock>,
}

/// How the app locks on devices: after how long without use, and how long a device may go
/// without reaching the server and still unlock offline. An administrator sets it for the
/// installation; each device keeps the last it heard, so that it applies offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceLock {
    /// Minutes without use before the phone's app locks.
    pub phone_idle_minutes: u32,
    /// Minutes without use before the desk's app locks.
    pub desk_idle_minutes: u32,
    /// Days a device may go without reaching the server and still unlock.
    pub offline_days: u32,
}

impl Default for DeviceLock {
    /// Five minutes on a phone, fifteen at the desk, thirty days offline.
    fn default() -> Self {
        Self {
            phone_idle_minutes: 5,
            desk_idle_minutes: 15,
            offline_days: 30,
        }
    }
}

impl DeviceLock {
    /// The longest an app may stay unlocked without use, in minutes.
    pub const MAX_IDLE_MINUTES: u32 = 60;
    /// The longest a device may go without reaching the server, in days.
    pub const MAX_OFFLINE_DAYS: u32 = 90;

    /// Whether an administrator may set this, and if not, why.
    pub fn check(&self) -> Result<(), String> {
        for (what, minutes) in [
            ("the phone's", self.phone_idle_minutes),
            ("the desk's", self.desk_idle_minutes),
        ] {
            if !(1..=Self::MAX_IDLE_MINUTES).contains(&minutes) {
                return Err(format!(
                    "{what} time before locking is 1–{} minutes",
                    Self::MAX_IDLE_MINUTES
                ));
            }
        }
        if !(1..=Self::MAX_OFFLINE_DAYS).contains(&self.offline_days) {
            return Err(format!(
                "the time a device may stay offline is 1–{} days",
                Self::MAX_OFFLINE_DAYS
            ));
        }
        Ok(())
    }
}

impl Me {
    /// The person on this device as core's check knows a writer: what the app signs its
    /// changes with, and vets them as. An administrator writes as a supervisor. `None` for
    /// ids core does not accept.
    pub fn writer(&self) -> Option<Writer> {
        Some(Writer {
            staff: StaffId::new(&self.user.id).ok()?,
            device: DeviceId::new(&self.device_id).ok()?,
            role: match self.user.role {
                Role::Supervisor | Role::Admin => WriterRole::Supervisor,
                Role::Staff => WriterRole::Staff,
            },
            districts: self
                .user
                .districts
                .iter()
                .filter_map(|district| DistrictId::new(district).ok())
                .collect(),
        })
    }
}

/// `GET /api/sign-in-options` answer: how one may sign in on the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInOptions {
    /// Whether a username and password sign in.
    pub password: bool,
    /// The organisation's identity provider, when the server has one.
    #[serde(default)]
    pub oidc: Option<ProviderOption>,
}

/// The organisation's identity provider, as the sign-in page offers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderOption {
    /// Its name on the button ("Stockholms stad").
    pub label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(role: Role) -> Me {
        Me {
            user: User {
                id: "u-sara".into(),
                username: "sara".into(),
                display_name: "Sara Ek".into(),
                role,
                districts: vec!["district-norrmalm".into(), "not a district".into()],
                disabled: false,
            },
            device_id: "d-1".into(),
            server_time: None,
            must_change_password: false,
            device_lock: None,
        }
    }

    #[test]
    fn a_person_writes_in_their_role_and_an_administrator_as_a_supervisor() {
        let writer = me(Role::Staff).writer().unwrap();
        assert_eq!(writer.role, WriterRole::Staff);
        assert_eq!(writer.staff.as_str(), "u-sara");
        assert_eq!(writer.device.as_str(), "d-1");
        assert_eq!(
            writer.districts.len(),
            1,
            "a malformed district is left out"
        );
        assert_eq!(
            me(Role::Supervisor).writer().unwrap().role,
            WriterRole::Supervisor
        );
        assert_eq!(
            me(Role::Admin).writer().unwrap().role,
            WriterRole::Supervisor
        );
        let mut nobody = me(Role::Staff);
        nobody.device_id = String::new();
        assert_eq!(nobody.writer(), None);
    }

    #[test]
    fn who_a_device_kept_from_an_older_version_still_reads() {
        let kept = r#"{"user":{"id":"u-sara","username":"sara","display_name":"Sara Ek",
            "role":"supervisor","districts":[]},"device_id":"d-1"}"#;
        let me: Me = serde_json::from_str(kept).unwrap();
        assert_eq!(me.server_time, None);
        assert!(!me.must_change_password && !me.user.disabled);
        let json = serde_json::to_value(&me).unwrap();
        assert!(
            json.get("server_time").is_none(),
            "no time is not a time: {json}"
        );
    }
}

//! Identifiers of the things inside a household document, and of the staff and devices that edit it.
//!
//! Every identifier is a short ASCII string, because it becomes an Automerge map key. Core never
//! draws random numbers itself: callers pass randomness in (`from_random`), so the same code
//! runs in the browser, in the server and in a seeded test.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string was empty.
    #[error("{kind} must not be empty")]
    Empty {
        /// Which kind of identifier.
        kind: &'static str,
    },
    /// The string was longer than identifiers may be.
    #[error("{kind} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// Which kind of identifier.
        kind: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// The string held a character outside `A-Z a-z 0-9 - _ .`.
    #[error("{kind} may only hold letters, digits, '-', '_' and '.'; found {found:?}")]
    BadCharacter {
        /// Which kind of identifier.
        kind: &'static str,
        /// The first offending character.
        found: char,
    },
}

/// The longest identifier accepted, in bytes.
pub const MAX_ID_LEN: usize = 64;

pub(crate) fn validate(kind: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.len() > MAX_ID_LEN {
        return Err(IdError::TooLong {
            kind,
            len: value.len(),
            max: MAX_ID_LEN,
        });
    }
    if let Some(found) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(IdError::BadCharacter { kind, found });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and validates an identifier.
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                validate($kind, &value)?;
                Ok(Self(value))
            }

            /// A fresh identifier from 64 random bits supplied by the caller.
            pub fn from_random(random: u64) -> Self {
                Self(format!(concat!($prefix, "{:016x}"), random))
            }

            /// The identifier as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
                self.0.reconcile(reconciler)
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(value: &'_ str) -> Result<Self, HydrateError> {
                Self::new(value).map_err(|error| HydrateError::unexpected("an identifier", error.to_string()))
            }
        }
    };
}

string_id!(
    /// A person in a household.
    MemberId, "member id", "m-"
);
string_id!(
    /// A visit, planned or held.
    VisitId, "visit id", "v-"
);
string_id!(
    /// A follow-up action or referral agreed at a visit.
    FollowUpId, "follow-up id", "f-"
);
string_id!(
    /// A goal of the individual plan.
    GoalId, "goal id", "g-"
);
string_id!(
    /// A step towards a goal.
    StepId, "step id", "s-"
);
string_id!(
    /// A staff member (user) as the server knows them.
    StaffId, "staff id", "u-"
);
string_id!(
    /// A device a staff member signed in on.
    DeviceId, "device id", "d-"
);
string_id!(
    /// A district ("stadsdel") whose residents a household belongs to.
    DistrictId, "district id", "district-"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert_eq!(VisitId::new(""), Err(IdError::Empty { kind: "visit id" }));
        assert!(matches!(
            MemberId::new("a b"),
            Err(IdError::BadCharacter { found: ' ', .. })
        ));
        assert!(matches!(
            StaffId::new("x".repeat(65)),
            Err(IdError::TooLong { len: 65, .. })
        ));
        assert_eq!(VisitId::from_random(0xab).as_str(), "v-00000000000000ab");
        assert_eq!(VisitId::new("v-1").unwrap().to_string(), "v-1");
    }
}

//! Who made a change, on which device, and when: the metadata of every commit.
//!
//! Documentation rules require that each entry shows who wrote it and when. Every action
//! commits exactly one Automerge change whose message is this signature as JSON, and whose
//! Automerge time is the same instant in seconds (what other Automerge tools display).

use crate::calendar::Timestamp;
use crate::ids::{DeviceId, StaffId};

/// The author and time of one change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signature {
    /// The staff member who made the change.
    pub staff: StaffId,
    /// The device it was made on.
    pub device: DeviceId,
    /// When, as the device's clock said.
    pub at: Timestamp,
}

/// The JSON written into a change's message.
#[derive(serde::Serialize, serde::Deserialize)]
struct Message<'a> {
    staff: StaffId,
    device: DeviceId,
    at: Timestamp,
    action: std::borrow::Cow<'a, str>,
}

impl Signature {
    /// A signature for a change made now by `staff` on `device`.
    pub fn new(staff: StaffId, device: DeviceId, at: Timestamp) -> Self {
        Self { staff, device, at }
    }

    /// The commit options for an action named `action`.
    pub fn commit_options(&self, action: &str) -> automerge::transaction::CommitOptions {
        let message = Message {
            staff: self.staff.clone(),
            device: self.device.clone(),
            at: self.at,
            action: action.into(),
        };
        // Serialising plain strings and an integer cannot fail.
        let json = serde_json::to_string(&message).unwrap_or_default();
        automerge::transaction::CommitOptions::default()
            .with_message(json)
            .with_time(self.at.as_seconds())
    }

    /// Reads a signature and action name back from a change's message; `None` for changes
    /// written by something other than Lots.
    pub fn from_change_message(message: &str) -> Option<(Self, String)> {
        let parsed: Message<'_> = serde_json::from_str(message).ok()?;
        Some((
            Self {
                staff: parsed.staff,
                device: parsed.device,
                at: parsed.at,
            },
            parsed.action.into_owned(),
        ))
    }
}

/// What a change's metadata says about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeInfo {
    /// The Lots signature, when the change was made by Lots.
    pub signature: Option<Signature>,
    /// The action's name, when the change was made by Lots.
    pub action: Option<String>,
    /// The change's time: the signature's instant, or Automerge's seconds for other writers.
    pub at: Timestamp,
}

impl ChangeInfo {
    pub(crate) fn from_meta(meta: &automerge::ChangeMetadata<'_>) -> Self {
        let parsed = meta
            .message
            .as_deref()
            .and_then(Signature::from_change_message);
        match parsed {
            Some((signature, action)) => Self {
                at: signature.at,
                signature: Some(signature),
                action: Some(action),
            },
            None => Self {
                signature: None,
                action: None,
                at: Timestamp::from_millis(meta.timestamp.saturating_mul(1000)),
            },
        }
    }
}

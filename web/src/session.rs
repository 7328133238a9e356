//! Who is signed in on this device: the [`Session`] every signed-in screen reads, and how the
//! device remembers the person between starts.

use std::rc::Rc;

use lots_core::{DeviceId, StaffId};

use crate::api::{Me, Role};
use crate::engine::Engine;

/// The key under which storage's meta store keeps who is signed in ([`Me`]).
pub(crate) const ME: &str = "me";

/// The signed-in person on this device, with the engine holding their households. Provided
/// as context; `revision` changes whenever the engine reports a change, so every screen that
/// reads the engine renders again.
#[derive(Clone, PartialEq)]
pub struct Session {
    /// Who.
    pub me: Rc<Me>,
    /// Their households and the sync.
    pub engine: Engine,
    /// The households this device showed, for the access log.
    pub reads: crate::reads::ReadLog,
    /// Counts the engine's changes.
    pub revision: u64,
}

impl Session {
    /// Whether this person works at the supervisor's desk (desktop screens for every
    /// household of their districts) rather than in the field.
    pub fn at_desk(&self) -> bool {
        self.me.user.role == Role::Supervisor
    }

    /// Their staff id, for signing changes.
    pub fn staff(&self) -> Option<StaffId> {
        StaffId::new(self.me.user.id.clone()).ok()
    }

    /// This device, for signing changes.
    pub fn device(&self) -> Option<DeviceId> {
        DeviceId::new(self.me.device_id.clone()).ok()
    }
}

//! Access by caseload: staff sync the households assigned to them, supervisors the households
//! of their districts, administrators none. Every change a device sends is vetted by core's
//! [`lots_core::vet_changes`] as the connection's user and device before it is applied.
//!
//! A staff member a household was reassigned away from (its *former holder*) may still send
//! it changes, and reads nothing of it: the sync peer answers them with no content, and core
//! takes only the changes that do not build on the reassignment, within
//! [`lots_core::FORMER_HOLDER_DAYS`] of it ([`lots_core::Access::FormerHolder`]).

use std::collections::{HashMap, HashSet};

use lots_core::automerge::{ActorId, Automerge, Change, ChangeHash};
use lots_core::{
    Access, ConnectionId, DeviceId, DistrictId, DocumentId, PeerId, SharePolicy, StaffId,
    Timestamp, Vetting, Writer, WriterRole,
};

use crate::store::Role;

/// Who is at the other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user (and staff id in documents).
    pub user_id: String,
    /// The device they signed in on.
    pub device_id: String,
    /// Their role.
    pub role: Role,
    /// Their districts.
    pub districts: Vec<String>,
}

impl Principal {
    /// Whether this person may see a household of `district` assigned to `assigned_staff`.
    pub fn may_read(&self, household: &HouseholdIndex) -> bool {
        match self.role {
            Role::Staff => household.assigned_staff.as_deref() == Some(self.user_id.as_str()),
            Role::Supervisor => household
                .district
                .as_ref()
                .is_some_and(|district| self.districts.contains(district)),
            Role::Admin => false,
        }
    }
}

/// What access decisions need to know of a household.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HouseholdIndex {
    /// Its district.
    pub district: Option<String>,
    /// The staff member whose caseload it is in.
    pub assigned_staff: Option<String>,
}

/// What the policy knows of a user, to check who may hold a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Their role.
    pub role: Role,
    /// Their districts.
    pub districts: Vec<String>,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// An actor first used by a device in a change that was accepted: to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBinding {
    /// The actor, in hex.
    pub actor: String,
    /// The user.
    pub user_id: String,
    /// The device.
    pub device_id: String,
}

/// The policy the hub's sync peer asks before sharing or accepting anything.
#[derive(Debug, Default)]
pub struct CaseloadPolicy {
    /// The principal behind each joined peer id.
    pub peers: HashMap<PeerId, Principal>,
    /// Every household the server knows.
    pub households: HashMap<DocumentId, HouseholdIndex>,
    /// The principal behind each open connection, known before its peer joins.
    pub connections: HashMap<ConnectionId, Principal>,
    /// The device each Automerge actor is bound to.
    pub actors: HashMap<ActorId, String>,
    /// Every user, by id, for assignments.
    pub users: HashMap<String, Holder>,
    /// Changes held in quarantine, not yet accepted.
    pub quarantined: HashSet<ChangeHash>,
    /// Each household's former holders (staff it was reassigned away from), with when it
    /// moved away from them.
    pub former_holders: HashMap<DocumentId, HashMap<String, Timestamp>>,
    /// Bindings made by accepted changes since the hub last took them.
    pub new_bindings: Vec<NewBinding>,
    /// Households removed (gallring, or a decision): never taken again from any device.
    pub removed: HashSet<DocumentId>,
    /// Whether changes are vetted (always, except in the benchmark's comparison run).
    pub skip_vetting: bool,
}

/// The server's tables, as core's validation asks them.
struct Tables<'a> {
    actors: &'a HashMap<ActorId, String>,
    users: &'a HashMap<String, Holder>,
    quarantined: &'a HashSet<ChangeHash>,
}

impl lots_core::Directory for Tables<'_> {
    fn actor_device(&self, actor: &ActorId) -> Option<DeviceId> {
        self.actors
            .get(actor)
            .and_then(|device| DeviceId::new(device.clone()).ok())
    }

    fn may_hold(&self, staff: &StaffId, district: &DistrictId) -> bool {
        self.users.get(staff.as_str()).is_some_and(|holder| {
            holder.role == Role::Staff
                && !holder.disabled
                && holder
                    .districts
                    .iter()
                    .any(|held| held == district.as_str())
        })
    }

    fn is_quarantined(&self, change: &ChangeHash) -> bool {
        self.quarantined.contains(change)
    }
}

impl Principal {
    /// The principal as core's validation names a writer; `None` for an administrator, who
    /// writes nothing, or ids that are not ids.
    pub fn writer(&self) -> Option<Writer> {
        let role = match self.role {
            Role::Staff => WriterRole::Staff,
            Role::Supervisor => WriterRole::Supervisor,
            Role::Admin => return None,
        };
        Some(Writer {
            staff: StaffId::new(self.user_id.clone()).ok()?,
            device: DeviceId::new(self.device_id.clone()).ok()?,
            role,
            districts: self
                .districts
                .iter()
                .filter_map(|district| DistrictId::new(district.clone()).ok())
                .collect(),
        })
    }
}

impl CaseloadPolicy {
    /// When `document` was reassigned away from the staff member behind `peer`, if they held
    /// it once and do not hold it now. How long ago that may be is core's to decide, per
    /// change: past its window their changes are refused into quarantine, for a supervisor,
    /// rather than answered as if the household did not exist, so nothing they wrote is lost
    /// unseen.
    pub fn former_holder(&self, peer: &PeerId, document: &DocumentId) -> Option<Timestamp> {
        let principal = self.peers.get(peer)?;
        if principal.role != Role::Staff {
            return None;
        }
        let household = self.households.get(document)?;
        if principal.may_read(household) {
            return None;
        }
        self.former_holders
            .get(document)?
            .get(&principal.user_id)
            .copied()
    }
}

impl SharePolicy for CaseloadPolicy {
    fn may_read(&self, peer: &PeerId, document: &DocumentId) -> bool {
        let (Some(principal), Some(household)) =
            (self.peers.get(peer), self.households.get(document))
        else {
            return false;
        };
        principal.may_read(household)
    }

    fn may_join(&self, peer: &PeerId, connection: ConnectionId) -> bool {
        let joining = self
            .connections
            .get(&connection)
            .map(|principal| &principal.user_id);
        match self.peers.get(peer) {
            Some(holder) => Some(&holder.user_id) == joining,
            None => joining.is_some(),
        }
    }

    /// Whoever may read it, and its former holders (write-only: see [`Self::former_holder`]).
    fn may_write(&self, peer: &PeerId, document: &DocumentId) -> bool {
        self.may_read(peer, document) || self.former_holder(peer, document).is_some()
    }

    /// Staff and supervisors may bring a household created on their device. Until its
    /// profile arrives the new document is theirs alone: the hub indexes it as assigned to
    /// its creator, then re-indexes it from the profile.
    fn may_create(&self, peer: &PeerId, document: &DocumentId) -> bool {
        !self.households.contains_key(document)
            && !self.removed.contains(document)
            && self
                .peers
                .get(peer)
                .is_some_and(|principal| principal.role != Role::Admin)
    }

    fn created(&mut self, peer: &PeerId, document: &DocumentId) {
        if let Some(principal) = self.peers.get(peer) {
            let index = HouseholdIndex {
                district: None,
                assigned_staff: Some(principal.user_id.clone()),
            };
            self.households.insert(*document, index);
        }
    }

    fn vets_changes(&self) -> bool {
        !self.skip_vetting
    }

    fn vet(
        &mut self,
        now: Timestamp,
        peer: &PeerId,
        document: &DocumentId,
        doc: &Automerge,
        changes: Vec<Change>,
    ) -> Vetting {
        // The sync peer asks only for changes it may take at all: from the household's
        // caseload, its creator, or a former holder.
        let access = match self.former_holder(peer, document) {
            Some(reassigned_at) => Access::FormerHolder { reassigned_at },
            None => Access::Caseload,
        };
        let Some(principal) = self.peers.get(peer) else {
            return Vetting::default();
        };
        let Some(writer) = principal.writer() else {
            return Vetting::default();
        };
        let tables = Tables {
            actors: &self.actors,
            users: &self.users,
            quarantined: &self.quarantined,
        };
        let vetting = lots_core::vet_changes_with(doc, changes, &writer, access, &tables, now);
        for actor in &vetting.new_actors {
            self.actors
                .insert(actor.clone(), principal.device_id.clone());
            self.new_bindings.push(NewBinding {
                actor: actor.to_hex_string(),
                user_id: principal.user_id.clone(),
                device_id: principal.device_id.clone(),
            });
        }
        for refused in &vetting.refused {
            self.quarantined.insert(refused.hash);
        }
        vetting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, districts: &[&str]) -> Principal {
        Principal {
            user_id: "u-anna".into(),
            device_id: "d-1".into(),
            role,
            districts: districts
                .iter()
                .map(|district| district.to_string())
                .collect(),
        }
    }

    #[test]
    fn each_role_sees_its_caseload() {
        let mine = HouseholdIndex {
            district: Some("norr".into()),
            assigned_staff: Some("u-anna".into()),
        };
        let other = HouseholdIndex {
            district: Some("norr".into()),
            assigned_staff: Some("u-omar".into()),
        };
        let elsewhere = HouseholdIndex {
            district: Some("syd".into()),
            assigned_staff: Some("u-anna".into()),
        };
        let staff = principal(Role::Staff, &["norr"]);
        assert!(staff.may_read(&mine) && !staff.may_read(&other) && staff.may_read(&elsewhere));
        let supervisor = principal(Role::Supervisor, &["norr"]);
        assert!(
            supervisor.may_read(&mine)
                && supervisor.may_read(&other)
                && !supervisor.may_read(&elsewhere)
        );
        let admin = principal(Role::Admin, &["norr"]);
        assert!(!admin.may_read(&mine));
    }
}

//! Access by caseload: staff sync the households assigned to them, supervisors the households
//! of their districts, administrators none.

use std::collections::HashMap;

use lots_core::{ConnectionId, DocumentId, PeerId, SharePolicy};

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

/// The policy the hub's sync peer asks before sharing or accepting anything.
#[derive(Debug, Default)]
pub struct CaseloadPolicy {
    /// The principal behind each joined peer id.
    pub peers: HashMap<PeerId, Principal>,
    /// Every household the server knows.
    pub households: HashMap<DocumentId, HouseholdIndex>,
    /// The principal behind each open connection, known before its peer joins.
    pub connections: HashMap<ConnectionId, Principal>,
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

    fn may_write(&self, peer: &PeerId, document: &DocumentId) -> bool {
        self.may_read(peer, document)
    }

    /// Staff and supervisors may bring a household created on their device. Until its
    /// profile arrives the new document is theirs alone: the hub indexes it as assigned to
    /// its creator, then re-indexes it from the profile.
    fn may_create(&self, peer: &PeerId, document: &DocumentId) -> bool {
        !self.households.contains_key(document)
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

//! Whether changes from another replica may be kept: the trust boundary, written once.
//!
//! The server runs every change a device sends through [`vet_changes`] before it stores,
//! acknowledges or forwards it; the app's own actions produce only changes that pass (its
//! tests run them through the same function). A change passes when
//!
//! - it is signed (its message is a Lots [`Signature`]) by the writer and the writer's
//!   device, its Automerge actor belongs to that device, and its signing time is at most
//!   [`MAX_SIGNED_AHEAD_MINUTES`] ahead of the checker's clock;
//! - it is within the limits the app's actions keep (operations, size, entries, text);
//! - every operation lands where the schema has room for it, removes no entry people
//!   recorded and replaces no object holding entries; once applied, every entry it touched
//!   reads as the schema says (`schema::vet`);
//! - the fields only a supervisor sets (district, assigned staff) are set by a supervisor
//!   within their districts, or in the household's first change by the staff member who
//!   creates it in their own district, assigned to themselves;
//! - it depends on no change that was refused;
//! - from a staff member who held the household before it was reassigned (a phone that was
//!   offline when it happened, [`Access::FormerHolder`]): the household was assigned to them
//!   at the change's own dependencies, so the change does not build on the reassignment, and
//!   it arrives at most [`FORMER_HOLDER_DAYS`] days after the reassignment.

use std::collections::HashSet;

use automerge::{ActorId, Automerge, Change, ChangeHash};

use crate::actions::MAX_NOTE_CHARS;
use crate::calendar::Timestamp;
use crate::ids::{DeviceId, DistrictId, StaffId};
use crate::schema::household::Profile;
use crate::schema::vet::{self, ShapeError};
use crate::signature::Signature;

/// How far ahead of the checker's clock a signature may be. The app signs with the offset it
/// learned from the server, so only a clock gone wrong since then reaches this.
pub const MAX_SIGNED_AHEAD_MINUTES: i64 = 10;

/// The most operations one change may hold: a visit's whole note typed at once, and room
/// for everything else one action writes.
pub const MAX_OPERATIONS_PER_CHANGE: usize = MAX_NOTE_CHARS + 10_000;

/// The largest change, uncompressed, in bytes.
pub const MAX_CHANGE_BYTES: usize = 2 * 1024 * 1024;

/// How long after a household is reassigned its former holder's changes that do not build
/// on the reassignment (a visit recorded offline before the phone heard of it) are still
/// taken. A phone offline longer than that has its changes kept in quarantine for a
/// supervisor instead: by then the household's new holder has been working on it for weeks.
pub const FORMER_HOLDER_DAYS: i64 = 30;

/// Why the writer may send changes to this household at all; the caller decides it from its
/// caseloads, the checks of each change follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The household is in the writer's caseload now (or is being created by them).
    Caseload,
    /// The writer held the household until it was reassigned at `reassigned_at`, and may
    /// no longer read it: only changes made before their device heard of the reassignment
    /// are taken (see [`vet_changes_with`]).
    FormerHolder {
        /// When the household was moved away from the writer (the server's clock).
        reassigned_at: Timestamp,
    },
}

/// What the writer is allowed, beyond their caseload (which the caller has checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriterRole {
    /// A field worker: their own caseload.
    Staff,
    /// A supervisor: their districts' households, and who holds them.
    Supervisor,
}

/// Who sent the changes: the signed-in person and the device of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writer {
    /// The person.
    pub staff: StaffId,
    /// The device.
    pub device: DeviceId,
    /// Their role.
    pub role: WriterRole,
    /// Their districts.
    pub districts: Vec<DistrictId>,
}

/// What the checker knows beyond the document: the server's tables.
pub trait Directory {
    /// The device an Automerge actor is bound to, if any device has used it.
    fn actor_device(&self, actor: &ActorId) -> Option<DeviceId>;
    /// Whether `staff` may hold a household of `district` (a supervisor's assignment).
    fn may_hold(&self, staff: &StaffId, district: &DistrictId) -> bool;
    /// Whether a change is held in quarantine (refused, not yet accepted by a supervisor).
    fn is_quarantined(&self, change: &ChangeHash) -> bool;
}

/// Why a change was refused. [`Refusal::code`] is a short stable name for the app.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The change carries no Lots signature.
    #[error("the change is not signed")]
    Unsigned,
    /// Signed by someone other than the writer, or on another device.
    #[error(
        "the change is signed by {staff} on {device}, not by the signed-in person on this device"
    )]
    SignedByOther {
        /// The signer named in the change.
        staff: String,
        /// The device named in the change.
        device: String,
    },
    /// The change's actor belongs to another device.
    #[error("the change's author id {actor} belongs to another device")]
    ActorTaken {
        /// The actor, in hex.
        actor: String,
    },
    /// Signed too far ahead of the checker's clock.
    #[error(
        "the change is signed {minutes} minutes ahead of the server's clock; check the device's time"
    )]
    SignedAhead {
        /// How far ahead, in whole minutes.
        minutes: i64,
    },
    /// More operations than any action writes.
    #[error("the change holds {count} operations; at most {max} are allowed")]
    TooManyOperations {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Larger than any action writes.
    #[error("the change is {bytes} bytes; at most {max} are allowed")]
    TooLarge {
        /// Its size, uncompressed.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The schema does not allow what it does.
    #[error("{0}")]
    Shape(#[from] ShapeError),
    /// Something the writer's role does not allow.
    #[error("{0}")]
    Role(String),
    /// The change itself was refused before and is held in quarantine for a supervisor's
    /// decision: sent again, it stays there (whatever made it pass now, such as the clock
    /// catching up with its signature, only the decision lets it in).
    #[error("it is held in quarantine for a supervisor's decision")]
    HeldInQuarantine,
    /// It depends on a change that was refused.
    #[error("it depends on the refused change {change}")]
    DependsOnRefused {
        /// The refused change, in hex.
        change: String,
    },
    /// The change bytes do not load.
    #[error("the change is damaged: {0}")]
    Damaged(String),
}

impl Refusal {
    /// A short, stable name for the reason, for close frames and the app's translations.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unsigned => "unsigned",
            Self::SignedByOther { .. } => "signer",
            Self::ActorTaken { .. } => "actor",
            Self::SignedAhead { .. } => "clock",
            Self::TooManyOperations { .. } | Self::TooLarge { .. } => "too-large",
            Self::Shape(ShapeError::Deletes { .. }) => "deletes",
            Self::Shape(ShapeError::Replaces { .. }) => "replaces",
            Self::Shape(ShapeError::TooLong { .. } | ShapeError::TooManyEntries { .. }) => {
                "too-large"
            }
            Self::Shape(_) => "shape",
            Self::Role(_) => "role",
            Self::HeldInQuarantine => "held",
            Self::DependsOnRefused { .. } => "depends",
            Self::Damaged(_) => "damaged",
        }
    }
}

/// A change that was not kept, with why. Its `Debug` form names the change by hash and size,
/// never its bytes: it reaches the server's log, which must hold no household content.
#[derive(Clone, PartialEq, Eq)]
pub struct RefusedChange {
    /// Its hash.
    pub hash: ChangeHash,
    /// Its bytes, to keep in quarantine.
    pub bytes: Vec<u8>,
    /// Its signature, when it has one that reads.
    pub signature: Option<Signature>,
    /// Why it was refused.
    pub reason: Refusal,
}

impl std::fmt::Debug for RefusedChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefusedChange")
            .field("hash", &self.hash)
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("signature", &self.signature)
            .field("reason", &self.reason)
            .finish()
    }
}

/// The outcome of [`vet_changes`].
#[derive(Debug, Default)]
pub struct Vetting {
    /// The changes that pass, in an order that applies (dependencies first).
    pub accepted: Vec<Change>,
    /// The document with the accepted changes applied, when there are any.
    pub merged: Option<Automerge>,
    /// The changes that do not, each with its reason.
    pub refused: Vec<RefusedChange>,
    /// Actors first used by the writer's device in the accepted changes: bind them.
    pub new_actors: Vec<ActorId>,
    /// Changes whose dependencies are neither in the document nor among the changes: kept
    /// aside, unapplied, to be vetted again once what they depend on has come.
    pub waiting: Vec<Change>,
}

/// Decides, change by change, which of `changes` (from `writer`, whose caseload holds the
/// household) may be added to `doc`. Changes `doc` already has are ignored; the rest are
/// taken dependencies first.
pub fn vet_changes(
    doc: &Automerge,
    changes: Vec<Change>,
    writer: &Writer,
    directory: &dyn Directory,
    now: Timestamp,
) -> Vetting {
    vet_changes_with(doc, changes, writer, Access::Caseload, directory, now)
}

/// [`vet_changes`] for a writer who reaches the household by `access`. A
/// [`Access::FormerHolder`]'s change must also have been made where the household was still
/// theirs: read at the change's own dependencies, it is assigned to the writer. A change
/// that depends on the reassignment (or on anything after it) reads otherwise and is refused,
/// as is every change once [`FORMER_HOLDER_DAYS`] have passed since the reassignment.
pub fn vet_changes_with(
    doc: &Automerge,
    changes: Vec<Change>,
    writer: &Writer,
    access: Access,
    directory: &dyn Directory,
    now: Timestamp,
) -> Vetting {
    let mut vetting = Vetting::default();
    let mut seen = HashSet::new();
    let mut pending: Vec<Change> = changes
        .into_iter()
        .filter(|change| seen.insert(change.hash()))
        .filter(|change| doc.get_change_meta_by_hash(&change.hash()).is_none())
        .collect();
    let mut accepted: HashSet<ChangeHash> = HashSet::new();
    let mut refused: HashSet<ChangeHash> = HashSet::new();
    let mut bound: Vec<(ActorId, DeviceId)> = Vec::new();
    // The document with the changes accepted so far: made on the first change that passes
    // the checks that need no document.
    let mut working: Option<Automerge> = None;
    loop {
        let mut progress = false;
        let mut still = Vec::new();
        for change in pending {
            if directory.is_quarantined(&change.hash()) {
                progress = true;
                refused.insert(change.hash());
                vetting
                    .refused
                    .push(refuse(change, Refusal::HeldInQuarantine));
                continue;
            }
            let deps = change.deps();
            let refused_dep = deps
                .iter()
                .find(|dep| refused.contains(dep) || directory.is_quarantined(dep));
            if let Some(dep) = refused_dep {
                progress = true;
                refused.insert(change.hash());
                vetting.refused.push(refuse(
                    change.clone(),
                    Refusal::DependsOnRefused {
                        change: dep.to_string(),
                    },
                ));
                continue;
            }
            let ready = deps
                .iter()
                .all(|dep| accepted.contains(dep) || doc.get_change_meta_by_hash(dep).is_some());
            if !ready {
                still.push(change);
                continue;
            }
            progress = true;
            let current = working.as_ref().unwrap_or(doc);
            match vet_one(current, &change, writer, access, directory, &bound, now) {
                Ok((shape, creating, before)) => {
                    let mut next = working.take().unwrap_or_else(|| doc.clone());
                    let applied = next
                        .apply_changes([change.clone()])
                        .map_err(|error| Refusal::Damaged(error.to_string()))
                        .and_then(|()| {
                            after_checks(&next, &shape, creating, before, writer, directory)
                        });
                    match applied {
                        Ok(()) => {
                            working = Some(next);
                            accepted.insert(change.hash());
                            let actor = change.actor_id().clone();
                            if directory.actor_device(&actor).is_none()
                                && !bound.iter().any(|(bound, _)| *bound == actor)
                            {
                                bound.push((actor.clone(), writer.device.clone()));
                                vetting.new_actors.push(actor);
                            }
                            vetting.accepted.push(change);
                        }
                        Err(reason) => {
                            // Back to the document with only the accepted changes.
                            working = rebuild(doc, &vetting.accepted);
                            refused.insert(change.hash());
                            vetting.refused.push(refuse(change, reason));
                        }
                    }
                }
                Err(reason) => {
                    refused.insert(change.hash());
                    vetting.refused.push(refuse(change, reason));
                }
            }
        }
        pending = still;
        if !progress || pending.is_empty() {
            break;
        }
    }
    vetting.waiting = pending;
    vetting.merged = working;
    vetting
}

fn rebuild(doc: &Automerge, accepted: &[Change]) -> Option<Automerge> {
    if accepted.is_empty() {
        return None;
    }
    let mut working = doc.clone();
    // These changes applied a moment ago on the same document.
    working.apply_changes(accepted.iter().cloned()).ok()?;
    Some(working)
}

fn refuse(mut change: Change, reason: Refusal) -> RefusedChange {
    let signature = change
        .message()
        .and_then(Signature::from_change_message)
        .map(|(signature, _)| signature);
    RefusedChange {
        hash: change.hash(),
        bytes: change.bytes().into_owned(),
        signature,
        reason,
    }
}

/// The checks made before the change is applied; returns its shape, whether it creates the
/// household, and the profile before it.
fn vet_one(
    doc: &Automerge,
    change: &Change,
    writer: &Writer,
    access: Access,
    directory: &dyn Directory,
    bound: &[(ActorId, DeviceId)],
    now: Timestamp,
) -> Result<(vet::ChangeShape, bool, Option<Profile>), Refusal> {
    let (signature, _) = change
        .message()
        .and_then(Signature::from_change_message)
        .ok_or(Refusal::Unsigned)?;
    if signature.staff != writer.staff || signature.device != writer.device {
        return Err(Refusal::SignedByOther {
            staff: signature.staff.to_string(),
            device: signature.device.to_string(),
        });
    }
    let actor = change.actor_id();
    let owner = directory.actor_device(actor).or_else(|| {
        bound
            .iter()
            .find(|(bound, _)| bound == actor)
            .map(|(_, device)| device.clone())
    });
    if owner.is_some_and(|device| device != writer.device) {
        return Err(Refusal::ActorTaken {
            actor: actor.to_hex_string(),
        });
    }
    let ahead = signature.at.as_millis() - now.as_millis();
    if ahead > MAX_SIGNED_AHEAD_MINUTES * 60_000 {
        return Err(Refusal::SignedAhead {
            minutes: ahead / 60_000,
        });
    }
    if change.len() > MAX_OPERATIONS_PER_CHANGE {
        return Err(Refusal::TooManyOperations {
            count: change.len(),
            max: MAX_OPERATIONS_PER_CHANGE,
        });
    }
    if change.raw_bytes().len() > MAX_CHANGE_BYTES {
        return Err(Refusal::TooLarge {
            bytes: change.raw_bytes().len(),
            max: MAX_CHANGE_BYTES,
        });
    }
    if let Access::FormerHolder { reassigned_at } = access {
        former_holder_check(doc, change, writer, reassigned_at, now)?;
    }
    let creating = doc.get_heads().is_empty();
    let before = if creating {
        None
    } else {
        crate::schema::read_profile(doc).ok()
    };
    let shape = vet::check_operations(doc, &change.decode(), creating)?;
    Ok((shape, creating, before))
}

/// A former holder's change: made on the household while it was still theirs, and arrived
/// within [`FORMER_HOLDER_DAYS`] of the reassignment. Its dependencies are in `doc` (the
/// caller takes changes dependencies first), so the household reads at them in place.
fn former_holder_check(
    doc: &Automerge,
    change: &Change,
    writer: &Writer,
    reassigned_at: Timestamp,
    now: Timestamp,
) -> Result<(), Refusal> {
    let days = (now.as_millis() - reassigned_at.as_millis()) / (24 * 60 * 60 * 1000);
    if days >= FORMER_HOLDER_DAYS {
        return Err(Refusal::Role(format!(
            "the household was reassigned {days} days ago, and changes made before it are taken \
             for {FORMER_HOLDER_DAYS} days; a supervisor decides on this one"
        )));
    }
    let at_deps = crate::history::AtHeads {
        doc,
        heads: change.deps(),
    };
    let holder = crate::schema::read_profile(&at_deps)
        .ok()
        .and_then(|profile| profile.assigned_staff);
    if holder.as_ref() != Some(&writer.staff) {
        return Err(Refusal::Role(
            "the household is no longer yours: this change builds on its reassignment to \
             someone else"
                .into(),
        ));
    }
    Ok(())
}

/// The checks made on the document with the change applied.
fn after_checks(
    doc: &Automerge,
    shape: &vet::ChangeShape,
    creating: bool,
    before: Option<Profile>,
    writer: &Writer,
    directory: &dyn Directory,
) -> Result<(), Refusal> {
    if creating {
        vet::check_created(doc)?;
    }
    vet::check_touched(doc, shape)?;
    let sets_holder = shape.profile_keys.contains(vet::DISTRICT)
        || shape.profile_keys.contains(vet::ASSIGNED_STAFF);
    if !sets_holder {
        return Ok(());
    }
    let after = crate::schema::read_profile(doc).map_err(|error| {
        Refusal::Shape(ShapeError::Unreadable {
            what: "the profile".into(),
            reason: error.to_string(),
        })
    })?;
    let moved = before.as_ref().is_none_or(|before| {
        before.district != after.district || before.assigned_staff != after.assigned_staff
    });
    if !moved {
        return Ok(());
    }
    if !writer.districts.contains(&after.district) {
        return Err(Refusal::Role(format!(
            "the household's district {} is not one of yours",
            after.district
        )));
    }
    match (writer.role, creating) {
        (WriterRole::Staff, true) => {
            if after.assigned_staff.as_ref() != Some(&writer.staff) {
                return Err(Refusal::Role(
                    "a household you create is assigned to you".into(),
                ));
            }
        }
        (WriterRole::Staff, false) => {
            return Err(Refusal::Role(
                "only a supervisor sets a household's district or assigned staff".into(),
            ));
        }
        (WriterRole::Supervisor, _) => {
            if let Some(staff) = &after.assigned_staff
                && !directory.may_hold(staff, &after.district)
            {
                return Err(Refusal::Role(format!(
                    "{staff} does not work in district {}",
                    after.district
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! After a supervisor rejected a refused change: the household continues from the server's
//! copy under a fresh Automerge actor, the person's later actions that still pass are made
//! again, and what does not come back is kept as a readable record ([`Kept`]). Pure
//! functions of documents (no browser, no clock), so that they are tested natively.
//!
//! **The server's copy** is the device's copy without the rejected changes and everything
//! built on them (their descendants). Every other change on the device came from the server
//! or was taken by it (the quarantine decides a change together with all that depend on
//! it), or is this device's own work not sent yet that does not build on the rejected
//! change; whatever others wrote meanwhile arrives by sync, as for any household. Made on
//! the device, the copy needs no connection, and nothing of it is new to the server.
//!
//! **A fresh actor.** The old actor's sequence is burnt: its next change would have the
//! rejected one's sequence number before it, and so depend on it.
//!
//! **Replay by effect.** Automerge cannot move a change onto other dependencies, and a change
//! names only its action (core's `act` writes the action's name into the signature), not the
//! action's arguments. So each later change is replayed by its effect on the household: the
//! household read before and after the change on the device (in causal order) is compared,
//! each difference is one of core's actions (a visit recorded, a note edited, a follow-up
//! added…), and that action runs on the server's copy, signed by the person now. Each action's
//! change is vetted with core's [`vet_changes`] before it is kept, as the server will, so
//! the app never sends what the server refuses. A difference no action makes (a conflict
//! settled, an assignment) and an action that no longer applies (a note of a visit that
//! only the rejected change recorded) are not made again: their text stays in the record.

use std::collections::{BTreeMap, HashSet};

use lots_core::automerge::{ActorId, Automerge, Change, ChangeHash};
use lots_core::{
    ActionError, CaseStatus, Date, DeviceId, Directory, DistrictId, FollowUp, FollowUpId, Goal,
    GoalId, GoalStatus, Household, HouseholdDoc, Interpreter, Member, MemberDetails, MemberId,
    NewFollowUp, NewGoal, NewStep, NoteRef, Owner, Signature, StaffId, Step, StepId, Timestamp,
    Visit, VisitId, VisitRecord, VisitStatus, Writer, vet_changes,
};

/// What a kept text is, for its label (`kept-what-<code>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    /// The household's address.
    Address,
    /// A member's details.
    Member,
    /// A visit booked.
    VisitPlanned,
    /// A visit recorded as held (its notes are the text).
    VisitRecorded,
    /// A visit called off.
    VisitCancelled,
    /// A visit nobody came to.
    VisitNoShow,
    /// A visit's notes, edited.
    VisitNotes,
    /// The plan's notes, edited.
    PlanNotes,
    /// A follow-up added.
    FollowUp,
    /// A follow-up done.
    FollowUpDone,
    /// A goal added.
    Goal,
    /// A goal's status.
    GoalStatus,
    /// A step added.
    Step,
    /// A step's status.
    StepStatus,
    /// The case closed.
    CaseClosed,
    /// The case reopened.
    CaseReopened,
    /// Something no action here makes again (a conflict settled, an assignment).
    Other,
}

impl What {
    /// Every kind, for the translations' test.
    pub const ALL: [What; 17] = [
        What::Address,
        What::Member,
        What::VisitPlanned,
        What::VisitRecorded,
        What::VisitCancelled,
        What::VisitNoShow,
        What::VisitNotes,
        What::PlanNotes,
        What::FollowUp,
        What::FollowUpDone,
        What::Goal,
        What::GoalStatus,
        What::Step,
        What::StepStatus,
        What::CaseClosed,
        What::CaseReopened,
        What::Other,
    ];

    /// The end of its translation key `kept-what-<code>`.
    pub fn code(self) -> &'static str {
        match self {
            What::Address => "address",
            What::Member => "member",
            What::VisitPlanned => "visit-planned",
            What::VisitRecorded => "visit-recorded",
            What::VisitCancelled => "visit-cancelled",
            What::VisitNoShow => "visit-no-show",
            What::VisitNotes => "visit-notes",
            What::PlanNotes => "plan-notes",
            What::FollowUp => "follow-up",
            What::FollowUpDone => "follow-up-done",
            What::Goal => "goal",
            What::GoalStatus => "goal-status",
            What::Step => "step",
            What::StepStatus => "step-status",
            What::CaseClosed => "case-closed",
            What::CaseReopened => "case-reopened",
            What::Other => "other",
        }
    }
}

/// One text of the record: what the person wrote, as they wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptText {
    /// What it is.
    pub what: What,
    /// The visit's time, for what belongs to a visit.
    #[serde(default)]
    pub when: Option<Timestamp>,
    /// The date it names (a due date, a status's date, a closing date).
    #[serde(default)]
    pub on: Option<Date>,
    /// The text: notes, a description, a name, an address (empty for a plain status).
    pub text: String,
    /// Codes that go with it: a visit's topics, a status (shown in words).
    #[serde(default)]
    pub codes: Vec<String>,
    /// A visit's length in minutes.
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// One change the server did not take, in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptChange {
    /// The action, as the change names it (`record_visit`…).
    pub action: String,
    /// When it was signed.
    pub signed_at: Option<Timestamp>,
    /// What it wrote.
    pub texts: Vec<KeptText>,
}

/// What the device keeps of a household whose change a supervisor rejected, until the
/// person dismisses it (meta `kept`): the refused edits in words, and the device's whole
/// copy as it was (its bytes, in hex), so that nothing typed is lost even where the words
/// fall short.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Kept {
    /// The household document.
    pub document: lots_core::DocumentId,
    /// How the household was named then (its address).
    pub household: String,
    /// Why the server refused the change: its codes.
    pub codes: Vec<String>,
    /// When the device took the server's copy (ms since the epoch).
    pub since: i64,
    /// The changes not taken and not made again, oldest first.
    pub changes: Vec<KeptChange>,
    /// How many later actions were made again on the server's copy.
    pub replayed: usize,
    /// The device's copy before, as Automerge bytes in hex.
    pub device_copy: String,
}

/// Bytes as lowercase hex (JSON in IndexedDB's meta store has no bytes).
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// Bytes from [`to_hex`]; `None` for text that is not.
pub fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
        .collect()
}

/// The household continued from the server's copy.
#[derive(Debug)]
pub struct Recovery {
    /// The server's copy with the later actions made again, writing as the fresh actor;
    /// `None` when the rejected change created the household (the server has no copy).
    pub doc: Option<Automerge>,
    /// The refused changes not made again, oldest first.
    pub kept: Vec<KeptChange>,
    /// How many later actions were made again.
    pub replayed: usize,
}

/// What [`Directory`] the app's own check has: the rejected changes (the wrapped set) are
/// quarantined, no actor belongs to another device as far as it knows (the fresh one is
/// new), and no replayed action changes who holds the household.
pub struct Quarantined<'a>(pub &'a HashSet<ChangeHash>);

impl Directory for Quarantined<'_> {
    fn actor_device(&self, _: &ActorId) -> Option<DeviceId> {
        None
    }

    fn may_hold(&self, _: &StaffId, _: &DistrictId) -> bool {
        true
    }

    fn is_quarantined(&self, change: &ChangeHash) -> bool {
        self.0.contains(change)
    }
}

/// Continues a household after a rejection. `rejected` are the changes the supervisor
/// rejected (every quarantined change of the household, those that only depended on the
/// first too); `roots` those refused for what they did themselves, whose effect is not made
/// again. Everything on the device built on a root is replayed by its effect, signed by
/// `writer` at `now`, if core's check passes it as the server would (`directory`: the
/// app's is [`Quarantined`]). `None` when no rejected change is on the device.
pub fn recover(
    device: &Automerge,
    roots: &HashSet<ChangeHash>,
    rejected: &HashSet<ChangeHash>,
    writer: &Writer,
    directory: &dyn Directory,
    now: Timestamp,
    actor: ActorId,
) -> Option<Recovery> {
    let changes = causal_order(device.get_changes(&[]));
    // A rejected change of which no root is on the device still taints what builds on it.
    let roots: HashSet<ChangeHash> = if changes.iter().any(|c| roots.contains(&c.hash())) {
        roots.clone()
    } else {
        rejected.clone()
    };
    let mut tainted: HashSet<ChangeHash> = HashSet::new();
    for change in &changes {
        if roots.contains(&change.hash()) || change.deps().iter().any(|dep| tainted.contains(dep)) {
            tainted.insert(change.hash());
        }
    }
    if tainted.is_empty() {
        return None;
    }
    let (clean, later): (Vec<Change>, Vec<Change>) = changes
        .into_iter()
        .partition(|change| !tainted.contains(&change.hash()));
    let mut base = Automerge::new_with_encoding(lots_core::TEXT_ENCODING);
    base.apply_changes(clean).ok()?;
    let exists = !base.get_heads().is_empty();
    let mut doc = base.fork().with_actor(actor);
    // The device's household as each tainted change left it, starting from the server's.
    let mut working = base;
    let mut before = read(&working);
    let signature = Signature::new(writer.staff.clone(), writer.device.clone(), now);
    let (mut kept, mut replayed) = (Vec::new(), 0);
    for change in later {
        let hash = change.hash();
        let info = change.message().and_then(Signature::from_change_message);
        let action = info
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |(_, action)| action.clone());
        if working.apply_changes([change]).is_err() {
            continue;
        }
        let after = read(&working);
        let effects = match &after {
            Some(after) => effects(before.as_ref(), after),
            None => Vec::new(),
        };
        let mut not_made = Vec::new();
        for effect in effects {
            let made = exists
                && !roots.contains(&hash)
                && replay(&mut doc, &effect, &signature, writer, directory, now);
            if made {
                replayed += 1;
            } else {
                not_made.push(effect.text());
            }
        }
        if !not_made.is_empty() || roots.contains(&hash) {
            let texts = if not_made.is_empty() {
                vec![KeptText::plain(What::Other, String::new())]
            } else {
                not_made
            };
            kept.push(KeptChange {
                action,
                signed_at: info.map(|(signature, _)| signature.at),
                texts,
            });
        }
        before = after;
    }
    Some(Recovery {
        doc: exists.then_some(doc),
        kept,
        replayed,
    })
}

/// Changes with every one after its dependencies.
fn causal_order(changes: Vec<Change>) -> Vec<Change> {
    let present: HashSet<ChangeHash> = changes.iter().map(Change::hash).collect();
    let mut done: HashSet<ChangeHash> = HashSet::new();
    let mut ordered = Vec::with_capacity(changes.len());
    let mut pending = changes;
    while !pending.is_empty() {
        let before = pending.len();
        let (ready, rest): (Vec<Change>, Vec<Change>) = pending.into_iter().partition(|change| {
            change
                .deps()
                .iter()
                .all(|dep| done.contains(dep) || !present.contains(dep))
        });
        for change in ready {
            done.insert(change.hash());
            ordered.push(change);
        }
        pending = rest;
        if pending.len() == before {
            // A cycle cannot be; keep whatever is left rather than lose it.
            ordered.append(&mut pending);
        }
    }
    ordered
}

fn read(doc: &Automerge) -> Option<Household> {
    if doc.get_heads().is_empty() {
        return None;
    }
    HouseholdDoc::new(doc).household().ok()
}

impl KeptText {
    fn plain(what: What, text: String) -> Self {
        Self {
            what,
            when: None,
            on: None,
            text,
            codes: Vec::new(),
            minutes: None,
        }
    }
}

/// Makes `effect` again on `doc` through core's action, keeping its change only if core's
/// vetting (the server's check) passes it. `false` if the action refuses or the vetting
/// does: `doc` is then as it was.
fn replay(
    doc: &mut Automerge,
    effect: &Effect,
    signature: &Signature,
    writer: &Writer,
    directory: &dyn Directory,
    now: Timestamp,
) -> bool {
    let mut trial = doc.clone();
    let heads = doc.get_heads();
    if !matches!(
        act(&mut HouseholdDoc::new(&mut trial), effect, signature),
        Ok(true)
    ) {
        return false;
    }
    let changes = trial.get_changes(&heads);
    if changes.is_empty() {
        return false;
    }
    let vetting = vet_changes(doc, changes, writer, directory, now);
    if !vetting.refused.is_empty() || !vetting.waiting.is_empty() {
        return false;
    }
    *doc = trial;
    true
}

/// Runs the action that makes `effect`: `Ok(false)` when no action makes it here (a conflict
/// settled, an assignment, a note whose text is no longer what the person edited).
fn act(
    doc: &mut HouseholdDoc<&mut Automerge>,
    effect: &Effect,
    signature: &Signature,
) -> Result<bool, ActionError> {
    let today = signature.at.date();
    let done = match effect {
        Effect::Housing(profile) => doc.update_housing(
            signature,
            &profile.address,
            &profile.unit,
            profile.housing_form,
        ),
        Effect::Member { id, member, new } => {
            let details = MemberDetails::from(member);
            if *new {
                doc.add_member(signature, id, details)
            } else {
                doc.update_member(signature, id, details)
            }
        }
        Effect::Schedule(id, visit) => {
            doc.schedule_visit(signature, id, visit.planned_at, &visit.staff)
        }
        Effect::Record(id, visit) => {
            let interpreter = visit
                .interpreter_language
                .clone()
                .zip(visit.interpreter_mode)
                .map(|(language, mode)| Interpreter { language, mode });
            let record = VisitRecord {
                held_at: visit.planned_at,
                staff: visit.staff.clone(),
                present: visit.present.clone(),
                interpreter,
                duration_minutes: visit.duration_minutes.unwrap_or(0),
                topics: visit.topics.clone(),
                notes: visit.notes.as_str().to_owned(),
            };
            doc.record_visit(signature, id, record)
        }
        Effect::EndVisit(id, visit) if visit.status == VisitStatus::Cancelled => {
            doc.cancel_visit(signature, id)
        }
        Effect::EndVisit(id, _) => doc.mark_no_show(signature, id),
        Effect::Note {
            note,
            before,
            after,
            ..
        } => {
            // Only onto the text the person edited: on another text the edit's place is
            // not known, and the whole note as they wrote it stays in the record.
            let current = doc.household()?;
            let text = match note {
                NoteRef::Plan => Some(current.plan.notes),
                NoteRef::Visit(visit) => current.visits.get(visit).map(|v| v.notes.clone()),
            };
            if text.as_ref().map(lots_core::Note::as_str) != Some(before.as_str()) {
                return Ok(false);
            }
            let (position, delete, insert) = splice(before, after);
            doc.splice_note(signature, note, position, delete, &insert)
        }
        Effect::AddFollowUp(visit, _, id, follow_up) => {
            let owner = Owner::from_fields(
                follow_up.owner_kind,
                follow_up.owner.as_deref(),
                follow_up.agency,
            )?;
            let new = NewFollowUp {
                description: follow_up.description.clone(),
                owner,
                agency: follow_up.agency,
                due_on: follow_up.due_on,
            };
            doc.add_follow_up(signature, visit, id, new)
        }
        Effect::CompleteFollowUp(visit, _, id, follow_up) => {
            doc.complete_follow_up(signature, visit, id, follow_up.done_on.unwrap_or(today))
        }
        Effect::AddGoal(id, goal) => {
            let new = NewGoal {
                member: goal.member.clone(),
                area: goal.area,
                description: goal.description.clone(),
            };
            doc.add_goal(signature, id, new)
        }
        Effect::GoalStatus(id, goal) => {
            doc.set_goal_status(signature, id, goal.status, goal.reached_on.unwrap_or(today))
        }
        Effect::AddStep(goal, id, step) => {
            let owner = Owner::from_fields(step.owner_kind, step.owner.as_deref(), step.agency)?;
            let new = NewStep {
                description: step.description.clone(),
                owner,
                due_on: step.due_on,
            };
            doc.add_step(signature, goal, id, new)
        }
        Effect::StepStatus(goal, id, step) => doc.set_step_status(
            signature,
            goal,
            id,
            step.status,
            step.done_on.unwrap_or(today),
        ),
        Effect::Close(profile) => match profile.close_reason {
            Some(reason) => doc.close_case(signature, reason, profile.closed_on.unwrap_or(today)),
            None => return Ok(false),
        },
        Effect::Reopen => doc.reopen_case(signature),
        Effect::Other => return Ok(false),
    };
    done.map(|()| true)
}

/// One splice turning `before` into `after`: the common start and end kept, the middle
/// replaced (positions in characters, as core's `splice_note` counts).
fn splice(before: &str, after: &str) -> (usize, usize, String) {
    let (old, new): (Vec<char>, Vec<char>) = (before.chars().collect(), after.chars().collect());
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let delete = old.len() - prefix - suffix;
    let insert: String = new[prefix..new.len() - suffix].iter().collect();
    (prefix, delete, insert)
}

mod effects;

use effects::{Effect, effects};

#[cfg(test)]
mod tests;

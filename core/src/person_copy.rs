//! A person's own copy (GDPR article 15): everything a household's document holds about one
//! of its members, entry by entry, with who wrote each entry and when.
//!
//! The copy is made of [`Passage`]s: the household's record (where the person lives, their
//! case); the person's member record; each visit that concerns them — held with them
//! present, or booked for the household and not held — with its notes and its follow-ups as
//! passages of their own; each follow-up and plan step they carry out; each plan goal of
//! theirs with its steps; and the plan's notes, which are the household's. Other members'
//! records, the visits held without them, their goals and the follow-ups they carry out are
//! not in it; nor is who else was present at a visit. Free text (notes) may still name
//! others: that is what the supervisor's review is for, which marks passages withheld under
//! secrecy ([`PersonCopy::withhold`]) before the copy is released.
//!
//! Who wrote an entry is read from the document, not from a field: every value in an
//! Automerge document carries the id of the operation that wrote it, and that operation
//! belongs to exactly one change, whose Lots signature names the staff member, the device and
//! the time. A passage lists every change that wrote a value it shows now, oldest first.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};

use automerge::ObjId;
use automerge::{ActorId, Automerge, ObjType, ROOT, ReadDoc, ValueRef};

use crate::calendar::{Date, Timestamp};
use crate::document::HouseholdDoc;
use crate::ids::{DeviceId, MemberId, StaffId};
use crate::schema::SchemaError;
use crate::schema::codes::{OwnerKind, VisitStatus};
use crate::schema::household::{FollowUp, Goal, Member, Profile, Step, Visit};
use crate::signature::ChangeInfo;

/// What a passage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassageKind {
    /// The household's record: address, housing, case.
    Household,
    /// The person's own record.
    Member,
    /// A visit the person was present at, or one booked for the household that was not
    /// held (nobody is recorded present at it).
    Visit,
    /// The notes of such a visit.
    VisitNotes,
    /// A follow-up raised at such a visit, or one they carry out.
    FollowUp,
    /// A plan goal of the person's.
    Goal,
    /// A step towards such a goal, or one they carry out towards another's.
    Step,
    /// The plan's notes, which are the whole household's.
    PlanNotes,
}

/// One field of a passage: its schema key and its value as text (dates as `2026-05-01`,
/// times as Swedish time `2026-05-01 09:30`, codes as codes, lists joined by `, `); `None`
/// when nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    /// The field's key in the household schema: `name`, `birth_date`, `planned_at`, …
    pub key: String,
    /// The value.
    pub value: Option<String>,
}

/// A change that wrote part of a passage.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WrittenBy {
    /// The staff member, when Lots signed the change.
    pub staff: Option<StaffId>,
    /// Their device, when Lots signed the change.
    pub device: Option<DeviceId>,
    /// When, by the signer's clock.
    pub at: Timestamp,
    /// The action, such as `record_visit`, when Lots signed the change.
    pub action: Option<String>,
}

/// One entry of the copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Passage {
    /// A stable key within the household: `household`, `member`, `visit/<id>`,
    /// `visit/<id>/notes`, `visit/<id>/follow-up/<id>`, `goal/<id>`, `goal/<id>/step/<id>`,
    /// `plan/notes`.
    pub key: String,
    /// What it is.
    pub kind: PassageKind,
    /// Its fields; empty when withheld.
    pub fields: Vec<Field>,
    /// Every change that wrote a value shown, oldest first; empty when withheld.
    pub written: Vec<WrittenBy>,
    /// Withheld under secrecy at review: the person learns that an entry exists and what
    /// kind it is, not what it says.
    pub withheld: bool,
}

/// Everything one household's document holds about one person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersonCopy {
    /// The person.
    pub member: MemberId,
    /// The entries, in the order above: household, member, visits by time, goals by the day
    /// they were set, the plan's notes.
    pub passages: Vec<Passage>,
}

/// A passage key that is not in the copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the copy has no passage {0:?} to withhold")]
pub struct UnknownPassage(pub String);

impl PersonCopy {
    /// The copy with the passages named in `keys` withheld: their fields and writers
    /// removed. Every key must name a passage, so a review cannot withhold less than it says.
    pub fn withhold(mut self, keys: &BTreeSet<String>) -> Result<Self, UnknownPassage> {
        if let Some(unknown) = keys
            .iter()
            .find(|key| !self.passages.iter().any(|passage| &&passage.key == key))
        {
            return Err(UnknownPassage(unknown.clone()));
        }
        for passage in &mut self.passages {
            if keys.contains(&passage.key) {
                passage.withheld = true;
                passage.fields.clear();
                passage.written.clear();
            }
        }
        Ok(self)
    }
}

impl<D: Borrow<Automerge>> HouseholdDoc<D> {
    /// The copy of everything this household's document holds about `member`; `None` when
    /// the household has no such member.
    pub fn person_copy(&self, member: &MemberId) -> Result<Option<PersonCopy>, SchemaError> {
        let household = self.household()?;
        let Some(person) = household.members.get(member) else {
            return Ok(None);
        };
        let doc = self.automerge();
        let writers = Writers::of(doc);
        let mut passages = Vec::new();
        let mut add = |key: String, kind, fields: Vec<Field>, path: &[&str], skip: &[&str]| {
            let written = object(doc, path)
                .map(|obj| writers.of_object(doc, &obj, skip))
                .unwrap_or_default();
            passages.push(Passage {
                key,
                kind,
                fields,
                written,
                withheld: false,
            });
        };
        add(
            "household".into(),
            PassageKind::Household,
            profile_fields(&household.profile),
            &["profile"],
            &[],
        );
        add(
            "member".into(),
            PassageKind::Member,
            member_fields(person),
            &["members", member.as_str()],
            &[],
        );
        let theirs = |kind: OwnerKind, owner: &Option<String>| {
            kind == OwnerKind::Member && owner.as_deref() == Some(member.as_str())
        };
        let someone_elses = |kind: OwnerKind, owner: &Option<String>| {
            kind == OwnerKind::Member && !theirs(kind, owner)
        };
        let mut visits: Vec<_> = household.visits.iter().collect();
        visits.sort_by_key(|(id, visit)| (visit.planned_at, id.as_str()));
        for (id, visit) in visits {
            let id = id.as_str();
            // A visit held concerns those recorded present; one planned, called off or
            // missed was booked for the whole household (nobody is recorded present).
            let concerns = visit.present.contains(member) || visit.status != VisitStatus::Done;
            if concerns {
                add(
                    format!("visit/{id}"),
                    PassageKind::Visit,
                    visit_fields(visit),
                    &["visits", id],
                    // Notes and follow-ups are passages of their own; who else was present
                    // is somebody else's.
                    &["notes", "follow_ups", "present"],
                );
                add(
                    format!("visit/{id}/notes"),
                    PassageKind::VisitNotes,
                    vec![field("notes", non_empty(visit.notes.as_str()))],
                    &["visits", id, "notes"],
                    &[],
                );
            }
            // A follow-up is theirs when they carry it out; of a visit that concerns them,
            // every follow-up but one another member carries out.
            for (follow_up_id, follow_up) in &visit.follow_ups {
                let wanted = theirs(follow_up.owner_kind, &follow_up.owner)
                    || (concerns && !someone_elses(follow_up.owner_kind, &follow_up.owner));
                if !wanted {
                    continue;
                }
                let follow_up_id = follow_up_id.as_str();
                add(
                    format!("visit/{id}/follow-up/{follow_up_id}"),
                    PassageKind::FollowUp,
                    follow_up_fields(follow_up, member),
                    &["visits", id, "follow_ups", follow_up_id],
                    &[],
                );
            }
        }
        let mut goals: Vec<_> = household.plan.goals.iter().collect();
        goals.sort_by_key(|(id, goal)| (goal.set_on, id.as_str()));
        for (id, goal) in goals {
            let id = id.as_str();
            let own = &goal.member == member;
            if own {
                add(
                    format!("goal/{id}"),
                    PassageKind::Goal,
                    goal_fields(goal),
                    &["plan", "goals", id],
                    &["steps"],
                );
            }
            // Every step of their goal; of another's goal, the steps they carry out.
            let mut steps: Vec<_> = goal
                .steps
                .iter()
                .filter(|(_, step)| own || theirs(step.owner_kind, &step.owner))
                .collect();
            steps.sort_by_key(|(step_id, step)| (step.position, step_id.as_str()));
            for (step_id, step) in steps {
                let step_id = step_id.as_str();
                add(
                    format!("goal/{id}/step/{step_id}"),
                    PassageKind::Step,
                    step_fields(step, member),
                    &["plan", "goals", id, "steps", step_id],
                    &[],
                );
            }
        }
        // The plan's notes are the household's, so theirs too; the review decides what of
        // them may go out.
        add(
            "plan/notes".into(),
            PassageKind::PlanNotes,
            vec![field("notes", non_empty(household.plan.notes.as_str()))],
            &["plan", "notes"],
            &[],
        );
        Ok(Some(PersonCopy {
            member: member.clone(),
            passages,
        }))
    }
}

/// The object at `path` from the root, when there is one.
fn object(doc: &Automerge, path: &[&str]) -> Option<ObjId> {
    let mut obj = ROOT;
    for key in path {
        match doc.get(&obj, *key).ok()?? {
            (automerge::Value::Object(_), id) => obj = id,
            _ => return None,
        }
    }
    Some(obj)
}

/// Which change wrote an operation: changes by actor, with the range of operation counters
/// each holds. Automerge gives every value the id (counter, actor) of the operation that
/// wrote it and no lookup from there to its change, so this index is built once per copy.
struct Writers {
    by_actor: HashMap<ActorId, Vec<(u64, u64, usize)>>,
    changes: Vec<ChangeInfo>,
}

impl Writers {
    fn of(doc: &Automerge) -> Self {
        let mut by_actor: HashMap<ActorId, Vec<(u64, u64, usize)>> = HashMap::new();
        let mut changes = Vec::new();
        for meta in doc.get_changes_meta(&[]) {
            by_actor
                .entry(meta.actor.clone().into_owned())
                .or_default()
                .push((meta.start_op, meta.max_op, changes.len()));
            changes.push(ChangeInfo::from_meta(&meta));
        }
        for ranges in by_actor.values_mut() {
            ranges.sort_unstable();
        }
        Self { by_actor, changes }
    }

    /// The change holding operation `id`.
    fn change_of(&self, id: &ObjId) -> Option<usize> {
        let ObjId::Id(counter, actor, _) = id else {
            return None;
        };
        let ranges = self.by_actor.get(actor)?;
        let after = ranges.partition_point(|(start, _, _)| start <= counter);
        let (start, max, index) = ranges.get(after.checked_sub(1)?)?;
        (start <= counter && counter <= max).then_some(*index)
    }

    /// Every change that wrote `obj` or a value now in it (its keys in `skip` left out, and
    /// everything below them), oldest first.
    fn of_object(&self, doc: &Automerge, obj: &ObjId, skip: &[&str]) -> Vec<WrittenBy> {
        let mut found = BTreeSet::new();
        self.collect(doc, obj, skip, &mut found);
        let mut written: Vec<&ChangeInfo> =
            found.iter().map(|index| &self.changes[*index]).collect();
        written.sort_by_key(|info| info.at);
        written
            .into_iter()
            .map(|info| WrittenBy {
                staff: info
                    .signature
                    .as_ref()
                    .map(|signature| signature.staff.clone()),
                device: info
                    .signature
                    .as_ref()
                    .map(|signature| signature.device.clone()),
                at: info.at,
                action: info.action.clone(),
            })
            .collect()
    }

    fn collect(&self, doc: &Automerge, obj: &ObjId, skip: &[&str], found: &mut BTreeSet<usize>) {
        found.extend(self.change_of(obj));
        match doc.object_type(obj) {
            Ok(ObjType::Map | ObjType::Table) => {
                for item in doc.map_range(obj, ..) {
                    if skip.contains(&item.key.as_ref()) {
                        continue;
                    }
                    let id = item.id();
                    found.extend(self.change_of(&id));
                    if let ValueRef::Object(_) = item.value {
                        self.collect(doc, &id, &[], found);
                    }
                }
            }
            Ok(ObjType::List | ObjType::Text) => {
                for item in doc.list_range(obj, ..) {
                    let id = item.id();
                    found.extend(self.change_of(&id));
                    if let ValueRef::Object(_) = item.value {
                        self.collect(doc, &id, &[], found);
                    }
                }
            }
            Err(_) => {}
        }
    }
}

fn field(key: &str, value: Option<String>) -> Field {
    Field {
        key: key.to_owned(),
        value,
    }
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `2026-05-01 09:30`, Swedish time: as the person reads it on paper.
fn swedish_time(at: Timestamp) -> String {
    let minutes = at.swedish_minutes_of_day();
    format!("{} {:02}:{:02}", at.date(), minutes / 60, minutes % 60)
}

fn date(date: Option<Date>) -> Option<String> {
    date.map(|date| date.to_string())
}

fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let items: Vec<&str> = items.into_iter().collect();
    (!items.is_empty()).then(|| items.join(", "))
}

fn profile_fields(profile: &Profile) -> Vec<Field> {
    vec![
        field("district", Some(profile.district.to_string())),
        field("address", non_empty(&profile.address)),
        field("unit", non_empty(&profile.unit)),
        field("housing_form", Some(profile.housing_form.code().into())),
        field("arrival_route", Some(profile.arrival_route.code().into())),
        field("arrived_on", date(Some(profile.arrived_on))),
        field("opened_on", date(Some(profile.opened_on))),
        field(
            "assigned_staff",
            profile.assigned_staff.as_ref().map(ToString::to_string),
        ),
        field("status", Some(profile.status.code().into())),
        field(
            "close_reason",
            profile.close_reason.map(|reason| reason.code().into()),
        ),
        field("closed_on", date(profile.closed_on)),
    ]
}

fn member_fields(member: &Member) -> Vec<Field> {
    vec![
        field("name", non_empty(&member.name)),
        field("birth_date", date(Some(member.birth_date))),
        field("gender", Some(member.gender.code().into())),
        field("residence_permit_on", date(member.residence_permit_on)),
        field(
            "born_outside_eea",
            Some(member.born_outside_eea.to_string()),
        ),
        field(
            "registered_in_district",
            Some(member.registered_in_district.to_string()),
        ),
        field(
            "languages",
            list(member.languages.iter().map(String::as_str)),
        ),
        field("interpreter_language", member.interpreter_language.clone()),
    ]
}

fn visit_fields(visit: &Visit) -> Vec<Field> {
    vec![
        field("planned_at", Some(swedish_time(visit.planned_at))),
        field("staff", Some(visit.staff.to_string())),
        field("status", Some(visit.status.code().into())),
        field("interpreter_language", visit.interpreter_language.clone()),
        field(
            "interpreter_mode",
            visit.interpreter_mode.map(|mode| mode.code().into()),
        ),
        field(
            "duration_minutes",
            visit.duration_minutes.map(|minutes| minutes.to_string()),
        ),
        field(
            "topics",
            list(visit.topics.iter().map(|topic| topic.code())),
        ),
    ]
}

/// Who owns a follow-up or a step: a member is `this_person` or `another_member`, never
/// named by id, since the other member's id is theirs.
fn owner(kind: OwnerKind, owner: &Option<String>, person: &MemberId) -> Option<String> {
    match (kind, owner) {
        (OwnerKind::Member, Some(owner)) if owner == person.as_str() => Some("this_person".into()),
        (OwnerKind::Member, Some(_)) => Some("another_member".into()),
        (_, owner) => owner.clone(),
    }
}

fn follow_up_fields(follow_up: &FollowUp, person: &MemberId) -> Vec<Field> {
    vec![
        field("description", non_empty(&follow_up.description)),
        field("owner_kind", Some(follow_up.owner_kind.code().into())),
        field(
            "owner",
            owner(follow_up.owner_kind, &follow_up.owner, person),
        ),
        field(
            "agency",
            follow_up.agency.map(|agency| agency.code().into()),
        ),
        field("due_on", date(Some(follow_up.due_on))),
        field("done_on", date(follow_up.done_on)),
    ]
}

fn goal_fields(goal: &Goal) -> Vec<Field> {
    vec![
        field("area", Some(goal.area.code().into())),
        field("description", non_empty(&goal.description)),
        field("status", Some(goal.status.code().into())),
        field("set_on", date(Some(goal.set_on))),
        field("reached_on", date(goal.reached_on)),
    ]
}

fn step_fields(step: &Step, person: &MemberId) -> Vec<Field> {
    vec![
        field("description", non_empty(&step.description)),
        field("owner_kind", Some(step.owner_kind.code().into())),
        field("owner", owner(step.owner_kind, &step.owner, person)),
        field("agency", step.agency.map(|agency| agency.code().into())),
        field("due_on", date(step.due_on)),
        field("status", Some(step.status.code().into())),
        field("done_on", date(step.done_on)),
    ]
}

#[cfg(test)]
mod tests;

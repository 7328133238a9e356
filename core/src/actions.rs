//! The typed actions a person takes on a household, each validated and committed as exactly
//! one Automerge change signed with who, on which device, and when.
//!
//! An action reads only what it needs (the profile, one visit, one goal), checks its input,
//! and writes only what changes. If anything is wrong it returns a specific [`ActionError`]
//! and the document is exactly as it was: the transaction is rolled back.

use std::borrow::BorrowMut;
use std::collections::BTreeMap;

use automerge::transaction::Transaction;
use automerge::{ActorId, Automerge};

use crate::calendar::{Date, Timestamp};
use crate::document::HouseholdDoc;
use crate::ids::{DistrictId, FollowUpId, GoalId, MemberId, StaffId, StepId, VisitId};
use crate::schema::codes::{
    Agency, ArrivalRoute, CaseStatus, CloseReason, Gender, GoalArea, GoalStatus, HousingForm,
    InterpreterMode, OwnerKind, StepStatus, Topic, VisitStatus,
};
use crate::schema::conflicts::{FieldPath, FieldValue, ResolveError};
use crate::schema::household::{FollowUp, Goal, Household, Member, Plan, Profile, Step, Visit};
use crate::schema::values::{Note, Set};
use crate::schema::{self, NoteRef, SchemaError};
use crate::signature::Signature;

/// The longest single-line text field (names, addresses, descriptions), in characters.
pub const MAX_FIELD_CHARS: usize = 500;
/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 100_000;
/// The longest visit Lots accepts, in minutes.
pub const MAX_VISIT_MINUTES: u32 = 12 * 60;

/// Why an action was refused. The document is unchanged whenever one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// A required text field was empty or only spaces.
    #[error("{field} must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// A text field was too long.
    #[error("{field} is {chars} characters long; at most {max} are allowed")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A date lies in the future where only the past makes sense.
    #[error("{field} ({date}) is after today ({today})")]
    InFuture {
        /// The field.
        field: &'static str,
        /// The date given.
        date: Date,
        /// Today, by the signature's clock.
        today: Date,
    },
    /// Two dates are in an impossible order.
    #[error("{field} ({date}) is before {earlier_field} ({earlier})")]
    BeforeDate {
        /// The field.
        field: &'static str,
        /// Its date.
        date: Date,
        /// The field it may not precede.
        earlier_field: &'static str,
        /// That field's date.
        earlier: Date,
    },
    /// The household has no member with this id.
    #[error("the household has no member {0}")]
    UnknownMember(MemberId),
    /// The household has no visit with this id.
    #[error("the household has no visit {0}")]
    UnknownVisit(VisitId),
    /// The visit has no follow-up with this id.
    #[error("visit {visit} has no follow-up {follow_up}")]
    UnknownFollowUp {
        /// The visit.
        visit: VisitId,
        /// The follow-up.
        follow_up: FollowUpId,
    },
    /// The plan has no goal with this id.
    #[error("the plan has no goal {0}")]
    UnknownGoal(GoalId),
    /// The goal has no step with this id.
    #[error("goal {goal} has no step {step}")]
    UnknownStep {
        /// The goal.
        goal: GoalId,
        /// The step.
        step: StepId,
    },
    /// An id is already in use for something else.
    #[error("{0} is already in use in this household")]
    DuplicateId(String),
    /// The case is closed: nothing may be added until it is reopened.
    #[error("the case was closed on {closed_on}; reopen it first")]
    CaseClosed {
        /// When it was closed.
        closed_on: Date,
    },
    /// Reopening a case that is open.
    #[error("the case is already open")]
    CaseOpen,
    /// The visit's status does not allow this action.
    #[error("visit {visit} is {status}; only a {allowed} visit can be {action}")]
    VisitStatus {
        /// The visit.
        visit: VisitId,
        /// Its status.
        status: VisitStatus,
        /// The status the action needs.
        allowed: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// A visit was recorded as held before its time, or marked a no-show before it began.
    #[error("{what} at {at} has not happened yet (now is {now})")]
    NotYetHappened {
        /// What was attempted.
        what: &'static str,
        /// The visit's time.
        at: Timestamp,
        /// The signature's time.
        now: Timestamp,
    },
    /// A visit duration outside 1 minute to [`MAX_VISIT_MINUTES`].
    #[error("a visit of {minutes} minutes is not possible; give 1 to {max}")]
    Duration {
        /// The duration given.
        minutes: u32,
        /// The longest allowed.
        max: u32,
    },
    /// An owner of kind member or staff without an id, or an agency owner without an agency.
    #[error("an owner of kind {kind} needs {needs}")]
    Owner {
        /// The kind of owner.
        kind: OwnerKind,
        /// What is missing.
        needs: &'static str,
    },
    /// A note edit outside the note.
    #[error("cannot delete {delete} characters at position {position} of a {len}-character note")]
    NoteRange {
        /// Where the edit starts.
        position: usize,
        /// How many characters it deletes.
        delete: usize,
        /// The note's length.
        len: usize,
    },
    /// A follow-up already done.
    #[error("follow-up {0} was already done on {1}")]
    AlreadyDone(FollowUpId, Date),
    /// A conflict that cannot be resolved as asked.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The document itself could not be read or written (boxed: it is rare and large).
    #[error(transparent)]
    Document(Box<SchemaError>),
}

impl From<SchemaError> for ActionError {
    fn from(error: SchemaError) -> Self {
        Self::Document(Box::new(error))
    }
}

impl From<automerge::AutomergeError> for ActionError {
    fn from(error: automerge::AutomergeError) -> Self {
        SchemaError::Automerge(error).into()
    }
}

/// A new household.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewHousehold {
    /// Its district.
    pub district: DistrictId,
    /// Street address.
    pub address: String,
    /// Flat or unit; may be empty.
    pub unit: String,
    /// Kind of housing.
    pub housing_form: HousingForm,
    /// How it came.
    pub arrival_route: ArrivalRoute,
    /// When it arrived in the municipality.
    pub arrived_on: Date,
    /// When support begins.
    pub opened_on: Date,
    /// The staff member whose caseload it joins.
    pub assigned_staff: Option<StaffId>,
}

/// A new member, or a member's corrected details.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemberDetails {
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birth_date: Date,
    /// Gender.
    pub gender: Gender,
    /// Residence-permit date, when known.
    pub residence_permit_on: Option<Date>,
    /// Born outside the EU/EEA.
    pub born_outside_eea: bool,
    /// Registered in the district.
    pub registered_in_district: bool,
    /// Languages, strongest first.
    pub languages: Vec<String>,
    /// The language an interpreter is needed for.
    pub interpreter_language: Option<String>,
}

impl From<&Member> for MemberDetails {
    /// A member's details as they stand: the start of a correction, or the same member
    /// written again.
    fn from(member: &Member) -> Self {
        Self {
            name: member.name.clone(),
            birth_date: member.birth_date,
            gender: member.gender,
            residence_permit_on: member.residence_permit_on,
            born_outside_eea: member.born_outside_eea,
            registered_in_district: member.registered_in_district,
            languages: member.languages.clone(),
            interpreter_language: member.interpreter_language.clone(),
        }
    }
}

/// An interpreter at a visit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Interpreter {
    /// The language interpreted.
    pub language: String,
    /// In person or by phone.
    pub mode: InterpreterMode,
}

/// What a held visit's record says.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VisitRecord {
    /// When the visit started.
    pub held_at: Timestamp,
    /// The staff member who made it.
    pub staff: StaffId,
    /// Members present.
    pub present: Set<MemberId>,
    /// The interpreter, if one took part.
    pub interpreter: Option<Interpreter>,
    /// Duration in minutes.
    pub duration_minutes: u32,
    /// Topics dealt with.
    pub topics: Set<Topic>,
    /// Notes. For a visit recorded before, the stored notes are changed into these with a
    /// character diff, so edits made elsewhere meanwhile survive.
    pub notes: String,
}

/// Who carries out a follow-up or step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Owner {
    /// A member of the household.
    Member(MemberId),
    /// A staff member.
    Staff(StaffId),
    /// An outside agency.
    Agency(Agency),
}

impl Owner {
    fn into_fields(self) -> (OwnerKind, Option<String>, Option<Agency>) {
        match self {
            Owner::Member(member) => (OwnerKind::Member, Some(member.into()), None),
            Owner::Staff(staff) => (OwnerKind::Staff, Some(staff.into()), None),
            Owner::Agency(agency) => (OwnerKind::Agency, None, Some(agency)),
        }
    }

    /// Reads an owner back from its stored fields.
    pub fn from_fields(
        kind: OwnerKind,
        owner: Option<&str>,
        agency: Option<Agency>,
    ) -> Result<Self, ActionError> {
        let missing = |needs| ActionError::Owner { kind, needs };
        match kind {
            OwnerKind::Member => {
                let id = owner.ok_or_else(|| missing("a member id"))?;
                MemberId::new(id)
                    .map(Owner::Member)
                    .map_err(|_| missing("a valid member id"))
            }
            OwnerKind::Staff => {
                let id = owner.ok_or_else(|| missing("a staff id"))?;
                StaffId::new(id)
                    .map(Owner::Staff)
                    .map_err(|_| missing("a valid staff id"))
            }
            OwnerKind::Agency => agency
                .map(Owner::Agency)
                .ok_or_else(|| missing("an agency")),
        }
    }
}

/// A new follow-up or referral.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewFollowUp {
    /// What is to be done.
    pub description: String,
    /// Who does it.
    pub owner: Owner,
    /// The agency it is aimed at, for a referral carried by a member or staff.
    pub agency: Option<Agency>,
    /// When it is due.
    pub due_on: Date,
}

/// A new plan goal.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewGoal {
    /// Whose goal.
    pub member: MemberId,
    /// The plan area.
    pub area: GoalArea,
    /// The goal in the household's words.
    pub description: String,
}

/// A new plan step.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NewStep {
    /// What is to be done.
    pub description: String,
    /// Who does it.
    pub owner: Owner,
    /// When it is due.
    pub due_on: Option<Date>,
}

fn required_text(field: &'static str, value: &str) -> Result<String, ActionError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ActionError::Empty { field });
    }
    bounded(field, trimmed, MAX_FIELD_CHARS)?;
    Ok(trimmed.to_owned())
}

fn bounded(field: &'static str, value: &str, max: usize) -> Result<(), ActionError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(ActionError::TooLong { field, chars, max });
    }
    Ok(())
}

fn not_in_future(
    field: &'static str,
    date: Date,
    signature: &Signature,
) -> Result<(), ActionError> {
    let today = signature.at.date();
    if date > today {
        return Err(ActionError::InFuture { field, date, today });
    }
    Ok(())
}

fn not_before(
    field: &'static str,
    date: Date,
    earlier_field: &'static str,
    earlier: Date,
) -> Result<(), ActionError> {
    if date < earlier {
        return Err(ActionError::BeforeDate {
            field,
            date,
            earlier_field,
            earlier,
        });
    }
    Ok(())
}

fn open_profile(tx: &Transaction<'_>) -> Result<Profile, ActionError> {
    let profile = schema::read_profile(tx)?;
    if profile.status == CaseStatus::Closed {
        let closed_on = profile.closed_on.unwrap_or(profile.opened_on);
        return Err(ActionError::CaseClosed { closed_on });
    }
    Ok(profile)
}

fn check_member(tx: &Transaction<'_>, member: &MemberId) -> Result<(), ActionError> {
    if !schema::has_member(tx, member.as_str())? {
        return Err(ActionError::UnknownMember(member.clone()));
    }
    Ok(())
}

fn check_owner(tx: &Transaction<'_>, owner: &Owner) -> Result<(), ActionError> {
    if let Owner::Member(member) = owner {
        check_member(tx, member)?;
    }
    Ok(())
}

fn existing_visit(tx: &Transaction<'_>, visit: &VisitId) -> Result<Visit, ActionError> {
    schema::read_visit(tx, visit)?.ok_or_else(|| ActionError::UnknownVisit(visit.clone()))
}

fn existing_goal(tx: &Transaction<'_>, goal: &GoalId) -> Result<Goal, ActionError> {
    schema::read_goal(tx, goal)?.ok_or_else(|| ActionError::UnknownGoal(goal.clone()))
}

fn checked_member(details: MemberDetails, signature: &Signature) -> Result<Member, ActionError> {
    let name = required_text("name", &details.name)?;
    not_in_future("birth date", details.birth_date, signature)?;
    if let Some(permit) = details.residence_permit_on {
        not_in_future("residence permit date", permit, signature)?;
        not_before(
            "residence permit date",
            permit,
            "birth date",
            details.birth_date,
        )?;
    }
    let mut languages = Vec::with_capacity(details.languages.len());
    for language in &details.languages {
        languages.push(required_text("language", language)?);
    }
    let interpreter_language = match details.interpreter_language {
        Some(language) => Some(required_text("interpreter language", &language)?),
        None => None,
    };
    Ok(Member {
        name,
        birth_date: details.birth_date,
        gender: details.gender,
        residence_permit_on: details.residence_permit_on,
        born_outside_eea: details.born_outside_eea,
        registered_in_district: details.registered_in_district,
        languages,
        interpreter_language,
    })
}

impl HouseholdDoc<Automerge> {
    /// Creates the document of a new household: one change, signed.
    pub fn create(
        actor: ActorId,
        signature: &Signature,
        new: NewHousehold,
    ) -> Result<Self, ActionError> {
        let address = required_text("address", &new.address)?;
        bounded("unit", &new.unit, MAX_FIELD_CHARS)?;
        not_in_future("arrival date", new.arrived_on, signature)?;
        not_before(
            "opening date",
            new.opened_on,
            "arrival date",
            new.arrived_on,
        )?;
        let household = Household {
            profile: Profile {
                district: new.district,
                address,
                unit: new.unit.trim().to_owned(),
                housing_form: new.housing_form,
                arrival_route: new.arrival_route,
                arrived_on: new.arrived_on,
                opened_on: new.opened_on,
                assigned_staff: new.assigned_staff,
                status: CaseStatus::Active,
                close_reason: None,
                closed_on: None,
            },
            members: BTreeMap::new(),
            visits: BTreeMap::new(),
            plan: Plan {
                goals: BTreeMap::new(),
                notes: Note::default(),
            },
        };
        let mut doc = Automerge::new_with_encoding(schema::TEXT_ENCODING).with_actor(actor);
        doc.transact_with(
            |_| signature.commit_options("create_household"),
            |tx| schema::init(tx, &household),
        )
        .map_err(|failure| failure.error)?;
        Ok(Self { doc })
    }
}

impl<D: BorrowMut<Automerge>> HouseholdDoc<D> {
    /// Runs `action` in one transaction committed with `signature`; rolls back on error.
    fn act<T>(
        &mut self,
        name: &'static str,
        signature: &Signature,
        action: impl FnOnce(&mut Transaction<'_>) -> Result<T, ActionError>,
    ) -> Result<T, ActionError> {
        self.automerge_mut()
            .transact_with(|_| signature.commit_options(name), action)
            .map(|success| success.result)
            .map_err(|failure| failure.error)
    }

    /// Corrects where the household lives.
    pub fn update_housing(
        &mut self,
        signature: &Signature,
        address: &str,
        unit: &str,
        housing_form: HousingForm,
    ) -> Result<(), ActionError> {
        let address = required_text("address", address)?;
        bounded("unit", unit, MAX_FIELD_CHARS)?;
        self.act("update_housing", signature, |tx| {
            let mut profile = open_profile(tx)?;
            profile.address = address;
            profile.unit = unit.trim().to_owned();
            profile.housing_form = housing_form;
            Ok(schema::write_profile(tx, &profile)?)
        })
    }

    /// Adds a member to the household.
    pub fn add_member(
        &mut self,
        signature: &Signature,
        member: &MemberId,
        details: MemberDetails,
    ) -> Result<(), ActionError> {
        let value = checked_member(details, signature)?;
        self.act("add_member", signature, |tx| {
            open_profile(tx)?;
            if schema::has_member(tx, member.as_str())? {
                return Err(ActionError::DuplicateId(member.to_string()));
            }
            Ok(schema::write_member(tx, member.as_str(), &value)?)
        })
    }

    /// Corrects a member's details; only the fields that differ are written.
    pub fn update_member(
        &mut self,
        signature: &Signature,
        member: &MemberId,
        details: MemberDetails,
    ) -> Result<(), ActionError> {
        let value = checked_member(details, signature)?;
        self.act("update_member", signature, |tx| {
            open_profile(tx)?;
            check_member(tx, member)?;
            Ok(schema::write_member(tx, member.as_str(), &value)?)
        })
    }

    /// Books a visit.
    pub fn schedule_visit(
        &mut self,
        signature: &Signature,
        visit: &VisitId,
        planned_at: Timestamp,
        staff: &StaffId,
    ) -> Result<(), ActionError> {
        self.act("schedule_visit", signature, |tx| {
            schedule_visit_in(tx, visit, planned_at, staff)
        })
    }

    /// Records a held visit: a planned one, one recorded before (to correct it), or an
    /// unplanned one (a new id).
    pub fn record_visit(
        &mut self,
        signature: &Signature,
        visit: &VisitId,
        record: VisitRecord,
    ) -> Result<(), ActionError> {
        let entry = VisitEntry {
            record,
            follow_up: None,
            next_visit: None,
        };
        self.record_visit_entry(signature, visit, entry)
    }

    fn end_planned_visit(
        &mut self,
        name: &'static str,
        signature: &Signature,
        visit: &VisitId,
        status: VisitStatus,
    ) -> Result<(), ActionError> {
        self.act(name, signature, |tx| {
            open_profile(tx)?;
            let mut value = existing_visit(tx, visit)?;
            if value.status != VisitStatus::Planned {
                return Err(ActionError::VisitStatus {
                    visit: visit.clone(),
                    status: value.status,
                    allowed: "planned",
                    action: if status == VisitStatus::Cancelled {
                        "cancelled"
                    } else {
                        "a no-show"
                    },
                });
            }
            if status == VisitStatus::NoShow && value.planned_at > signature.at {
                return Err(ActionError::NotYetHappened {
                    what: "a no-show",
                    at: value.planned_at,
                    now: signature.at,
                });
            }
            value.status = status;
            Ok(schema::write_visit(tx, visit, &value)?)
        })
    }

    /// Calls off a planned visit.
    pub fn cancel_visit(
        &mut self,
        signature: &Signature,
        visit: &VisitId,
    ) -> Result<(), ActionError> {
        self.end_planned_visit("cancel_visit", signature, visit, VisitStatus::Cancelled)
    }

    /// Records that nobody was there for a planned visit.
    pub fn mark_no_show(
        &mut self,
        signature: &Signature,
        visit: &VisitId,
    ) -> Result<(), ActionError> {
        self.end_planned_visit("mark_no_show", signature, visit, VisitStatus::NoShow)
    }

    /// Edits a note in place: deletes `delete` characters at `position` (counted in
    /// characters) and inserts `insert`. Concurrent splices on other devices merge.
    pub fn splice_note(
        &mut self,
        signature: &Signature,
        note: &NoteRef,
        position: usize,
        delete: usize,
        insert: &str,
    ) -> Result<(), ActionError> {
        self.act("splice_note", signature, |tx| {
            open_profile(tx)?;
            let len = schema::note_len(tx, note)?.ok_or_else(|| missing_note(note))?;
            let end = position.checked_add(delete).filter(|end| *end <= len);
            if end.is_none() {
                return Err(ActionError::NoteRange {
                    position,
                    delete,
                    len,
                });
            }
            bounded("notes", insert, MAX_NOTE_CHARS.saturating_sub(len - delete))?;
            Ok(schema::splice_note(tx, note, position, delete, insert)?)
        })
    }

    /// Rewrites a note as the person left it, in one change: the differences from the note
    /// as it stands are spliced in (`splices.rs`), so that what others wrote elsewhere in it
    /// meanwhile merges instead of being overwritten. Run on the document as it stood when
    /// the person began (`fork_at`), the differences are the person's edit and nothing else.
    pub fn edit_note(
        &mut self,
        signature: &Signature,
        note: &NoteRef,
        text: &str,
    ) -> Result<(), ActionError> {
        bounded("notes", text, MAX_NOTE_CHARS)?;
        self.act("splice_note", signature, |tx| {
            open_profile(tx)?;
            let current = schema::note_text(tx, note)?.ok_or_else(|| missing_note(note))?;
            for (position, delete, insert) in splices::splices(&current, text) {
                schema::splice_note(tx, note, position, delete, &insert)?;
            }
            Ok(())
        })
    }

    /// Adds a follow-up (or, aimed at an agency, a referral) to a visit.
    pub fn add_follow_up(
        &mut self,
        signature: &Signature,
        visit: &VisitId,
        follow_up: &FollowUpId,
        new: NewFollowUp,
    ) -> Result<(), ActionError> {
        let description = required_text("follow-up description", &new.description)?;
        self.act("add_follow_up", signature, |tx| {
            add_follow_up_in(tx, visit, follow_up, new, description)
        })
    }

    /// Marks a follow-up done on `done_on`.
    pub fn complete_follow_up(
        &mut self,
        signature: &Signature,
        visit: &VisitId,
        follow_up: &FollowUpId,
        done_on: Date,
    ) -> Result<(), ActionError> {
        not_in_future("completion date", done_on, signature)?;
        self.act("complete_follow_up", signature, |tx| {
            open_profile(tx)?;
            let mut value = existing_visit(tx, visit)?;
            let visit_date = value.planned_at.date();
            let entry = value.follow_ups.get_mut(follow_up).ok_or_else(|| {
                ActionError::UnknownFollowUp {
                    visit: visit.clone(),
                    follow_up: follow_up.clone(),
                }
            })?;
            if let Some(earlier) = entry.done_on {
                return Err(ActionError::AlreadyDone(follow_up.clone(), earlier));
            }
            not_before("completion date", done_on, "visit date", visit_date)?;
            entry.done_on = Some(done_on);
            Ok(schema::write_visit(tx, visit, &value)?)
        })
    }

    /// Adds a goal to the plan.
    pub fn add_goal(
        &mut self,
        signature: &Signature,
        goal: &GoalId,
        new: NewGoal,
    ) -> Result<(), ActionError> {
        let description = required_text("goal description", &new.description)?;
        self.act("add_goal", signature, |tx| {
            open_profile(tx)?;
            check_member(tx, &new.member)?;
            if schema::read_goal(tx, goal)?.is_some() {
                return Err(ActionError::DuplicateId(goal.to_string()));
            }
            let value = Goal {
                member: new.member,
                area: new.area,
                description,
                status: GoalStatus::NotStarted,
                set_on: signature.at.date(),
                reached_on: None,
                steps: BTreeMap::new(),
            };
            Ok(schema::write_goal(tx, goal, &value)?)
        })
    }

    /// Sets where a goal stands; `on` is the day it was reached, when it is.
    pub fn set_goal_status(
        &mut self,
        signature: &Signature,
        goal: &GoalId,
        status: GoalStatus,
        on: Date,
    ) -> Result<(), ActionError> {
        not_in_future("status date", on, signature)?;
        self.act("set_goal_status", signature, |tx| {
            open_profile(tx)?;
            let mut value = existing_goal(tx, goal)?;
            not_before("status date", on, "goal date", value.set_on)?;
            value.status = status;
            value.reached_on = (status == GoalStatus::Reached).then_some(on);
            Ok(schema::write_goal(tx, goal, &value)?)
        })
    }

    /// Adds a step to a goal, after its other steps.
    pub fn add_step(
        &mut self,
        signature: &Signature,
        goal: &GoalId,
        step: &StepId,
        new: NewStep,
    ) -> Result<(), ActionError> {
        let description = required_text("step description", &new.description)?;
        self.act("add_step", signature, |tx| {
            open_profile(tx)?;
            let mut value = existing_goal(tx, goal)?;
            if value.steps.contains_key(step) {
                return Err(ActionError::DuplicateId(step.to_string()));
            }
            check_owner(tx, &new.owner)?;
            if let Some(due_on) = new.due_on {
                not_before("due date", due_on, "goal date", value.set_on)?;
            }
            let position = value
                .steps
                .values()
                .map(|step| step.position + 1)
                .max()
                .unwrap_or(0);
            let (owner_kind, owner, agency) = new.owner.into_fields();
            value.steps.insert(
                step.clone(),
                Step {
                    description,
                    owner_kind,
                    owner,
                    agency,
                    due_on: new.due_on,
                    status: StepStatus::Open,
                    done_on: None,
                    position,
                },
            );
            if value.status == GoalStatus::NotStarted {
                value.status = GoalStatus::InProgress;
            }
            Ok(schema::write_goal(tx, goal, &value)?)
        })
    }

    /// Sets where a step stands; `on` is the day it was done, when it is.
    pub fn set_step_status(
        &mut self,
        signature: &Signature,
        goal: &GoalId,
        step: &StepId,
        status: StepStatus,
        on: Date,
    ) -> Result<(), ActionError> {
        not_in_future("status date", on, signature)?;
        self.act("set_step_status", signature, |tx| {
            open_profile(tx)?;
            let mut value = existing_goal(tx, goal)?;
            let set_on = value.set_on;
            let entry = value
                .steps
                .get_mut(step)
                .ok_or_else(|| ActionError::UnknownStep {
                    goal: goal.clone(),
                    step: step.clone(),
                })?;
            not_before("status date", on, "goal date", set_on)?;
            entry.status = status;
            entry.done_on = (status == StepStatus::Done).then_some(on);
            Ok(schema::write_goal(tx, goal, &value)?)
        })
    }

    /// Moves the household to a staff member's caseload, or out of every caseload.
    pub fn assign_staff(
        &mut self,
        signature: &Signature,
        staff: Option<&StaffId>,
    ) -> Result<(), ActionError> {
        self.act("assign_staff", signature, |tx| {
            let mut profile = open_profile(tx)?;
            profile.assigned_staff = staff.cloned();
            Ok(schema::write_profile(tx, &profile)?)
        })
    }

    /// Closes the case with its reason.
    pub fn close_case(
        &mut self,
        signature: &Signature,
        reason: CloseReason,
        on: Date,
    ) -> Result<(), ActionError> {
        not_in_future("closing date", on, signature)?;
        self.act("close_case", signature, |tx| {
            let mut profile = open_profile(tx)?;
            not_before("closing date", on, "opening date", profile.opened_on)?;
            profile.status = CaseStatus::Closed;
            profile.close_reason = Some(reason);
            profile.closed_on = Some(on);
            Ok(schema::write_profile(tx, &profile)?)
        })
    }

    /// Reopens a closed case.
    pub fn reopen_case(&mut self, signature: &Signature) -> Result<(), ActionError> {
        self.act("reopen_case", signature, |tx| {
            let mut profile = schema::read_profile(tx)?;
            if profile.status == CaseStatus::Active {
                return Err(ActionError::CaseOpen);
            }
            profile.status = CaseStatus::Active;
            profile.close_reason = None;
            profile.closed_on = None;
            Ok(schema::write_profile(tx, &profile)?)
        })
    }

    /// Settles a conflict by choosing one of the field's values.
    pub fn resolve_conflict(
        &mut self,
        signature: &Signature,
        field: &FieldPath,
        chosen: &FieldValue,
    ) -> Result<(), ActionError> {
        self.act("resolve_conflict", signature, |tx| {
            Ok(schema::conflicts::resolve(tx, field, chosen)??)
        })
    }
}

/// A visit with nothing recorded yet.
fn bare_visit(planned_at: Timestamp, staff: StaffId, status: VisitStatus) -> Visit {
    Visit {
        planned_at,
        staff,
        status,
        present: Set::new(),
        interpreter_language: None,
        interpreter_mode: None,
        duration_minutes: None,
        topics: Set::new(),
        notes: Note::default(),
        follow_ups: BTreeMap::new(),
    }
}

/// What is wrong when a note to edit does not exist: its visit is unknown, or the document
/// is no household (the plan's notes always exist in one).
fn missing_note(note: &NoteRef) -> ActionError {
    match note {
        NoteRef::Visit(visit) => ActionError::UnknownVisit(visit.clone()),
        NoteRef::Plan => SchemaError::NotAHousehold.into(),
    }
}

/// Books a visit, inside an action's transaction.
fn schedule_visit_in(
    tx: &mut Transaction<'_>,
    visit: &VisitId,
    planned_at: Timestamp,
    staff: &StaffId,
) -> Result<(), ActionError> {
    let profile = open_profile(tx)?;
    not_before(
        "visit date",
        planned_at.date(),
        "opening date",
        profile.opened_on,
    )?;
    if schema::read_visit(tx, visit)?.is_some() {
        return Err(ActionError::DuplicateId(visit.to_string()));
    }
    let value = bare_visit(planned_at, staff.clone(), VisitStatus::Planned);
    Ok(schema::write_visit(tx, visit, &value)?)
}

/// Adds a follow-up to a visit, inside an action's transaction (`description` checked).
fn add_follow_up_in(
    tx: &mut Transaction<'_>,
    visit: &VisitId,
    follow_up: &FollowUpId,
    new: NewFollowUp,
    description: String,
) -> Result<(), ActionError> {
    open_profile(tx)?;
    let mut value = existing_visit(tx, visit)?;
    if value.follow_ups.contains_key(follow_up) {
        return Err(ActionError::DuplicateId(follow_up.to_string()));
    }
    check_owner(tx, &new.owner)?;
    not_before(
        "due date",
        new.due_on,
        "visit date",
        value.planned_at.date(),
    )?;
    let (owner_kind, owner, owner_agency) = new.owner.into_fields();
    value.follow_ups.insert(
        follow_up.clone(),
        FollowUp {
            description,
            owner_kind,
            owner,
            agency: owner_agency.or(new.agency),
            due_on: new.due_on,
            done_on: None,
        },
    );
    Ok(schema::write_visit(tx, visit, &value)?)
}

/// Records a held visit, inside an action's transaction (`interpreter` checked).
fn record_visit_in(
    tx: &mut Transaction<'_>,
    visit: &VisitId,
    record: VisitRecord,
    interpreter: Option<(String, InterpreterMode)>,
) -> Result<(), ActionError> {
    let profile = open_profile(tx)?;
    not_before(
        "visit date",
        record.held_at.date(),
        "opening date",
        profile.opened_on,
    )?;
    for member in record.present.iter() {
        check_member(tx, member)?;
    }
    let mut value = match schema::read_visit(tx, visit)? {
        Some(existing) => {
            if !matches!(existing.status, VisitStatus::Planned | VisitStatus::Done) {
                return Err(ActionError::VisitStatus {
                    visit: visit.clone(),
                    status: existing.status,
                    allowed: "planned or done",
                    action: "recorded",
                });
            }
            existing
        }
        None => bare_visit(record.held_at, record.staff.clone(), VisitStatus::Done),
    };
    value.planned_at = record.held_at;
    value.staff = record.staff;
    value.status = VisitStatus::Done;
    value.present = record.present;
    value.interpreter_language = interpreter.as_ref().map(|(language, _)| language.clone());
    value.interpreter_mode = interpreter.as_ref().map(|(_, mode)| *mode);
    value.duration_minutes = Some(record.duration_minutes);
    value.topics = record.topics;
    value.notes = Note(record.notes);
    Ok(schema::write_visit(tx, visit, &value)?)
}

/// What a record says that needs no document to check: its length, that it has happened,
/// its notes' length and the interpreter's language.
fn checked_record(
    signature: &Signature,
    record: &VisitRecord,
) -> Result<Option<(String, InterpreterMode)>, ActionError> {
    if record.duration_minutes == 0 || record.duration_minutes > MAX_VISIT_MINUTES {
        return Err(ActionError::Duration {
            minutes: record.duration_minutes,
            max: MAX_VISIT_MINUTES,
        });
    }
    if record.held_at > signature.at {
        return Err(ActionError::NotYetHappened {
            what: "a visit recorded as held",
            at: record.held_at,
            now: signature.at,
        });
    }
    bounded("notes", &record.notes, MAX_NOTE_CHARS)?;
    let interpreter = match &record.interpreter {
        Some(interpreter) => Some((
            required_text("interpreter language", &interpreter.language)?,
            interpreter.mode,
        )),
        None => None,
    };
    Ok(interpreter)
}

mod splices;
mod visit_entry;

pub use visit_entry::{DEFAULT_FOLLOW_UP_DAYS, DEFAULT_VISIT_MINUTES, VisitEntry};

#[cfg(test)]
mod tests;

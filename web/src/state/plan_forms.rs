//! The plan's forms: a new goal, a new step for a goal, and the plan notes being edited,
//! each changed one action at a time and read as core's input when saved.

use std::rc::Rc;

use lots_core::automerge::ChangeHash;
use lots_core::{Date, GoalArea, MemberId, NewGoal, NewStep, Owner, OwnerKind, StaffId};
use yew::Reducible;

/// What the last save of a plan form came to, shown under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Saved on the device.
    Saved,
    /// Not saved, and why.
    Failed(String),
}

/// Why a plan form cannot be saved as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PlanFormError {
    /// The due date is not a date.
    #[error("the due date is not a date")]
    Due,
    /// No member chosen, or one the household does not have.
    #[error("choose whose goal it is")]
    Member,
    /// The step is the staff member's, but nobody is signed in to be it.
    #[error("this device has no signed-in person")]
    NoStaff,
}

/// A new step being typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepForm {
    /// What is to be done.
    pub description: String,
    /// Who does it: the goal's member (help to self-help) unless the staff member takes it.
    pub owner: StepOwner,
    /// By when, `YYYY-MM-DD` as a date input gives it (none when empty).
    pub due: String,
    /// The last save's outcome.
    pub outcome: Option<Outcome>,
}

/// Who carries out a new step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepOwner {
    /// The member whose goal it is.
    #[default]
    Member,
    /// The staff member adding it.
    Staff,
}

impl StepOwner {
    /// The owner kind's code, as the form's select holds it.
    pub fn code(self) -> &'static str {
        match self {
            StepOwner::Member => OwnerKind::Member.code(),
            StepOwner::Staff => OwnerKind::Staff.code(),
        }
    }
}

/// One thing the person does on the step form.
#[derive(Debug, Clone, PartialEq)]
pub enum StepAction {
    /// The description.
    Describe(String),
    /// Who does it, by the select's code (`member` or `staff`).
    Owner(String),
    /// The due date.
    Due(String),
    /// Saved: the form empties for the next step, and says so.
    Saved,
    /// Not saved: what was typed stays.
    Failed(String),
}

impl Reducible for StepForm {
    type Action = StepAction;

    fn reduce(self: Rc<Self>, action: StepAction) -> Rc<Self> {
        let mut form = (*self).clone();
        match action {
            StepAction::Describe(text) => form.description = text,
            StepAction::Owner(code) => {
                form.owner = match code.parse::<OwnerKind>() {
                    Ok(OwnerKind::Staff) => StepOwner::Staff,
                    _ => StepOwner::Member,
                }
            }
            StepAction::Due(text) => form.due = text,
            StepAction::Saved => {
                return Rc::new(StepForm {
                    owner: form.owner,
                    outcome: Some(Outcome::Saved),
                    ..StepForm::default()
                });
            }
            StepAction::Failed(error) => {
                form.outcome = Some(Outcome::Failed(error));
                return Rc::new(form);
            }
        }
        form.outcome = None;
        Rc::new(form)
    }
}

impl StepForm {
    /// The step as core adds it to the goal of `member`, by `staff` when they take it on.
    pub fn to_new_step(
        &self,
        member: &MemberId,
        staff: Option<StaffId>,
    ) -> Result<NewStep, PlanFormError> {
        let owner = match self.owner {
            StepOwner::Member => Owner::Member(member.clone()),
            StepOwner::Staff => Owner::Staff(staff.ok_or(PlanFormError::NoStaff)?),
        };
        let due_on = match self.due.trim() {
            "" => None,
            text => Some(text.parse::<Date>().map_err(|_| PlanFormError::Due)?),
        };
        Ok(NewStep {
            description: self.description.clone(),
            owner,
            due_on,
        })
    }
}

/// A new goal being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalForm {
    /// Whose goal, as the select holds the member's id.
    pub member: String,
    /// The plan area.
    pub area: GoalArea,
    /// The goal in the household's words.
    pub description: String,
    /// The last save's outcome.
    pub outcome: Option<Outcome>,
}

/// One thing the person does on the goal form.
#[derive(Debug, Clone, PartialEq)]
pub enum GoalAction {
    /// Whose goal, by member id.
    Member(String),
    /// The area, by its code.
    Area(String),
    /// The description.
    Describe(String),
    /// Saved: the description empties for the next goal; member and area stay.
    Saved,
    /// Not saved: what was typed stays.
    Failed(String),
}

impl GoalForm {
    /// An empty form, for a goal of `first` (the first member listed) in the first area.
    pub fn new(first: Option<&MemberId>) -> Self {
        GoalForm {
            member: first.map(ToString::to_string).unwrap_or_default(),
            area: GoalArea::ALL[0],
            description: String::new(),
            outcome: None,
        }
    }

    /// The goal as core adds it.
    pub fn to_new_goal(&self) -> Result<NewGoal, PlanFormError> {
        Ok(NewGoal {
            member: MemberId::new(self.member.clone()).map_err(|_| PlanFormError::Member)?,
            area: self.area,
            description: self.description.clone(),
        })
    }
}

impl Reducible for GoalForm {
    type Action = GoalAction;

    fn reduce(self: Rc<Self>, action: GoalAction) -> Rc<Self> {
        let mut form = (*self).clone();
        form.outcome = None;
        match action {
            GoalAction::Member(member) => form.member = member,
            GoalAction::Area(code) => {
                if let Ok(area) = code.parse() {
                    form.area = area;
                }
            }
            GoalAction::Describe(text) => form.description = text,
            GoalAction::Saved => {
                form.description.clear();
                form.outcome = Some(Outcome::Saved);
            }
            GoalAction::Failed(error) => form.outcome = Some(Outcome::Failed(error)),
        }
        Rc::new(form)
    }
}

/// The plan notes: the text as the person has it while they edit, and the document's heads
/// when they began, so that the edit merges with what other devices wrote meanwhile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NotesEdit {
    /// The edit in progress; none while the person only reads.
    pub draft: Option<NotesDraft>,
    /// The last save's outcome.
    pub outcome: Option<Outcome>,
}

/// An edit of the plan notes in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct NotesDraft {
    /// The document's heads when the person began.
    pub base: Vec<ChangeHash>,
    /// The text as they have it.
    pub text: String,
}

/// One thing the person does to the plan notes, or what became of saving them.
#[derive(Debug, Clone, PartialEq)]
pub enum NotesAction {
    /// Typed: the whole text now, and the document's heads as shown (the base of a new edit).
    Typed {
        /// The text.
        text: String,
        /// The heads of the document the shown text came from.
        heads: Vec<ChangeHash>,
    },
    /// Saved: the notes show the document again.
    Saved,
    /// Not saved: the draft stays, so nothing typed is lost.
    Failed(String),
}

impl Reducible for NotesEdit {
    type Action = NotesAction;

    fn reduce(self: Rc<Self>, action: NotesAction) -> Rc<Self> {
        Rc::new(match action {
            NotesAction::Typed { text, heads } => NotesEdit {
                draft: Some(NotesDraft {
                    // An edit keeps the heads it began at, however long it goes on.
                    base: self
                        .draft
                        .as_ref()
                        .map_or(heads, |draft| draft.base.clone()),
                    text,
                }),
                outcome: None,
            },
            NotesAction::Saved => NotesEdit {
                draft: None,
                outcome: Some(Outcome::Saved),
            },
            NotesAction::Failed(error) => NotesEdit {
                draft: self.draft.clone(),
                outcome: Some(Outcome::Failed(error)),
            },
        })
    }
}

#[cfg(test)]
mod tests;

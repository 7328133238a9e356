//! A change's effect on the household, as the actions that make it: the household read
//! before and after the change is compared, each difference is one of core's actions, and
//! each reads as words for the record of what was not taken.

use super::*;

/// One difference between the household before and after a change, as the action that
/// makes it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Effect {
    Housing(lots_core::Profile),
    Member {
        id: MemberId,
        member: Member,
        new: bool,
    },
    Schedule(VisitId, Visit),
    Record(VisitId, Visit),
    EndVisit(VisitId, Visit),
    Note {
        note: NoteRef,
        when: Option<Timestamp>,
        before: String,
        after: String,
    },
    AddFollowUp(VisitId, Timestamp, FollowUpId, FollowUp),
    CompleteFollowUp(VisitId, Timestamp, FollowUpId, FollowUp),
    AddGoal(GoalId, Goal),
    GoalStatus(GoalId, Goal),
    AddStep(GoalId, StepId, Step),
    StepStatus(GoalId, StepId, Step),
    Close(lots_core::Profile),
    Reopen,
    /// What no action here makes: a conflict settled, an assignment.
    Other,
}

/// The differences `after` has from `before` (`None`: the household did not exist).
pub(super) fn effects(before: Option<&Household>, after: &Household) -> Vec<Effect> {
    let empty;
    let before = match before {
        Some(before) => before,
        None => {
            empty = Household {
                members: BTreeMap::new(),
                visits: BTreeMap::new(),
                plan: lots_core::Plan {
                    goals: BTreeMap::new(),
                    notes: lots_core::Note::default(),
                },
                ..after.clone()
            };
            let mut effects = vec![Effect::Housing(after.profile.clone())];
            effects.extend(self::effects(Some(&empty), after));
            return effects;
        }
    };
    let mut effects = Vec::new();
    let (was, is) = (&before.profile, &after.profile);
    if (&was.address, &was.unit, was.housing_form) != (&is.address, &is.unit, is.housing_form) {
        effects.push(Effect::Housing(is.clone()));
    }
    match (was.status, is.status) {
        (CaseStatus::Active, CaseStatus::Closed) => effects.push(Effect::Close(is.clone())),
        (CaseStatus::Closed, CaseStatus::Active) => effects.push(Effect::Reopen),
        _ => {}
    }
    if (&was.district, &was.assigned_staff) != (&is.district, &is.assigned_staff) {
        effects.push(Effect::Other);
    }
    for (id, member) in &after.members {
        match before.members.get(id) {
            Some(old) if old == member => {}
            old => effects.push(Effect::Member {
                id: id.clone(),
                member: member.clone(),
                new: old.is_none(),
            }),
        }
    }
    for (id, visit) in &after.visits {
        let old = before.visits.get(id);
        visit_effects(id, old, visit, &mut effects);
    }
    if before.plan.notes != after.plan.notes {
        effects.push(Effect::Note {
            note: NoteRef::Plan,
            when: None,
            before: before.plan.notes.as_str().to_owned(),
            after: after.plan.notes.as_str().to_owned(),
        });
    }
    for (id, goal) in &after.plan.goals {
        let old = before.plan.goals.get(id);
        match old {
            None => effects.push(Effect::AddGoal(id.clone(), goal.clone())),
            Some(old) if (old.status, old.reached_on) != (goal.status, goal.reached_on) => {
                // Adding a step starts a goal: that is the step's effect, not a status set.
                let started_by_step = old.status == GoalStatus::NotStarted
                    && goal.status == GoalStatus::InProgress
                    && goal.steps.len() > old.steps.len();
                if !started_by_step {
                    effects.push(Effect::GoalStatus(id.clone(), goal.clone()));
                }
            }
            Some(_) => {}
        }
        for (step_id, step) in &goal.steps {
            match old.and_then(|old| old.steps.get(step_id)) {
                None => effects.push(Effect::AddStep(id.clone(), step_id.clone(), step.clone())),
                Some(old) if (old.status, old.done_on) != (step.status, step.done_on) => effects
                    .push(Effect::StepStatus(
                        id.clone(),
                        step_id.clone(),
                        step.clone(),
                    )),
                Some(_) => {}
            }
        }
    }
    if effects.is_empty() && before != after {
        effects.push(Effect::Other);
    }
    effects
}

fn visit_effects(id: &VisitId, old: Option<&Visit>, visit: &Visit, effects: &mut Vec<Effect>) {
    let fields = |visit: &Visit| {
        (
            visit.planned_at,
            visit.staff.clone(),
            visit.status,
            visit.present.clone(),
            visit.interpreter_language.clone(),
            visit.interpreter_mode,
            visit.duration_minutes,
            visit.topics.clone(),
        )
    };
    match old {
        None if visit.status == VisitStatus::Planned => {
            effects.push(Effect::Schedule(id.clone(), visit.clone()));
        }
        None => effects.push(Effect::Record(id.clone(), visit.clone())),
        Some(old) if fields(old) != fields(visit) => match visit.status {
            VisitStatus::Done => effects.push(Effect::Record(id.clone(), visit.clone())),
            VisitStatus::Cancelled | VisitStatus::NoShow => {
                effects.push(Effect::EndVisit(id.clone(), visit.clone()));
            }
            _ => effects.push(Effect::Other),
        },
        Some(old) if old.notes != visit.notes => effects.push(Effect::Note {
            note: NoteRef::Visit(id.clone()),
            when: Some(visit.planned_at),
            before: old.notes.as_str().to_owned(),
            after: visit.notes.as_str().to_owned(),
        }),
        Some(_) => {}
    }
    // A visit recorded anew carries its follow-ups only if they were added by the same
    // change, which no action does; they are their own effects in any case.
    for (follow_up_id, follow_up) in &visit.follow_ups {
        match old.and_then(|old| old.follow_ups.get(follow_up_id)) {
            None => effects.push(Effect::AddFollowUp(
                id.clone(),
                visit.planned_at,
                follow_up_id.clone(),
                follow_up.clone(),
            )),
            Some(old) if old.done_on != follow_up.done_on => {
                effects.push(Effect::CompleteFollowUp(
                    id.clone(),
                    visit.planned_at,
                    follow_up_id.clone(),
                    follow_up.clone(),
                ));
            }
            Some(_) => {}
        }
    }
}

impl Effect {
    /// The effect in words for the record.
    pub(super) fn text(&self) -> KeptText {
        let plain = KeptText::plain;
        match self {
            Effect::Housing(profile) => plain(
                What::Address,
                [profile.address.as_str(), profile.unit.as_str()]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Effect::Member { member, .. } => {
                let mut text = member.name.clone();
                if !member.languages.is_empty() {
                    text = format!("{text} ({})", member.languages.join(", "));
                }
                KeptText {
                    on: Some(member.birth_date),
                    ..plain(What::Member, text)
                }
            }
            Effect::Schedule(_, visit) => KeptText {
                when: Some(visit.planned_at),
                ..plain(What::VisitPlanned, String::new())
            },
            Effect::Record(_, visit) => KeptText {
                when: Some(visit.planned_at),
                codes: visit
                    .topics
                    .iter()
                    .map(|topic| topic.code().into())
                    .collect(),
                minutes: visit.duration_minutes,
                ..plain(What::VisitRecorded, visit.notes.as_str().to_owned())
            },
            Effect::EndVisit(_, visit) => KeptText {
                when: Some(visit.planned_at),
                ..plain(
                    if visit.status == VisitStatus::Cancelled {
                        What::VisitCancelled
                    } else {
                        What::VisitNoShow
                    },
                    String::new(),
                )
            },
            Effect::Note {
                note, when, after, ..
            } => KeptText {
                when: *when,
                ..plain(
                    match note {
                        NoteRef::Plan => What::PlanNotes,
                        NoteRef::Visit(_) => What::VisitNotes,
                    },
                    after.clone(),
                )
            },
            Effect::AddFollowUp(_, at, _, follow_up) => KeptText {
                when: Some(*at),
                on: Some(follow_up.due_on),
                ..plain(What::FollowUp, follow_up.description.clone())
            },
            Effect::CompleteFollowUp(_, at, _, follow_up) => KeptText {
                when: Some(*at),
                on: follow_up.done_on,
                ..plain(What::FollowUpDone, follow_up.description.clone())
            },
            Effect::AddGoal(_, goal) => plain(What::Goal, goal.description.clone()),
            Effect::GoalStatus(_, goal) => KeptText {
                on: goal.reached_on,
                codes: vec![goal.status.code().into()],
                ..plain(What::GoalStatus, goal.description.clone())
            },
            Effect::AddStep(_, _, step) => KeptText {
                on: step.due_on,
                ..plain(What::Step, step.description.clone())
            },
            Effect::StepStatus(_, _, step) => KeptText {
                on: step.done_on,
                codes: vec![step.status.code().into()],
                ..plain(What::StepStatus, step.description.clone())
            },
            Effect::Close(profile) => KeptText {
                on: profile.closed_on,
                codes: profile
                    .close_reason
                    .map(|reason| vec![reason.code().into()])
                    .unwrap_or_default(),
                ..plain(What::CaseClosed, String::new())
            },
            Effect::Reopen => plain(What::CaseReopened, String::new()),
            Effect::Other => plain(What::Other, String::new()),
        }
    }
}

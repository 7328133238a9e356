//! The household's plan, editable: goals per person with their status, steps with theirs,
//! new goals and steps, and the plan notes.
//!
//! The plan notes merge character by character with what other devices wrote: the text is
//! edited against the document as it stood when the person began, and saved with core's
//! `edit_note` (one signed change of the smallest splices) at that point and merged in.

use lots_core::automerge::ChangeHash;
use lots_core::{
    DocumentId, GoalArea, GoalId, GoalStatus, Household, MemberId, NewGoal, NewStep, NoteRef,
    Owner, StepId, StepStatus,
};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::browser::now;
use crate::browser::random_id;
use crate::engine::ActError;
use crate::i18n::{self, code, t, t1};
use crate::session::Session;
use crate::views::change;
use crate::views::choice::{Choice, coded};

/// Props of [`PlanEditor`].
#[derive(Properties, PartialEq)]
pub struct PlanProps {
    /// The household's document.
    pub document: DocumentId,
}

/// What happened to the last edit, shown under the plan.
#[derive(Clone, PartialEq)]
enum Outcome {
    Saved,
    Failed(String),
}

/// Runs one change on the household, reporting the outcome in `outcome`.
fn apply(
    session: &Session,
    document: DocumentId,
    outcome: &UseStateHandle<Option<Outcome>>,
    action: impl FnOnce(
        &lots_core::Signature,
        &mut lots_core::HouseholdDoc<&mut lots_core::automerge::Automerge>,
    ) -> Result<(), lots_core::ActionError>
    + 'static,
) {
    let outcome = outcome.clone();
    let report = Callback::from(move |result: Result<(), String>| {
        outcome.set(Some(match result {
            Ok(()) => Outcome::Saved,
            Err(error) => Outcome::Failed(error),
        }));
    });
    change(session, document, report, action);
}

/// The plan section of the household screen.
#[function_component(PlanEditor)]
pub fn plan_editor(props: &PlanProps) -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let outcome = use_state(|| None::<Outcome>);
    let document = props.document;
    let Some(household) = session.engine.households().get(&document).cloned() else {
        return html! {};
    };
    let today = i18n::local_date(now());

    let goal_status = |goal: GoalId| {
        let (session, outcome) = (session.clone(), outcome.clone());
        Callback::from(move |value: String| {
            let Ok(status) = value.parse::<GoalStatus>() else {
                return;
            };
            let goal = goal.clone();
            apply(&session, document, &outcome, move |signature, household| {
                household.set_goal_status(signature, &goal, status, today)
            });
        })
    };
    let step_status = |goal: GoalId, step: StepId| {
        let (session, outcome) = (session.clone(), outcome.clone());
        Callback::from(move |value: String| {
            let Ok(status) = value.parse::<StepStatus>() else {
                return;
            };
            let (goal, step) = (goal.clone(), step.clone());
            apply(&session, document, &outcome, move |signature, household| {
                household.set_step_status(signature, &goal, &step, status, today)
            });
        })
    };

    let goal_statuses = coded(
        "goal-status",
        GoalStatus::ALL.iter().map(|status| status.code()),
    );
    let step_statuses = coded(
        "step-status",
        StepStatus::ALL.iter().map(|status| status.code()),
    );

    html! {
        <section class="plan" aria-labelledby="plan-title">
            <h2 id="plan-title">{ t("household-plan") }</h2>
            if household.plan.goals.is_empty() {
                <p class="empty">{ t("household-plan-empty") }</p>
            }
            <ul class="plain">
                { for household.plan.goals.iter().map(|(id, goal)| {
                    let person = household.members.get(&goal.member).map(|m| m.name.clone()).unwrap_or_default();
                    let mut steps: Vec<_> = goal.steps.iter().collect();
                    steps.sort_by_key(|(_, step)| step.position);
                    let now_step = steps.iter().rev().find(|(_, step)| step.status == StepStatus::Done);
                    let next_step = steps.iter().find(|(_, step)| step.status == StepStatus::Open);
                    let class = match goal.status {
                        GoalStatus::Reached => "goal reached",
                        GoalStatus::Stalled => "goal stalled",
                        _ => "goal",
                    };
                    let status_id = format!("goal-status-{id}");
                    html! {
                        <li key={id.to_string()} class={class}>
                            <strong>{ format!("{} — {}", code("goal", goal.area.code()), person) }</strong>
                            <div>{ goal.description.clone() }</div>
                            if let Some((_, step)) = now_step {
                                <div class="meta">{ format!("{}: {}", t("household-now"), step.description) }</div>
                            }
                            if let Some((_, step)) = next_step {
                                <div class="meta">{ format!("{}: {}", t("household-next"), step.description) }
                                    if let Some(due) = step.due_on {
                                        { format!(" ({})", t1("household-due", "date", i18n::date(due))) }
                                    }
                                    if overdue(step, today) {
                                        { " " }<span class="badge warn">{ t("plan-step-overdue") }</span>
                                    }
                                </div>
                            }
                            <label for={status_id.clone()} class="inline">{ t("plan-goal-status") }</label>
                            <Choice id={status_id} value={goal.status.code()} options={goal_statuses.clone()}
                                onchange={goal_status(id.clone())} />
                            <details class="steps">
                                <summary>{ t1("plan-steps", "count", steps.len().to_string()) }</summary>
                                <ol class="plain">
                                    { for steps.iter().map(|(step_id, step)| {
                                        let select_id = format!("step-{id}-{step_id}");
                                        html! {
                                            <li key={step_id.to_string()} class="step">
                                                <label for={select_id.clone()}>{ step.description.clone() }
                                                    if let Some(due) = step.due_on {
                                                        <span class="meta">{ format!(" ({})", t1("household-due", "date", i18n::date(due))) }</span>
                                                    }
                                                    if overdue(step, today) {
                                                        { " " }<span class="badge warn">{ t("plan-step-overdue") }</span>
                                                    }
                                                </label>
                                                <Choice id={select_id} value={step.status.code()} options={step_statuses.clone()}
                                                    onchange={step_status(id.clone(), (*step_id).clone())} />
                                            </li>
                                        }
                                    }) }
                                </ol>
                                <NewStepForm document={document} goal={id.clone()} member={goal.member.clone()} />
                            </details>
                        </li>
                    }
                }) }
            </ul>
            <details class="add-goal">
                <summary>{ t("plan-add-goal") }</summary>
                <NewGoalForm document={document} household={household.clone()} />
            </details>
            <PlanNotes document={document} />
            { outcome_line(&outcome) }
        </section>
    }
}

/// An open step past its due date, marked as overdue follow-ups are.
fn overdue(step: &lots_core::Step, today: lots_core::Date) -> bool {
    step.status == StepStatus::Open && step.due_on.is_some_and(|due| due < today)
}

fn outcome_line(outcome: &Option<Outcome>) -> Html {
    match outcome {
        Some(Outcome::Saved) => html! { <p class="saved" role="status">{ t("status-saved") }</p> },
        Some(Outcome::Failed(error)) => {
            html! { <p class="problem" role="alert">{ t1("plan-error", "error", error.clone()) }</p> }
        }
        None => html! {},
    }
}

/// Props of [`NewStepForm`].
#[derive(Properties, PartialEq)]
struct NewStepProps {
    document: DocumentId,
    goal: GoalId,
    member: MemberId,
}

/// A step for a goal: what, who (the person or I), by when.
#[function_component(NewStepForm)]
fn new_step_form(props: &NewStepProps) -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let outcome = use_state(|| None::<Outcome>);
    let description = use_node_ref();
    let due = use_node_ref();
    let owner = use_node_ref();
    let prefix = format!("new-step-{}", props.goal);
    let onsubmit = {
        let (session, outcome) = (session.clone(), outcome.clone());
        let (description, due, owner) = (description.clone(), due.clone(), owner.clone());
        let (document, goal, member) = (props.document, props.goal.clone(), props.member.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let (Some(text), Some(due_on), Some(owner_kind)) = (
                description.cast::<HtmlInputElement>(),
                due.cast::<HtmlInputElement>(),
                owner.cast::<HtmlSelectElement>(),
            ) else {
                return;
            };
            let owner = match (owner_kind.value().as_str(), session.staff()) {
                ("staff", Some(staff)) => Owner::Staff(staff),
                _ => Owner::Member(member.clone()),
            };
            let due_value = due_on.value();
            let due_on = match due_value.as_str() {
                "" => None,
                value => match value.parse() {
                    Ok(date) => Some(date),
                    Err(_) => {
                        outcome.set(Some(Outcome::Failed(t("plan-step-due"))));
                        return;
                    }
                },
            };
            let new = NewStep {
                description: text.value(),
                owner,
                due_on,
            };
            let Ok(step) = StepId::new(random_id("s")) else {
                return;
            };
            let goal = goal.clone();
            text.set_value("");
            apply(&session, document, &outcome, move |signature, household| {
                household.add_step(signature, &goal, &step, new)
            });
        })
    };
    html! {
        <form class="inline-form" {onsubmit}>
            <label for={format!("{prefix}-text")}>{ t("plan-step-description") }</label>
            <input id={format!("{prefix}-text")} ref={description} required=true />
            <label for={format!("{prefix}-owner")}>{ t("plan-step-owner") }</label>
            <select id={format!("{prefix}-owner")} ref={owner}>
                <option value="member">{ code("owner", "member") }</option>
                <option value="staff">{ code("owner", "staff") }</option>
            </select>
            <label for={format!("{prefix}-due")}>{ t("plan-step-due") }</label>
            <input id={format!("{prefix}-due")} type="date" ref={due} />
            <button type="submit">{ t("plan-add-step") }</button>
            { outcome_line(&outcome) }
        </form>
    }
}

/// Props of [`NewGoalForm`].
#[derive(Properties, PartialEq)]
struct NewGoalProps {
    document: DocumentId,
    household: std::rc::Rc<Household>,
}

/// A goal for one person in one area of the plan.
#[function_component(NewGoalForm)]
fn new_goal_form(props: &NewGoalProps) -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let outcome = use_state(|| None::<Outcome>);
    let member = use_node_ref();
    let area = use_node_ref();
    let description = use_node_ref();
    let onsubmit = {
        let (session, outcome) = (session.clone(), outcome.clone());
        let (member, area, description) = (member.clone(), area.clone(), description.clone());
        let document = props.document;
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let (Some(member), Some(area), Some(text)) = (
                member.cast::<HtmlSelectElement>(),
                area.cast::<HtmlSelectElement>(),
                description.cast::<HtmlInputElement>(),
            ) else {
                return;
            };
            let (Ok(member), Ok(area)) = (
                MemberId::new(member.value()),
                area.value().parse::<GoalArea>(),
            ) else {
                return;
            };
            let Ok(goal) = GoalId::new(random_id("g")) else {
                return;
            };
            let new = NewGoal {
                member,
                area,
                description: text.value(),
            };
            text.set_value("");
            apply(&session, document, &outcome, move |signature, household| {
                household.add_goal(signature, &goal, new)
            });
        })
    };
    html! {
        <form class="inline-form" {onsubmit}>
            <label for="new-goal-member">{ t("plan-goal-member") }</label>
            <select id="new-goal-member" ref={member}>
                { for props.household.members.iter().map(|(id, member)| html! {
                    <option value={id.to_string()}>{ member.name.clone() }</option>
                }) }
            </select>
            <label for="new-goal-area">{ t("plan-goal-area") }</label>
            <select id="new-goal-area" ref={area}>
                { for GoalArea::ALL.iter().map(|area| html! {
                    <option value={area.code()}>{ code("goal", area.code()) }</option>
                }) }
            </select>
            <label for="new-goal-description">{ t("plan-goal-description") }</label>
            <input id="new-goal-description" ref={description} required=true />
            <button type="submit" class="primary">{ t("plan-add-goal") }</button>
            { outcome_line(&outcome) }
        </form>
    }
}

/// Props of [`PlanNotes`].
#[derive(Properties, PartialEq)]
struct PlanNotesProps {
    document: DocumentId,
}

/// An edit of the plan notes in progress: the text as the person has it, and the document's
/// heads when they began.
#[derive(Clone, PartialEq)]
struct Draft {
    base: Vec<ChangeHash>,
    text: String,
}

/// The plan notes: edited freely, saved with one tap, merged with other devices' edits.
#[function_component(PlanNotes)]
fn plan_notes(props: &PlanNotesProps) -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let draft = use_state(|| None::<Draft>);
    let outcome = use_state(|| None::<Outcome>);
    let document = props.document;
    let current = session
        .engine
        .with_document(&document, |doc| {
            let text = doc
                .household()
                .map(|household| household.plan.notes.as_str().to_owned())
                .unwrap_or_default();
            (doc.heads(), text)
        })
        .unwrap_or_default();
    let oninput = {
        let (draft, outcome) = (draft.clone(), outcome.clone());
        let current = current.clone();
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            let base = match &*draft {
                Some(started) => started.base.clone(),
                None => current.0.clone(),
            };
            draft.set(Some(Draft {
                base,
                text: area.value(),
            }));
            outcome.set(None);
        })
    };
    let onsubmit = {
        let (draft, outcome, session) = (draft.clone(), outcome.clone(), session.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(edit) = (*draft).clone() else {
                return;
            };
            let (Some(staff), Some(device)) = (session.staff(), session.device()) else {
                return;
            };
            let (draft, outcome, session) = (draft.clone(), outcome.clone(), session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let signature = session.engine.signature(&staff, &device);
                let result = session
                    .engine
                    .act_at(document, &edit.base, |household| {
                        household.edit_note(&signature, &NoteRef::Plan, &edit.text)
                    })
                    .await;
                match result {
                    Ok(()) => {
                        draft.set(None);
                        outcome.set(Some(Outcome::Saved));
                    }
                    Err(ActError::Storage(error)) => {
                        // In memory, not on the device: keep the draft so nothing is lost.
                        outcome.set(Some(Outcome::Failed(error.to_string())));
                    }
                    Err(error) => outcome.set(Some(Outcome::Failed(error.to_string()))),
                }
            });
        })
    };
    let shown = draft
        .as_ref()
        .map(|draft| draft.text.clone())
        .unwrap_or(current.1);
    html! {
        <form class="plan-notes" {onsubmit}>
            <label for="plan-notes">{ t("plan-notes") }</label>
            <textarea id="plan-notes" rows="4" value={shown} {oninput} />
            <button type="submit" disabled={draft.is_none()}>{ t("plan-notes-save") }</button>
            { outcome_line(&outcome) }
        </form>
    }
}

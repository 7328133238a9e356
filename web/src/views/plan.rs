//! The household's plan, editable: goals per person with their status, steps with theirs,
//! new goals and steps, and the plan notes.
//!
//! The plan notes merge character by character with what other devices wrote: the text is
//! edited against the document as it stood when the person began, and saved with core's
//! `edit_note` (one signed change of the smallest splices) at that point and merged in.

use lots_core::{
    DocumentId, GoalArea, GoalId, GoalStatus, Household, MemberId, NoteRef, StepId, StepStatus,
};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::browser::now;
use crate::browser::random_id;
use crate::components::choice::{Choice, coded};
use crate::hooks::use_session;
use crate::i18n::{self, code, t, t1};
use crate::session::Session;
use crate::state::plan_forms::{
    GoalAction, GoalForm, NotesAction, NotesEdit, Outcome, PlanFormError, StepAction, StepForm,
    StepOwner,
};
use crate::views::change;

/// Props of [`PlanEditor`].
#[derive(Properties, PartialEq)]
pub struct PlanProps {
    /// The household's document.
    pub document: DocumentId,
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
    let session = use_session();
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
    let session = use_session();
    let form = use_reducer(StepForm::default);
    let prefix = format!("new-step-{}", props.goal);
    let input = |action: fn(String) -> StepAction| {
        let form = form.dispatcher();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            form.dispatch(action(input.value()));
        })
    };
    let on_owner = {
        let form = form.dispatcher();
        Callback::from(move |owner: String| form.dispatch(StepAction::Owner(owner)))
    };
    let onsubmit = {
        let (session, form) = (session.clone(), form.clone());
        let (document, goal, member) = (props.document, props.goal.clone(), props.member.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let new = match form.to_new_step(&member, session.staff()) {
                Ok(new) => new,
                Err(error) => return form.dispatch(StepAction::Failed(form_error(error))),
            };
            let Ok(step) = StepId::new(random_id("s")) else {
                return;
            };
            let goal = goal.clone();
            let report = saved(form.dispatcher(), StepAction::Saved, StepAction::Failed);
            change(&session, document, report, move |signature, household| {
                household.add_step(signature, &goal, &step, new)
            });
        })
    };
    let owners = coded("owner", [StepOwner::Member.code(), StepOwner::Staff.code()]);
    html! {
        <form class="inline-form" {onsubmit}>
            <label for={format!("{prefix}-text")}>{ t("plan-step-description") }</label>
            <input id={format!("{prefix}-text")} value={form.description.clone()}
                oninput={input(StepAction::Describe)} required=true />
            <label for={format!("{prefix}-owner")}>{ t("plan-step-owner") }</label>
            <Choice id={format!("{prefix}-owner")} value={form.owner.code()} options={owners} onchange={on_owner} />
            <label for={format!("{prefix}-due")}>{ t("plan-step-due") }</label>
            <input id={format!("{prefix}-due")} type="date" value={form.due.clone()}
                oninput={input(StepAction::Due)} />
            <button type="submit">{ t("plan-add-step") }</button>
            { outcome_line(&form.outcome) }
        </form>
    }
}

/// A form's refusal in the person's language.
fn form_error(error: PlanFormError) -> String {
    match error {
        PlanFormError::Due => t("plan-step-due"),
        PlanFormError::Member => t("plan-goal-member"),
        PlanFormError::NoStaff => t("plan-step-no-staff"),
    }
}

/// Reports a save to a form's reducer: `done` once on the device, `failed` with why not.
fn saved<Form, Action>(
    form: UseReducerDispatcher<Form>,
    done: Action,
    failed: fn(String) -> Action,
) -> Callback<Result<(), String>>
where
    Form: Reducible<Action = Action> + 'static,
    Action: Clone + 'static,
{
    Callback::from(move |result: Result<(), String>| match result {
        Ok(()) => form.dispatch(done.clone()),
        Err(error) => form.dispatch(failed(error)),
    })
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
    let session = use_session();
    let form = {
        let household = props.household.clone();
        use_reducer(move || GoalForm::new(household.members.keys().next()))
    };
    let select = |action: fn(String) -> GoalAction| {
        let form = form.dispatcher();
        Callback::from(move |value: String| form.dispatch(action(value)))
    };
    let on_description = {
        let form = form.dispatcher();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            form.dispatch(GoalAction::Describe(input.value()));
        })
    };
    let onsubmit = {
        let (session, form) = (session.clone(), form.clone());
        let document = props.document;
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let new = match form.to_new_goal() {
                Ok(new) => new,
                Err(error) => return form.dispatch(GoalAction::Failed(form_error(error))),
            };
            let Ok(goal) = GoalId::new(random_id("g")) else {
                return;
            };
            let report = saved(form.dispatcher(), GoalAction::Saved, GoalAction::Failed);
            change(&session, document, report, move |signature, household| {
                household.add_goal(signature, &goal, new)
            });
        })
    };
    let members: Vec<(AttrValue, AttrValue)> = props
        .household
        .members
        .iter()
        .map(|(id, member)| (id.to_string().into(), member.name.clone().into()))
        .collect();
    let areas = coded("goal", GoalArea::ALL.iter().map(|area| area.code()));
    html! {
        <form class="inline-form" {onsubmit}>
            <label for="new-goal-member">{ t("plan-goal-member") }</label>
            <Choice id="new-goal-member" value={form.member.clone()} options={members} onchange={select(GoalAction::Member)} />
            <label for="new-goal-area">{ t("plan-goal-area") }</label>
            <Choice id="new-goal-area" value={form.area.code()} options={areas} onchange={select(GoalAction::Area)} />
            <label for="new-goal-description">{ t("plan-goal-description") }</label>
            <input id="new-goal-description" value={form.description.clone()} oninput={on_description} required=true />
            <button type="submit" class="primary">{ t("plan-add-goal") }</button>
            { outcome_line(&form.outcome) }
        </form>
    }
}

/// Props of [`PlanNotes`].
#[derive(Properties, PartialEq)]
struct PlanNotesProps {
    document: DocumentId,
}

/// The plan notes: edited freely, saved with one tap, merged with other devices' edits.
#[function_component(PlanNotes)]
fn plan_notes(props: &PlanNotesProps) -> Html {
    let session = use_session();
    let edit = use_reducer(NotesEdit::default);
    let document = props.document;
    let (heads, text) = session
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
        let edit = edit.dispatcher();
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            edit.dispatch(NotesAction::Typed {
                text: area.value(),
                heads: heads.clone(),
            });
        })
    };
    let onsubmit = {
        let (edit, session) = (edit.clone(), session.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(draft) = edit.draft.clone() else {
                return;
            };
            let (Some(staff), Some(device)) = (session.staff(), session.device()) else {
                return;
            };
            let (edit, session) = (edit.dispatcher(), session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let signature = session.engine.signature(&staff, &device);
                let result = session
                    .engine
                    .act_at(document, &draft.base, |household| {
                        household.edit_note(&signature, &NoteRef::Plan, &draft.text)
                    })
                    .await;
                // On a storage failure the change is in memory, not on the device: the draft
                // stays, so nothing is lost.
                edit.dispatch(match result {
                    Ok(()) => NotesAction::Saved,
                    Err(error) => NotesAction::Failed(error.to_string()),
                });
            });
        })
    };
    let shown = edit.draft.as_ref().map_or(text, |draft| draft.text.clone());
    html! {
        <form class="plan-notes" {onsubmit}>
            <label for="plan-notes">{ t("plan-notes") }</label>
            <textarea id="plan-notes" rows="4" value={shown} {oninput} />
            <button type="submit" disabled={edit.draft.is_none()}>{ t("plan-notes-save") }</button>
            { outcome_line(&edit.outcome) }
        </form>
    }
}

//! One household: its people and who falls outside the target group, the plan (where each
//! person is now and what comes next), follow-ups, visits, and fields to choose between.

use std::rc::Rc;

use lots_core::{
    CaseStatus, CloseReason, ConflictValue, DocumentId, FieldPath, FieldValue, Household,
    VisitStatus, household_establishment_end, household_member_exclusions,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::browser::now;
use crate::hooks::use_session;
use crate::i18n::{self, code, t, t1};
use crate::routes::Route;
use crate::views::{change, household_name};

/// Props of [`HouseholdView`].
#[derive(Properties, PartialEq)]
pub struct HouseholdProps {
    /// The household's document id.
    pub id: String,
    /// Shown to read, every control disabled (the supervisor's desk opens households so).
    #[prop_or_default]
    pub read_only: bool,
}

/// The household screen.
#[function_component(HouseholdView)]
pub fn household_view(props: &HouseholdProps) -> Html {
    let session = use_session();
    {
        // Opening a household is a read, for the access log: once per opening, not per
        // render.
        let reads = session.reads.clone();
        use_effect_with(props.id.clone(), move |id| {
            if let Ok(document) = id.parse::<DocumentId>() {
                reads.record(&document, crate::reads::Shown::Household, None);
            }
        });
    }
    let Ok(document) = props.id.parse::<DocumentId>() else {
        return html! { <p class="problem">{ t("households-none") }</p> };
    };
    let Some(household) = session.engine.households().get(&document).cloned() else {
        // A household that does not read says why, rather than "loading" for ever.
        if let Some(entry) = session
            .engine
            .unreadable()
            .into_iter()
            .find(|entry| entry.document == document)
        {
            return html! {
                <article class="household">
                    <h1>{ t1("household-unnamed", "id", document.to_string()) }</h1>
                    <p class="problem" role="alert">{ t1("household-unreadable", "reason", entry.reason) }</p>
                </article>
            };
        }
        return html! { <p class="empty">{ t("households-loading") }</p> };
    };
    let today = i18n::local_date(now());
    html! {
        <article class="household">
            <h1>{ household_name(&household) }</h1>
            <p class="meta">{ format!("{}, {}", household.profile.address, household.profile.unit) }</p>
            <p class="meta">{ t_args_housing(&household) }</p>
            if props.read_only {
                <p class="read-only-note">
                    { t("household-read-only") }{ " " }
                    <Link<Route> to={Route::Household { id: props.id.clone() }}>{ t("household-edit") }</Link<Route>>
                </p>
                // What an administrator needs to remove a household recorded in error.
                <p class="meta household-id">{ t("household-id") }{ " " }<code>{ props.id.clone() }</code></p>
            } else {
                <Link<Route> to={Route::RecordVisit { id: props.id.clone(), visit: "new".into() }} classes="button primary wide">
                    { t("household-record-visit") }
                </Link<Route>>
            }
            // What the server did not take after a rejection: outside the read-only frame,
            // so that it can be copied and dismissed wherever the household is open.
            <crate::views::kept::KeptRecords document={document} />
            // A disabled fieldset disables every control inside it: the same screen, to read.
            <fieldset class="read-only-frame" disabled={props.read_only}>
                <legend class="visually-hidden">{ household_name(&household) }</legend>
                <Conflicts document={document} />
                { members(&household, today) }
                <crate::views::plan::PlanEditor document={document} />
                { follow_ups(&household) }
                { visits(&household) }
                if !props.read_only {
                    <CloseCase document={document} />
                }
            </fieldset>
            if props.read_only {
                { person_copies(&props.id, &household) }
            }
        </article>
    }
}

/// Links to each member's own copy (GDPR art. 15), at the desk.
fn person_copies(id: &str, household: &Household) -> Html {
    html! {
        <section class="person-copies no-print">
            <h2>{ t("copy-section") }</h2>
            <p class="meta">{ t("copy-section-help") }</p>
            <ul class="plain">
                { for household.members.iter().map(|(member, person)| html! {
                    <li>
                        <Link<Route> to={Route::PersonCopy { id: id.to_owned(), member: member.to_string() }}>
                            { t1("copy-for", "name", person.name.clone()) }
                        </Link<Route>>
                    </li>
                }) }
            </ul>
        </section>
    }
}

fn t_args_housing(household: &Household) -> String {
    crate::i18n::t_args(
        "household-housing",
        &[
            (
                "form",
                code("housing", household.profile.housing_form.code()).into(),
            ),
            ("date", i18n::date(household.profile.arrived_on).into()),
        ],
    )
}

fn members(household: &Household, today: lots_core::Date) -> Html {
    let end = household_establishment_end(household.members.values());
    html! {
        <section class="members">
            <h2>{ t("household-members") }</h2>
            if let Some(end) = end {
                <p class="meta">{ t1("household-establishment-end", "date", i18n::date(end)) }</p>
            }
            <ul class="plain">
                { for household.members.iter().map(|(id, member)| {
                    let age = lots_core::age_on(member.birth_date, today);
                    // Family members of someone in the target group are in it too: only what
                    // the worker must act on is said.
                    let outside: Vec<String> =
                        household_member_exclusions(member, household.members.values(), today)
                        .iter()
                        .map(outside_reason)
                        .collect();
                    html! {
                        <li key={id.to_string()} class="member">
                            <strong>{ member.name.clone() }</strong>
                            { " " }
                            <span class="meta">{ t1("household-age", "age", age.to_string()) }</span>
                            if !member.languages.is_empty() {
                                <div class="meta">{ t1("household-languages", "languages", i18n::language_names(&member.languages)) }</div>
                            }
                            if let Some(language) = &member.interpreter_language {
                                <div class="meta">{ t1("household-interpreter", "language", i18n::language_name(language)) }</div>
                            }
                            if !outside.is_empty() {
                                <div class="outside">{ t1("household-outside", "reasons", outside.join(", ")) }</div>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}

fn outside_reason(reason: &lots_core::OutsideReason) -> String {
    use lots_core::OutsideReason::*;
    match reason {
        BornInsideEeaOrEu => t("outside-born-in-eea"),
        NoPermitDate => t("outside-no-permit-date"),
        PermitNotYetGranted { .. } => t("outside-permit-not-granted"),
        EstablishmentPeriodEnded { .. } => t("outside-period-ended"),
        Age { age, .. } => t1("outside-age", "age", age.to_string()),
        NotRegisteredInDistrict => t("outside-not-registered"),
    }
}

fn follow_ups(household: &Household) -> Html {
    let mut open: Vec<_> = household
        .visits
        .values()
        .flat_map(|visit| visit.follow_ups.iter())
        .filter(|(_, follow_up)| follow_up.done_on.is_none())
        .collect();
    open.sort_by_key(|(_, follow_up)| follow_up.due_on);
    html! {
        <section class="follow-ups">
            <h2>{ t("household-follow-ups") }</h2>
            if open.is_empty() {
                <p class="empty">{ t("household-follow-ups-empty") }</p>
            }
            <ul class="plain">
                { for open.into_iter().map(|(id, follow_up)| html! {
                    <li key={id.to_string()}>
                        <span>{ follow_up.description.clone() }</span>
                        if let Some(agency) = follow_up.agency {
                            <span class="badge">{ code("agency", agency.code()) }</span>
                        }
                        <div class="meta">{ t1("household-due", "date", i18n::date(follow_up.due_on)) }</div>
                    </li>
                }) }
            </ul>
        </section>
    }
}

fn visits(household: &Household) -> Html {
    let mut visits: Vec<_> = household.visits.iter().collect();
    visits.sort_by_key(|(_, visit)| std::cmp::Reverse(visit.planned_at));
    html! {
        <section class="visits">
            <h2>{ t("household-visits") }</h2>
            if visits.is_empty() {
                <p class="empty">{ t("household-visits-empty") }</p>
            }
            <ul class="plain">
                { for visits.into_iter().take(30).map(|(id, visit)| html! {
                    <li key={id.to_string()} class="visit">
                        <strong>{ i18n::date_time(visit.planned_at) }</strong>
                        { " " }
                        <span class={classes!("badge", (visit.status == VisitStatus::Done).then_some("ok"))}>
                            { code("visit-status", visit.status.code()) }
                        </span>
                        if !visit.topics.is_empty() {
                            <div class="meta">{ visit.topics.iter().map(|topic| code("topic", topic.code())).collect::<Vec<_>>().join(", ") }</div>
                        }
                        if !visit.notes.as_str().is_empty() {
                            <p class="note">{ visit.notes.as_str().to_owned() }</p>
                        }
                    </li>
                }) }
            </ul>
        </section>
    }
}

/// Props of [`Conflicts`].
#[derive(Properties, PartialEq)]
pub struct ConflictsProps {
    /// The household.
    pub document: DocumentId,
}

/// Fields two devices set differently while apart: both values, who and when; one tap
/// keeps one.
#[function_component(Conflicts)]
pub fn conflicts(props: &ConflictsProps) -> Html {
    let session = use_session();
    let document = props.document;
    let conflicts = session
        .engine
        .with_document(&document, |doc| doc.conflicts().unwrap_or_default())
        .unwrap_or_default();
    let Some(household) = session.engine.households().get(&document).cloned() else {
        return html! {};
    };
    if conflicts.is_empty() {
        return html! {};
    }
    let choose = {
        let session = session.clone();
        Callback::from(move |(field, value): (Rc<FieldPath>, Rc<FieldValue>)| {
            let session = session.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let (Some(staff), Some(device)) = (session.staff(), session.device()) else {
                    return;
                };
                let signature = session.engine.signature(&staff, &device);
                let _ = session
                    .engine
                    .act(document, |household| {
                        household.resolve_conflict(&signature, &field, &value)
                    })
                    .await;
            });
        })
    };
    html! {
        <section class="conflicts" aria-labelledby="conflicts-title">
            <h2 id="conflicts-title">{ t("household-conflicts") }</h2>
            { for conflicts.into_iter().map(|conflict| {
                let field = Rc::new(conflict.field.clone());
                html! {
                    <div class="card conflict" key={conflict.field.to_string()}>
                        <strong>{ field_label(&household, &conflict.field) }</strong>
                        { for conflict.values.iter().map(|value| value_button(&session.me, &field, value, &choose)) }
                    </div>
                }
            }) }
        </section>
    }
}

/// Where the field sits, in words: "Goal «Own income»: Status".
fn field_label(household: &Household, field: &FieldPath) -> String {
    let path: Vec<&str> = field.0.iter().map(String::as_str).collect();
    let name = field.field();
    let name = i18n::try_t(&format!("field-{name}")).unwrap_or_else(|| name.replace('_', " "));
    let place = match path.as_slice() {
        ["plan", "goals", goal, "steps", step, ..] => household
            .plan
            .goals
            .iter()
            .find(|(id, _)| id.as_str() == *goal)
            .and_then(|(_, goal)| goal.steps.iter().find(|(id, _)| id.as_str() == *step))
            .map(|(_, step)| t1("field-in-step", "name", step.description.clone())),
        ["plan", "goals", goal, ..] => household
            .plan
            .goals
            .iter()
            .find(|(id, _)| id.as_str() == *goal)
            .map(|(_, goal)| t1("field-in-goal", "name", goal.description.clone())),
        ["members", member, ..] => household
            .members
            .iter()
            .find(|(id, _)| id.as_str() == *member)
            .map(|(_, member)| member.name.clone()),
        ["visits", visit, ..] => household
            .visits
            .iter()
            .find(|(id, _)| id.as_str() == *visit)
            .map(|(_, visit)| t1("field-in-visit", "when", i18n::date_time(visit.planned_at))),
        _ => None,
    };
    match place {
        Some(place) => format!("{place}: {name}"),
        None => name,
    }
}

/// The code list a field's values come from, so "reached" reads "Uppnått".
fn code_prefix(field: &FieldPath) -> Option<&'static str> {
    let inside = |segment: &str| field.0.iter().any(|part| part == segment);
    Some(match field.field() {
        "status" if inside("steps") => "step-status",
        "status" if inside("goals") => "goal-status",
        "status" if inside("visits") => "visit-status",
        "status" => "case",
        "area" => "goal",
        "housing_form" => "housing",
        "arrival_route" => "route",
        "close_reason" => "close",
        "gender" => "gender",
        "mode" => "mode",
        _ => return None,
    })
}

fn value_button(
    me: &crate::api::Me,
    field: &Rc<FieldPath>,
    value: &ConflictValue,
    choose: &Callback<(Rc<FieldPath>, Rc<FieldValue>)>,
) -> Html {
    let shown = match &value.value {
        FieldValue::Text(text) => match code_prefix(field) {
            Some(prefix) => code(prefix, text),
            None => text.clone(),
        },
        FieldValue::Int(number) => number.to_string(),
        FieldValue::Uint(number) => number.to_string(),
        FieldValue::Float(number) => number.to_string(),
        FieldValue::Bool(flag) => flag.to_string(),
        FieldValue::Timestamp(millis) => {
            i18n::date_time(lots_core::Timestamp::from_millis(*millis))
        }
        FieldValue::Null => "—".to_owned(),
        FieldValue::Other(other) => other.clone(),
    };
    // Who and on which device, in words: the person reading is most often the author of
    // both values, on two devices. Other staff show by id (the phone has no staff list).
    let author = value
        .written
        .signature
        .as_ref()
        .map(|signature| {
            let who = if signature.staff.as_str() == me.user.id {
                me.user.display_name.clone()
            } else {
                signature.staff.to_string()
            };
            let device = if signature.device.as_str() == me.device_id {
                t("conflict-this-device")
            } else {
                t("conflict-other-device")
            };
            format!("{who} ({device})")
        })
        .unwrap_or_default();
    let by = crate::i18n::t_args(
        "conflict-by",
        &[
            ("author", author.into()),
            ("time", i18n::date_time(value.written.at).into()),
        ],
    );
    let onclick = {
        let choose = choose.clone();
        let chosen = (field.clone(), Rc::new(value.value.clone()));
        Callback::from(move |_: MouseEvent| choose.emit(chosen.clone()))
    };
    html! {
        <button class="choice" {onclick}>
            <span class="value">{ shown }</span>
            <span class="meta">{ by }</span>
            <span class="action">{ t("conflict-choose") }</span>
        </button>
    }
}

/// Props of [`CloseCase`].
#[derive(Properties, PartialEq)]
pub struct CloseCaseProps {
    /// The household.
    pub document: DocumentId,
}

/// Closing the case with its reason and date, or reopening a closed one.
#[function_component(CloseCase)]
pub fn close_case(props: &CloseCaseProps) -> Html {
    let session = use_session();
    let error = use_state(|| None::<String>);
    let reason = use_node_ref();
    let date = use_node_ref();
    let document = props.document;
    let Some(household) = session.engine.households().get(&document).cloned() else {
        return html! {};
    };
    let report = {
        let error = error.clone();
        Callback::from(move |result: Result<(), String>| {
            error.set(
                result
                    .err()
                    .map(|problem| t1("plan-error", "error", problem)),
            );
        })
    };
    let problem = (*error)
        .clone()
        .map(|message| html! { <p class="problem" role="alert">{ message }</p> });
    if household.profile.status == CaseStatus::Closed {
        let reopen = {
            let (session, report) = (session.clone(), report.clone());
            Callback::from(move |_: MouseEvent| {
                change(
                    &session,
                    document,
                    report.clone(),
                    |signature, household| household.reopen_case(signature),
                )
            })
        };
        let reason = household
            .profile
            .close_reason
            .map(|reason| code("close", reason.code()))
            .unwrap_or_default();
        let date = household
            .profile
            .closed_on
            .map(i18n::date)
            .unwrap_or_default();
        return html! {
            <section class="close-case" aria-labelledby="close-title">
                <h2 id="close-title">{ t("household-close-case") }</h2>
                <p>{ crate::i18n::t_args("close-closed", &[("date", date.into()), ("reason", reason.into())]) }</p>
                <button onclick={reopen}>{ t("close-reopen") }</button>
                { for problem }
            </section>
        };
    }
    let onsubmit = {
        let (reason, date, error) = (reason.clone(), date.clone(), error.clone());
        let session = session.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let (Some(reason), Some(date)) = (
                reason.cast::<HtmlSelectElement>(),
                date.cast::<HtmlInputElement>(),
            ) else {
                return;
            };
            let Ok(reason) = reason.value().parse::<CloseReason>() else {
                return error.set(Some(t("close-reason")));
            };
            let Ok(on) = date.value().parse::<lots_core::Date>() else {
                return error.set(Some(t1("plan-error", "error", t("close-date"))));
            };
            change(
                &session,
                document,
                report.clone(),
                move |signature, household| household.close_case(signature, reason, on),
            );
        })
    };
    html! {
        <section class="close-case" aria-labelledby="close-title">
            <details>
                <summary id="close-title">{ t("household-close-case") }</summary>
                <form class="inline-form" {onsubmit}>
                    <label for="close-reason">{ t("close-reason") }</label>
                    <select id="close-reason" ref={reason}>
                        { for CloseReason::ALL.iter().map(|reason| html! {
                            <option value={reason.code()}>{ code("close", reason.code()) }</option>
                        }) }
                    </select>
                    <label for="close-date">{ t("close-date") }</label>
                    <input id="close-date" type="date" ref={date} value={i18n::local_date(now()).to_string()}
                        max={i18n::local_date(now()).to_string()} />
                    <button type="submit" class="danger">{ t("close-submit") }</button>
                </form>
            </details>
            { for problem }
        </section>
    }
}

//! A person's own copy (GDPR art. 15), at the desk: the server makes it from the record (on
//! the access log); the supervisor reads every passage and marks those withheld under
//! secrecy; the server releases it so (on the log too); the released copy prints as a page
//! and saves as JSON for the person.

use std::collections::BTreeSet;
use std::rc::Rc;

use lots_core::{Passage, PassageKind, Timestamp};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, IssuedPersonCopy};
use crate::i18n::{self, code, t, t1};
use crate::routes::Route;
use crate::views::desk::{Directory, use_desk};

/// Props of [`PersonCopyView`].
#[derive(Properties, PartialEq)]
pub struct PersonCopyProps {
    /// The household's document id.
    pub id: String,
    /// The member's id.
    pub member: String,
}

#[derive(Clone, PartialEq)]
enum Step {
    Loading,
    Failed(String),
    /// Made, under review: the passages marked to withhold.
    Review(Rc<IssuedPersonCopy>, BTreeSet<String>),
    /// Released, with the person's name as reviewed (their record may be withheld in it).
    Released(Rc<IssuedPersonCopy>, String),
}

/// The copy screen.
#[function_component(PersonCopyView)]
pub fn person_copy_view(props: &PersonCopyProps) -> Html {
    let desk = use_desk();
    let step = use_state(|| Step::Loading);
    let problem = use_state(|| None::<String>);
    // Made again (after a refused release) when this moves.
    let round = use_state(|| 0_u32);
    {
        let (step, problem) = (step.clone(), problem.clone());
        use_effect_with(
            (props.id.clone(), props.member.clone(), *round),
            move |(id, member, _)| {
                problem.set(None);
                let (id, member) = (id.clone(), member.clone());
                step.set(Step::Loading);
                wasm_bindgen_futures::spawn_local(async move {
                    step.set(match api::person_copy(&id, &member).await {
                        Ok(copy) => Step::Review(Rc::new(copy), BTreeSet::new()),
                        Err(error) => Step::Failed(t1("copy-failed", "error", error.to_string())),
                    });
                });
            },
        );
    }
    let back = html! {
        <Link<Route> to={Route::ReadHousehold { id: props.id.clone() }} classes="no-print">
            { t("copy-back") }
        </Link<Route>>
    };
    let body = match &*step {
        Step::Loading => html! { <p class="empty">{ t("copy-loading") }</p> },
        Step::Failed(error) => html! { <p class="problem" role="alert">{ error.clone() }</p> },
        Step::Review(copy, withheld) => {
            let on_toggle = {
                let (step, copy, withheld) = (step.clone(), copy.clone(), withheld.clone());
                Callback::from(move |key: String| {
                    let mut withheld = withheld.clone();
                    if !withheld.remove(&key) {
                        withheld.insert(key);
                    }
                    step.set(Step::Review(copy.clone(), withheld));
                })
            };
            let on_release = {
                let (step, problem, copy, withheld) = (
                    step.clone(),
                    problem.clone(),
                    copy.clone(),
                    withheld.clone(),
                );
                let (id, member) = (props.id.clone(), props.member.clone());
                Callback::from(move |_: MouseEvent| {
                    let (step, problem, copy, withheld) = (
                        step.clone(),
                        problem.clone(),
                        copy.clone(),
                        withheld.clone(),
                    );
                    let (id, member) = (id.clone(), member.clone());
                    let withheld: Vec<String> = withheld.into_iter().collect();
                    wasm_bindgen_futures::spawn_local(async move {
                        match api::release_person_copy(&id, &member, &copy.digest, &withheld).await
                        {
                            Ok(released) => {
                                problem.set(None);
                                let name = field_of(&copy.copy.passages, "member", "name")
                                    .unwrap_or_default();
                                step.set(Step::Released(Rc::new(released), name));
                            }
                            Err(error) => {
                                problem.set(Some(t1(
                                    "copy-release-failed",
                                    "error",
                                    error.to_string(),
                                )));
                            }
                        }
                    });
                })
            };
            html! {
                <>
                    { heading(copy, &field_of(&copy.copy.passages, "member", "name").unwrap_or_default(), &desk.directory) }
                    <p class="meta no-print">{ t("copy-review-help") }</p>
                    { for copy.copy.passages.iter().map(|passage| {
                        let toggle = {
                            let (on_toggle, key) = (on_toggle.clone(), passage.key.clone());
                            Callback::from(move |_: Event| on_toggle.emit(key.clone()))
                        };
                        passage_html(passage, &desk.directory, Some((withheld.contains(&passage.key), toggle)))
                    }) }
                    <p class="meta">{ t1("copy-withheld-count", "count", withheld.len().to_string()) }</p>
                    <button class="primary" onclick={on_release}>{ t("copy-release") }</button>
                    if let Some(problem) = &*problem {
                        <p class="problem" role="alert">{ problem.clone() }</p>
                        <button onclick={{
                            let round = round.clone();
                            Callback::from(move |_: MouseEvent| round.set(*round + 1))
                        }}>{ t("copy-make-again") }</button>
                    }
                </>
            }
        }
        Step::Released(copy, name) => {
            let on_print = Callback::from(|_: MouseEvent| {
                if let Some(window) = web_sys::window() {
                    let _ = window.print();
                }
            });
            let on_save = {
                let copy = copy.clone();
                Callback::from(move |_: MouseEvent| save_json(&copy))
            };
            let withheld = copy
                .copy
                .passages
                .iter()
                .filter(|passage| passage.withheld)
                .count();
            html! {
                <>
                    { heading(copy, name, &desk.directory) }
                    <p class="notice" role="status">{ i18n::t_args("copy-released", &[
                        ("when", full_time(Timestamp::from_millis(copy.at)).into()),
                        ("withheld", withheld.into()),
                    ]) }</p>
                    <div class="filters no-print">
                        <button onclick={on_print}>{ t("desk-print") }</button>
                        <button onclick={on_save}>{ t("copy-save-json") }</button>
                    </div>
                    { for copy.copy.passages.iter().map(|passage| passage_html(passage, &desk.directory, None)) }
                </>
            }
        }
    };
    html! {
        <section class="person-copy">
            { back }
            { body }
        </section>
    }
}

/// Whose copy, of which household, made or released by whom and when.
fn heading(copy: &IssuedPersonCopy, name: &str, directory: &Directory) -> Html {
    let name = name.to_owned();
    let title = if copy.released {
        t1("copy-title-released", "name", name)
    } else {
        t1("copy-title", "name", name)
    };
    html! {
        <>
            <h1>{ title }</h1>
            <p class="meta">{ i18n::t_args("copy-made", &[
                ("household", copy.household.clone().into()),
                ("by", directory.person_name(&copy.by).into()),
                ("when", full_time(Timestamp::from_millis(copy.at)).into()),
            ]) }</p>
        </>
    }
}

/// `2025-01-06 09:31`, Swedish time: a copy spans years, so every time carries its year.
fn full_time(at: Timestamp) -> String {
    format!("{} {}", i18n::date(i18n::local_date(at)), i18n::time(at))
}

fn field_of(passages: &[Passage], passage: &str, key: &str) -> Option<String> {
    passages
        .iter()
        .find(|candidate| candidate.key == passage)?
        .fields
        .iter()
        .find(|field| field.key == key)?
        .value
        .clone()
}

/// One passage: what it is, its fields, who wrote it; under review with its checkbox.
fn passage_html(
    passage: &Passage,
    directory: &Directory,
    review: Option<(bool, Callback<Event>)>,
) -> Html {
    let title = code("copy-kind", kind_code(passage.kind));
    html! {
        <article class={classes!("passage", passage.withheld.then_some("withheld"))} data-key={passage.key.clone()}>
            <h2>{ title }{ when(passage).map(|when| format!(" · {when}")).unwrap_or_default() }</h2>
            if passage.withheld {
                <p class="meta">{ t("copy-withheld") }</p>
            } else {
                <dl class="fields">
                    { for passage.fields.iter().map(|field| html! {
                        <div>
                            <dt>{ t(&format!("field-{}", field.key)) }</dt>
                            <dd>{ value_words(passage.kind, &field.key, field.value.as_deref(), directory) }</dd>
                        </div>
                    }) }
                </dl>
                <p class="meta written">{ t("copy-written-by") }{ " " }
                    { passage.written.iter().map(|written| format!(
                        "{} ({}, {})",
                        written.staff.as_ref().map(|staff| directory.person_name(staff.as_str())).unwrap_or_else(|| t("copy-unsigned")),
                        written.device.as_ref().map(ToString::to_string).unwrap_or_default(),
                        full_time(written.at),
                    )).collect::<Vec<_>>().join("; ") }
                </p>
            }
            if let Some((withheld, toggle)) = review {
                <p class="no-print withhold">
                    <label class="check">
                        <input type="checkbox" checked={withheld} onchange={toggle} />
                        { t("copy-withhold") }
                    </label>
                </p>
            }
        </article>
    }
}

/// The date that places a passage: a visit's time, a goal's start.
fn when(passage: &Passage) -> Option<String> {
    let key = match passage.kind {
        PassageKind::Visit => "planned_at",
        PassageKind::Goal => "set_on",
        _ => return None,
    };
    passage
        .fields
        .iter()
        .find(|field| field.key == key)?
        .value
        .clone()
}

fn kind_code(kind: PassageKind) -> &'static str {
    match kind {
        PassageKind::Household => "household",
        PassageKind::Member => "member",
        PassageKind::Visit => "visit",
        PassageKind::VisitNotes => "visit_notes",
        PassageKind::FollowUp => "follow_up",
        PassageKind::Goal => "goal",
        PassageKind::Step => "step",
        PassageKind::PlanNotes => "plan_notes",
    }
}

/// A field's value in words: codes by their names, people and districts by name, yes and
/// no; anything else as recorded.
fn value_words(kind: PassageKind, key: &str, value: Option<&str>, directory: &Directory) -> String {
    let Some(value) = value else {
        return t("copy-not-recorded");
    };
    let status_prefix = match kind {
        PassageKind::Household => "case",
        PassageKind::Visit => "visit-status",
        PassageKind::Goal => "goal-status",
        _ => "step-status",
    };
    match key {
        "status" => code(status_prefix, value),
        "housing_form" => code("housing", value),
        "arrival_route" => code("route", value),
        "close_reason" => code("close", value),
        "gender" => code("gender", value),
        "interpreter_mode" => code("mode", value),
        "area" => code("goal", value),
        "owner_kind" => code("owner", value),
        "agency" => code("agency", value),
        "topics" => value
            .split(", ")
            .map(|topic| code("topic", topic))
            .collect::<Vec<_>>()
            .join(", "),
        "languages" => value
            .split(", ")
            .map(i18n::language_name)
            .collect::<Vec<_>>()
            .join(", "),
        "interpreter_language" => i18n::language_name(value),
        "staff" | "assigned_staff" => directory.person_name(value),
        "district" => directory.district_name(value),
        "born_outside_eea" | "registered_in_district" => t(if value == "true" {
            "copy-yes"
        } else {
            "copy-no"
        }),
        "owner" => match value {
            "this_person" | "another_member" => code("copy-owner", value),
            other => directory.person_name(other),
        },
        _ => value.to_owned(),
    }
}

/// Offers the released copy as a JSON file, as the server released it.
fn save_json(copy: &IssuedPersonCopy) {
    let Ok(json) = serde_json::to_string_pretty(copy) else {
        return;
    };
    let member = copy.copy.member.to_string();
    let day = i18n::local_date(Timestamp::from_millis(copy.at));
    crate::views::desk::download_file(
        &format!("registerutdrag-{member}-{day}.json"),
        "application/json",
        &json,
    );
}

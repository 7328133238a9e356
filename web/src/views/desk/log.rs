//! The access log: who opened, was shown or changed which household and when, filterable,
//! for the systematic log review the law expects. The server keeps the log (hash-chained),
//! says whether the chain is intact and flags what a reviewer looks for; the supervisor
//! marks a period reviewed with a comment ([`Reviews`]).

use lots_core::{Date, DocumentId, Timestamp};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api::{self, AuditLog};
use crate::components::choice::Choice;
use crate::hooks::use_session;
use crate::i18n::{self, code, t, t1};
use crate::views::desk::{CsvButton, use_desk};
use crate::views::household_name;

/// Rows asked of the server at most (its own limit is 5,000).
const LIMIT: u32 = 2_000;

const ACTIONS: [&str; 16] = [
    "open",
    "read",
    "change",
    "refused",
    "caseload-listed",
    "export",
    "log-read",
    "log-reviewed",
    "sign-in",
    "user-access-changed",
    "quarantine-accepted",
    "quarantine-rejected",
    "household-removed",
    "report-filed",
    "person-copy-made",
    "person-copy-released",
];

/// The access-log screen.
#[function_component(Log)]
pub fn log() -> Html {
    let session = use_session();
    let desk = use_desk();
    let user = use_state(String::new);
    let household = use_state(String::new);
    let action = use_state(String::new);
    let from = use_state(|| None::<Date>);
    let to = use_state(|| None::<Date>);
    let log = use_state(|| None::<Result<AuditLog, String>>);
    let date_problem = use_state(|| None::<String>);
    let flagged_only = use_state(|| false);

    {
        let log = log.clone();
        use_effect_with(
            ((*user).clone(), (*household).clone()),
            move |(user, household)| {
                let (user, household) = (user.clone(), household.clone());
                log.set(None);
                wasm_bindgen_futures::spawn_local(async move {
                    let fetched = api::audit(
                        (!household.is_empty()).then_some(household.as_str()),
                        (!user.is_empty()).then_some(user.as_str()),
                        LIMIT,
                    )
                    .await;
                    log.set(Some(fetched.map_err(|error| error.to_string())));
                });
            },
        );
    }

    let directory = &desk.directory;
    let households = session.engine.households();
    let household_label = |id: &str| -> String {
        id.parse::<DocumentId>()
            .ok()
            .and_then(|document| households.get(&document))
            .map(|household| {
                format!(
                    "{} ({})",
                    household_name(household),
                    household.profile.address
                )
            })
            .unwrap_or_else(|| id.to_owned())
    };
    let mut people: Vec<(AttrValue, AttrValue)> = directory
        .people
        .iter()
        .map(|person| {
            (
                AttrValue::from(person.id.clone()),
                AttrValue::from(person.display_name.clone()),
            )
        })
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let people: Vec<_> =
        std::iter::once((AttrValue::Static(""), AttrValue::from(t("desk-any-person"))))
            .chain(people)
            .collect();
    let mut household_options: Vec<(AttrValue, AttrValue)> = households
        .iter()
        .map(|(document, household)| {
            (
                AttrValue::from(document.to_string()),
                AttrValue::from(format!(
                    "{} ({})",
                    household_name(household),
                    household.profile.address
                )),
            )
        })
        .collect();
    household_options.sort_by(|a, b| a.1.cmp(&b.1));
    let household_options: Vec<_> = std::iter::once((
        AttrValue::Static(""),
        AttrValue::from(t("desk-any-household")),
    ))
    .chain(household_options)
    .collect();
    let actions: Vec<_> =
        std::iter::once((AttrValue::Static(""), AttrValue::from(t("desk-any-action"))))
            .chain(ACTIONS.iter().map(|action| {
                (
                    AttrValue::Static(action),
                    AttrValue::from(code("log-action", action)),
                )
            }))
            .collect();
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |value: String| state.set(value))
    };
    let date_input = |state: &UseStateHandle<Option<Date>>| {
        let (state, problem) = (state.clone(), date_problem.clone());
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let value = input.value();
            if value.is_empty() {
                problem.set(None);
                return state.set(None);
            }
            match value.parse::<Date>() {
                Ok(date) => {
                    problem.set(None);
                    state.set(Some(date));
                }
                Err(_) => problem.set(Some(t1("desk-date-invalid", "value", value))),
            }
        })
    };

    let body = match &*log {
        None => html! { <p class="meta" role="status">{ t("desk-log-loading") }</p> },
        Some(Err(error)) => {
            html! { <p class="problem" role="alert">{ t1("desk-log-failed", "error", error.clone()) }</p> }
        }
        Some(Ok(log)) => {
            let mut flags: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
            for flagged in &log.flags {
                flags
                    .entry(flagged.seq)
                    .or_default()
                    .push(code("log-flag", &flagged.flag));
            }
            let entries: Vec<_> = log
                .entries
                .iter()
                .filter(|entry| action.is_empty() || entry.action == *action)
                .filter(|entry| !*flagged_only || flags.contains_key(&entry.seq))
                .filter(|entry| {
                    let day = i18n::local_date(Timestamp::from_millis(entry.at));
                    from.is_none_or(|from| day >= from) && to.is_none_or(|to| day <= to)
                })
                .collect();
            let headers = [
                "desk-log-when",
                "desk-log-who",
                "desk-log-device",
                "desk-household",
                "desk-log-action",
                "desk-log-flags",
                "desk-log-detail",
            ];
            let csv = {
                let lines: Vec<Vec<String>> =
                    std::iter::once(headers.iter().map(|key| t(key)).collect())
                        .chain(entries.iter().map(|entry| {
                            vec![
                                i18n::date_time(Timestamp::from_millis(entry.at)),
                                directory.person_name(&entry.user_id),
                                entry.device_id.clone(),
                                household_label(&entry.document_id),
                                code("log-action", &entry.action),
                                flags
                                    .get(&entry.seq)
                                    .map(|flags| flags.join("; "))
                                    .unwrap_or_default(),
                                entry.detail.clone(),
                            ]
                        }))
                        .collect();
                Callback::from(move |()| {
                    lots_core::text_csv(&lines).map_err(|error| error.to_string())
                })
            };
            html! {
                <>
                    { match log.first_broken_row {
                        None => html! { <p class="badge ok">{ t("desk-log-intact") }</p> },
                        Some(row) => html! { <p class="problem" role="alert">{ t1("desk-log-broken", "row", row.to_string()) }</p> },
                    } }
                    <p class="meta">
                        { i18n::t_args("desk-log-count", &[("shown", entries.len().into()), ("fetched", log.entries.len().into())]) }
                        { " " }
                        <CsvButton file_name="atkomstlogg.csv" what={t("desk-log")} csv={csv} />
                    </p>
                    <div class="table-scroll" tabindex="0" role="region" aria-label={t("desk-log")}>
                        <table class="desk-table">
                            <thead>
                                <tr>{ for headers.iter().map(|key| html! { <th scope="col">{ t(key) }</th> }) }</tr>
                            </thead>
                            <tbody>
                                { for entries.iter().map(|entry| html! {
                                    <tr key={entry.seq.to_string()}>
                                        <td>{ i18n::date_time(Timestamp::from_millis(entry.at)) }</td>
                                        <td>{ directory.person_name(&entry.user_id) }</td>
                                        <td class="meta">{ entry.device_id.clone() }</td>
                                        <td>{ household_label(&entry.document_id) }</td>
                                        <td class={classes!((entry.action == "refused").then_some("warn"))}>{ code("log-action", &entry.action) }</td>
                                        <td>{ for flags.get(&entry.seq).into_iter().flatten().map(|flag| html! { <span class="badge warn">{ flag.clone() }</span> }) }</td>
                                        <td class="meta">{ entry.detail.clone() }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                </>
            }
        }
    };

    html! {
        <section>
            <h1>{ t("desk-log") }</h1>
            <div class="filters no-print">
                <label>{ t("desk-log-who") }
                    <Choice value={(*user).clone()} options={people} onchange={set(&user)} />
                </label>
                <label>{ t("desk-household") }
                    <Choice value={(*household).clone()} options={household_options} onchange={set(&household)} />
                </label>
                <label>{ t("desk-log-action") }
                    <Choice value={(*action).clone()} options={actions} onchange={set(&action)} />
                </label>
                <label>{ t("desk-log-from") }
                    <input type="date" value={from.map(|d| d.to_string()).unwrap_or_default()} onchange={date_input(&from)} />
                </label>
                <label>{ t("desk-log-to") }
                    <input type="date" value={to.map(|d| d.to_string()).unwrap_or_default()} onchange={date_input(&to)} />
                </label>
                <label class="check">
                    <input type="checkbox" checked={*flagged_only} onchange={{
                        let flagged_only = flagged_only.clone();
                        Callback::from(move |_: Event| flagged_only.set(!*flagged_only))
                    }} />
                    { t("desk-log-flagged-only") }
                </label>
            </div>
            if let Some(problem) = &*date_problem {
                <p class="problem" role="alert">{ problem.clone() }</p>
            }
            { body }
            <Reviews from={*from} to={*to} />
        </section>
    }
}

/// Props of [`Reviews`].
#[derive(Properties, PartialEq)]
pub struct ReviewsProps {
    /// The period chosen in the log's filters.
    pub from: Option<Date>,
    /// Its last day.
    pub to: Option<Date>,
}

/// Marking the chosen period reviewed, with a comment, and the reviews so far.
#[function_component(Reviews)]
pub fn reviews(props: &ReviewsProps) -> Html {
    let session = use_session();
    let desk = use_desk();
    let reviews = use_state(|| None::<Result<Vec<api::LogReview>, String>>);
    let saved = use_state(|| 0_u32);
    let comment = use_state(String::new);
    let district = use_state(String::new);
    let outcome = use_state(|| None::<Result<(), String>>);
    {
        let reviews = reviews.clone();
        use_effect_with(*saved, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let fetched = api::log_reviews().await;
                reviews.set(Some(fetched.map_err(|error| error.to_string())));
            });
        });
    }
    let directory = &desk.directory;
    let districts: Vec<(AttrValue, AttrValue)> = std::iter::once((
        AttrValue::Static(""),
        AttrValue::from(t("desk-log-review-all")),
    ))
    .chain(session.me.user.districts.iter().map(|id| {
        (
            AttrValue::from(id.clone()),
            AttrValue::from(directory.district_name(id)),
        )
    }))
    .collect();
    let submit = {
        let (comment, district, outcome, saved) = (
            comment.clone(),
            district.clone(),
            outcome.clone(),
            saved.clone(),
        );
        let (from, to) = (props.from, props.to);
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let (Some(from), Some(to)) = (from, to) else {
                return outcome.set(Some(Err(t("desk-log-review-needs-period"))));
            };
            // The chosen days, Swedish midnight to midnight; the server ends a period that
            // runs into the future at its own now.
            let start = Timestamp::start_of(from);
            let end = Timestamp::start_of(to.plus_days(1));
            let (comment, district, outcome, saved) = (
                comment.clone(),
                district.clone(),
                outcome.clone(),
                saved.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let chosen = (!district.is_empty()).then(|| (*district).clone());
                match api::add_log_review(start, end, chosen.as_deref(), &comment).await {
                    Ok(()) => {
                        comment.set(String::new());
                        outcome.set(Some(Ok(())));
                        saved.set(*saved + 1);
                    }
                    Err(error) => outcome.set(Some(Err(t1(
                        "desk-log-review-failed",
                        "error",
                        error.to_string(),
                    )))),
                }
            });
        })
    };
    let on_comment = {
        let comment = comment.clone();
        Callback::from(move |event: InputEvent| {
            let input: web_sys::HtmlTextAreaElement = event.target_unchecked_into();
            comment.set(input.value());
        })
    };
    let on_district = {
        let district = district.clone();
        Callback::from(move |value: String| district.set(value))
    };
    let day = |ms: i64| i18n::local_date(Timestamp::from_millis(ms)).to_string();
    let list = match &*reviews {
        None => html! { <p class="meta" role="status">{ t("desk-log-loading") }</p> },
        Some(Err(error)) => html! { <p class="problem">{ error.clone() }</p> },
        Some(Ok(reviews)) if reviews.is_empty() => {
            html! { <p class="meta">{ t("desk-log-reviews-none") }</p> }
        }
        Some(Ok(reviews)) => html! {
            <table class="desk-table">
                <thead><tr>
                    <th scope="col">{ t("desk-log-review-period") }</th>
                    <th scope="col">{ t("desk-log-review-district") }</th>
                    <th scope="col">{ t("desk-log-review-by") }</th>
                    <th scope="col">{ t("desk-log-review-comment") }</th>
                </tr></thead>
                <tbody>
                    { for reviews.iter().map(|review| html! {
                        <tr key={review.id.to_string()}>
                            // The period's end is exclusive: its last day is the day before.
                            <td>{ format!("{} – {}", day(review.period_from), day(review.period_to - 1)) }</td>
                            <td>{ review.district_id.as_deref().map_or_else(|| t("desk-log-review-all"), |id| directory.district_name(id)) }</td>
                            <td>{ format!("{}, {}", directory.person_name(&review.reviewer), i18n::date_time(Timestamp::from_millis(review.reviewed_at))) }</td>
                            <td>{ review.comment.clone() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        },
    };
    html! {
        <section class="log-review" aria-labelledby="log-review-heading">
            <h2 id="log-review-heading">{ t("desk-log-review") }</h2>
            <p class="meta">{ t("desk-log-review-help") }</p>
            <form class="filters" onsubmit={submit}>
                <label>{ t("desk-log-review-district") }
                    <Choice value={(*district).clone()} options={districts} onchange={on_district} />
                </label>
                <label class="grow">{ t("desk-log-review-comment") }
                    <textarea id="log-review-comment" rows="2" maxlength="2000" required=true value={(*comment).clone()} oninput={on_comment} />
                </label>
                <button type="submit">{ t("desk-log-review-save") }</button>
            </form>
            { match &*outcome {
                Some(Ok(())) => html! { <p class="badge ok" role="status">{ t("desk-log-review-saved") }</p> },
                Some(Err(problem)) => html! { <p class="problem" role="alert">{ problem.clone() }</p> },
                None => html! {},
            } }
            <h3>{ t("desk-log-reviews") }</h3>
            { list }
        </section>
    }
}

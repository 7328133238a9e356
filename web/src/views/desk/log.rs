//! The access log: who opened or changed which household and when, filterable, for the
//! systematic log review the law expects. The server keeps the log (hash-chained) and says
//! whether the chain is intact; this screen only reads it.

use lots_core::{Date, DocumentId, Timestamp};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api::{self, AuditLog};
use crate::app::Session;
use crate::i18n::{self, code, t, t1};
use crate::views::choice::Choice;
use crate::views::desk::{CsvButton, use_desk};
use crate::views::household_name;

/// Rows asked of the server at most (its own limit is 5,000).
const LIMIT: u32 = 2_000;

const ACTIONS: [&str; 5] = [
    "open",
    "change",
    "refused",
    "quarantine-accepted",
    "quarantine-rejected",
];

/// The access-log screen.
#[function_component(Log)]
pub fn log() -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let desk = use_desk();
    let user = use_state(String::new);
    let household = use_state(String::new);
    let action = use_state(String::new);
    let from = use_state(|| None::<Date>);
    let to = use_state(|| None::<Date>);
    let log = use_state(|| None::<Result<AuditLog, String>>);
    let date_problem = use_state(|| None::<String>);

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
            let entries: Vec<_> = log
                .entries
                .iter()
                .filter(|entry| action.is_empty() || entry.action == *action)
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
            </div>
            if let Some(problem) = &*date_problem {
                <p class="problem" role="alert">{ problem.clone() }</p>
            }
            { body }
        </section>
    }
}

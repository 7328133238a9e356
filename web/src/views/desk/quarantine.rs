//! The quarantine: changes the server refused (core's `vet_changes`), kept apart from the
//! households until a supervisor decides. Each shows the household, who sent it from which
//! device, when it was signed and received, why it was refused and what became of it; a
//! pending one can be accepted (it is merged and syncs, with the refused changes that build
//! on it) or rejected (never merged), and the screen says what was decided.

use std::rc::Rc;

use lots_core::{DocumentId, Household, Timestamp};
use yew::prelude::*;

use crate::api::{self, Decided, Refused};
use crate::components::choice::Choice;
use crate::hooks::use_session;
use crate::i18n::{self, code, t, t1};
use crate::refused::{Reason, is_pending};
use crate::views::desk::{Directory, use_desk};
use crate::views::household_name;

/// The status filter's choices (empty: every status).
const STATUSES: [&str; 3] = ["pending", "accepted", "rejected"];

/// What the last decision decided, or why it failed.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Decided(String),
    Failed(String),
}

/// The quarantine screen.
#[function_component(QuarantineView)]
pub fn quarantine_view() -> Html {
    let session = use_session();
    let desk = use_desk();
    let rows = use_state(|| None::<Result<Vec<Refused>, String>>);
    // Moves to fetch the list again (after a decision, or when asked).
    let generation = use_state(|| 0_u32);
    let status = use_state(String::new);
    let deciding = use_state(|| None::<i64>);
    let outcome = use_state(|| None::<Outcome>);

    {
        let rows = rows.clone();
        use_effect_with(*generation, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let fetched = api::quarantine().await;
                rows.set(Some(fetched.map_err(|error| error.to_string())));
            });
        });
    }

    let households = session.engine.households();
    let label = move |id: &str| household_label(&households, id);
    let decide = {
        let (deciding, outcome, generation) =
            (deciding.clone(), outcome.clone(), generation.clone());
        let label = label.clone();
        Callback::from(move |(row, accept): (Refused, bool)| {
            let (deciding, outcome, generation) =
                (deciding.clone(), outcome.clone(), generation.clone());
            let household = label(&row.household);
            deciding.set(Some(row.id));
            outcome.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::decide(row.id, accept).await;
                deciding.set(None);
                outcome.set(Some(match result {
                    Ok(decided) => Outcome::Decided(decided_words(&decided, &household)),
                    Err(error) => Outcome::Failed(t1(
                        "desk-quarantine-decide-failed",
                        "error",
                        error.to_string(),
                    )),
                }));
                generation.set(*generation + 1);
            });
        })
    };

    let statuses: Vec<(AttrValue, AttrValue)> = std::iter::once((
        AttrValue::Static(""),
        AttrValue::from(t("desk-quarantine-any-status")),
    ))
    .chain(STATUSES.iter().map(|status| {
        (
            AttrValue::Static(status),
            AttrValue::from(code("quarantine-status", status)),
        )
    }))
    .collect();
    let on_status = {
        let status = status.clone();
        Callback::from(move |value: String| status.set(value))
    };
    let refresh = {
        let generation = generation.clone();
        Callback::from(move |_: MouseEvent| generation.set(*generation + 1))
    };

    let body = match &*rows {
        None => html! { <p class="meta" role="status">{ t("desk-quarantine-loading") }</p> },
        Some(Err(error)) => html! {
            <p class="problem" role="alert">{ t1("desk-quarantine-failed", "error", error.clone()) }</p>
        },
        Some(Ok(all)) => {
            let pending = all.iter().filter(|row| is_pending(row)).count();
            let mut shown: Vec<&Refused> = all
                .iter()
                .filter(|row| status.is_empty() || row.status == *status)
                .collect();
            // Those waiting for a decision first, each group newest first.
            shown.sort_by(|a, b| {
                is_pending(b)
                    .cmp(&is_pending(a))
                    .then(b.received_at.cmp(&a.received_at))
            });
            html! {
                <>
                    <p class="meta">
                        { i18n::t_args("desk-quarantine-count", &[("pending", pending.into()), ("total", all.len().into())]) }
                    </p>
                    if shown.is_empty() {
                        <p class="empty">{ t("desk-quarantine-none") }</p>
                    } else {
                        <div class="table-scroll" tabindex="0" role="region" aria-label={t("desk-quarantine")}>
                            <table class="desk-table quarantine">
                                <thead>
                                    <tr>
                                        <th scope="col">{ t("desk-household") }</th>
                                        <th scope="col">{ t("desk-log-who") }</th>
                                        <th scope="col">{ t("desk-log-device") }</th>
                                        <th scope="col">{ t("desk-quarantine-signed") }</th>
                                        <th scope="col">{ t("desk-quarantine-received") }</th>
                                        <th scope="col">{ t("desk-quarantine-reason") }</th>
                                        <th scope="col">{ t("desk-quarantine-status") }</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    { for shown.into_iter().map(|row| line(row, &label(&row.household), &desk.directory, *deciding, &decide)) }
                                </tbody>
                            </table>
                        </div>
                    }
                </>
            }
        }
    };

    html! {
        <section class="desk-quarantine">
            <h1>{ t("desk-quarantine") }</h1>
            <p>{ t("desk-quarantine-explained") }</p>
            <div class="filters no-print">
                <label>{ t("desk-quarantine-status") }
                    <Choice value={(*status).clone()} options={statuses} onchange={on_status} />
                </label>
                <button onclick={refresh}>{ t("desk-quarantine-refresh") }</button>
            </div>
            { match &*outcome {
                Some(Outcome::Decided(text)) => html! { <p class="decided" role="status">{ text.clone() }</p> },
                Some(Outcome::Failed(text)) => html! { <p class="problem" role="alert">{ text.clone() }</p> },
                None => html! {},
            } }
            { body }
        </section>
    }
}

/// A household as the quarantine names it: the members' names and the address, or its id
/// when it is not on this computer (a refused first change of a household the server never
/// took).
fn household_label(
    households: &std::collections::BTreeMap<DocumentId, Rc<Household>>,
    id: &str,
) -> String {
    // A message refused unread for its size names no household: its header was not read.
    if id.is_empty() {
        return t("desk-quarantine-no-household");
    }
    id.parse::<DocumentId>()
        .ok()
        .and_then(|document| households.get(&document))
        .map(|household| {
            let name = household_name(household);
            let profile = &household.profile;
            let address = if profile.unit.is_empty() {
                profile.address.clone()
            } else {
                format!("{}, {}", profile.address, profile.unit)
            };
            if name.is_empty() {
                address
            } else {
                format!("{name} ({address})")
            }
        })
        .unwrap_or_else(|| t1("household-unnamed", "id", id.to_owned()))
}

/// "2 changes to … were accepted": what a decision decided, in words.
fn decided_words(decided: &Decided, household: &str) -> String {
    let key = if decided.status == "accepted" {
        "desk-quarantine-accepted"
    } else {
        "desk-quarantine-rejected"
    };
    i18n::t_args(
        key,
        &[
            ("count", decided.ids.len().into()),
            ("household", household.to_owned().into()),
        ],
    )
}

/// The reasons read as clauses ("it was not signed") after a household's name in a notice;
/// in a table cell each starts a sentence.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn when(at: Option<i64>) -> String {
    at.map(|at| i18n::date_time(Timestamp::from_millis(at)))
        .unwrap_or_else(|| t("desk-quarantine-no-time"))
}

fn line(
    row: &Refused,
    household: &str,
    directory: &Directory,
    deciding: Option<i64>,
    decide: &Callback<(Refused, bool)>,
) -> Html {
    let who = directory.person_name(&row.user_id);
    let busy = deciding.is_some();
    let button = |accept: bool| {
        let (decide, row) = (decide.clone(), row.clone());
        let (key, label_key, class) = if accept {
            (
                "desk-quarantine-accept",
                "desk-quarantine-accept-label",
                "primary",
            )
        } else {
            (
                "desk-quarantine-reject",
                "desk-quarantine-reject-label",
                "danger",
            )
        };
        let label = i18n::t_args(
            label_key,
            &[
                ("who", who.clone().into()),
                ("household", household.to_owned().into()),
            ],
        );
        html! {
            <button class={classes!("decide", class)} aria-label={label} disabled={busy}
                onclick={Callback::from(move |_: MouseEvent| decide.emit((row.clone(), accept)))}>
                { t(key) }
            </button>
        }
    };
    let status = html! {
        <>
            <span class={classes!("badge", if is_pending(row) { "warn" } else if row.status == "accepted" { "ok" } else { "" })}>
                { code("quarantine-status", &row.status) }
            </span>
            if let (Some(by), Some(at)) = (&row.decided_by, row.decided_at) {
                <div class="meta">{ i18n::t_args("desk-quarantine-decided-by", &[("who", directory.person_name(by).into()), ("when", i18n::date_time(Timestamp::from_millis(at)).into())]) }</div>
            }
            if is_pending(row) {
                <div class="decisions">
                    // Nothing of a message refused unread was kept to merge: it can only be
                    // rejected (the server refuses to accept it too).
                    if row.kept { { button(true) } }
                    { button(false) }
                </div>
                if deciding == Some(row.id) {
                    <div class="meta" role="status">{ t("status-saving") }</div>
                }
            }
        </>
    };
    html! {
        <tr key={row.id.to_string()} class={classes!(is_pending(row).then_some("pending"))} data-id={row.id.to_string()}>
            <th scope="row">{ household }</th>
            <td>{ who }</td>
            <td class="meta device">{ row.device_id.clone() }</td>
            <td class="when">{ when(row.signed_at) }</td>
            <td class="when">{ when(Some(row.received_at)) }</td>
            <td>
                { capitalised(&code("refused-reason", Reason::of(row).code())) }
                <div class="meta" lang="en">{ row.reason.clone() }</div>
                if let Some(bytes) = row.message_bytes {
                    <div class="meta">{ i18n::t_args("desk-quarantine-unread", &[("megabytes", format!("{:.1}", bytes as f64 / 1_048_576.0).into())]) }</div>
                }
            </td>
            <td>{ status }</td>
        </tr>
    }
}

//! Gallring and removal on a decision. The administrator lists what the rule makes due (the
//! server keeps that on record), reads the list, names the decision and removes exactly what
//! was listed; households kept although old enough are listed with why. One household
//! recorded in error is removed on a decision with a reason. Ids only: administrators see
//! no household. Every device erases its copies at its next contact with the server.

use std::collections::BTreeMap;

use yew::prelude::*;

use crate::admin::explain;
use crate::api::{self, District, RetentionCandidate, RetentionDryRun, RetentionVerdict};
use crate::i18n::{date_time, t, t_args, t_count};
use crate::state::removal_form::{Removal, RemovalAction, RemovalForm};
use crate::views::admin::{
    Admin, Fetched, Outcome, admin_table, fetch_into, loading_or_problem, outcome, text_input,
    typed_text,
};

/// The gallring section.
#[function_component(RetentionView)]
pub fn retention_view() -> Html {
    let _language = use_context::<Admin>().map(|admin| admin.language);
    let listed = use_state(|| None::<Fetched<RetentionDryRun>>);
    let districts = use_state(|| Fetched::<Vec<District>>::None);
    let decision = use_state(String::new);
    let said = use_state(|| None::<Outcome>);
    let busy = use_state(|| false);
    let one = use_reducer(RemovalForm::default);
    {
        let districts = districts.clone();
        use_effect_with((), move |_| fetch_into(districts, api::districts()));
    }
    let names: BTreeMap<String, String> = match &*districts {
        Some(Ok(list)) => list
            .iter()
            .map(|district| (district.id.clone(), district.name.clone()))
            .collect(),
        _ => BTreeMap::new(),
    };
    let list = {
        let (listed, said) = (listed.clone(), said.clone());
        Callback::from(move |_: MouseEvent| {
            said.set(None);
            listed.set(Some(None));
            let listed = listed.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::retention_dry_run().await;
                listed.set(Some(Some(answer.map_err(|error| explain(&error)))));
            });
        })
    };
    let run = {
        let (listed, decision, said, busy) =
            (listed.clone(), decision.clone(), said.clone(), busy.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(Some(Ok(dry_run))) = listed.as_ref() else {
                return;
            };
            let typed = decision.trim().to_owned();
            if typed.is_empty() {
                return said.set(Some(Outcome::Failed(t("admin-retention-decision-missing"))));
            }
            let documents: Vec<String> = dry_run
                .due
                .iter()
                .map(|candidate| candidate.document_id.clone())
                .collect();
            let (listed, decision, said, busy) =
                (listed.clone(), decision.clone(), said.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::run_retention(&typed, &documents).await {
                    Ok(removed) => {
                        said.set(Some(Outcome::Done(t_count(
                            "admin-retention-done",
                            removed,
                        ))));
                        decision.set(String::new());
                        // The list is gone with what it listed: list again to see what is left.
                        listed.set(None);
                    }
                    Err(error) => said.set(Some(Outcome::Failed(explain(&error)))),
                }
                busy.set(false);
            });
        })
    };
    let remove_one = {
        let (one, said, busy) = (one.clone(), said.clone(), busy.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Ok(removal) = one.to_request() else {
                return said.set(Some(Outcome::Failed(t("admin-remove-fields-missing"))));
            };
            let (one, said, busy) = (one.dispatcher(), said.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let Removal {
                    household,
                    decision,
                    reason,
                } = removal;
                match api::remove_household(&household, &decision, &reason).await {
                    Ok(()) => {
                        said.set(Some(Outcome::Done(t_args(
                            "admin-remove-done",
                            &[("household", household.into())],
                        ))));
                        one.dispatch(RemovalAction::Done);
                    }
                    Err(error) => said.set(Some(Outcome::Failed(explain(&error)))),
                }
                busy.set(false);
            });
        })
    };
    let typed = |action: fn(String) -> RemovalAction| {
        one.dispatcher()
            .to_callback()
            .reform(move |event| action(typed_text(event)))
    };
    let listing = match listed.as_ref() {
        None => html! {},
        Some(fetched) => match loading_or_problem(fetched) {
            Some(waiting) => waiting,
            None => match fetched {
                Some(Ok(dry_run)) => html! {
                    <>
                        { rule_words(dry_run) }
                        { candidates_table("retention-due", t_count("admin-retention-due", dry_run.due.len()), &dry_run.due, &names) }
                        if !dry_run.kept.is_empty() {
                            { candidates_table("retention-kept", t_count("admin-retention-kept", dry_run.kept.len()), &dry_run.kept, &names) }
                        }
                        if !dry_run.due.is_empty() {
                            <form class="card admin-form retention-run" onsubmit={run} aria-labelledby="retention-run-title">
                                <h2 id="retention-run-title">{ t_count("admin-retention-run-title", dry_run.due.len()) }</h2>
                                <p class="meta">{ t("admin-retention-run-intro") }</p>
                                <label for="retention-decision">{ t("admin-decision") }</label>
                                <input id="retention-decision" autocomplete="off" value={(*decision).clone()}
                                    oninput={text_input(&decision, |value: &mut String, typed| *value = typed)} />
                                <button class="danger-fill" type="submit" disabled={*busy}>
                                    { t_count("admin-retention-run", dry_run.due.len()) }
                                </button>
                            </form>
                        }
                    </>
                },
                _ => html! {},
            },
        },
    };
    html! {
        <section class="admin-retention" aria-labelledby="admin-retention-title">
            <h1 id="admin-retention-title">{ t("admin-retention-title") }</h1>
            <p class="meta">{ t("admin-retention-intro") }</p>
            { outcome(&said) }
            <p><button class="primary" onclick={list} disabled={*busy}>{ t("admin-retention-list") }</button></p>
            { listing }
            <form class="card admin-form remove-one" onsubmit={remove_one} aria-labelledby="remove-one-title">
                <h2 id="remove-one-title">{ t("admin-remove-title") }</h2>
                <p class="meta">{ t("admin-remove-intro") }</p>
                <label for="remove-household">{ t("admin-remove-household") }</label>
                <input id="remove-household" autocomplete="off" spellcheck="false" value={one.household.clone()}
                    oninput={typed(RemovalAction::Household)} />
                <label for="remove-decision">{ t("admin-decision") }</label>
                <input id="remove-decision" autocomplete="off" value={one.decision.clone()}
                    oninput={typed(RemovalAction::Decision)} />
                <label for="remove-reason">{ t("admin-remove-reason") }</label>
                <input id="remove-reason" autocomplete="off" value={one.reason.clone()}
                    oninput={typed(RemovalAction::Reason)} />
                <button class="danger-fill" type="submit" disabled={*busy}>{ t("admin-remove-button") }</button>
            </form>
        </section>
    }
}

/// The rule, in words.
fn rule_words(dry_run: &RetentionDryRun) -> Html {
    let key = if dry_run.rule.keep_research_birth_days {
        "admin-retention-rule-keeping"
    } else {
        "admin-retention-rule"
    };
    html! {
        <p class="meta retention-rule">
            { t_args(key, &[("years", dry_run.rule.years.into()), ("today", dry_run.today.clone().into())]) }
        </p>
    }
}

/// A table of households judged: id, district, last entry, first day due, and the verdict.
fn candidates_table(
    class: &'static str,
    caption: String,
    candidates: &[RetentionCandidate],
    districts: &BTreeMap<String, String>,
) -> Html {
    let rows = candidates.iter().map(|candidate| {
        let district = candidate
            .district_id
            .as_ref()
            .map(|id| districts.get(id).cloned().unwrap_or_else(|| id.clone()))
            .unwrap_or_default();
        let verdict = match candidate.verdict {
            RetentionVerdict::Due => t("admin-retention-verdict-due"),
            RetentionVerdict::KeptForResearch => t("admin-retention-verdict-research"),
            RetentionVerdict::Unreadable => t("admin-retention-verdict-unreadable"),
        };
        html! {
            <tr key={candidate.document_id.clone()}>
                <th scope="row" data-label={t("admin-column-household")}><code>{ candidate.document_id.clone() }</code></th>
                <td data-label={t("admin-column-district")}>{ district }</td>
                <td data-label={t("admin-column-last-entry")}>{ date_time(lots_core::Timestamp::from_millis(candidate.last_entry_at)) }</td>
                <td data-label={t("admin-column-due-on")}>{ candidate.due_on.clone() }</td>
                <td data-label={t("admin-column-verdict")}>{ verdict }</td>
            </tr>
        }
    });
    admin_table(
        class,
        caption,
        &[
            "admin-column-household",
            "admin-column-district",
            "admin-column-last-entry",
            "admin-column-due-on",
            "admin-column-verdict",
        ],
        html! { { for rows } },
    )
}

//! The caseloads overview: who holds how many households in each district, and how many
//! households of each district nobody holds. Counts only: administrators see no household.

use yew::prelude::*;

use crate::admin::caseload_table;
use crate::api::{self, Caseloads};
use crate::i18n::{code, t};
use crate::views::admin::{Admin, Fetched, fetch_into, loading_or_problem};

/// The caseloads section.
#[function_component(CaseloadsView)]
pub fn caseloads_view() -> Html {
    // Read so that a change of language renders this section again.
    let _language = use_context::<Admin>().map(|admin| admin.language);
    let caseloads = use_state(|| Fetched::<Caseloads>::None);
    {
        let caseloads = caseloads.clone();
        use_effect_with((), move |_| fetch_into(caseloads, api::caseloads()));
    }
    let body = if let Some(waiting) = loading_or_problem(&caseloads) {
        waiting
    } else {
        let counts = match &*caseloads {
            Some(Ok(counts)) => counts.clone(),
            _ => Caseloads::default(),
        };
        let table = caseload_table(&counts);
        let number = |count: i64| html! { <td class="number">{ count }</td> };
        html! {
            // Wider than a phone: the frame scrolls, so the keyboard must reach it too.
            <div class="table-scroll" tabindex="0" role="region" aria-label={t("admin-caseloads-caption")}>
                <table class="desk-table admin-table caseloads-table">
                    <caption>{ t("admin-caseloads-caption") }</caption>
                    <thead>
                        <tr>
                            <th scope="col">{ t("admin-column-person") }</th>
                            <th scope="col">{ t("admin-column-role") }</th>
                            { for table.districts.iter().map(|(_, name)| html! { <th scope="col" class="number">{ name.clone() }</th> }) }
                            <th scope="col" class="number">{ t("admin-caseloads-total") }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for table.rows.iter().map(|row| html! {
                            <tr>
                                <th scope="row">{ row.name.clone() }</th>
                                <td>
                                    { code("role", row.role.as_str()) }
                                    if row.disabled {
                                        { " · " }{ t("admin-user-status-disabled") }
                                    }
                                </td>
                                { for row.counts.iter().map(|count| number(*count)) }
                                { number(row.total) }
                            </tr>
                        }) }
                        <tr class="unassigned">
                            <th scope="row">{ t("admin-caseloads-unassigned") }</th>
                            <td></td>
                            { for table.unassigned.iter().map(|count| html! {
                                <td class={classes!("number", (*count > 0).then_some("warn"))}>{ count }</td>
                            }) }
                            { number(table.unassigned.iter().sum()) }
                        </tr>
                        <tr class="total">
                            <th scope="row">{ t("admin-caseloads-total") }</th>
                            <td></td>
                            { for table.totals.iter().map(|count| number(*count)) }
                            { number(table.totals.iter().sum()) }
                        </tr>
                    </tbody>
                </table>
            </div>
        }
    };
    html! {
        <section class="admin-caseloads" aria-labelledby="admin-caseloads-title">
            <h1 id="admin-caseloads-title">{ t("admin-caseloads-title") }</h1>
            <p class="meta">{ t("admin-caseloads-intro") }</p>
            { body }
        </section>
    }
}

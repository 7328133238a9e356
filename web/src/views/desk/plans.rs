//! Plan progress: the goals of each district's open cases by status, as the plans stood at
//! the end of any chosen day (core's history).

use lots_core::{
    Date, DistrictId, Period, PlanProgress, StackedBar, plan_progress, stacked_bar_chart,
};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::browser::now;
use crate::hooks::use_session;
use crate::i18n::{self, code, t, t1};
use crate::views::desk::{
    CsvButton, Directory, as_of_status, chart, my_districts, use_desk, use_households_as_of,
};

const STATUSES: [&str; 5] = [
    "reached",
    "in_progress",
    "stalled",
    "not_started",
    "dropped",
];

fn counts(row: &PlanProgress) -> [u64; 5] {
    [
        row.reached,
        row.in_progress,
        row.stalled,
        row.not_started,
        row.dropped,
    ]
}

fn name(row: &PlanProgress, directory: &Directory) -> String {
    match &row.district {
        Some(district) => directory.district_name(district.as_str()),
        None => t("report-total"),
    }
}

/// The plan-progress screen.
#[function_component(Plans)]
pub fn plans() -> Html {
    let session = use_session();
    let desk = use_desk();
    let today = i18n::local_date(now());
    let day = use_state(|| today);
    let problem = use_state(|| None::<String>);
    let at = Period::new(*day, *day)
        .expect("a day is a period")
        .end_instant();
    let state = use_households_as_of(Some(at));

    let on_date = {
        let (day, problem) = (day.clone(), problem.clone());
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            match input.value().parse::<Date>() {
                Ok(date) if date <= today => {
                    problem.set(None);
                    day.set(date);
                }
                Ok(_) => problem.set(Some(t("desk-date-future"))),
                Err(_) => problem.set(Some(t1("desk-date-invalid", "value", input.value()))),
            }
        })
    };

    let districts: Vec<DistrictId> = my_districts(&session);
    let rows = plan_progress(
        state.households.iter().map(|household| &**household),
        &districts,
    );
    let directory = &desk.directory;
    let mut headers = vec![t("desk-district"), t("desk-households")];
    headers.extend(STATUSES.iter().map(|status| code("goal-status", status)));
    headers.push(t("desk-goals"));
    let csv = {
        let lines: Vec<Vec<String>> = std::iter::once(headers.clone())
            .chain(rows.iter().map(|row| {
                let mut line = vec![name(row, directory), row.households.to_string()];
                line.extend(counts(row).iter().map(u64::to_string));
                line.push(row.goals().to_string());
                line
            }))
            .collect();
        Callback::from(move |()| lots_core::text_csv(&lines).map_err(|error| error.to_string()))
    };
    let bars: Vec<StackedBar> = rows
        .iter()
        .filter(|row| row.district.is_some())
        .map(|row| StackedBar {
            label: name(row, directory),
            values: counts(row).to_vec(),
        })
        .collect();
    let series: Vec<String> = STATUSES
        .iter()
        .map(|status| code("goal-status", status))
        .collect();
    let shown_for = state.at == Some(at);
    html! {
        <section>
            <h1>{ t("desk-plans") }</h1>
            <div class="filters no-print">
                <label>{ t("desk-as-of") }
                    <input type="date" value={day.to_string()} max={today.to_string()} onchange={on_date} />
                </label>
            </div>
            if let Some(problem) = &*problem {
                <p class="problem" role="alert">{ problem.clone() }</p>
            }
            { as_of_status(&state) }
            if shown_for {
                <p class="meta">
                    { t1("desk-plans-as-of", "date", i18n::date(*day)) }{ " " }
                    <CsvButton file_name={format!("planer-{}.csv", *day)} what={t("desk-plans")} csv={csv} />
                </p>
                <div class="table-scroll" tabindex="0" role="region" aria-label={t("desk-plans")}>
                    <table class="desk-table figures">
                        <thead>
                            <tr>{ for headers.iter().map(|header| html! { <th scope="col">{ header.clone() }</th> }) }</tr>
                        </thead>
                        <tbody>
                            { for rows.iter().map(|row| html! {
                                <tr class={classes!(row.district.is_none().then_some("total"))}>
                                    <th scope="row">{ name(row, directory) }</th>
                                    <td>{ row.households }</td>
                                    { for counts(row).iter().map(|count| html! { <td>{ count }</td> }) }
                                    <td>{ row.goals() }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
                { chart(stacked_bar_chart(&t("desk-plans-chart"), &series, &bars)) }
            }
        </section>
    }
}

//! Workload: per staff member, their open cases, the visits they have booked and held this
//! month, and the follow-ups overdue in their cases.

use lots_core::{Date, Period, StackedBar, StaffId, Workload, stacked_bar_chart, workload};
use yew::prelude::*;

use crate::browser::now;
use crate::hooks::use_session;
use crate::i18n::{self, t};
use crate::views::desk::{CsvButton, Directory, chart, use_desk};

/// The month `today` is in.
pub fn month_of(today: Date) -> Period {
    let first = Date::from_ymd(today.year(), today.month(), 1).unwrap_or(today);
    let last = first.plus_months(1).plus_days(-1);
    Period::new(first, last)
        .unwrap_or_else(|_| Period::new(today, today).expect("a day is a period"))
}

fn name(row: &Workload, directory: &Directory) -> String {
    match &row.staff {
        Some(staff) => directory.person_name(staff.as_str()),
        None => t("desk-unassigned"),
    }
}

/// The workload screen.
#[function_component(WorkloadView)]
pub fn workload_view() -> Html {
    let session = use_session();
    let desk = use_desk();
    let directory = &desk.directory;
    let today = i18n::local_date(now());
    let month = month_of(today);
    let mut staff: Vec<StaffId> = Vec::new();
    for district in &session.me.user.districts {
        for person in directory.staff_of(district) {
            if let Ok(id) = StaffId::new(person.id.clone())
                && !staff.contains(&id)
            {
                staff.push(id);
            }
        }
    }
    let households = session.engine.households();
    let rows = workload(
        households.values().map(|household| &**household),
        &staff,
        month,
        today,
    );

    let headers = [
        "desk-staff",
        "desk-households",
        "desk-visits-booked",
        "desk-visits-done",
        "desk-visits-unrecorded",
        "desk-overdue",
    ];
    let csv = {
        let lines: Vec<Vec<String>> = std::iter::once(headers.iter().map(|key| t(key)).collect())
            .chain(rows.iter().map(|row| {
                vec![
                    name(row, directory),
                    row.households.to_string(),
                    row.visits_booked.to_string(),
                    row.visits_done.to_string(),
                    row.visits_unrecorded.to_string(),
                    row.overdue_follow_ups.to_string(),
                ]
            }))
            .collect();
        Callback::from(move |()| lots_core::text_csv(&lines).map_err(|error| error.to_string()))
    };
    let bars: Vec<StackedBar> = rows
        .iter()
        .filter(|row| row.staff.is_some())
        .map(|row| StackedBar {
            label: name(row, directory),
            values: vec![row.visits_done, row.visits_booked - row.visits_done],
        })
        .collect();
    let month_words = i18n::t_args(
        "desk-month",
        &[
            ("from", i18n::date(month.start()).into()),
            ("to", i18n::date(month.end()).into()),
        ],
    );
    html! {
        <section>
            <h1>{ t("desk-workload") }</h1>
            <p class="meta">{ month_words }{ " " }
                <CsvButton file_name="arbetsbelastning.csv" what={t("desk-workload")} csv={csv} />
            </p>
            <div class="table-scroll" tabindex="0" role="region" aria-label={t("desk-workload")}>
                <table class="desk-table figures">
                    <thead>
                        <tr>{ for headers.iter().map(|key| html! { <th scope="col">{ t(key) }</th> }) }</tr>
                    </thead>
                    <tbody>
                        { for rows.iter().map(|row| html! {
                            <tr>
                                <th scope="row">{ name(row, directory) }</th>
                                <td>{ row.households }</td>
                                <td>{ row.visits_booked }</td>
                                <td>{ row.visits_done }</td>
                                <td>{ row.visits_unrecorded }</td>
                                <td class={classes!((row.overdue_follow_ups > 0).then_some("warn"))}>{ row.overdue_follow_ups }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            if !bars.is_empty() {
                { chart(stacked_bar_chart(
                    &t("desk-visits-chart"),
                    &[t("desk-visits-done"), t("desk-visits-not-done")],
                    &bars,
                )) }
            }
        </section>
    }
}

//! The tertial report for a chosen tertial and district (or all), computed by core over the
//! households as they stood at the tertial's end; the cost share between the districts; SVG
//! charts, CSV of every table, and a page that prints.

use lots_core::{
    Bar, CostShareError, Date, DistrictId, DocumentId, Label, Labeller, Period, Scope, TableKind,
    Tertial, bar_chart, cost_share, count_newcomers, tertial_report,
};
use std::rc::Rc;

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api;
use crate::hooks::use_session;

use crate::browser::{Measure, now};
use crate::components::choice::Choice;
use crate::i18n::{self, t, t1};
use crate::views::desk::{
    CsvButton, PAST_TERTIALS, Words, as_of_status, chart, my_districts, report_table, use_desk,
    use_households_as_of,
};

/// Tertials offered: the current one and those before it (two years).
const TERTIALS: usize = PAST_TERTIALS + 1;

/// The User Timing measure of computing the report, for `tests/e2e/desk-speed.mjs`.
const REPORT: &str = "lots:report";

/// `"1 234 567,50"` kronor as öre.
fn parse_kronor(text: &str) -> Result<u64, String> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let invalid = || t1("desk-amount-invalid", "value", text.to_owned());
    let (kronor, ore) = match cleaned.split_once('.') {
        Some((kronor, ore)) => (kronor, ore),
        None => (cleaned.as_str(), ""),
    };
    if kronor.is_empty() || ore.len() > 2 || !ore.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let kronor: u64 = kronor.parse().map_err(|_| invalid())?;
    let ore: u64 = if ore.is_empty() {
        0
    } else {
        format!("{ore:0<2}").parse().map_err(|_| invalid())?
    };
    kronor
        .checked_mul(100)
        .and_then(|whole| whole.checked_add(ore))
        .ok_or_else(invalid)
}

/// Öre as kronor the Swedish way: `1 633 333,33 kr` (spaces between thousands).
fn kronor(ore: u64) -> String {
    let whole = (ore / 100).to_string();
    let mut grouped = String::new();
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            grouped.push('\u{a0}');
        }
        grouped.push(digit);
    }
    format!("{grouped},{:02}\u{a0}kr", ore % 100)
}

fn cost_share_problem(error: &CostShareError) -> String {
    match error {
        CostShareError::NoDistricts => t("cost-share-no-districts"),
        CostShareError::NoNewcomers { .. } => t("cost-share-no-newcomers"),
        CostShareError::TooManyNewcomers => t("cost-share-too-many"),
        CostShareError::DuplicateDistrict { district } => {
            t1("cost-share-duplicate", "district", district.to_string())
        }
    }
}

/// The report screen.
#[function_component(ReportView)]
pub fn report_view() -> Html {
    let session = use_session();
    let desk = use_desk();
    let today = i18n::local_date(now());
    let current = Tertial::containing(today);
    let tertial = use_state(|| current);
    let scope = use_state(String::new);
    let cost_from = use_state(|| None::<Date>);
    let cost_to = use_state(|| None::<Date>);
    let amount = use_state(|| "2 800 000".to_owned());
    let date_problem = use_state(|| None::<String>);

    let period = tertial.period();
    let state = use_households_as_of(Some(period.end_instant()));
    // The cost is shared over a year by default (a tertial alone often has too few new
    // permits to split a year's budget by); the supervisor can choose any period.
    let cost_start = cost_from.unwrap_or(period.end().plus_months(-12).plus_days(1));
    let cost_end = cost_to.unwrap_or(period.end());
    let cost_period = Period::new(cost_start, cost_end).ok();
    let cost_at = cost_period
        .map(Period::end_instant)
        .unwrap_or(period.end_instant());
    // The same instant as the report's (the default) is read once.
    let own_cost_state = use_households_as_of((cost_at != period.end_instant()).then_some(cost_at));
    let cost_state = if cost_at == period.end_instant() {
        &state
    } else {
        &own_cost_state
    };

    let districts: Vec<DistrictId> = my_districts(&session);
    let report_scope = match DistrictId::new(scope.to_string()) {
        Ok(district) if !scope.is_empty() => Scope::District(district),
        _ => Scope::AllDistricts,
    };
    let filed = use_filed_reports();
    // A filed report chosen to be shown in place of today's figures: for the chosen tertial
    // and scope only.
    let shown_filed = use_state(|| None::<Rc<api::FiledReport>>);
    let file_problem = use_state(|| None::<String>);
    {
        let shown_filed = shown_filed.clone();
        use_effect_with((*tertial, (*scope).clone()), move |_| shown_filed.set(None));
    }
    let live_ready = state.at == Some(period.end_instant());
    let live = {
        let households = state.households.clone();
        let report_scope = report_scope.clone();
        use_memo(
            (
                *tertial,
                report_scope,
                std::rc::Rc::as_ptr(&households) as usize,
            ),
            move |(tertial, scope, _)| {
                let measure = Measure::start(REPORT);
                let report = tertial_report(
                    households.iter().map(|household| &**household),
                    *tertial,
                    scope,
                );
                measure.finish(REPORT);
                report
            },
        )
    };

    {
        // The households a report counts are on the access log as read (`shown=report`):
        // once per tertial and scope while this screen is open.
        let logged = use_mut_ref(std::collections::HashSet::<(Tertial, Scope)>::new);
        let (reads, documents, households) = (
            session.reads.clone(),
            state.documents.clone(),
            state.households.clone(),
        );
        let key = (*tertial, report_scope.clone());
        use_effect_with(
            (key, live_ready, Rc::as_ptr(&households) as usize),
            move |((tertial, scope), ready, _)| {
                if *ready && logged.borrow_mut().insert((*tertial, scope.clone())) {
                    let covered: Vec<DocumentId> = documents
                        .iter()
                        .zip(households.iter())
                        .filter(|(_, household)| scope.includes(&household.profile.district))
                        .map(|(document, _)| *document)
                        .collect();
                    reads.record_report(&covered, *tertial);
                }
            },
        );
    }
    let scope_id = match &report_scope {
        Scope::AllDistricts => None,
        Scope::District(district) => Some(district.to_string()),
    };
    // A filed report is shown only for its own tertial and scope: one fetched or filed
    // while the choice changed is not shown under the new one.
    let shown: Option<Rc<api::FiledReport>> = (*shown_filed).clone().filter(|filed| {
        filed.summary.tertial == tertial.to_string() && filed.summary.district_id == scope_id
    });
    let (report, ready) = match &shown {
        Some(filed) => (Rc::new(filed.report.clone()), true),
        None => (live, live_ready),
    };
    let filed_here: Vec<api::FiledReportSummary> = filed
        .list
        .iter()
        .filter(|entry| entry.tertial == tertial.to_string() && entry.district_id == scope_id)
        .cloned()
        .collect();
    let over = period.end() < today;
    let may_file_all = desk
        .directory
        .districts
        .iter()
        .all(|district| session.me.user.districts.contains(&district.id));
    let directory = &desk.directory;
    let words = Words(directory);
    let tertials: Vec<(AttrValue, AttrValue)> =
        std::iter::successors(Some(current), |tertial| tertial.previous())
            .take(TERTIALS)
            .map(|tertial| {
                let words = i18n::t_args(
                    "desk-tertial",
                    &[
                        ("name", tertial.to_string().into()),
                        ("from", i18n::date(tertial.start()).into()),
                        ("to", i18n::date(tertial.end()).into()),
                    ],
                );
                (AttrValue::from(tertial.to_string()), AttrValue::from(words))
            })
            .collect();
    let scopes: Vec<(AttrValue, AttrValue)> = std::iter::once((
        AttrValue::Static(""),
        AttrValue::from(t("desk-all-districts")),
    ))
    .chain(districts.iter().map(|district| {
        (
            AttrValue::from(district.to_string()),
            AttrValue::from(directory.district_name(district.as_str())),
        )
    }))
    .collect();
    let on_tertial = {
        let tertial = tertial.clone();
        Callback::from(move |value: String| {
            if let Ok(chosen) = value.parse::<Tertial>() {
                tertial.set(chosen);
            }
        })
    };
    let on_scope = {
        let scope = scope.clone();
        Callback::from(move |value: String| scope.set(value))
    };
    let on_print = Callback::from(|_: MouseEvent| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    });
    let date_input = |state: UseStateHandle<Option<Date>>| {
        let problem = date_problem.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            match input.value().parse::<Date>() {
                Ok(date) => {
                    problem.set(None);
                    state.set(Some(date));
                }
                Err(_) => problem.set(Some(t1("desk-date-invalid", "value", input.value()))),
            }
        })
    };
    let on_amount = {
        let amount = amount.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            amount.set(input.value());
        })
    };

    let scope_name = match &report_scope {
        Scope::AllDistricts => t("desk-all-districts"),
        Scope::District(district) => directory.district_name(district.as_str()),
    };
    let file_stem = format!(
        "{}-{}",
        tertial.to_string().replace(' ', "-"),
        match &report_scope {
            Scope::AllDistricts => "alla".to_owned(),
            Scope::District(district) => district.to_string(),
        }
    );

    let tables = report.tables();
    let visits = &report.visits;
    let visit_bars = [
        (
            Label::VisitStatus(lots_core::VisitStatus::Done),
            visits.done.count,
        ),
        (
            Label::VisitStatus(lots_core::VisitStatus::Cancelled),
            visits.cancelled.count,
        ),
        (
            Label::VisitStatus(lots_core::VisitStatus::NoShow),
            visits.no_show.count,
        ),
        (
            Label::VisitStatus(lots_core::VisitStatus::Planned),
            visits.planned.count,
        ),
    ]
    .map(|(label, value)| Bar {
        label: words.label(&label),
        value,
    });

    html! {
        <section class="report">
            <h1>{ t("desk-report") }</h1>
            <div class="filters no-print">
                <label>{ t("desk-tertial-label") }
                    <Choice value={tertial.to_string()} options={tertials} onchange={on_tertial} />
                </label>
                <label>{ t("desk-district") }
                    <Choice value={(*scope).clone()} options={scopes} onchange={on_scope} />
                </label>
                <button onclick={on_print}>{ t("desk-print") }</button>
            </div>
            <p class="print-only">{ format!("{} · {}", *tertial, scope_name) }</p>
            { filed_section(&FiledSection {
                tertial: *tertial,
                scope: scope_id.clone(),
                here: &filed_here,
                shown: shown_filed.clone(),
                list: filed.clone(),
                over,
                may_file: scope_id.is_some() || may_file_all,
                directory,
                problem: file_problem.clone(),
            }) }
            if shown.is_none() {
                { as_of_status(&state) }
            }
            if let Some(shown) = &shown {
                <p class="meta filed-basis">{ i18n::t_args("filed-basis", &[
                    ("when", i18n::date_time(lots_core::Timestamp::from_millis(shown.summary.filed_at)).into()),
                    ("by", directory.person_name(&shown.summary.filed_by).into()),
                    ("households", shown.summary.households.into()),
                ]) }</p>
            } else if ready {
                <p class="meta">{ i18n::t_args("desk-report-basis", &[
                    ("from", i18n::date(period.start()).into()),
                    ("to", i18n::date(period.end()).into()),
                    ("households", state.households.len().into()),
                ]) }</p>
            }
            if ready {
                <dl class="headline">
                    <div><dt>{ t("report-case-supported") }</dt><dd>{ report.supported.count }</dd></div>
                    <div><dt>{ t("desk-people-supported") }</dt><dd>{ report.supported.people.total() }</dd></div>
                    <div><dt>{ t("report-case-new") }</dt><dd>{ report.new_cases.count }</dd></div>
                    <div><dt>{ t("report-case-closed") }</dt><dd>{ report.closed.count }</dd></div>
                    <div><dt>{ t("visit-status-done") }</dt><dd class="visits-done">{ report.visits.done.count }</dd></div>
                    <div><dt>{ t("desk-goals-reached") }</dt><dd>{ report.goals_reached_total.count }</dd></div>
                </dl>
                <div class="charts">
                    { chart(report.people_chart(&t("desk-people-supported"), &words)) }
                    { chart(bar_chart(&words.label(&Label::Table(TableKind::Visits)), &visit_bars)) }
                    { chart(report.topics_chart(&words)) }
                    { chart(report.interpreters_chart(&words)) }
                </div>
                { for tables.into_iter().map(|table| {
                    let title = words.label(&Label::Table(table.kind));
                    let file_name = format!("{file_stem}-{}.csv", table.kind.key());
                    let csv = {
                        let table = table.clone();
                        let directory = desk.directory.clone();
                        Callback::from(move |()| table.to_csv(&Words(&directory)).map_err(|error| error.to_string()))
                    };
                    html! {
                        <div class="report-table" data-table={table.kind.key()}>
                            <CsvButton file_name={file_name} what={title} csv={csv} />
                            { report_table(&table, &words) }
                        </div>
                    }
                }) }
            }

            <h2>{ t("cost-share-title") }</h2>
            <p class="meta">{ t("cost-share-explained") }</p>
            <div class="filters no-print">
                <label>{ t("cost-share-from") }
                    <input type="date" value={cost_start.to_string()} onchange={date_input(cost_from.clone())} />
                </label>
                <label>{ t("cost-share-to") }
                    <input type="date" value={cost_end.to_string()} onchange={date_input(cost_to.clone())} />
                </label>
                <label>{ t("cost-share-amount") }
                    <input type="text" inputmode="decimal" value={(*amount).clone()} oninput={on_amount} />
                </label>
            </div>
            if let Some(problem) = &*date_problem {
                <p class="problem" role="alert">{ problem.clone() }</p>
            }
            { cost_share_section(&cost_period, cost_state, cost_at, &districts, &amount, &words, &desk.directory) }
        </section>
    }
}

fn cost_share_section(
    period: &Option<Period>,
    state: &crate::views::desk::AsOf,
    at: lots_core::Timestamp,
    districts: &[DistrictId],
    amount: &str,
    words: &Words<'_>,
    directory: &std::rc::Rc<crate::views::desk::Directory>,
) -> Html {
    let period = match period {
        Some(period) => *period,
        None => {
            return html! { <p class="problem" role="alert">{ t("cost-share-period-invalid") }</p> };
        }
    };
    if state.at != Some(at) {
        return as_of_status(state);
    }
    let total_ore = match parse_kronor(amount) {
        Ok(total) => total,
        Err(problem) => return html! { <p class="problem" role="alert">{ problem }</p> },
    };
    let counts = count_newcomers(
        state.households.iter().map(|household| &**household),
        period,
        districts,
    );
    match cost_share(&counts, total_ore) {
        Ok(share) => {
            let table = share.table();
            let csv = {
                let table = table.clone();
                let directory = directory.clone();
                Callback::from(move |()| {
                    table
                        .to_csv(&Words(&directory))
                        .map_err(|error| error.to_string())
                })
            };
            let bars: Vec<Bar> = share
                .districts
                .iter()
                .map(|district| Bar {
                    label: words.label(&Label::District(district.district.clone())),
                    value: district.newcomers,
                })
                .collect();
            html! {
                <>
                    <div class="report-table" data-table="cost_share">
                        <CsvButton file_name={format!("kostnadsfordelning-{}-{}.csv", period.start(), period.end())} what={t("cost-share-title")} csv={csv} />
                        { report_table(&table, words) }
                    </div>
                    <ul class="plain amounts">
                        { for share.districts.iter().map(|district| html! {
                            <li>{ i18n::t_args("cost-share-amount-of", &[
                                ("district", words.label(&Label::District(district.district.clone())).into()),
                                ("amount", kronor(district.amount_ore).into()),
                                ("per_mille", district.per_mille.to_string().into()),
                            ]) }</li>
                        }) }
                    </ul>
                    { chart(bar_chart(&t("cost-share-chart"), &bars)) }
                </>
            }
        }
        Err(error) => html! {
            <>
                <p class="problem" role="alert">{ cost_share_problem(&error) }</p>
                <ul class="plain">
                    { for counts.iter().map(|count| html! {
                        <li>{ format!("{}: {}", words.label(&Label::District(count.district.clone())), count.newcomers) }</li>
                    }) }
                </ul>
            </>
        },
    }
}

mod filed;

use filed::{FiledSection, filed_section, use_filed_reports};

#[cfg(test)]
mod tests;

//! Every household of the supervisor's districts in one table: filter by district, staff,
//! status, housing form and arrival route; sort by next visit, last visit or overdue
//! follow-ups; assign each to a staff member; open any of them. Households that cannot be
//! read (on this computer or on the server) are listed first with why, and counted.

use std::collections::HashMap;
use std::rc::Rc;

use lots_core::{
    ArrivalRoute, CaseStatus, DocumentId, Household, HousingForm, Timestamp, VisitStatus,
};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::browser::now;
use crate::components::choice::{Choice, coded};
use crate::hooks::use_session;
use crate::i18n::{self, code, t, t1};
use crate::routes::Route;
use crate::unreadable::{Place, Unreadable};
use crate::views::desk::{CsvButton, Directory, use_desk};
use crate::views::{household_name, next_visit, overdue_follow_ups};

/// Rows shown before "show all": a table of 500 rows with a list in each is slow to draw
/// and to read; filters narrow it.
const FIRST_ROWS: usize = 100;

/// How the table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Overdue,
    NextVisit,
    LastVisit,
}

impl Sort {
    const ALL: [Sort; 3] = [Sort::Overdue, Sort::NextVisit, Sort::LastVisit];

    fn code(self) -> &'static str {
        match self {
            Sort::Overdue => "overdue",
            Sort::NextVisit => "next_visit",
            Sort::LastVisit => "last_visit",
        }
    }
}

/// The filters; empty means any.
#[derive(Debug, Clone, PartialEq, Default)]
struct Filters {
    district: String,
    staff: String,
    status: String,
    housing: String,
    route: String,
}

const ANY: &str = "";
/// The staff filter's value for households assigned to nobody.
const NOBODY: &str = "-";

/// Assignments being sent, and why any failed, per household.
#[derive(Debug, Clone, PartialEq, Default)]
struct Assigning(HashMap<DocumentId, Result<(), String>>);

enum Assignment {
    Sent(DocumentId),
    Done(DocumentId),
    Failed(DocumentId, String),
}

impl Reducible for Assigning {
    type Action = Assignment;

    fn reduce(self: Rc<Self>, action: Assignment) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Assignment::Sent(document) => next.0.insert(document, Ok(())),
            Assignment::Done(document) => next.0.remove(&document),
            Assignment::Failed(document, error) => next.0.insert(document, Err(error)),
        };
        Rc::new(next)
    }
}

struct Line {
    document: DocumentId,
    household: Rc<Household>,
    next: Option<Timestamp>,
    last: Option<Timestamp>,
    overdue: usize,
}

/// The last visit held.
fn last_visit(household: &Household) -> Option<Timestamp> {
    household
        .visits
        .values()
        .filter(|visit| visit.status == VisitStatus::Done)
        .map(|visit| visit.planned_at)
        .max()
}

/// An unreadable household is known only by its district: it matches when the district
/// does and no other filter asks for what it cannot tell.
fn keep_unreadable(filters: &Filters, entry: &Unreadable) -> bool {
    (filters.district.is_empty() || entry.district == filters.district)
        && filters.staff.is_empty()
        && filters.status.is_empty()
        && filters.housing.is_empty()
        && filters.route.is_empty()
}

fn keep(filters: &Filters, household: &Household) -> bool {
    let profile = &household.profile;
    let staff = profile.assigned_staff.as_ref().map(|staff| staff.as_str());
    (filters.district.is_empty() || profile.district.as_str() == filters.district)
        && match filters.staff.as_str() {
            ANY => true,
            NOBODY => staff.is_none(),
            wanted => staff == Some(wanted),
        }
        && (filters.status.is_empty() || profile.status.code() == filters.status)
        && (filters.housing.is_empty() || profile.housing_form.code() == filters.housing)
        && (filters.route.is_empty() || profile.arrival_route.code() == filters.route)
}

/// Sorts most urgent first: most overdue, soonest next visit, or longest since the last.
fn sort(lines: &mut [Line], by: Sort) {
    lines.sort_by(|a, b| {
        let order = match by {
            Sort::Overdue => b.overdue.cmp(&a.overdue),
            // No visit booked is the most urgent of all.
            Sort::NextVisit => a
                .next
                .is_some()
                .cmp(&b.next.is_some())
                .then(a.next.cmp(&b.next)),
            Sort::LastVisit => a.last.cmp(&b.last),
        };
        order.then_with(|| {
            a.household
                .profile
                .address
                .cmp(&b.household.profile.address)
        })
    });
}

fn with_any(any: String, options: Vec<(AttrValue, AttrValue)>) -> Vec<(AttrValue, AttrValue)> {
    std::iter::once((AttrValue::Static(ANY), AttrValue::from(any)))
        .chain(options)
        .collect()
}

/// The overview.
#[function_component(Overview)]
pub fn overview() -> Html {
    let session = use_session();
    let desk = use_desk();
    let filters = use_state(Filters::default);
    let sort_by = use_state(|| Sort::Overdue);
    let show_all = use_state(|| false);
    // Per household: an assignment being sent, or why it failed.
    let assigning = use_reducer(Assigning::default);

    let now = now();
    let households = session.engine.households();
    let unreadable = session.engine.unreadable();
    let total = households.len() + unreadable.len();
    let unreadable: Vec<Unreadable> = unreadable
        .into_iter()
        .filter(|entry| keep_unreadable(&filters, entry))
        .collect();
    let mut lines: Vec<Line> = households
        .into_iter()
        .filter(|(_, household)| keep(&filters, household))
        .map(|(document, household)| Line {
            next: next_visit(&household, now),
            last: last_visit(&household),
            overdue: overdue_follow_ups(&household, now),
            document,
            household,
        })
        .collect();
    sort(&mut lines, *sort_by);
    let matching = lines.len() + unreadable.len();

    let directory = &desk.directory;
    let set = |field: fn(&mut Filters) -> &mut String| {
        let filters = filters.clone();
        Callback::from(move |value: String| {
            let mut next = (*filters).clone();
            *field(&mut next) = value;
            filters.set(next);
        })
    };
    let districts = with_any(
        t("desk-any-district"),
        session
            .me
            .user
            .districts
            .iter()
            .map(|id| {
                (
                    AttrValue::from(id.clone()),
                    AttrValue::from(directory.district_name(id)),
                )
            })
            .collect(),
    );
    let mut staff_options = vec![(AttrValue::Static(NOBODY), AttrValue::from(t("desk-nobody")))];
    let mut seen = Vec::new();
    for district in &session.me.user.districts {
        for person in directory.staff_of(district) {
            if !seen.contains(&person.id) {
                seen.push(person.id.clone());
                staff_options.push((person.id.clone().into(), person.display_name.clone().into()));
            }
        }
    }
    let staff = with_any(t("desk-any-staff"), staff_options);
    let statuses = with_any(
        t("desk-any-status"),
        coded("case", CaseStatus::ALL.iter().map(|s| s.code())),
    );
    let housing = with_any(
        t("desk-any-housing"),
        coded("housing", HousingForm::ALL.iter().map(|h| h.code())),
    );
    let routes = with_any(
        t("desk-any-route"),
        coded("route", ArrivalRoute::ALL.iter().map(|r| r.code())),
    );
    let sorts: Vec<(AttrValue, AttrValue)> = Sort::ALL
        .iter()
        .map(|sort| {
            (
                AttrValue::Static(sort.code()),
                AttrValue::from(code("desk-sort", sort.code())),
            )
        })
        .collect();
    let on_sort = {
        let sort_by = sort_by.clone();
        Callback::from(move |value: String| {
            if let Some(sort) = Sort::ALL.into_iter().find(|sort| sort.code() == value) {
                sort_by.set(sort);
            }
        })
    };

    let csv = {
        let rows: Vec<Vec<String>> = std::iter::once(header())
            .chain(
                unreadable
                    .iter()
                    .map(|entry| csv_unreadable_row(entry, directory)),
            )
            .chain(lines.iter().map(|line| csv_row(line, directory)))
            .collect();
        Callback::from(move |()| lots_core::text_csv(&rows).map_err(|error| error.to_string()))
    };

    // Unreadable households are always shown, before the first rows of the rest.
    let shown_lines = if *show_all {
        lines.len()
    } else {
        lines.len().min(FIRST_ROWS)
    };
    let shown = unreadable.len() + shown_lines;
    html! {
        <section class="desk-overview">
            <h1>{ t("desk-overview") }</h1>
            <div class="filters no-print">
                <label>{ t("desk-district") }
                    <Choice value={filters.district.clone()} options={districts} onchange={set(|f| &mut f.district)} />
                </label>
                <label>{ t("desk-staff") }
                    <Choice value={filters.staff.clone()} options={staff} onchange={set(|f| &mut f.staff)} />
                </label>
                <label>{ t("desk-status") }
                    <Choice value={filters.status.clone()} options={statuses} onchange={set(|f| &mut f.status)} />
                </label>
                <label>{ t("field-housing_form") }
                    <Choice value={filters.housing.clone()} options={housing} onchange={set(|f| &mut f.housing)} />
                </label>
                <label>{ t("field-arrival_route") }
                    <Choice value={filters.route.clone()} options={routes} onchange={set(|f| &mut f.route)} />
                </label>
                <label>{ t("desk-sort") }
                    <Choice value={sort_by.code()} options={sorts} onchange={on_sort} />
                </label>
            </div>
            <p class="meta" role="status">
                { i18n::t_args("desk-showing", &[("shown", shown.into()), ("matching", matching.into()), ("total", total.into())]) }
                { " " }
                <CsvButton file_name="hushall.csv" what={t("desk-overview")} csv={csv} />
            </p>
            if total == 0 {
                <p class="empty">{ t("households-loading") }</p>
            }
            <div class="table-scroll" tabindex="0" role="region" aria-label={t("desk-overview")}>
                <table class="desk-table">
                    <thead>
                        <tr>
                            <th scope="col">{ t("desk-household") }</th>
                            <th scope="col">{ t("desk-district") }</th>
                            <th scope="col">{ t("field-assigned_staff") }</th>
                            <th scope="col">{ t("desk-status") }</th>
                            <th scope="col">{ t("field-housing_form") }</th>
                            <th scope="col">{ t("field-arrival_route") }</th>
                            <th scope="col">{ t("desk-next-visit") }</th>
                            <th scope="col">{ t("desk-last-visit") }</th>
                            <th scope="col">{ t("desk-overdue") }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for unreadable.iter().map(|entry| unreadable_row(entry, directory)) }
                        { for lines.iter().take(shown_lines).map(|line| row(line, directory, &assigning)) }
                    </tbody>
                </table>
            </div>
            if shown_lines < lines.len() {
                <button class="wide no-print" onclick={{ let show_all = show_all.clone(); move |_| show_all.set(true) }}>
                    { t1("desk-show-all", "count", matching.to_string()) }
                </button>
            }
        </section>
    }
}

fn header() -> Vec<String> {
    [
        "desk-household",
        "field-address",
        "desk-district",
        "field-assigned_staff",
        "desk-status",
        "field-housing_form",
        "field-arrival_route",
        "desk-next-visit",
        "desk-last-visit",
        "desk-overdue",
    ]
    .iter()
    .map(|key| t(key))
    .collect()
}

fn csv_row(line: &Line, directory: &Directory) -> Vec<String> {
    let profile = &line.household.profile;
    vec![
        household_name(&line.household),
        format!("{}, {}", profile.address, profile.unit),
        directory.district_name(profile.district.as_str()),
        profile
            .assigned_staff
            .as_ref()
            .map(|staff| directory.person_name(staff.as_str()))
            .unwrap_or_default(),
        code("case", profile.status.code()),
        code("housing", profile.housing_form.code()),
        code("route", profile.arrival_route.code()),
        line.next.map(i18n::date_time).unwrap_or_default(),
        line.last.map(i18n::date_time).unwrap_or_default(),
        line.overdue.to_string(),
    ]
}

fn unreadable_name(entry: &Unreadable) -> String {
    if entry.address.is_empty() {
        t1("household-unnamed", "id", entry.document.to_string())
    } else {
        entry.address.clone()
    }
}

fn unreadable_why(entry: &Unreadable) -> String {
    match entry.place {
        Place::Device => t1("desk-unreadable-here", "reason", entry.reason.clone()),
        Place::Server => t1(
            "households-unreadable-server",
            "reason",
            entry.reason.clone(),
        ),
    }
}

fn csv_unreadable_row(entry: &Unreadable, directory: &Directory) -> Vec<String> {
    let mut row = vec![
        unreadable_name(entry),
        entry.address.clone(),
        directory.district_name(&entry.district),
        String::new(),
        format!("{}: {}", t("households-unreadable"), unreadable_why(entry)),
    ];
    row.resize(header().len(), String::new());
    row
}

/// A household that cannot be read: named as far as it can be, with where and why.
fn unreadable_row(entry: &Unreadable, directory: &Directory) -> Html {
    html! {
        <tr key={entry.document.to_string()} class="unreadable">
            <th scope="row">
                <strong>{ unreadable_name(entry) }</strong>
            </th>
            <td>{ directory.district_name(&entry.district) }</td>
            <td colspan="7" class="warn">{ format!("{}: {}", t("households-unreadable"), unreadable_why(entry)) }</td>
        </tr>
    }
}

fn row(line: &Line, directory: &Directory, assigning: &UseReducerHandle<Assigning>) -> Html {
    let profile = &line.household.profile;
    let document = line.document;
    let id = document.to_string();
    let district = profile.district.as_str();
    let assigned = profile
        .assigned_staff
        .as_ref()
        .map(|staff| staff.as_str().to_owned())
        .unwrap_or_default();
    let mut options = vec![(AttrValue::Static(""), AttrValue::from(t("desk-nobody")))];
    for person in directory.staff_of(district) {
        options.push((person.id.clone().into(), person.display_name.clone().into()));
    }
    if !assigned.is_empty() && !options.iter().any(|(value, _)| value.as_str() == assigned) {
        options.push((
            assigned.clone().into(),
            directory.person_name(&assigned).into(),
        ));
    }
    let on_assign = {
        let assigning = assigning.clone();
        Callback::from(move |staff: String| {
            let assigning = assigning.clone();
            assigning.dispatch(Assignment::Sent(document));
            wasm_bindgen_futures::spawn_local(async move {
                let staff = (!staff.is_empty()).then_some(staff);
                match crate::api::assign(document, staff.as_deref()).await {
                    Ok(()) => assigning.dispatch(Assignment::Done(document)),
                    Err(error) => {
                        assigning.dispatch(Assignment::Failed(document, error.to_string()))
                    }
                }
            });
        })
    };
    let name = household_name(&line.household);
    html! {
        <tr key={id.clone()}>
            <th scope="row">
                <Link<Route> to={Route::ReadHousehold { id: id.clone() }} classes="household-link">{ name.clone() }</Link<Route>>
                <span class="meta">{ format!("{}, {} · ", profile.address, profile.unit) }</span>
                <Link<Route> to={Route::Household { id: id.clone() }} classes="edit-link">
                    { t("household-edit") }<span class="visually-hidden">{ format!(": {name}") }</span>
                </Link<Route>>
            </th>
            <td>{ directory.district_name(district) }</td>
            <td>
                <Choice label={t1("desk-assign-for", "household", name)} value={assigned} options={options} onchange={on_assign} />
                { match assigning.0.get(&document) {
                    Some(Ok(())) => html! { <div class="meta">{ t("status-saving") }</div> },
                    Some(Err(error)) => html! { <div class="problem" role="alert">{ t1("desk-assign-failed", "error", error.clone()) }</div> },
                    None => html! {},
                } }
            </td>
            <td>{ code("case", profile.status.code()) }</td>
            <td>{ code("housing", profile.housing_form.code()) }</td>
            <td>{ code("route", profile.arrival_route.code()) }</td>
            <td class="when">{ line.next.map(i18n::date_time).unwrap_or_else(|| t("households-no-next-visit")) }</td>
            <td class="when">{ line.last.map(i18n::date_time).unwrap_or_default() }</td>
            <td class={classes!("number", (line.overdue > 0).then_some("warn"))}>{ line.overdue }</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_household_is_kept_unless_a_filter_asks_what_it_cannot_tell() {
        let entry = Unreadable {
            document: DocumentId::from_bytes([1; 16]),
            place: Place::Server,
            reason: "schema version 9".into(),
            district: "district-norrmalm".into(),
            address: String::new(),
        };
        assert!(keep_unreadable(&Filters::default(), &entry));
        let norrmalm = Filters {
            district: "district-norrmalm".into(),
            ..Filters::default()
        };
        assert!(keep_unreadable(&norrmalm, &entry));
        let kungsholmen = Filters {
            district: "district-kungsholmen".into(),
            ..Filters::default()
        };
        assert!(!keep_unreadable(&kungsholmen, &entry));
        let by_staff = Filters {
            staff: "u-anna".into(),
            ..Filters::default()
        };
        assert!(!keep_unreadable(&by_staff, &entry));
    }
}

//! Today and this week: planned visits in time order, one tap to start recording.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::browser::now;
use crate::hooks::use_session;
use crate::i18n::{self, t};
use crate::routes::Route;
use crate::views::household_name;

/// Planned visits of the next seven days (and any still planned from earlier today).
#[function_component(Today)]
pub fn today() -> Html {
    let session = use_session();
    let now = now();
    let start = lots_core::Timestamp::start_of(i18n::local_date(now)).plus_minutes(-120);
    let end = now.plus_minutes(7 * 24 * 60);
    let mut planned = Vec::new();
    for (id, household) in session.engine.households() {
        for (visit_id, visit) in &household.visits {
            if visit.status == lots_core::VisitStatus::Planned
                && visit.planned_at >= start
                && visit.planned_at <= end
            {
                planned.push((visit.planned_at, id, visit_id.clone(), household.clone()));
            }
        }
    }
    planned.sort_by_key(|(at, ..)| *at);
    html! {
        <section>
            <h1>{ t("today-title") }</h1>
            if planned.is_empty() {
                <p class="empty">{ t("today-none") }</p>
            }
            <ul class="cards">
                { for planned.into_iter().map(|(at, id, visit, household)| html! {
                    <li key={visit.to_string()} class="card visit-row">
                        <Link<Route> to={Route::Household { id: id.to_string() }} classes="grow">
                            <strong>{ i18n::date_time(at) }</strong>
                            <span>{ household_name(&household) }</span>
                            <span class="meta">{ household.profile.address.clone() }</span>
                        </Link<Route>>
                        <Link<Route> to={Route::RecordVisit { id: id.to_string(), visit: visit.to_string() }} classes="button primary">
                            { t("today-record") }
                        </Link<Route>>
                    </li>
                }) }
            </ul>
        </section>
    }
}

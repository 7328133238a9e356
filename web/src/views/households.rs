//! My households: search by name or address; overdue follow-ups first, then the next visit.

use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::{Route, Session};
use crate::engine::now;
use crate::i18n::{self, t, t_count, t1};
use crate::views::{household_name, next_visit, overdue_follow_ups};

/// The caseload list.
#[function_component(Households)]
pub fn households() -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let query = use_state(String::new);
    let oninput = {
        let query = query.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            query.set(input.value());
        })
    };
    let now = now();
    let needle = query.trim().to_lowercase();
    let mut rows: Vec<_> = session
        .engine
        .households()
        .into_iter()
        .filter(|(_, household)| {
            needle.is_empty()
                || household.profile.address.to_lowercase().contains(&needle)
                || household
                    .members
                    .values()
                    .any(|member| member.name.to_lowercase().contains(&needle))
        })
        .map(|(id, household)| {
            let overdue = overdue_follow_ups(&household, now);
            let next = next_visit(&household, now);
            (id, household, overdue, next)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then(a.3.is_none().cmp(&b.3.is_none()))
            .then(a.3.cmp(&b.3))
            .then(a.1.profile.address.cmp(&b.1.profile.address))
    });
    html! {
        <section>
            <h1 class="visually-hidden">{ t("nav-households") }</h1>
            <input class="search" type="search" placeholder={t("households-search")}
                aria-label={t("households-search")} value={(*query).clone()} {oninput} />
            if rows.is_empty() {
                <p class="empty">{ t("households-none") }</p>
            }
            <ul class="cards">
                { for rows.into_iter().map(|(id, household, overdue, next)| html! {
                    <li key={id.to_string()}>
                        <Link<Route> to={Route::Household { id: id.to_string() }} classes="card household">
                            <strong>{ household_name(&household) }</strong>
                            <span>{ format!("{}, {}", household.profile.address, household.profile.unit) }</span>
                            <span class="meta">
                                { t_count("households-people", household.members.len()) }
                                { " · " }
                                { match next {
                                    Some(at) => t1("households-next-visit", "when", i18n::date_time(at)),
                                    None => t("households-no-next-visit"),
                                } }
                            </span>
                            if overdue > 0 {
                                <span class="badge warn">{ t_count("households-overdue", overdue) }</span>
                            }
                            if household.profile.status == lots_core::CaseStatus::Closed {
                                <span class="badge">{ t("households-closed") }</span>
                            }
                        </Link<Route>>
                    </li>
                }) }
            </ul>
        </section>
    }
}

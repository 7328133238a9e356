//! My households: search by name or address; households that cannot be read first (with
//! why: nothing is left out), then those held back from the server after a refused change
//! (saying so on their cards), then overdue follow-ups, then the next visit.

use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::browser::now;
use crate::hooks::use_session;
use crate::i18n::{self, t, t_count, t1};
use crate::refused::Verdict;
use crate::routes::Route;
use crate::unreadable::{Place, Unreadable};
use crate::views::{household_name, next_visit, overdue_follow_ups};

/// The caseload list.
#[function_component(Households)]
pub fn households() -> Html {
    let session = use_session();
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
    // Households held back from the server first: the person is told why on the screen.
    let held = |id: &lots_core::DocumentId| session.engine.held_back_of(id).is_some();
    rows.sort_by(|a, b| {
        held(&b.0)
            .cmp(&held(&a.0))
            .then(b.2.cmp(&a.2))
            .then(a.3.is_none().cmp(&b.3.is_none()))
            .then(a.3.cmp(&b.3))
            .then(a.1.profile.address.cmp(&b.1.profile.address))
    });
    let unreadable: Vec<Unreadable> = session
        .engine
        .unreadable()
        .into_iter()
        .filter(|entry| needle.is_empty() || entry.address.to_lowercase().contains(&needle))
        .collect();
    html! {
        <section>
            <h1 class="visually-hidden">{ t("nav-households") }</h1>
            <input class="search" type="search" placeholder={t("households-search")}
                aria-label={t("households-search")} value={(*query).clone()} {oninput} />
            if rows.is_empty() && unreadable.is_empty() {
                <p class="empty">{ t("households-none") }</p>
            }
            <ul class="cards">
                { for unreadable.iter().map(unreadable_card) }
                { for rows.into_iter().map(|(id, household, overdue, next)| {
                    let held = session.engine.held_back_of(&id);
                    let server_cannot_read = session.engine.unreadable_on_server(&id);
                    html! {
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
                                if let Some(held) = held {
                                    <span class="badge warn held-back">{ match held.verdict {
                                        Verdict::Waiting => t("households-held-back"),
                                        Verdict::Rejected => t("households-held-back-rejected"),
                                    } }</span>
                                }
                                if let Some(reason) = server_cannot_read {
                                    <span class="badge warn">{ t1("households-server-unreadable", "reason", reason) }</span>
                                }
                                if household.profile.status == lots_core::CaseStatus::Closed {
                                    <span class="badge">{ t("households-closed") }</span>
                                }
                            </Link<Route>>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}

/// A household that cannot be read: listed, not a link (there is nothing to open), with
/// where it failed and why.
fn unreadable_card(entry: &Unreadable) -> Html {
    let name = if entry.address.is_empty() {
        t1("household-unnamed", "id", entry.document.to_string())
    } else {
        entry.address.clone()
    };
    let why = match entry.place {
        Place::Device => t1(
            "households-unreadable-device",
            "reason",
            entry.reason.clone(),
        ),
        Place::Server => t1(
            "households-unreadable-server",
            "reason",
            entry.reason.clone(),
        ),
    };
    html! {
        <li key={entry.document.to_string()}>
            <div class="card unreadable" data-document={entry.document.to_string()}>
                <strong>{ name }</strong>
                <span class="badge warn">{ t("households-unreadable") }</span>
                <span class="meta">{ why }</span>
            </div>
        </li>
    }
}

//! The signed-in frame: the always-visible status line, navigation, and the current screen.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::{Route, Session};
use crate::engine::Connection;
use crate::i18n::{self, Language, t, t_count, t1};
use crate::views;
use crate::views::choice::{Choice, languages};

/// Props of [`Shell`].
#[derive(Properties, PartialEq)]
pub struct ShellProps {
    /// Signs out.
    pub on_sign_out: Callback<()>,
    /// The language in use.
    pub language: Language,
    /// Picks a language.
    pub on_language: Callback<Language>,
    /// The same person signed in again after the server's session ended.
    pub on_signed_in_again: Callback<crate::api::Me>,
}

/// The frame around every signed-in screen.
#[function_component(Shell)]
pub fn shell(props: &ShellProps) -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let route = use_route::<Route>().unwrap_or(Route::Households);
    let refused = use_state(|| false);
    let waiting = session.engine.status().waiting;
    // Signing out removes this person's data from the device: never with changes the server
    // does not have yet.
    let sign_out = {
        let (on_sign_out, refused) = (props.on_sign_out.clone(), refused.clone());
        Callback::from(move |_: MouseEvent| {
            if waiting > 0 {
                refused.set(true);
            } else {
                on_sign_out.emit(());
            }
        })
    };
    let on_language = props
        .on_language
        .reform(|tag: String| Language::from_tag(&tag));
    let at_desk = session.at_desk();
    let tab = |to: Route, key: &str, active: bool| {
        html! {
            <Link<Route> to={to} classes={classes!("tab", active.then_some("active"))}>
                { t(key) }
            </Link<Route>>
        }
    };
    let nav = if at_desk {
        html! {
            <nav aria-label={t("app-name")} class="desk-nav">
                { tab(Route::Desk, "nav-desk", matches!(route, Route::Desk | Route::Households | Route::Household { .. } | Route::ReadHousehold { .. })) }
                { tab(Route::Workload, "nav-workload", route == Route::Workload) }
                { tab(Route::Plans, "nav-plans", route == Route::Plans) }
                { tab(Route::Report, "nav-report", route == Route::Report) }
                { tab(Route::Log, "nav-log", route == Route::Log) }
            </nav>
        }
    } else {
        html! {
            <nav aria-label={t("app-name")}>
                { tab(Route::Households, "nav-households", matches!(route, Route::Households)) }
                { tab(Route::Today, "nav-today", matches!(route, Route::Today)) }
            </nav>
        }
    };
    html! {
        <>
            <header class="top">
                <StatusLine />
                <crate::update::NewVersion />
                { nav }
            </header>
            if session.engine.status().link == Connection::SessionEnded {
                <views::signin::SignInAgain me={session.me.clone()} on_signed_in={props.on_signed_in_again.clone()} />
            }
            if at_desk {
                <main class="desk">
                    <views::desk::DeskProvider>
                        <Switch<Route> render={desk_switch} />
                    </views::desk::DeskProvider>
                </main>
            } else {
                <main>
                    <Switch<Route> render={switch} />
                </main>
            }
            <footer class="bottom">
                <span>{ session.me.user.display_name.clone() }</span>
                <label class="language">
                    <span class="visually-hidden">{ t("language") }</span>
                    <Choice label={t("language")} value={props.language.tag()} options={languages()} onchange={on_language} />
                </label>
                <button class="link" onclick={sign_out}>{ t("signout") }</button>
            </footer>
            if *refused && waiting > 0 {
                <p class="problem signout-refused" role="alert">{ t_count("signout-unsynced", waiting) }</p>
            }
        </>
    }
}

/// The supervisor's screens; a household opens as on the phone (same conflict view).
fn desk_switch(route: Route) -> Html {
    use views::desk;
    match route {
        Route::Desk | Route::Households | Route::NotFound => html! { <desk::overview::Overview /> },
        Route::Workload => html! { <desk::workload::WorkloadView /> },
        Route::Plans => html! { <desk::plans::Plans /> },
        Route::Report => html! { <desk::report::ReportView /> },
        Route::Log => html! { <desk::log::Log /> },
        other => switch(other),
    }
}

fn switch(route: Route) -> Html {
    match route {
        Route::Households
        | Route::NotFound
        | Route::Desk
        | Route::Workload
        | Route::Plans
        | Route::Report
        | Route::Log => html! { <views::households::Households /> },
        Route::Today => html! { <views::today::Today /> },
        Route::Household { id } => html! { <views::household::HouseholdView id={id} /> },
        Route::ReadHousehold { id } => {
            html! { <views::household::HouseholdView id={id} read_only=true /> }
        }
        Route::RecordVisit { id, visit } => {
            html! { <views::visit::RecordVisit id={id} visit={visit} /> }
        }
    }
}

/// Synced / N changes waiting / offline since 14:32 / a conflict to review — always shown.
#[function_component(StatusLine)]
pub fn status_line() -> Html {
    let session = use_context::<Session>().expect("the session is provided");
    let status = session.engine.status();
    let mut parts = Vec::new();
    let mut class = "status ok";
    match status.link {
        Connection::Online if status.waiting == 0 => parts.push(t("status-synced")),
        Connection::Online => {}
        Connection::Offline(since) => {
            class = "status offline";
            parts.push(t1("status-offline-since", "time", i18n::time(since)));
        }
        Connection::SessionEnded => {
            class = "status offline";
            parts.push(t("status-session-ended"));
        }
    }
    if status.waiting > 0 {
        parts.push(t_count("status-waiting", status.waiting));
    }
    if status.saving > 0 {
        parts.push(t("status-saving"));
    }
    if status.conflicts > 0 {
        class = "status attention";
        parts.push(t_count("status-conflicts", status.conflicts));
    }
    let session_ended = status.link == Connection::SessionEnded;
    html! {
        <div class={class} role="status" aria-live="polite">
            <span>{ parts.join(" · ") }</span>
            if session_ended {
                <button class="status-action" onclick={Callback::from(|_: MouseEvent| show_sign_in_again())}>
                    { t("signin-again-title") }
                </button>
            }
            if let Some(problem) = status.problem {
                <span class="problem">{ problem }</span>
            }
        </div>
    }
}

/// Brings the sign-in-again form (above the screen, which may be scrolled away) into view
/// and puts the cursor in its password field.
fn show_sign_in_again() {
    use wasm_bindgen::JsCast as _;
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    if let Some(form) = document.query_selector(".signin-again").ok().flatten() {
        form.scroll_into_view();
    }
    if let Some(password) = document
        .get_element_by_id("again-password")
        .and_then(|element| element.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        let _ = password.focus();
    }
}

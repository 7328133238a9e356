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
    html! {
        <>
            <header class="top">
                <StatusLine />
                <crate::update::NewVersion />
                <nav aria-label={t("app-name")}>
                    <Link<Route> to={Route::Households} classes={classes!("tab", matches!(route, Route::Households).then_some("active"))}>
                        { t("nav-households") }
                    </Link<Route>>
                    <Link<Route> to={Route::Today} classes={classes!("tab", matches!(route, Route::Today).then_some("active"))}>
                        { t("nav-today") }
                    </Link<Route>>
                </nav>
            </header>
            <main>
                <Switch<Route> render={switch} />
            </main>
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

fn switch(route: Route) -> Html {
    match route {
        Route::Households | Route::NotFound => html! { <views::households::Households /> },
        Route::Today => html! { <views::today::Today /> },
        Route::Household { id } => html! { <views::household::HouseholdView id={id} /> },
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
    html! {
        <div class={class} role="status" aria-live="polite">
            <span>{ parts.join(" · ") }</span>
            if let Some(problem) = status.problem {
                <span class="problem">{ problem }</span>
            }
        </div>
    }
}

//! The signed-in frame: the always-visible status line, navigation, notices of refused
//! changes, and the current screen.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::choice::{Choice, languages};
use crate::engine::{Connection, Status};
use crate::hooks::use_session;
use crate::i18n::{self, Language, t, t_count, t1};
use crate::refused::{HeldBack, Verdict};
use crate::routes::Route;
use crate::session::Session;
use crate::views;
use crate::views::reasons_in_words;

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
    /// An administrator shut this device out and nothing on it waits for the server:
    /// everything is to be deleted.
    pub on_shut_out: Callback<crate::api::ShutOut>,
}

/// Tries, 100 ms apart, to upload the reads waiting before signing out.
const SIGN_OUT_UPLOAD_TRIES: u32 = 30;

/// Once the server has ended the session, asks whether an administrator shut this device
/// out (revoked it, or disabled its person). If so, what waits for the server (`waiting`:
/// households with changes it has not taken, and records of what it refused) is handed in
/// to the server's quarantine, and `on_shut_out` deletes everything. When the server cannot
/// take it, the households that wait for nothing are erased and the rest stay until the next
/// try, since nothing typed may be lost: the answer says so.
#[hook]
fn use_shut_out(
    ended: bool,
    waiting: usize,
    on_shut_out: Callback<crate::api::ShutOut>,
) -> UseStateHandle<bool> {
    let session = use_session();
    let kept = use_state(|| false);
    {
        let kept = kept.clone();
        use_effect_with(ended, move |ended| {
            if *ended {
                wasm_bindgen_futures::spawn_local(async move {
                    let Ok(Some(why)) = crate::api::shut_out().await else {
                        return;
                    };
                    if waiting == 0 {
                        return on_shut_out.emit(why);
                    }
                    // What waits goes to the server's quarantine, not into the record (the
                    // device may be in someone else's hands); then everything goes.
                    match session.engine.hand_in_waiting().await {
                        Ok(()) => return on_shut_out.emit(why),
                        Err(error) => web_sys::console::warn_1(
                            &format!("handing in what waits: {error}").into(),
                        ),
                    }
                    // Not taken (the network, a full quarantine): kept until the next try,
                    // and the rest erased.
                    match session.engine.erase_settled().await {
                        Ok(()) => kept.set(true),
                        Err(error) => web_sys::console::error_1(
                            &format!("erasing a shut-out device: {error}").into(),
                        ),
                    }
                });
            }
        });
    }
    kept
}

/// The frame around every signed-in screen.
#[function_component(Shell)]
pub fn shell(props: &ShellProps) -> Html {
    let session = use_session();
    let route = use_route::<Route>().unwrap_or(Route::Households);
    let refused = use_state(|| false);
    let status = session.engine.status();
    // Held-back households have changes the server does not have either.
    let waiting = status.waiting + status.held_back;
    let kept = status.kept;
    // Signing out removes this person's data from the device: never with changes the server
    // does not have yet, nor with a record of what it did not take that the person has not
    // dismissed.
    // Nor with reads the access log has not received: signing out erases the queue, and
    // the law wants every read logged. They go up first (a few seconds at most online);
    // offline, signing out waits for the next contact, unless the server has ended this
    // sign-in and would take none of them.
    let reads_refused = use_state(|| false);
    let shut_out = use_shut_out(
        status.link == Connection::SessionEnded,
        waiting + kept,
        props.on_shut_out.clone(),
    );
    // While the reads go up, the button waits (a second press starts nothing more).
    let signing_out = use_state(|| false);
    let sign_out = {
        let (on_sign_out, refused, reads_refused, signing_out, reads) = (
            props.on_sign_out.clone(),
            refused.clone(),
            reads_refused.clone(),
            signing_out.clone(),
            session.reads.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if waiting > 0 || kept > 0 {
                refused.set(true);
                return;
            }
            if *signing_out {
                return;
            }
            signing_out.set(true);
            let (on_sign_out, reads_refused, signing_out, reads) = (
                on_sign_out.clone(),
                reads_refused.clone(),
                signing_out.clone(),
                reads.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                for _ in 0..SIGN_OUT_UPLOAD_TRIES {
                    reads.upload().await;
                    if reads.waiting() == 0 {
                        on_sign_out.emit(());
                        return;
                    }
                    gloo::timers::future::TimeoutFuture::new(100).await;
                }
                // A sign-in the server has ended (the person disabled, the device revoked)
                // can log nothing more: keeping the device's data for reads the server will
                // never take would only keep it from being erased.
                if matches!(crate::api::signed_in().await, Ok(false)) {
                    on_sign_out.emit(());
                    return;
                }
                signing_out.set(false);
                reads_refused.set(true);
            });
        })
    };
    let on_language = props
        .on_language
        .reform(|tag: String| Language::from_tag(&tag));
    // The supervisor's screens, when this page runs the desk's app (the app starts the
    // desk's for a supervisor: see `app.rs`).
    let desk = session.at_desk().then(crate::screens::desk).flatten();
    let at_desk = desk.is_some();
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
                { tab(Route::Desk, "nav-desk", matches!(route, Route::Desk | Route::Households | Route::Household { .. } | Route::ReadHousehold { .. } | Route::PersonCopy { .. })) }
                { tab(Route::Workload, "nav-workload", route == Route::Workload) }
                { tab(Route::Plans, "nav-plans", route == Route::Plans) }
                { tab(Route::Report, "nav-report", route == Route::Report) }
                { tab(Route::Log, "nav-log", route == Route::Log) }
                { tab(Route::Quarantine, "nav-quarantine", route == Route::Quarantine) }
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
            if *shut_out {
                <p class="notice rejected shut-out" role="alert">{ t("shut-out-kept") }</p>
            } else if status.link == Connection::SessionEnded {
                <views::signin::SignInAgain me={session.me.clone()} on_signed_in={props.on_signed_in_again.clone()} />
            }
            if let Some(desk) = desk {
                <main class="desk">
                    <SyncNotices />
                    { (desk.desk)() }
                </main>
            } else {
                <main>
                    <SyncNotices />
                    <Switch<Route> render={field_screen} />
                </main>
            }
            <footer class="bottom">
                <span>{ session.me.user.display_name.clone() }</span>
                <label class="language">
                    <span class="visually-hidden">{ t("language") }</span>
                    <Choice label={t("language")} value={props.language.tag()} options={languages()} onchange={on_language} />
                </label>
                <button class="link" onclick={sign_out} disabled={*signing_out} aria-busy={signing_out.to_string()}>{ t("signout") }</button>
            </footer>
            if *refused && waiting > 0 {
                <p class="problem signout-refused" role="alert">{ t_count("signout-unsynced", waiting) }</p>
            } else if *refused && kept > 0 {
                <p class="problem signout-refused" role="alert">{ t_count("signout-kept", kept) }</p>
            } else if *reads_refused && session.reads.waiting() > 0 {
                <p class="problem signout-refused" role="alert">{ t_count("signout-reads", session.reads.waiting()) }</p>
            }
        </>
    }
}

/// The field's screen for the route the address names (the desk's addresses show the
/// households).
pub fn field_screen(route: Route) -> Html {
    match route {
        Route::Households
        | Route::NotFound
        | Route::Desk
        | Route::Workload
        | Route::Plans
        | Route::Report
        | Route::Log
        | Route::Quarantine
        | Route::PersonCopy { .. } => html! { <views::households::Households /> },
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

/// Synced / N changes waiting / offline since 14:32 / a conflict to review / a household
/// held back or unreadable — always shown.
#[function_component(StatusLine)]
pub fn status_line() -> Html {
    let session = use_session();
    let status = session.engine.status();
    let (class, parts) = status_parts(&status);
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

/// The status line's class and its parts, in words. "Synced" only when [`Status::synced`]:
/// never while a household is held back or cannot be read.
pub fn status_parts(status: &Status) -> (&'static str, Vec<String>) {
    let mut parts = Vec::new();
    let mut class = "status ok";
    match status.link {
        Connection::Online if status.synced() => parts.push(t("status-synced")),
        Connection::Online => {}
        Connection::Offline(_) if status.quarantine_full.is_some() => {
            class = "status attention";
            parts.push(t("status-quarantine-full"));
        }
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
    if status.held_back > 0 {
        class = "status attention";
        parts.push(t_count("status-held-back", status.held_back));
    }
    if status.unreadable > 0 {
        class = "status attention";
        parts.push(t_count("status-unreadable", status.unreadable));
    }
    if status.saving > 0 {
        parts.push(t("status-saving"));
    }
    if status.conflicts > 0 {
        class = "status attention";
        parts.push(t_count("status-conflicts", status.conflicts));
    }
    (class, parts)
}

/// A household as a notice names it: its address, or its id when it does not read.
pub fn household_words(session: &Session, document: &lots_core::DocumentId) -> String {
    session.engine.address_of(document)
}

/// What a refused change means for the person, one notice per household held back, and the
/// server's refusal of this device while its quarantine is full. Shown above every screen
/// until a supervisor's decision lets the household sync again.
#[function_component(SyncNotices)]
pub fn sync_notices() -> Html {
    let session = use_session();
    let held = session.engine.held_back();
    let kept = session.engine.kept();
    let full = session.engine.status().quarantine_full;
    if held.is_empty() && kept.is_empty() && full.is_none() {
        return html! {};
    }
    html! {
        <section class="notices" aria-label={t("refused-notices")}>
            if let Some(count) = full {
                <p class="notice" role="alert">{ t_count("quarantine-full-notice", count) }</p>
            }
            { for held.iter().map(|record| notice(&session, record)) }
            { for kept.iter().map(|record| kept_notice(&session, record)) }
        </section>
    }
}

/// After a rejection: the household continues from the server's copy, and what the server
/// did not take waits on the household's page.
fn kept_notice(session: &Session, record: &crate::replay::Kept) -> Html {
    let text = i18n::t_args(
        "kept-notice",
        &[
            ("household", record.household.clone().into()),
            ("reason", reasons_in_words(&record.codes).into()),
        ],
    );
    let open = household_route(session, &record.document);
    html! {
        <div key={format!("kept-{}-{}", record.document, record.since)} class="notice kept-notice">
            <p>{ text }</p>
            if record.replayed > 0 {
                <p class="meta">{ t_count("kept-replayed", record.replayed) }</p>
            }
            <Link<Route> to={open}>{ t("kept-open") }<span class="visually-hidden">{ format!(": {}", record.household) }</span></Link<Route>>
        </div>
    }
}

/// Where a notice opens a household: to read at the desk, to edit on a phone.
fn household_route(session: &Session, document: &lots_core::DocumentId) -> Route {
    let id = document.to_string();
    if session.at_desk() {
        Route::ReadHousehold { id }
    } else {
        Route::Household { id }
    }
}

fn notice(session: &Session, record: &HeldBack) -> Html {
    let household = household_words(session, &record.document);
    let reason = reasons_in_words(&record.codes);
    let args = |key: &str| {
        i18n::t_args(
            key,
            &[
                ("household", household.clone().into()),
                ("reason", reason.clone().into()),
            ],
        )
    };
    let (class, text, next) = match record.verdict {
        Verdict::Waiting => ("notice", args("refused-notice"), t("refused-waiting")),
        Verdict::Rejected => (
            "notice rejected",
            args("refused-rejected"),
            t("refused-rejected-next"),
        ),
    };
    let open = household_route(session, &record.document);
    html! {
        <div key={record.document.to_string()} class={class} role="alert">
            <p>{ text }</p>
            <p class="meta">{ next }</p>
            <Link<Route> to={open}>{ t("refused-open") }<span class="visually-hidden">{ format!(": {household}") }</span></Link<Route>>
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

#[cfg(test)]
mod tests {
    use super::*;
    use lots_core::Timestamp;

    fn online() -> Status {
        Status {
            link: Connection::Online,
            waiting: 0,
            held_back: 0,
            unreadable: 0,
            kept: 0,
            quarantine_full: None,
            conflicts: 0,
            saving: 0,
            problem: None,
        }
    }

    #[test]
    fn synced_is_said_only_when_nothing_is_held_back_or_unreadable() {
        i18n::set_language(Language::Swedish);
        let (class, parts) = status_parts(&online());
        assert_eq!((class, parts), ("status ok", vec!["Synkat".to_owned()]));

        let held = Status {
            held_back: 1,
            ..online()
        };
        let (class, parts) = status_parts(&held);
        assert_eq!(class, "status attention");
        assert_eq!(parts, ["1 hushåll hålls tillbaka"]);

        let unreadable = Status {
            unreadable: 2,
            ..online()
        };
        let (_, parts) = status_parts(&unreadable);
        assert_eq!(parts, ["2 hushåll kan inte läsas"]);

        let full = Status {
            link: Connection::Offline(Timestamp::from_millis(0)),
            quarantine_full: Some(20),
            ..online()
        };
        let (class, parts) = status_parts(&full);
        assert_eq!(class, "status attention");
        assert_eq!(parts, ["Synkningen väntar på en arbetsledare"]);
    }
}

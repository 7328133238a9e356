//! The administrator's console: what an administrator sees instead of the field app or the
//! desk. Desktop first (1440×900), usable on a phone. Administrators see no household.
//!
//! - `users.rs` — every user: create, change name, role and districts, disable, reset a
//!   password.
//! - `districts.rs` — every district: create, rename.
//! - `devices.rs` — every user's devices: revoke a lost phone.
//! - `caseloads.rs` — who holds how many households per district, and those nobody holds.
//! - `retention.rs` — gallring (a dry run, then the run, on a decision), and removing one
//!   household on a decision.
//!
//! What a form sends and how a refusal reads is decided in `crate::admin`; these screens
//! only show it.

pub mod caseloads;
pub mod device_lock;
pub mod devices;
pub mod districts;
pub mod retention;
pub mod users;

use std::future::Future;
use std::rc::Rc;

use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{ApiError, Me};
use crate::components::choice::{Choice, languages};
use crate::i18n::{Language, t};

/// The console's addresses (after `#`).
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum AdminRoute {
    /// Users.
    #[at("/admin/users")]
    Users,
    /// Districts.
    #[at("/admin/districts")]
    Districts,
    /// Devices.
    #[at("/admin/devices")]
    Devices,
    /// The caseloads overview.
    #[at("/admin/caseloads")]
    Caseloads,
    /// Gallring and removal on a decision.
    #[at("/admin/retention")]
    Retention,
    /// Anything else: users.
    #[not_found]
    #[at("/")]
    Start,
}

/// The signed-in administrator and their language, provided to every section: each reads
/// it, so a change of language renders every section again.
#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    /// Who.
    pub me: Rc<Me>,
    /// The language in use.
    pub language: Language,
}

/// Something fetched from the server: `None` while it is on its way.
pub type Fetched<T> = Option<Result<T, String>>;

/// Fetches into `state`, the refusal in words when it fails.
pub fn fetch_into<T: 'static>(
    state: UseStateHandle<Fetched<T>>,
    fetch: impl Future<Output = Result<T, ApiError>> + 'static,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let fetched = fetch.await;
        state.set(Some(fetched.map_err(|error| crate::admin::explain(&error))));
    });
}

/// What became of the last thing the administrator did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done, in words.
    Done(String),
    /// Refused or failed, in words.
    Failed(String),
}

/// Shows an [`Outcome`]: as a status when done, as an alert when not.
pub fn outcome(said: &Option<Outcome>) -> Html {
    match said {
        None => html! {},
        Some(Outcome::Done(words)) => {
            html! { <p class="admin-done" role="status">{ words.clone() }</p> }
        }
        Some(Outcome::Failed(words)) => {
            html! { <p class="problem admin-failed" role="alert">{ words.clone() }</p> }
        }
    }
}

/// What is shown while a list is on its way, or why it is not.
pub fn loading_or_problem<T>(fetched: &Fetched<T>) -> Option<Html> {
    match fetched {
        None => Some(html! { <p class="meta" role="status">{ t("admin-loading") }</p> }),
        Some(Err(problem)) => {
            Some(html! { <p class="problem" role="alert">{ problem.clone() }</p> })
        }
        Some(Ok(_)) => None,
    }
}

/// A list of the console: a table with a caption and a header row of `columns` (message
/// keys), in a frame that scrolls sideways on a narrow screen.
pub fn admin_table(class: &'static str, caption: String, columns: &[&str], rows: Html) -> Html {
    html! {
        <div class="table-scroll">
            <table class={classes!("desk-table", "admin-table", class)}>
                <caption>{ caption }</caption>
                <thead>
                    <tr>
                        { for columns.iter().map(|key| html! { <th scope="col">{ t(key) }</th> }) }
                    </tr>
                </thead>
                <tbody>{ rows }</tbody>
            </table>
        </div>
    }
}

/// A form's field bound to state: calling it sets the field with `set`.
pub fn setter<T: Clone + 'static, V: 'static>(
    state: &UseStateHandle<T>,
    set: fn(&mut T, V),
) -> Callback<V> {
    let state = state.clone();
    Callback::from(move |value: V| {
        let mut next = (*state).clone();
        set(&mut next, value);
        state.set(next);
    })
}

/// A text field bound to state (see [`setter`]).
pub fn text_input<T: Clone + 'static>(
    state: &UseStateHandle<T>,
    set: fn(&mut T, String),
) -> Callback<InputEvent> {
    setter(state, set).reform(typed_text)
}

/// What a text field holds after the person typed in it.
pub fn typed_text(event: InputEvent) -> String {
    event
        .target_unchecked_into::<web_sys::HtmlInputElement>()
        .value()
}

/// Props of [`AdminConsole`].
#[derive(Properties, PartialEq)]
pub struct AdminConsoleProps {
    /// The administrator.
    pub me: Rc<Me>,
    /// The language in use.
    pub language: Language,
    /// Picks a language.
    pub on_language: Callback<Language>,
    /// Signs out.
    pub on_sign_out: Callback<()>,
}

/// The console, as the desk's binary registers it ([`crate::screens`]).
pub fn console(props: AdminConsoleProps) -> Html {
    html! { <AdminConsole ..props /> }
}

/// The console: its navigation, the section chosen, and who is signed in.
#[function_component(AdminConsole)]
pub fn admin_console(props: &AdminConsoleProps) -> Html {
    let context = Admin {
        me: props.me.clone(),
        language: props.language,
    };
    let on_language = props
        .on_language
        .reform(|tag: String| Language::from_tag(&tag));
    let sign_out = props.on_sign_out.reform(|_: MouseEvent| ());
    html! {
        <ContextProvider<Admin> {context}>
            <HashRouter>
                <header class="top admin-top">
                    <p class="admin-title">{ t("admin-title") }</p>
                    <AdminNav />
                </header>
                <main class="desk admin">
                    <Switch<AdminRoute> render={switch} />
                </main>
                <footer class="bottom">
                    <span>{ props.me.user.display_name.clone() }</span>
                    <label class="language">
                        <span class="visually-hidden">{ t("language") }</span>
                        <Choice label={t("language")} value={props.language.tag()} options={languages()} onchange={on_language} />
                    </label>
                    <button class="link" onclick={sign_out}>{ t("signout") }</button>
                </footer>
            </HashRouter>
        </ContextProvider<Admin>>
    }
}

/// The sections, as tabs.
#[function_component(AdminNav)]
fn admin_nav() -> Html {
    let _language = use_context::<Admin>().map(|admin| admin.language);
    let route = use_route::<AdminRoute>().unwrap_or(AdminRoute::Start);
    let tab = |to: AdminRoute, key: &str| {
        let active = route == to || (route == AdminRoute::Start && to == AdminRoute::Users);
        html! {
            <Link<AdminRoute> to={to} classes={classes!("tab", active.then_some("active"))}>
                { t(key) }
            </Link<AdminRoute>>
        }
    };
    html! {
        <nav aria-label={t("admin-title")} class="desk-nav">
            { tab(AdminRoute::Users, "admin-nav-users") }
            { tab(AdminRoute::Districts, "admin-nav-districts") }
            { tab(AdminRoute::Devices, "admin-nav-devices") }
            { tab(AdminRoute::Caseloads, "admin-nav-caseloads") }
            { tab(AdminRoute::Retention, "admin-nav-retention") }
        </nav>
    }
}

fn switch(route: AdminRoute) -> Html {
    match route {
        AdminRoute::Users | AdminRoute::Start => html! { <users::Users /> },
        AdminRoute::Districts => html! { <districts::Districts /> },
        AdminRoute::Devices => html! { <devices::Devices /> },
        AdminRoute::Caseloads => html! { <caseloads::CaseloadsView /> },
        AdminRoute::Retention => html! { <retention::RetentionView /> },
    }
}

//! Signing in, with a password or the organisation's identity provider: once online;
//! afterwards the app opens offline for the signed-in person.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::api::{self, ApiError, Me};
use crate::components::choice::{Choice, languages};
use crate::hooks::use_sign_in_options;
use crate::i18n::{Language, t, t1};

/// A sign-in the server accepted: who, and the password they typed, which protects what Lots
/// keeps on the device ([`crate::lock::secure`]); none through the identity provider.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedIn {
    /// Who signed in.
    pub me: Me,
    /// Their password.
    pub secret: Option<std::rc::Rc<str>>,
}

/// Props of [`SignIn`].
#[derive(Properties, PartialEq)]
pub struct SignInProps {
    /// Called with who signed in.
    pub on_signed_in: Callback<SignedIn>,
    /// The language in use.
    pub language: Language,
    /// Picks a language.
    pub on_language: Callback<Language>,
    /// A problem from outside the form (storage, or loading the app after signing in).
    #[prop_or_default]
    pub problem: Option<String>,
    /// Who signed in, while the app is on its way: the form is hidden, not gone.
    #[prop_or_default]
    pub welcome: Option<String>,
}

/// What the device is called in the person's device list: the browser's own description.
fn device_label() -> String {
    web_sys::window()
        .and_then(|window| window.navigator().user_agent().ok())
        .map(|agent| agent.chars().take(100).collect::<String>())
        .unwrap_or_default()
}

/// Signs in on the server, which registers this device under the browser's name for it
/// (or keeps `device`, signing in again on it).
async fn log_in(name: &str, secret: &str, device: Option<&str>) -> Result<Me, ApiError> {
    api::finish_sign_out().await;
    api::login(name.trim(), secret, &device_label(), device).await
}

/// The page's query parameter saying this device was wiped, and why
/// ([`crate::api::ShutOut::code`]).
pub const WIPED: &str = "wiped";

/// Why this device was just wiped, if the page's address says so (a [`crate::api::ShutOut`]
/// code, or [`crate::views::unlock::WIPED_BY_UNLOCKS`]), as the message to show; the mark
/// leaves the address, so a reload does not say it again.
fn wiped_because() -> Option<&'static str> {
    let window = web_sys::window()?;
    let search = window.location().search().ok()?;
    let code = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix(WIPED)?.strip_prefix('='))?;
    let message = match crate::api::ShutOut::from_code(code) {
        Some(crate::api::ShutOut::DeviceRevoked) => "wiped-device-revoked",
        Some(crate::api::ShutOut::UserDisabled) => "wiped-user-disabled",
        None if code == crate::views::unlock::WIPED_BY_UNLOCKS => "wiped-unlocks",
        None => return None,
    };
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    }
    Some(message)
}

/// Whether the page is the app's start after a sign-in with the identity provider (the
/// server set the session cookie and sent the browser here); the mark leaves the address,
/// so a reload does not count it twice.
pub fn returned_from_provider() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let returned = window
        .location()
        .search()
        .is_ok_and(|search| search.contains(api::SIGNED_IN_MARK));
    if returned && let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    }
    returned
}

/// The way to sign in with the organisation's identity provider: a plain link, so the
/// browser goes there top level (a pop-up fails in an installed iOS app).
fn provider_button(label: &str, device: Option<&str>) -> Html {
    html! {
        <a class="button primary wide provider" href={api::oidc_start_url(&device_label(), device)}>
            { t1("signin-with", "provider", label.to_owned()) }
        </a>
    }
}

/// A failed sign-in in words for the person.
fn problem(error: ApiError) -> String {
    match error {
        ApiError::Unauthorized => t("signin-failed"),
        ApiError::TooManyAttempts(seconds) => crate::i18n::t_args(
            "signin-throttled",
            &[("minutes", seconds.div_ceil(60).into())],
        ),
        other => t1("signin-error", "error", other.to_string()),
    }
}

/// Props of [`SignInAgain`].
#[derive(Properties, PartialEq)]
pub struct SignInAgainProps {
    /// Who is signed in on this device.
    pub me: std::rc::Rc<Me>,
    /// Called with the new sign-in, which is the same person's.
    pub on_signed_in: Callback<Me>,
}

/// Signing in again when the server no longer knows this device's sign-in (it expired, or
/// the device was removed from the person's list). Shown above the screen, which stays as
/// it is: a visit half typed is still there afterwards, and so is everything on the device.
/// Only the person already signed in here can do it; their unsynced changes are theirs.
#[function_component(SignInAgain)]
pub fn sign_in_again(props: &SignInAgainProps) -> Html {
    let options = use_sign_in_options();
    let password = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let password = password.clone();
        let (error, busy) = (error.clone(), busy.clone());
        let (me, on_signed_in) = (props.me.clone(), props.on_signed_in.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let secret = password
                .cast::<HtmlInputElement>()
                .map(|input| input.value())
                .unwrap_or_default();
            let (error, busy) = (error.clone(), busy.clone());
            let (me, on_signed_in) = (me.clone(), on_signed_in.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match log_in(&me.user.username, &secret, Some(&me.device_id)).await {
                    Ok(again) if again.user.id == me.user.id => on_signed_in.emit(again),
                    Ok(_) => error.set(Some(t("signin-failed"))),
                    Err(ApiError::Network(_)) => error.set(Some(t("signin-again-offline"))),
                    Err(other) => error.set(Some(problem(other))),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <section class="card signin-again" aria-labelledby="signin-again-title">
            <h2 id="signin-again-title">{ t("signin-again-title") }</h2>
            <p>{ t("signin-again-why") }</p>
            if let Some(provider) = options.as_ref().and_then(|options| options.oidc.as_ref()) {
                { provider_button(&provider.label, Some(&props.me.device_id)) }
            }
            <form {onsubmit} hidden={options.as_ref().is_some_and(|options| !options.password)}>
                <label for="again-username">{ t("signin-username") }</label>
                <input id="again-username" autocomplete="username" readonly=true value={props.me.user.username.clone()} />
                <label for="again-password">{ t("signin-password") }</label>
                <input id="again-password" ref={password} type="password" autocomplete="current-password" required=true />
                if let Some(message) = error.as_ref() {
                    <p class="problem" role="alert">{ message.clone() }</p>
                }
                <button class="primary" type="submit" disabled={*busy}>{ t("signin-submit") }</button>
            </form>
        </section>
    }
}

/// The sign-in form.
#[function_component(SignIn)]
pub fn sign_in(props: &SignInProps) -> Html {
    let username = use_node_ref();
    let password = use_node_ref();
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let options = use_sign_in_options();
    let wiped = use_state(wiped_because);
    {
        // Back from the identity provider, signed in: who it is, as after a password.
        let (error, busy) = (error.clone(), busy.clone());
        let on_signed_in = props.on_signed_in.clone();
        use_effect_with((), move |_| {
            let returned = returned_from_provider();
            busy.set(returned);
            wasm_bindgen_futures::spawn_local(async move {
                // A sign-out made offline ends its session first: a cookie it left must
                // not sign anybody in.
                api::finish_sign_out().await;
                if returned {
                    match api::me().await {
                        Ok(me) => on_signed_in.emit(SignedIn { me, secret: None }),
                        Err(ApiError::Network(_)) => error.set(Some(t("signin-offline"))),
                        Err(other) => error.set(Some(problem(other))),
                    }
                }
                busy.set(false);
            });
            // The network back: a sign-out still waiting goes at once.
            let online = web_sys::window().map(|window| {
                gloo::events::EventListener::new(&window, "online", |_| {
                    wasm_bindgen_futures::spawn_local(api::finish_sign_out());
                })
            });
            move || drop(online)
        });
    }
    let provider = options.as_ref().and_then(|options| options.oidc.clone());
    let password_allowed = options.as_ref().is_none_or(|options| options.password);
    let onsubmit = {
        let (username, password) = (username.clone(), password.clone());
        let (error, busy) = (error.clone(), busy.clone());
        let on_signed_in = props.on_signed_in.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let read = crate::views::input_value;
            let (name, secret) = (read(&username), read(&password));
            let (error, busy, on_signed_in) = (error.clone(), busy.clone(), on_signed_in.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match log_in(&name, &secret, None).await {
                    Ok(me) => on_signed_in.emit(SignedIn {
                        me,
                        secret: Some(secret.into()),
                    }),
                    Err(ApiError::Network(_)) => error.set(Some(t("signin-offline"))),
                    Err(other) => error.set(Some(problem(other))),
                }
                busy.set(false);
            });
        })
    };
    let on_language = props
        .on_language
        .reform(|tag: String| Language::from_tag(&tag));
    html! {
        <main class="signin">
            <h1>{ t("app-name") }</h1>
            <p class="tagline">{ t("app-tagline") }</p>
            if let Some(why) = *wiped {
                <p class="card notice wiped" role="status">{ t(why) }</p>
            }
            if let Some(name) = &props.welcome {
                <div class="card" role="status">
                    <h2>{ t1("boot-welcome", "name", name.clone()) }</h2>
                    <p>{ t("boot-loading") }</p>
                </div>
            }
            <form {onsubmit} class="card" hidden={props.welcome.is_some()}>
                <h2>{ t("signin-title") }</h2>
                if let Some(provider) = &provider {
                    { provider_button(&provider.label, None) }
                    if password_allowed {
                        <p class="or">{ t("signin-or-password") }</p>
                    }
                }
                if password_allowed {
                    <label for="username">{ t("signin-username") }</label>
                    <input id="username" ref={username} autocomplete="username" autocapitalize="none" required=true />
                    <label for="password">{ t("signin-password") }</label>
                    <input id="password" ref={password} type="password" autocomplete="current-password" required=true />
                }
                if let Some(message) = error.as_ref().or(props.problem.as_ref()) {
                    <p class="problem" role="alert">{ message.clone() }</p>
                }
                if password_allowed {
                    <button class="primary" type="submit" disabled={*busy}>{ t("signin-submit") }</button>
                }
            </form>
            <label class="language" hidden={props.welcome.is_some()}>
                { t("language") }{ " " }
                <Choice value={props.language.tag()} options={languages()} onchange={on_language} />
            </label>
        </main>
    }
}

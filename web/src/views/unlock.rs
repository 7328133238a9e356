//! The locked app: the unlock form, the only thing on the screen, and choosing a passphrase
//! for a device whose person signs in through the identity provider (and has no Lots
//! password to protect it with).

use yew::prelude::*;

use crate::api::Me;
use crate::i18n::{t, t_args};
use crate::lock::{self, UnlockError};
use crate::storage::Storage;
use crate::vault::{MAX_FAILED_UNLOCKS, MIN_SECRET_CHARS, SecretProblem, check_secret};

/// The page's query parameter value after ten wrong unlocks erased the device.
pub const WIPED_BY_UNLOCKS: &str = "unlocks";

/// Props of [`Unlock`].
#[derive(Properties, PartialEq)]
pub struct UnlockProps {
    /// The device's storage, locked.
    pub storage: Storage,
    /// Called with the unlocked storage and who is signed in.
    pub on_unlocked: Callback<(Storage, Me)>,
    /// Wrong unlocks so far (from the keyring), for the warning before the first new try.
    pub failed: u32,
    /// Whether the device has a passkey for the quick unlock.
    pub passkey: bool,
}

/// What a failed unlock says.
fn explain(error: &UnlockError) -> String {
    match error {
        UnlockError::Wrong { left, waiting }
            if lock::warn_left(MAX_FAILED_UNLOCKS.saturating_sub(*left)).is_some() =>
        {
            t_args(
                "unlock-wrong-left",
                &[("left", (*left).into()), ("waiting", (*waiting).into())],
            )
        }
        UnlockError::Wrong { .. } => t("unlock-wrong"),
        UnlockError::Wiped => t("unlock-wiped"),
        UnlockError::OfflineTooLong { days } => {
            t_args("unlock-offline-too-long", &[("days", (*days).into())])
        }
        UnlockError::Passkey(words) => {
            crate::i18n::t1("unlock-passkey-failed", "error", words.clone())
        }
        UnlockError::Device(words) => words.clone(),
    }
}

/// The unlock form.
#[function_component(Unlock)]
pub fn unlock(props: &UnlockProps) -> Html {
    let secret = use_node_ref();
    let add_passkey = use_node_ref();
    let problem = use_state(|| {
        lock::warn_left(props.failed).map(|left| t_args("unlock-left", &[("left", left.into())]))
    });
    let busy = use_state(|| false);
    // Runs one unlock (the password's or the passkey's) and says how it went.
    let attempt = {
        let (problem, busy) = (problem.clone(), busy.clone());
        let (storage, on_unlocked) = (props.storage.clone(), props.on_unlocked.clone());
        move |password: Option<(String, bool)>| {
            let (problem, busy, storage, on_unlocked) = (
                problem.clone(),
                busy.clone(),
                storage.clone(),
                on_unlocked.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                // The device's own clock: the server's offset is sealed until unlocked.
                let now = js_sys::Date::now() as i64;
                let unlocked = match &password {
                    Some((typed, add_passkey)) => {
                        lock::unlock(&storage, typed, *add_passkey, now).await
                    }
                    None => lock::unlock_with_passkey(&storage, now).await,
                };
                match unlocked {
                    Ok(unlocked) => on_unlocked.emit(unlocked),
                    Err(UnlockError::Wiped) => {
                        if let Some(window) = web_sys::window() {
                            let address =
                                format!("/?{}={WIPED_BY_UNLOCKS}", crate::views::signin::WIPED);
                            let _ = window.location().replace(&address);
                        }
                    }
                    Err(error) => problem.set(Some(explain(&error))),
                }
                busy.set(false);
            });
        }
    };
    let onsubmit = {
        let (secret, add_passkey, attempt) = (secret.clone(), add_passkey.clone(), attempt.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let typed = crate::views::input_value(&secret);
            let with_passkey = add_passkey
                .cast::<web_sys::HtmlInputElement>()
                .is_some_and(|input| input.checked());
            if let Some(input) = secret.cast::<web_sys::HtmlInputElement>() {
                input.set_value("");
            }
            attempt(Some((typed, with_passkey)));
        })
    };
    let on_passkey = Callback::from(move |_: MouseEvent| attempt(None));
    let offer_passkey = !props.passkey && crate::passkey::supported();
    // Forgotten: how much a wipe would lose, once asked.
    let forgot = use_state(|| None::<u32>);
    let on_forgot = {
        let (forgot, storage) = (forgot.clone(), props.storage.clone());
        Callback::from(move |_: MouseEvent| {
            let (forgot, storage) = (forgot.clone(), storage.clone());
            wasm_bindgen_futures::spawn_local(async move {
                forgot.set(Some(storage.waiting().await.unwrap_or(0)));
            });
        })
    };
    let on_erase = {
        let (problem, storage) = (problem.clone(), props.storage.clone());
        Callback::from(move |_: MouseEvent| {
            let (problem, storage) = (problem.clone(), storage.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match lock::leave_device(&storage, None).await {
                    Ok(()) => {
                        if let Some(window) = web_sys::window() {
                            let _ = window.location().replace("/");
                        }
                    }
                    Err(error) => problem.set(Some(error.to_string())),
                }
            });
        })
    };
    html! {
        <main class="signin unlock">
            <h1>{ t("app-name") }</h1>
            <form {onsubmit} class="card" aria-describedby="unlock-why">
                <h2>{ t("unlock-title") }</h2>
                <p id="unlock-why">{ t("unlock-why") }</p>
                <label for="unlock-secret">{ t("unlock-secret") }</label>
                <input id="unlock-secret" ref={secret} type="password" autocomplete="current-password"
                    required=true autofocus=true />
                if offer_passkey {
                    <label class="check">
                        <input type="checkbox" ref={add_passkey} />
                        { t("unlock-add-passkey") }
                    </label>
                }
                if let Some(message) = problem.as_ref() {
                    <p class="problem" role="alert">{ message.clone() }</p>
                }
                <button class="primary" type="submit" disabled={*busy}>
                    { if *busy { t("unlock-busy") } else { t("unlock-submit") } }
                </button>
                if props.passkey {
                    <button class="passkey" type="button" onclick={on_passkey} disabled={*busy}>
                        { t("unlock-with-passkey") }
                    </button>
                }
            </form>
            if let Some(waiting) = *forgot {
                <section class="card forgot" aria-labelledby="forgot-title">
                    <h2 id="forgot-title">{ t("unlock-forgot") }</h2>
                    <p>{ t("unlock-forgot-why") }</p>
                    if waiting > 0 {
                        <p class="problem">{ t_args("unlock-forgot-waiting", &[("waiting", waiting.into())]) }</p>
                    }
                    <button class="danger" type="button" onclick={on_erase}>{ t("unlock-erase") }</button>
                </section>
            } else {
                <button class="link" type="button" onclick={on_forgot}>{ t("unlock-forgot") }</button>
            }
        </main>
    }
}

/// Props of [`ChoosePassphrase`].
#[derive(Properties, PartialEq)]
pub struct ChoosePassphraseProps {
    /// Called with the chosen passphrase.
    pub on_chosen: Callback<String>,
    /// A problem from outside the form (storage, WebCrypto).
    #[prop_or_default]
    pub problem: Option<String>,
}

/// Choosing the passphrase that protects what Lots keeps on this device.
#[function_component(ChoosePassphrase)]
pub fn choose_passphrase(props: &ChoosePassphraseProps) -> Html {
    let first = use_node_ref();
    let again = use_node_ref();
    let problem = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (first, again) = (first.clone(), again.clone());
        let (problem, busy) = (problem.clone(), busy.clone());
        let on_chosen = props.on_chosen.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let read = crate::views::input_value;
            let (chosen, repeated) = (read(&first), read(&again));
            let words = match check_secret(&chosen) {
                Err(SecretProblem::TooShort) => Some(t_args(
                    "passphrase-too-short",
                    &[("count", MIN_SECRET_CHARS.into())],
                )),
                Err(SecretProblem::TooSimple) => Some(t("passphrase-too-simple")),
                Ok(()) if chosen != repeated => Some(t("passphrase-differ")),
                Ok(()) => None,
            };
            if words.is_some() {
                return problem.set(words);
            }
            busy.set(true);
            problem.set(None);
            on_chosen.emit(chosen);
        })
    };
    html! {
        <main class="signin passphrase">
            <h1>{ t("app-name") }</h1>
            <form {onsubmit} class="card" aria-describedby="passphrase-why">
                <h2>{ t("passphrase-title") }</h2>
                <p id="passphrase-why">{ t("passphrase-why") }</p>
                <label for="passphrase">{ t("passphrase-new") }</label>
                <input id="passphrase" ref={first} type="password" autocomplete="new-password" required=true
                    minlength={MIN_SECRET_CHARS.to_string()} aria-describedby="passphrase-hint" />
                <p class="meta" id="passphrase-hint">{ t_args("passphrase-hint", &[("count", MIN_SECRET_CHARS.into())]) }</p>
                <label for="passphrase-again">{ t("passphrase-repeat") }</label>
                <input id="passphrase-again" ref={again} type="password" autocomplete="new-password" required=true />
                if let Some(message) = problem.as_ref().or(props.problem.as_ref()) {
                    <p class="problem" role="alert">{ message.clone() }</p>
                }
                <button class="primary" type="submit" disabled={*busy && props.problem.is_none()}>{ t("passphrase-submit") }</button>
            </form>
        </main>
    }
}

//! Choosing a new password after signing in with a temporary one an administrator gave:
//! shown before anything else, for every role, until the server has the new password.

use yew::prelude::*;

use crate::admin::{MIN_PASSWORD_CHARS, check_new_password, explain};
use crate::api::{self, ApiError};
use crate::i18n::{t, t_args, t1};

/// Props of [`ChoosePassword`].
#[derive(Properties, PartialEq)]
pub struct ChoosePasswordProps {
    /// Who is signed in, by name.
    pub name: AttrValue,
    /// Their username (for the browser's password manager).
    pub username: AttrValue,
    /// Called once the server has the new password, with the old one and the new: the
    /// device's key is wrapped with the new one.
    pub on_changed: Callback<(String, String)>,
    /// Signs out instead.
    pub on_sign_out: Callback<()>,
}

/// The "choose a new password" form.
#[function_component(ChoosePassword)]
pub fn choose_password(props: &ChoosePasswordProps) -> Html {
    let current = use_node_ref();
    let new = use_node_ref();
    let repeated = use_node_ref();
    let problem = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (current, new, repeated) = (current.clone(), new.clone(), repeated.clone());
        let (problem, busy) = (problem.clone(), busy.clone());
        let on_changed = props.on_changed.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let read = crate::views::input_value;
            let (old, chosen, again) = (read(&current), read(&new), read(&repeated));
            if let Err(words) = check_new_password(&old, &chosen, &again) {
                return problem.set(Some(words));
            }
            let (problem, busy, on_changed) = (problem.clone(), busy.clone(), on_changed.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::change_password(&old, &chosen).await {
                    Ok(()) => on_changed.emit((old, chosen)),
                    Err(ApiError::Refused { code, .. }) if code == "wrong_password" => {
                        problem.set(Some(t("password-current-wrong")));
                    }
                    Err(error) => problem.set(Some(explain(&error))),
                }
                busy.set(false);
            });
        })
    };
    let sign_out = props.on_sign_out.reform(|_: MouseEvent| ());
    html! {
        <main class="signin choose-password">
            <h1>{ t("app-name") }</h1>
            <form {onsubmit} class="card" aria-describedby="password-why">
                <h2>{ t("password-title") }</h2>
                <p id="password-why">{ t1("password-why", "name", props.name.to_string()) }</p>
                <input type="text" autocomplete="username" value={props.username.clone()} hidden=true readonly=true aria-hidden="true" tabindex="-1" />
                <label for="current-password">{ t("password-current") }</label>
                <input id="current-password" ref={current} type="password" autocomplete="current-password" required=true />
                <label for="new-password">{ t("password-new") }</label>
                <input id="new-password" ref={new} type="password" autocomplete="new-password" required=true
                    minlength={MIN_PASSWORD_CHARS.to_string()} aria-describedby="new-password-hint" />
                <p class="meta" id="new-password-hint">{ t_args("password-hint", &[("count", MIN_PASSWORD_CHARS.into())]) }</p>
                <label for="repeat-password">{ t("password-repeat") }</label>
                <input id="repeat-password" ref={repeated} type="password" autocomplete="new-password" required=true />
                if let Some(message) = problem.as_ref() {
                    <p class="problem" role="alert">{ message.clone() }</p>
                }
                <button class="primary" type="submit" disabled={*busy}>{ t("password-submit") }</button>
            </form>
            <button class="link" type="button" onclick={sign_out}>{ t("signout") }</button>
        </main>
    }
}

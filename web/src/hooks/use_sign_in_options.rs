//! How one may sign in, asked of the server when the sign-in form shows.

use yew::prelude::*;

use crate::api;

/// How one may sign in, as the server says; `None` until it has answered (offline: the
/// password form alone, which says that signing in needs a connection).
#[hook]
pub fn use_sign_in_options() -> UseStateHandle<Option<api::SignInOptions>> {
    let options = use_state(|| None::<api::SignInOptions>);
    {
        let options = options.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(found) = api::sign_in_options().await {
                    options.set(Some(found));
                }
            });
        });
    }
    options
}

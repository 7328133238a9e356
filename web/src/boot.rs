//! Which app a page starts: the sign-in alone, or the whole app (the phone's or the desk's:
//! see [`crate::screens`]).
//!
//! The whole app (automerge, the engine, every screen) is about 700 KB of WebAssembly. A
//! phone's first visit, on a slow network, should not wait for all of it just to show a
//! sign-in form. So the build has a second, small binary (`src/bin/lots-signin.rs`) holding
//! only the sign-in: the form, the translations, the login call and IndexedDB's "who is signed
//! in". The page's start-up script (`web/boot.js`) starts it when nobody is signed in on the
//! device, and fetches the whole app while the person types. Once they are signed in, the
//! sign-in app stops and the script starts the whole app, which finds them in storage exactly
//! as after a reload.
//!
//! The script tells the two apart by a flag in `localStorage` ([`SIGNED_IN`](crate::screens::SIGNED_IN)), which both apps
//! keep in step with storage. The flag is only a hint: the sign-in app still looks in
//! storage, and hands over at once if somebody is signed in after all.

use std::cell::RefCell;

use yew::prelude::*;

use crate::api::Me;
use crate::i18n::{self, Language};
use crate::screens::mark_signed_in;
use crate::session::ME;
use crate::storage::Storage;
use crate::views;

/// The event the sign-in app sends the start-up script when the person is signed in.
pub const SIGNED_IN_EVENT: &str = "lots:signed-in";

thread_local! {
    /// The running sign-in app, to stop when the whole app takes over.
    static SIGN_IN_APP: RefCell<Option<yew::AppHandle<SignInApp>>> = const { RefCell::new(None) };
    /// Shows why the whole app did not start.
    static NOT_STARTED: RefCell<Option<Callback<String>>> = const { RefCell::new(None) };
}

/// Starts the sign-in alone in the page (the `lots-signin` binary). It registers no service
/// worker: the whole app does when it starts, once the browser has its files.
pub fn start_sign_in() {
    let handle = yew::Renderer::<SignInApp>::new().render();
    SIGN_IN_APP.with(|app| *app.borrow_mut() = Some(handle));
}

/// Stops the sign-in app and empties the page for the whole app.
pub fn stop_sign_in() {
    if let Some(handle) = SIGN_IN_APP.with(|app| app.borrow_mut().take()) {
        handle.destroy();
    }
}

/// Shows, in the sign-in app, that the whole app could not be loaded.
pub fn app_not_started(reason: String) {
    if let Some(show) = NOT_STARTED.with(|callback| callback.borrow().clone()) {
        show.emit(reason);
    }
}

/// Tells the start-up script to start the whole app.
fn hand_over() {
    if let Some(window) = web_sys::window()
        && let Ok(event) = web_sys::Event::new(SIGNED_IN_EVENT)
    {
        let _ = window.dispatch_event(&event);
    }
}

/// Who is signed in on this device, if anybody.
async fn signed_in() -> Result<Option<Me>, String> {
    let storage = Storage::open().await.map_err(|error| error.to_string())?;
    let me = storage.meta::<Me>(ME).await;
    storage.close();
    me.map_err(|error| error.to_string())
}

/// Keeps who signed in, for the whole app to find.
async fn remember(me: &Me) -> Result<(), String> {
    let storage = Storage::open().await.map_err(|error| error.to_string())?;
    let saved = storage.set_meta(ME, Some(me)).await;
    storage.close();
    saved.map_err(|error| error.to_string())?;
    mark_signed_in(Some(me));
    Ok(())
}

/// The sign-in app: the form and the language picker; once signed in, a word that the app
/// is on its way (on a slow network it may still be arriving).
#[function_component(SignInApp)]
pub fn sign_in_app() -> Html {
    let language = use_state(i18n::stored_language);
    let problem = use_state(|| None::<String>);
    // Who signed in, while the whole app is awaited.
    let welcome = use_state(|| None::<String>);
    i18n::set_language(*language);
    {
        let (problem, welcome) = (problem.clone(), welcome.clone());
        use_effect_with((), move |_| {
            NOT_STARTED.with(|callback| {
                let problem = problem.clone();
                *callback.borrow_mut() = Some(Callback::from(move |reason: String| {
                    welcome.set(None);
                    problem.set(Some(i18n::t1("boot-app-not-loaded", "error", reason)));
                }));
            });
            // Somebody signed in whom the flag did not show (it was cleared, or the device
            // was signed in by an older version): the whole app, at once.
            wasm_bindgen_futures::spawn_local(async move {
                match signed_in().await {
                    Ok(Some(me)) => {
                        mark_signed_in(Some(&me));
                        hand_over();
                    }
                    Ok(None) => {}
                    Err(error) => problem.set(Some(error)),
                }
            });
            || NOT_STARTED.with(|callback| *callback.borrow_mut() = None)
        });
    }
    let on_signed_in = {
        let (problem, welcome) = (problem.clone(), welcome.clone());
        Callback::from(move |me: Me| {
            let (problem, welcome) = (problem.clone(), welcome.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match remember(&me).await {
                    Ok(()) => {
                        problem.set(None);
                        welcome.set(Some(me.user.display_name.clone()));
                        hand_over();
                    }
                    Err(error) => problem.set(Some(error)),
                }
            });
        })
    };
    let on_language = {
        let language = language.clone();
        Callback::from(move |chosen: Language| {
            i18n::choose_language(chosen);
            language.set(chosen);
        })
    };
    // The form stays (hidden) while the app is awaited: if it cannot be fetched, the person
    // tries again with what they typed.
    html! {
        <views::signin::SignIn {on_signed_in} language={*language} {on_language}
            problem={(*problem).clone()} welcome={(*welcome).clone()} />
    }
}

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
use std::rc::Rc;

use yew::prelude::*;

use crate::api::Me;
use crate::i18n::{self, Language};
use crate::lock::{self, Secured};
use crate::screens::mark_signed_in;
use crate::storage::Storage;
use crate::views;
use crate::views::signin::SignedIn;

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

/// Whether somebody is signed in on this device: it holds a key (or data from before keys).
async fn signed_in() -> Result<bool, String> {
    let storage = Storage::open().await.map_err(|error| error.to_string())?;
    let found = async {
        Ok::<_, crate::storage::StorageError>(
            storage.keyring().await?.is_some() || storage.has_legacy().await?,
        )
    }
    .await;
    storage.close();
    found.map_err(|error| error.to_string())
}

/// What the sign-in app shows.
#[derive(Clone, PartialEq)]
enum Step {
    /// The form.
    SignIn,
    /// Signed in through the identity provider on a device without a key: a passphrase.
    ChoosePassphrase(Rc<Me>),
    /// Signed in: the whole app is on its way.
    Welcome(String),
}

/// After a sign-in: the device's key opened or made ([`lock::secure`]), then the whole app.
/// `Ok(Some(me))` asks for a passphrase first.
async fn take_device(signed_in: &SignedIn) -> Result<Option<Me>, String> {
    let storage = Storage::open().await.map_err(|error| error.to_string())?;
    let now = js_sys::Date::now() as i64;
    let secured = lock::secure(&storage, &signed_in.me, signed_in.secret.as_deref(), now).await;
    let result = match secured {
        Ok(Secured::Unlocked(unlocked)) => {
            unlocked.hand_over_key();
            Ok(None)
        }
        Ok(Secured::Locked) => {
            lock::hand_over_sign_in(&signed_in.me);
            Ok(None)
        }
        Ok(Secured::ChoosePassphrase) => Ok(Some(signed_in.me.clone())),
        Err(error) => Err(error.words()),
    };
    storage.close();
    result
}

/// A passphrase chosen for the device: its key made, then the whole app.
async fn protect_with(me: &Me, passphrase: &str) -> Result<(), String> {
    let storage = Storage::open().await.map_err(|error| error.to_string())?;
    let now = js_sys::Date::now() as i64;
    let made = lock::create(&storage, me, passphrase, now).await;
    storage.close();
    made.map_err(|error| error.to_string())?.hand_over_key();
    mark_signed_in(Some(me));
    Ok(())
}

/// The sign-in app: the form and the language picker; once signed in, a word that the app
/// is on its way (on a slow network it may still be arriving).
#[function_component(SignInApp)]
pub fn sign_in_app() -> Html {
    let language = use_state(i18n::stored_language);
    let problem = use_state(|| None::<String>);
    let step = use_state(|| Step::SignIn);
    i18n::set_language(*language);
    {
        let (problem, step) = (problem.clone(), step.clone());
        use_effect_with((), move |_| {
            NOT_STARTED.with(|callback| {
                let problem = problem.clone();
                *callback.borrow_mut() = Some(Callback::from(move |reason: String| {
                    step.set(Step::SignIn);
                    problem.set(Some(i18n::t1("boot-app-not-loaded", "error", reason)));
                }));
            });
            // Somebody signed in whom the flag did not show (it was cleared, or the device
            // was signed in by an older version): the whole app, at once, which unlocks.
            wasm_bindgen_futures::spawn_local(async move {
                match signed_in().await {
                    Ok(true) => hand_over(),
                    Ok(false) => {}
                    Err(error) => problem.set(Some(error)),
                }
            });
            || NOT_STARTED.with(|callback| *callback.borrow_mut() = None)
        });
    }
    let on_signed_in = {
        let (problem, step) = (problem.clone(), step.clone());
        Callback::from(move |signed_in: SignedIn| {
            let (problem, step) = (problem.clone(), step.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match take_device(&signed_in).await {
                    Ok(None) => {
                        problem.set(None);
                        step.set(Step::Welcome(signed_in.me.user.display_name.clone()));
                        hand_over();
                    }
                    Ok(Some(me)) => step.set(Step::ChoosePassphrase(Rc::new(me))),
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
    if let Step::ChoosePassphrase(me) = &*step {
        let on_chosen = {
            let (problem, step, me) = (problem.clone(), step.clone(), me.clone());
            Callback::from(move |passphrase: String| {
                let (problem, step, me) = (problem.clone(), step.clone(), me.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    match protect_with(&me, &passphrase).await {
                        Ok(()) => {
                            problem.set(None);
                            step.set(Step::Welcome(me.user.display_name.clone()));
                            hand_over();
                        }
                        Err(error) => problem.set(Some(error)),
                    }
                });
            })
        };
        return html! {
            <views::unlock::ChoosePassphrase {on_chosen} problem={(*problem).clone()} />
        };
    }
    let welcome = match &*step {
        Step::Welcome(name) => Some(name.clone()),
        _ => None,
    };
    // The form stays (hidden) while the app is awaited: if it cannot be fetched, the person
    // tries again with what they typed.
    html! {
        <views::signin::SignIn {on_signed_in} language={*language} {on_language}
            problem={(*problem).clone()} {welcome} />
    }
}

//! The root: start-up (open storage, find who is signed in), sign-in, a new password after
//! a temporary one, the administrator's console, and the signed-in shell with its routes.

use std::rc::Rc;

use lots_core::PeerId;
use lots_core::api::Role;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, Me};
use crate::engine::Engine;
use crate::i18n::{self, Language, t};
use crate::lock::{self, SecureError, Secured};
use crate::screens::{self, mark_signed_in};
use crate::session::{ME, Session};
use crate::storage::Storage;
use crate::views;
use crate::views::signin::SignedIn;

enum Phase {
    Starting,
    Failed(String),
    SignedOut(Storage),
    /// The device holds a person's data, sealed: only the unlock form. `returned` when the
    /// page is the return from the identity provider.
    Locked {
        storage: Storage,
        failed: u32,
        passkey: bool,
        returned: bool,
        /// A sign-in made just now that the key could not follow: taken once unlocked.
        signed_in: Option<Rc<Me>>,
    },
    /// A key to make: signed in through the identity provider on a device without one, or
    /// a device whose data an older version kept unsealed.
    ChoosePassphrase(Storage, Me),
    /// Signed in with a temporary password: a new one first, before anything else.
    ChoosePassword(Storage, Me),
    /// An administrator: the console, with no households and no sync.
    Admin(Storage, Rc<Me>),
    SignedIn(Session),
}

/// Where the app starts: the unlock form when the device holds somebody's key (unlocked at
/// once with the key the sign-in left in the page), a passphrase for data an older version
/// kept unsealed, otherwise the sign-in.
async fn start(storage: Storage, returned: bool) -> Phase {
    let keyring = match storage.keyring().await {
        Ok(keyring) => keyring,
        Err(error) => return Phase::Failed(error.to_string()),
    };
    if let Some(keyring) = keyring {
        lock::follow(keyring.policy);
        let Some(key) = lock::handed_over() else {
            return Phase::Locked {
                storage,
                failed: keyring.failed,
                passkey: keyring.passkey.is_some(),
                returned,
                signed_in: lock::handed_over_sign_in().map(Rc::new),
            };
        };
        let unlocked = storage.unlocked(key);
        return match unlocked.meta::<Me>(ME).await {
            Ok(Some(me)) => arrive(unlocked, me, returned).await,
            Ok(None) => Phase::Failed(t("unlock-no-person")),
            Err(error) => Phase::Failed(error.to_string()),
        };
    }
    match storage.has_legacy().await {
        Ok(true) => match storage.legacy_meta::<Me>(ME).await {
            Ok(Some(me)) => return Phase::ChoosePassphrase(storage, me),
            Ok(None) => {}
            Err(error) => return Phase::Failed(error.to_string()),
        },
        Ok(false) => {}
        Err(error) => return Phase::Failed(error.to_string()),
    }
    mark_signed_in(None);
    Phase::SignedOut(storage)
}

/// Unlocked: unless the page is the return from the identity provider signed in as somebody
/// else (this device and what is on it stay its person's), on to [`enter`].
async fn arrive(storage: Storage, me: Me, returned: bool) -> Phase {
    if returned
        && let Ok(signed_in) = api::me().await
        && signed_in.user.id != me.user.id
    {
        let _ = api::logout().await;
        return Phase::Failed(i18n::t1(
            "signin-again-other-person",
            "name",
            me.user.display_name.clone(),
        ));
    }
    enter(storage, me).await
}

/// After a sign-in in this app: the device's key opened or made, as in the sign-in app
/// ([`crate::boot`]).
async fn take_device(storage: Storage, signed_in: SignedIn) -> Phase {
    let now = js_sys::Date::now() as i64;
    match lock::secure(&storage, &signed_in.me, signed_in.secret.as_deref(), now).await {
        Ok(Secured::Unlocked(unlocked)) => enter(unlocked, signed_in.me).await,
        Ok(Secured::Locked) => {
            let keyring = match storage.keyring().await {
                Ok(keyring) => keyring,
                Err(error) => return Phase::Failed(error.to_string()),
            };
            Phase::Locked {
                storage,
                failed: keyring.as_ref().map_or(0, |keyring| keyring.failed),
                passkey: keyring.is_some_and(|keyring| keyring.passkey.is_some()),
                returned: false,
                signed_in: Some(Rc::new(signed_in.me)),
            }
        }
        Ok(Secured::ChoosePassphrase) => Phase::ChoosePassphrase(storage, signed_in.me),
        Err(error) => Phase::Failed(error.words()),
    }
}

/// Where a person signed in on this device goes: choosing a new password when theirs is
/// temporary, the desk's app when this page runs the phone's and they work at a desk, the
/// console when they administer, otherwise their households (with sync).
async fn enter(storage: Storage, me: Me) -> Phase {
    if me.must_change_password {
        return Phase::ChoosePassword(storage, me);
    }
    // The flag names the app this person works in, for this start-up check and the next
    // start (a staff member in the desk's app gets the phone's, the smaller, next time).
    let flagged = screens::flagged();
    mark_signed_in(Some(&me));
    if screens::App::for_person(&me) == screens::App::Desk
        && screens::App::running() == screens::App::Field
    {
        // Had the flag already named the desk's app, the start-up script would have started
        // it: loading the page again would only do the same.
        if flagged == Some(screens::App::Desk) {
            return Phase::Failed(t("desk-not-loaded"));
        }
        start_afresh();
        return Phase::Starting;
    }
    if me.user.role == Role::Admin {
        check_password_in_background(storage.clone(), me.clone(), None);
        return Phase::Admin(storage, Rc::new(me));
    }
    match begin(storage.clone(), me.clone()).await {
        Ok(session) => {
            check_password_in_background(storage, me, Some(session.engine.clone()));
            Phase::SignedIn(session)
        }
        Err(error) => Phase::Failed(error),
    }
}

/// Asks the server, without holding up the start (the app opens offline), whether this
/// person must choose a new password after all: an administrator reset it since this device
/// signed in. If so, the device remembers it and the app starts afresh, which asks for one.
fn check_password_in_background(storage: Storage, me: Me, engine: Option<Engine>) {
    wasm_bindgen_futures::spawn_local(async move {
        if !matches!(api::must_change_password().await, Ok(true)) {
            return;
        }
        let me = Me {
            must_change_password: true,
            ..me
        };
        if storage.set_meta(ME, Some(&me)).await.is_ok() {
            if let Some(engine) = engine {
                engine.end();
            }
            start_afresh();
        }
    });
}

/// Signs out of a session that has no engine (the console, or before a new password): the
/// server forgets it, the device forgets who it was, and the page starts afresh.
fn sign_out_without_engine(storage: Storage, phase: UseStateHandle<Phase>) {
    wasm_bindgen_futures::spawn_local(async move {
        match lock::leave_device(&storage, None).await {
            Ok(()) => start_afresh(),
            Err(error) => phase.set(Phase::Failed(error.to_string())),
        }
    });
}

/// Opens the engine for a signed-in person and starts syncing.
async fn begin(storage: Storage, me: Me) -> Result<Session, String> {
    let peer = PeerId::new(format!("phone-{}", me.device_id))
        .ok_or_else(|| "the device id is not usable as a peer id".to_owned())?;
    let reads = crate::reads::ReadLog::load(storage.clone()).await;
    let engine = Engine::open(storage, peer, api::sync_url())
        .await
        .map_err(|error| error.to_string())?;
    // Who the app makes actions again as, after a supervisor rejected a change.
    engine.set_writer(me.writer());
    // The caseload's households this device does not have are asked for on each connection;
    // fetching the list now saves the first connection a round trip.
    engine.refresh_caseload();
    // The server's clock, to sign with: learned again on every connection.
    engine.refresh_clock();
    engine.connect();
    reads.flush();
    watch_connectivity(&engine, &reads);
    Ok(Session {
        me: Rc::new(me),
        engine,
        reads,
        revision: 0,
    })
}

/// Reconnects, and uploads the reads made meanwhile, when the browser is online again or the
/// app comes back into view.
fn watch_connectivity(engine: &Engine, reads: &crate::reads::ReadLog) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let (online, read_log) = (engine.clone(), reads.clone());
    gloo::events::EventListener::new(&window, "online", move |_| {
        online.reconnect();
        read_log.flush();
    })
    .forget();
    let offline = engine.clone();
    gloo::events::EventListener::new(&window, "offline", move |_| offline.offline()).forget();
    if let Some(document) = window.document() {
        let (visible, read_log) = (engine.clone(), reads.clone());
        let page = document.clone();
        gloo::events::EventListener::new(&document, "visibilitychange", move |_| {
            if page.visibility_state() == web_sys::VisibilityState::Visible {
                visible.reconnect();
                read_log.flush();
            }
        })
        .forget();
    }
}

/// The whole app.
#[function_component(App)]
pub fn app() -> Html {
    let phase = use_state(|| Phase::Starting);
    let language = use_state(i18n::stored_language);
    let revision = use_state(|| 0_u64);
    i18n::set_language(*language);

    {
        let phase = phase.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                request_persistent_storage();
                let returned = views::signin::returned_from_provider();
                let storage = match Storage::open().await {
                    Ok(storage) => storage,
                    Err(error) => return phase.set(Phase::Failed(error.to_string())),
                };
                phase.set(start(storage, returned).await);
            });
        });
    }

    {
        // The engine tells the views of its changes through `revision`: registered once per
        // engine (a sign-in), not on every render.
        let engine = match &*phase {
            Phase::SignedIn(session) => Some(session.engine.clone()),
            _ => None,
        };
        let revision = revision.clone();
        use_effect_with(engine, move |engine| {
            if let Some(engine) = engine {
                // `UseStateHandle::set` from a callback outside render: each change renders
                // once.
                let counter = Rc::new(std::cell::Cell::new(*revision));
                engine.on_change(move || {
                    counter.set(counter.get() + 1);
                    revision.set(counter.get());
                });
            }
        });
    }

    let on_language = {
        let language = language.clone();
        Callback::from(move |chosen: Language| {
            i18n::choose_language(chosen);
            language.set(chosen);
        })
    };

    // Unlocked, the app locks after a while without use; the unlock form and the sign-in
    // have nothing to lock.
    let unlocked = matches!(
        &*phase,
        Phase::SignedIn(_) | Phase::Admin(..) | Phase::ChoosePassword(..)
    );
    let at_desk = screens::App::running() == screens::App::Desk;
    let lock_in = crate::hooks::use_idle_lock(unlocked.then(|| lock::idle_minutes(at_desk)));
    {
        // Another tab locked or wiped: this one loads again too.
        use_effect_with((), |_| {
            let following = lock::follow_other_tabs();
            move || drop(following)
        });
    }

    let screen = match &*phase {
        Phase::Starting => html! { <main class="center"><p>{ t("app-name") }</p></main> },
        Phase::Failed(error) => html! {
            <main class="center"><p class="problem" role="alert">{ error.clone() }</p></main>
        },
        Phase::SignedOut(storage) => {
            let storage = storage.clone();
            let signed_in = {
                let phase = phase.clone();
                let storage = storage.clone();
                Callback::from(move |signed_in: SignedIn| {
                    let phase = phase.clone();
                    let storage = storage.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        phase.set(take_device(storage, signed_in).await);
                    });
                })
            };
            html! {
                <views::signin::SignIn on_signed_in={signed_in} language={*language} on_language={on_language} />
            }
        }
        Phase::Locked {
            storage,
            failed,
            passkey,
            returned,
            signed_in,
        } => {
            let on_unlocked = {
                let (phase, returned, signed_in) = (phase.clone(), *returned, signed_in.clone());
                Callback::from(move |(storage, me): (Storage, Me)| {
                    let (phase, signed_in) = (phase.clone(), signed_in.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        // The sign-in made just now is the person's current one (its device
                        // signs their changes); stored now that it can be sealed.
                        let me = match signed_in {
                            Some(fresh) if fresh.user.id == me.user.id => {
                                let fresh = (*fresh).clone();
                                if let Err(error) = storage.set_meta(ME, Some(&fresh)).await {
                                    return phase.set(Phase::Failed(error.to_string()));
                                }
                                fresh
                            }
                            _ => me,
                        };
                        phase.set(arrive(storage, me, returned).await);
                    });
                })
            };
            html! {
                <views::unlock::Unlock storage={storage.clone()} failed={*failed} passkey={*passkey} {on_unlocked} />
            }
        }
        Phase::ChoosePassphrase(storage, me) => {
            let on_chosen = {
                let (phase, storage, me) = (phase.clone(), storage.clone(), me.clone());
                Callback::from(move |passphrase: String| {
                    let (phase, storage, me) = (phase.clone(), storage.clone(), me.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        let now = js_sys::Date::now() as i64;
                        let legacy = storage.has_legacy().await.unwrap_or(false);
                        let made = async {
                            let unlocked = lock::create(&storage, &me, &passphrase, now).await?;
                            if legacy {
                                unlocked.seal_legacy().await?;
                            }
                            Ok::<_, SecureError>(unlocked)
                        };
                        match made.await {
                            Ok(unlocked) => phase.set(enter(unlocked, me).await),
                            Err(error) => phase.set(Phase::Failed(error.to_string())),
                        }
                    });
                })
            };
            html! { <views::unlock::ChoosePassphrase {on_chosen} /> }
        }
        Phase::ChoosePassword(storage, me) => {
            let on_changed = {
                let (phase, storage, me) = (phase.clone(), storage.clone(), me.clone());
                Callback::from(move |(old, new): (String, String)| {
                    let (phase, storage) = (phase.clone(), storage.clone());
                    let me = Me {
                        must_change_password: false,
                        ..me.clone()
                    };
                    wasm_bindgen_futures::spawn_local(async move {
                        // From now on the device unlocks with the new password. A key
                        // wrapped with something else (a passphrase) stays as it is.
                        if let Ok(Some(keyring)) = storage.keyring().await
                            && let Ok(rewrapped) = keyring.rewrap(&old, &new).await
                            && let Err(error) = storage.set_keyring(&rewrapped).await
                        {
                            return phase.set(Phase::Failed(error.to_string()));
                        }
                        if let Err(error) = storage.set_meta(ME, Some(&me)).await {
                            return phase.set(Phase::Failed(error.to_string()));
                        }
                        phase.set(enter(storage, me).await);
                    });
                })
            };
            let on_sign_out = {
                let (phase, storage) = (phase.clone(), storage.clone());
                Callback::from(move |()| sign_out_without_engine(storage.clone(), phase.clone()))
            };
            html! {
                <views::password::ChoosePassword name={me.user.display_name.clone()}
                    username={me.user.username.clone()} {on_changed} {on_sign_out} />
            }
        }
        Phase::Admin(storage, me) => {
            let on_sign_out = {
                let (phase, storage) = (phase.clone(), storage.clone());
                Callback::from(move |()| sign_out_without_engine(storage.clone(), phase.clone()))
            };
            // `enter` sends an administrator to the desk's app, which holds the console.
            match screens::desk() {
                Some(desk) => (desk.console)(views::admin::AdminConsoleProps {
                    me: me.clone(),
                    language: *language,
                    on_language,
                    on_sign_out,
                }),
                None => html! {
                    <main class="center"><p class="problem" role="alert">{ t("desk-not-loaded") }</p></main>
                },
            }
        }
        Phase::SignedIn(session) => {
            let sign_out = {
                let phase = phase.clone();
                let session = session.clone();
                Callback::from(move |()| {
                    let phase = phase.clone();
                    let session = session.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        // The reads made offline go up while the session still holds.
                        session.reads.upload().await;
                        session.engine.end();
                        // Everything of this person leaves the device with them.
                        match lock::leave_device(session.engine.storage(), None).await {
                            // The page starts afresh: the browser's listeners and timers that
                            // hold this person's engine go with it.
                            Ok(()) => start_afresh(),
                            Err(error) => phase.set(Phase::Failed(error.to_string())),
                        }
                    });
                })
            };
            let on_shut_out = {
                let phase = phase.clone();
                let session = session.clone();
                Callback::from(move |why: api::ShutOut| {
                    let (phase, session) = (phase.clone(), session.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        session.engine.end();
                        // Nothing waits for the server: everything goes, and the sign-in
                        // says why.
                        match lock::leave_device(session.engine.storage(), Some(why)).await {
                            Ok(()) => {
                                if let Some(window) = web_sys::window() {
                                    let address =
                                        format!("/?{}={}", views::signin::WIPED, why.code());
                                    let _ = window.location().replace(&address);
                                }
                            }
                            Err(error) => phase.set(Phase::Failed(error.to_string())),
                        }
                    });
                })
            };
            let signed_in_again = {
                let phase = phase.clone();
                let session = session.clone();
                Callback::from(move |me: Me| {
                    let phase = phase.clone();
                    let session = session.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        // The new sign-in registered this device afresh: changes from now
                        // on are signed with its new id.
                        if let Err(error) = session.engine.storage().set_meta(ME, Some(&me)).await {
                            web_sys::console::error_1(
                                &format!("the new sign-in was not stored: {error}").into(),
                            );
                        }
                        // Signed in again with a temporary password (an administrator reset
                        // it): the app starts afresh, which asks for a new one before
                        // anything else. Everything on the device stays.
                        if me.must_change_password {
                            session.engine.end();
                            return start_afresh();
                        }
                        session.engine.set_writer(me.writer());
                        phase.set(Phase::SignedIn(Session {
                            me: Rc::new(me),
                            ..session.clone()
                        }));
                        session.engine.resume();
                    });
                })
            };
            let context = Session {
                revision: *revision,
                ..session.clone()
            };
            html! {
                <ContextProvider<Session> context={context}>
                    <HashRouter>
                        <views::shell::Shell on_sign_out={sign_out} on_signed_in_again={signed_in_again} {on_shut_out} language={*language} on_language={on_language} />
                    </HashRouter>
                </ContextProvider<Session>>
            }
        }
    };
    html! {
        <>
            { screen }
            if let Some(seconds) = lock_in {
                <div class="lock-warning" role="alertdialog" aria-modal="false" aria-labelledby="lock-warning-text">
                    <p id="lock-warning-text">{ i18n::t_args("lock-warning", &[("seconds", seconds.into())]) }</p>
                    // Pressing it is use, which is all it takes.
                    <button class="primary" type="button">{ t("lock-keep-working") }</button>
                </div>
            }
        </>
    }
}

/// Loads the page again from the top, as after signing out.
fn start_afresh() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().replace("/");
    }
}

/// Asks the browser not to evict the app's data under storage pressure.
fn request_persistent_storage() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let storage = window.navigator().storage();
    if let Ok(promise) = storage.persist() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

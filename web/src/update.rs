//! A new version of the app, announced instead of imposed.
//!
//! The service worker installs a new version in the background and then waits (see
//! `web/sw.js`). This module notices the waiting worker and lets the screen offer "new version —
//! reload"; only when the person taps it is the worker told to take over, and the page reloads
//! once it has. A visit being recorded is never cut off by an update.

use std::cell::RefCell;

use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};
use yew::prelude::*;

use crate::i18n::t;

thread_local! {
    /// The installed new version waiting to take over, if any.
    static WAITING: RefCell<Option<ServiceWorker>> = const { RefCell::new(None) };
    /// Who to tell when one appears.
    static LISTENER: RefCell<Option<Callback<()>>> = const { RefCell::new(None) };
    /// Whether the person tapped "reload". The first install also changes the controller
    /// (the worker claims the page); that must not reload a page someone is typing in.
    static REQUESTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn announce(worker: ServiceWorker) {
    WAITING.with(|waiting| *waiting.borrow_mut() = Some(worker));
    if let Some(listener) = LISTENER.with(|listener| listener.borrow().clone()) {
        listener.emit(());
    }
}

/// Registers `/sw.js` and watches for new versions.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    // Some browsers have none (private windows, a policy): the app then needs the network to
    // start, and says nothing of new versions.
    let navigator = window.navigator();
    if !js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
        web_sys::console::warn_1(&"this browser has no service workers".into());
        return;
    }
    let container = navigator.service_worker();
    let promise = container.register("/sw.js");
    wasm_bindgen_futures::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(registration) => match registration.dyn_into::<ServiceWorkerRegistration>() {
                Ok(registration) => watch(registration),
                // An automated browser told to block workers answers `undefined`.
                Err(other) => web_sys::console::warn_2(
                    &"the service worker was not registered".into(),
                    &other,
                ),
            },
            Err(error) => {
                web_sys::console::warn_2(&"the service worker was not registered".into(), &error)
            }
        }
    });
    // When the new version has taken over (after the tap), load it.
    let on_controller_change = Closure::<dyn FnMut()>::new(move || {
        if !REQUESTED.with(std::cell::Cell::get) {
            return;
        }
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(on_controller_change.as_ref().unchecked_ref()));
    on_controller_change.forget();
}

fn has_controller() -> bool {
    web_sys::window()
        .is_some_and(|window| window.navigator().service_worker().controller().is_some())
}

/// Announces a waiting worker now, and any that finishes installing later. The first install
/// (no controller yet) is not a new version.
fn watch(registration: ServiceWorkerRegistration) {
    if let Some(waiting) = registration.waiting()
        && has_controller()
    {
        announce(waiting);
    }
    let found = registration.clone();
    let on_update_found = Closure::<dyn FnMut()>::new(move || {
        let Some(installing) = found.installing() else {
            return;
        };
        let worker = installing.clone();
        let on_state_change = Closure::<dyn FnMut()>::new(move || {
            if worker.state() == ServiceWorkerState::Installed && has_controller() {
                announce(worker.clone());
            }
        });
        installing.set_onstatechange(Some(on_state_change.as_ref().unchecked_ref()));
        on_state_change.forget();
    });
    registration.set_onupdatefound(Some(on_update_found.as_ref().unchecked_ref()));
    on_update_found.forget();
    // Look for a new version whenever the app comes back into view.
    if let Some(document) = web_sys::window().and_then(|window| window.document()) {
        gloo::events::EventListener::new(&document, "visibilitychange", move |_| {
            let _ = registration.update();
        })
        .forget();
    }
}

/// "New version — reload", shown while a new version waits.
#[function_component(NewVersion)]
pub fn new_version() -> Html {
    let waiting = use_state(|| WAITING.with(|waiting| waiting.borrow().is_some()));
    {
        let waiting = waiting.clone();
        use_effect_with((), move |_| {
            LISTENER.with(|listener| {
                *listener.borrow_mut() = Some(Callback::from(move |()| waiting.set(true)))
            });
            || LISTENER.with(|listener| *listener.borrow_mut() = None)
        });
    }
    if !*waiting {
        return html! {};
    }
    let onclick = Callback::from(|_: MouseEvent| {
        if let Some(worker) = WAITING.with(|waiting| waiting.borrow().clone()) {
            REQUESTED.with(|requested| requested.set(true));
            let _ = worker.post_message(&"activate-new-version".into());
        }
    });
    html! {
        <div class="new-version" role="status">
            <span>{ t("status-new-version") }</span>
            <button class="primary" {onclick}>{ t("status-reload") }</button>
        </div>
    }
}

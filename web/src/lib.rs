//! The Lots web app: an offline-first Yew PWA for housing-support staff on phones (and, at
//! desktop size, for supervisors).
//!
//! - [`storage`]: IndexedDB — documents, sync states, unsynced changes, who is signed in.
//! - [`client`]: the sync client without IO — every decision about the device's households
//!   and its connection, as `handle(now, Event) -> Vec<Effect>`, tested natively.
//! - [`engine`]: the browser's side of the client: IndexedDB, the WebSocket, timers, the API.
//! - [`browser`]: the clock set right by the server's, User Timing measures, idle pauses.
//! - [`api`]: the server's JSON API (sign in, caseload, quarantine).
//! - [`refused`]: refused changes — close codes, documents held back, supervisors' verdicts.
//! - [`replay`]: after a rejection, the server's copy with later actions made again, and the
//!   readable record of what was not taken.
//! - [`clock`]: the device's clock set right by the server's, to sign with.
//! - [`unreadable`]: households that cannot be read, listed with why.
//! - [`i18n`]: Fluent translations (Swedish, English) and Swedish dates.
//! - [`update`]: the service worker, and "new version — reload".
//! - [`admin`]: the administrator's console without its screens: forms, refusals in words,
//!   the device list and the caseloads table.
//! - [`session`]: who is signed in, as every signed-in screen reads it; [`routes`]: the
//!   app's addresses.
//! - [`state`]: the forms' state as pure `Reducible`s, turned into core's inputs.
//! - [`components`] and [`hooks`]: what the screens share.
//! - [`app`] and [`views`]: the screens; [`screens`]: which of them this binary holds (the
//!   phone's app, or the desk's with the supervisor's and the administrator's screens).
//! - [`boot`]: the sign-in alone, a small first download, and the hand-over to the whole app.

pub mod admin;
pub mod api;
pub mod app;
pub mod boot;
pub mod browser;
pub mod client;
pub mod clock;
pub mod components;
pub mod engine;
pub mod hooks;
pub mod i18n;
pub mod lock;
pub mod passkey;
pub mod reads;
pub mod refused;
pub mod replay;
pub mod routes;
pub mod screens;
pub mod session;
pub mod state;
pub mod storage;
pub mod unreadable;
pub mod update;
pub mod vault;
pub mod views;

/// The schema version this app writes (re-exported for the about line).
pub use lots_core::SCHEMA_VERSION;

/// Starts the phone's app in the page.
pub fn start() {
    update::register_service_worker();
    yew::Renderer::<app::App>::new().render();
}

/// Starts the desk's app in the page: the phone's, with the supervisor's desk and the
/// administrator's console.
pub fn start_desk() {
    screens::register_desk(screens::DeskScreens {
        desk: views::desk::screens,
        console: views::admin::console,
    });
    start();
}

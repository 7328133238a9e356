//! Which app this page runs: the phone's, with the field screens only, or the desk's, which
//! adds the supervisor's desk and the administrator's console.
//!
//! The two are two binaries of this crate (`main.rs` and `bin/lots-desk.rs`). The desk's
//! screens, and the parts of core only they use (the reports, the households as at past
//! instants), are reached only through the [`DeskScreens`] the desk's binary registers
//! before the app starts: the phone's binary never names them, so the linker leaves them out
//! of the wasm a phone downloads. A phone downloads no byte of the desk.
//!
//! The page's start-up script (`web/boot.js`) picks the binary from the flag both apps keep
//! in `localStorage` ([`SIGNED_IN`]): `desk` for a supervisor or an administrator, `field`
//! for staff. A device whose flag is wrong (signed in by an older version, or the person's
//! role changed) finds out when the app starts, sets the flag and loads the other app.

use std::sync::OnceLock;

use lots_core::api::Role;
use yew::Html;

use crate::api::Me;
use crate::views::admin::AdminConsoleProps;

/// The `localStorage` key the start-up script reads: present while somebody is signed in,
/// naming the app it starts ([`App::flag`]).
pub const SIGNED_IN: &str = "lots-signed-in";

/// One of the two apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum App {
    /// The phone's: the field screens.
    Field,
    /// The desk's: the field screens, the supervisor's desk and the administrator's console.
    Desk,
}

impl App {
    /// The app a person's role works in.
    pub fn for_person(me: &Me) -> App {
        match me.user.role {
            Role::Staff => App::Field,
            Role::Supervisor | Role::Admin => App::Desk,
        }
    }

    /// This page's app: the desk's once its binary registered its screens.
    pub fn running() -> App {
        if desk().is_some() {
            App::Desk
        } else {
            App::Field
        }
    }

    /// What the flag in `localStorage` says for this app (read by `web/boot.js`).
    pub fn flag(self) -> &'static str {
        match self {
            App::Field => "field",
            App::Desk => "desk",
        }
    }
}

/// The screens only the desk's binary holds.
#[derive(Debug, Clone, Copy)]
pub struct DeskScreens {
    /// The supervisor's screens, for the route the address names, with the desk's data
    /// around them.
    pub desk: fn() -> Html,
    /// The administrator's console.
    pub console: fn(AdminConsoleProps) -> Html,
}

static DESK: OnceLock<DeskScreens> = OnceLock::new();

/// Registers the desk's screens (the desk's binary, before the app starts).
pub fn register_desk(screens: DeskScreens) {
    // A second registration would register the same functions: nothing to do.
    let _ = DESK.set(screens);
}

/// The desk's screens, when this page runs the desk's app.
pub fn desk() -> Option<&'static DeskScreens> {
    DESK.get()
}

/// The page's `localStorage`, unless the browser turned it off.
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Records in `localStorage` who is signed in on this device, as the app to start for them,
/// or that nobody is.
pub fn mark_signed_in(me: Option<&Me>) {
    let Some(storage) = local_storage() else {
        return;
    };
    let _ = match me {
        Some(me) => storage.set_item(SIGNED_IN, App::for_person(me).flag()),
        None => storage.remove_item(SIGNED_IN),
    };
}

/// The app the flag in `localStorage` names, if it names one.
pub fn flagged() -> Option<App> {
    let flag = local_storage()?.get_item(SIGNED_IN).ok().flatten()?;
    [App::Field, App::Desk]
        .into_iter()
        .find(|app| app.flag() == flag)
}

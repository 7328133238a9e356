//! The sign-in alone: the small first download of a device where nobody is signed in (see
//! `lots_web::boot`). Trunk builds the whole app (`main.rs`); `cargo xtask` builds this one.

use wasm_bindgen::prelude::wasm_bindgen;

fn main() {
    lots_web::boot::start_sign_in();
}

/// Stops the sign-in app: the start-up script calls it just before starting the whole app.
#[wasm_bindgen]
pub fn stop() {
    lots_web::boot::stop_sign_in();
}

/// Shows that the whole app could not be loaded after signing in, and why.
#[wasm_bindgen(js_name = notStarted)]
pub fn not_started(reason: String) {
    lots_web::boot::app_not_started(reason);
}

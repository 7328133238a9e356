//! The signed-in person's session, as every signed-in screen reads it.

use yew::prelude::*;

use crate::session::Session;

/// The session the signed-in frame provides (`app.rs`). Every screen that calls it is drawn
/// inside that frame, so its absence is a bug in the app, not a state a person can reach.
#[hook]
pub fn use_session() -> Session {
    use_context::<Session>().expect("the session is provided")
}

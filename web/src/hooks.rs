//! Hooks the screens share (`use_*`). A hook only one screen uses stays beside it (the
//! desk's `use_desk`, `use_households_as_of`, `use_filed_reports`).

mod use_focus_first;
mod use_idle_lock;
mod use_session;
mod use_sign_in_options;

pub use use_focus_first::use_focus_first;
pub use use_idle_lock::use_idle_lock;
pub use use_session::use_session;
pub use use_sign_in_options::use_sign_in_options;

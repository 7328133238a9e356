//! The screens' state without the screens: each form as a `Reducible` (one action of the
//! person at a time), turned into core's inputs when saved. Pure, so tested natively.

pub mod plan_forms;
pub mod removal_form;
pub mod user_forms;
pub mod visit_form;

//! The Lots web app. The field-app issue builds it; for now it only proves that core links
//! into a WebAssembly build.

pub use lots_core::SCHEMA_VERSION;

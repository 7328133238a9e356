//! The server's JSON API types that the server writes and the web app reads, defined once:
//! the server serialises them (and, with the `openapi` feature, describes them in its OpenAPI
//! document), the app deserialises them. Plain data: the server reads them from its
//! database through its own row wrapper, since core knows nothing of databases. Fields a
//! device may have kept from an older version, or an older server may leave out, have
//! defaults.
//!
//! One file per part of the API: `accounts` (roles, users, devices, districts), `session`
//! (signing in, who is signed in), `caseloads`, `removals` (gallring and tombstones),
//! `quarantine` (refused changes), `audit` (the access log) and `reports` (filed reports and
//! a person's own copy).

mod accounts;
mod audit;
mod caseloads;
mod quarantine;
mod removals;
mod reports;
mod session;

pub use accounts::{
    Device, District, MIN_PASSWORD_CHARS, NewUser, Role, TemporaryPassword, UnknownRole, User,
    UserUpdate,
};
pub use audit::{AuditEntry, AuditLog, FlaggedRow, LogReview};
pub use caseloads::{Caseloads, DistrictCaseload, HouseholdSummary, StaffCaseload};
pub use quarantine::{Decided, Refused};
pub use removals::{
    RemovalKind, RemovedCount, RemovedHousehold, RetentionCandidate, RetentionDryRun,
    RetentionVerdict,
};
pub use reports::{FiledReport, FiledReportSummary, IssuedPersonCopy};
pub use session::{DeviceLock, Me, ProviderOption, SignInOptions};

//! Lots core: household documents that merge.
//!
//! Each household lives in its own Automerge document ([`HouseholdDoc`]). Every person's action
//! is a typed, validated method that commits exactly one signed change ([`Signature`]); edits
//! made apart merge when replicas sync, concurrent values of one field are all kept and shown
//! ([`Conflict`]), and the household can be read as it was at any past instant. Replicas sync
//! through a sans-IO automerge-repo peer ([`SyncPeer`]). The follow-up reports (the tertial
//! report, the districts' cost share, their CSV tables and SVG charts) are pure functions of
//! households as they stood at a period's end ([`tertial_report`], [`cost_share`]).
//!
//! Core does no IO and never reads the clock: time and randomness come in as arguments, so
//! the same code runs natively, in the browser (WebAssembly) and in seeded tests.

mod actions;
pub mod api;
mod calendar;
pub mod data_map;
mod document;
mod history;
mod ids;
mod person_copy;
mod report;
mod retention;
mod rules;
mod schema;
mod signature;
mod sync;
pub mod synthetic;
mod validation;

pub use actions::{
    ActionError, DEFAULT_FOLLOW_UP_DAYS, DEFAULT_VISIT_MINUTES, Interpreter, MAX_FIELD_CHARS,
    MAX_NOTE_CHARS, MAX_VISIT_MINUTES, MemberDetails, NewFollowUp, NewGoal, NewHousehold, NewStep,
    Owner, VisitEntry, VisitRecord,
};
pub use calendar::{Date, DateError, Timestamp, swedish_offset_minutes};
pub use document::{HouseholdDoc, load_stored};
pub use history::{AsOfCache, HistoryEntry, Past, Timeline};
pub use ids::{
    DeviceId, DistrictId, FollowUpId, GoalId, IdError, MAX_ID_LEN, MemberId, StaffId, StepId,
    VisitId,
};
pub use person_copy::{Field, Passage, PassageKind, PersonCopy, UnknownPassage, WrittenBy};
pub use report::{
    AgeBand, Bar, CaseRow, ClosedFor, Column, CostShare, CostShareError, CsvError, DistrictShare,
    GenderAgeSplit, GoalsReached, HouseholdsAtError, InterpreterUse, Label, Labeller, MachineKeys,
    NewcomerCount, Period, PeriodError, Row, Scope, Share, StackedBar, Table, TableKind, Tally,
    Tertial, TertialError, TertialReport, TopicCount, Visits, bar_chart, cost_share,
    count_newcomers, escape_svg, households_at_end, is_registered_newcomer, split_chart,
    split_columns, stacked_bar_chart, tertial_report,
};
pub use report::{PlanProgress, Workload, overdue_follow_ups, plan_progress, text_csv, workload};
pub use retention::{DEFAULT_RETENTION_YEARS, RESEARCH_BIRTH_DAYS, Retention, RetentionRule};
pub use rules::{
    ESTABLISHMENT_PERIOD_MONTHS, MAX_AGE, MIN_AGE, OutsideReason, QUOTA_SUPPORT_MONTHS, age_on,
    establishment_period_end, household_establishment_end, household_member_exclusions,
    in_quota_support_window, in_target_group, quota_support_window, target_group_exclusions,
};
pub use schema::codes::{
    Agency, ArrivalRoute, CaseStatus, CloseReason, Gender, GoalArea, GoalStatus, HousingForm,
    InterpreterMode, OwnerKind, StepStatus, Topic, UnknownCode, VisitStatus,
};
pub use schema::conflicts::{Conflict, ConflictValue, FieldPath, FieldValue, ResolveError};
pub use schema::household::{FollowUp, Goal, Household, Member, Plan, Profile, Step, Visit};
pub use schema::outline::{FollowUpOutline, Outline, ProfileOutline, VisitOutline};
pub use schema::values::{Note, Set};
pub use schema::vet::{EntryKind, ShapeError};
pub use schema::{NoteRef, SCHEMA_VERSION, SchemaError, TEXT_ENCODING};
pub use signature::{ChangeInfo, Signature};
pub use sync::bloom::check_bloom_filters;
pub use sync::chunks::{ChunkError, check_stored, covered_by};
pub use sync::document_id::{DocumentId, DocumentIdError};
pub use sync::message::{
    MAX_PEER_ID_LEN, Message, MessageError, PROTOCOL_VERSION, PeerId, PeerMetadata,
};
pub use sync::peer::{
    AllowAll, ConnectionId, DEFAULT_MAX_INFLATED_BYTES, DEFAULT_MAX_MESSAGE_BYTES, Input, Output,
    PeerConfig, Role, SharePolicy, SyncError, SyncPeer, SyncStatus,
};
pub use sync::testnet::{Direction, Link, MemoryNetwork};
pub use validation::{
    Access, Directory, FORMER_HOLDER_DAYS, MAX_CHANGE_BYTES, MAX_OPERATIONS_PER_CHANGE,
    MAX_SIGNED_AHEAD_MINUTES, Refusal, RefusedChange, Vetting, Writer, WriterRole, vet_changes,
    vet_changes_with,
};

/// Automerge, as core uses it, for drivers that store and sync documents.
pub use automerge;

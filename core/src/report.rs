//! The follow-up: the tertial report to the steering group and the district committees, and
//! the cost share between cooperating districts, with their tables (CSV) and charts (SVG).
//!
//! Everything here is a pure function of household values (as they stood at a period's end)
//! and the period: no document, clock or IO is touched, so the supervisor's browser, the
//! server and the tests compute the same figures.
//!
//! - `period.rs` — [`Tertial`] ("2026 T1") and [`Period`] (any span of days).
//! - `split.rs` — [`AgeBand`] and [`GenderAgeSplit`], the split every figure carries.
//! - `tertial.rs` — [`tertial_report`] and [`households_at_end`]; what each figure counts is
//!   in [`TertialReport`]'s field docs.
//! - `cost_share.rs` — [`count_newcomers`] and [`cost_share`].
//! - `table.rs` — [`Table`], its [`Label`]s and CSV export through a [`Labeller`].
//! - `desk.rs` — [`workload`] per staff member and [`plan_progress`] per district.
//! - `chart.rs` — accessible SVG bar and stacked-bar charts.

mod chart;
mod cost_share;
mod desk;
mod period;
mod split;
mod table;
mod tertial;
#[cfg(test)]
mod tests;

pub use chart::{Bar, StackedBar, bar_chart, escape as escape_svg, split_chart, stacked_bar_chart};
pub use cost_share::{
    CostShare, CostShareError, DistrictShare, NewcomerCount, Share, cost_share, count_newcomers,
    is_registered_newcomer,
};
pub use desk::{PlanProgress, Workload, overdue_follow_ups, plan_progress, workload};
pub use period::{Period, PeriodError, Tertial, TertialError};
pub use split::{AgeBand, GenderAgeSplit};
pub use table::{
    CaseRow, Column, CsvError, Label, Labeller, MachineKeys, Row, Table, TableKind, split_columns,
    text_csv,
};
pub use tertial::{
    ClosedFor, GoalsReached, HouseholdsAtError, InterpreterUse, Scope, Tally, TertialReport,
    TopicCount, Visits, households_at_end, tertial_report,
};

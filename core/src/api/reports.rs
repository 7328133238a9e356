//! What the supervisor's desk files and hands out: tertial reports as filed, and a person's
//! own copy (GDPR article 15).

use crate::{PersonCopy, TertialReport};

/// A filed tertial report, without its figures: for lists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FiledReportSummary {
    /// Its id.
    pub id: i64,
    /// The tertial, as `2026 T1`.
    pub tertial: String,
    /// The district; none for every district.
    pub district_id: Option<String>,
    /// The supervisor who filed it.
    pub filed_by: String,
    /// When (ms, the server's clock).
    pub filed_at: i64,
    /// How many households of its scope it was computed over.
    pub households: i64,
}

/// A filed tertial report with its figures, as it was filed. The app reads the figures as
/// core's [`TertialReport`]; the server hands out the JSON it keeps as it keeps it
/// (`FiledReport<serde_json::Value>`), so a report stays as it was filed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(bound = ""))]
pub struct FiledReport<Report = TertialReport> {
    /// Who filed it, when, for what.
    #[serde(flatten)]
    pub summary: FiledReportSummary,
    /// The figures: core's `TertialReport`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub report: Report,
}

/// A person's own copy as the server made it for review or released it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedPersonCopy {
    /// The household's document.
    pub household: String,
    /// Made (or released) when (ms, the server's clock).
    pub at: i64,
    /// By which supervisor.
    pub by: String,
    /// Whether this is the released copy (passages withheld at review are empty in it).
    pub released: bool,
    /// SHA-256 of the copy's JSON, hex: a release names the copy reviewed by it.
    pub digest: String,
    /// The passages: core's `PersonCopy`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub copy: PersonCopy,
}

//! The access log as the API shows it: its rows, the flags a reviewer looks at, and the
//! reviews supervisors record.

/// One row of the access log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the log.
    pub seq: i64,
    /// When (milliseconds since the Unix epoch, the server's clock).
    pub at: i64,
    /// Who.
    pub user_id: String,
    /// On which device.
    pub device_id: String,
    /// Which household document; empty when it is not known (a message refused unread).
    pub document_id: String,
    /// What happened: `open`, `change`, `refused`, `read`…
    pub action: String,
    /// More about it.
    pub detail: String,
}

/// `GET /api/audit` answer: the access log, newest first, with whether its hash chain is
/// intact.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLog {
    /// The rows.
    pub entries: Vec<AuditEntry>,
    /// The first row whose hash does not match, if any: the log was altered there.
    pub first_broken_row: Option<i64>,
    /// Rows worth a reviewer's look, among those returned.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub flags: Vec<FlaggedRow>,
}

/// A row of the log flagged for review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlaggedRow {
    /// The row.
    pub seq: i64,
    /// `after-hours` (a household shown on a weekend or outside 07:00–19:00, Swedish
    /// time), `many-households` (one of 20 or more households one person was shown within
    /// ten minutes) or `export`. Text rather than a closed list, so that an app older than
    /// its server shows a flag it does not know rather than no log at all.
    pub flag: String,
}

/// A period of the access log a supervisor marked reviewed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogReview {
    /// Its id.
    pub id: i64,
    /// The supervisor who reviewed.
    pub reviewer: String,
    /// The district reviewed; none for all of the reviewer's districts.
    pub district_id: Option<String>,
    /// The period's start (ms, inclusive).
    pub period_from: i64,
    /// The period's end (ms, exclusive).
    pub period_to: i64,
    /// What the reviewer noted.
    pub comment: String,
    /// When (ms, the server's clock).
    pub reviewed_at: i64,
}

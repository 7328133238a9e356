//! The server's JSON API types that the server writes and the web app reads, defined once:
//! the server serialises them (and, with the `openapi` feature, describes them in its OpenAPI
//! document), the app deserialises them. Plain data with no behaviour; the server reads them
//! from its database through its own row wrapper, since core knows nothing of databases.

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

/// A signed-in device, as administrators see every user's (and each person their own).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Device {
    /// Its id.
    pub id: String,
    /// Whose.
    pub user_id: String,
    /// What it was called when it signed in (the browser's name for itself).
    pub label: String,
    /// When it first signed in (ms since the epoch).
    pub created_at: i64,
    /// When it was last used (ms since the epoch).
    pub last_seen_at: i64,
    /// When it was revoked, if it was.
    #[serde(default)]
    pub revoked_at: Option<i64>,
}

/// A district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct District {
    /// Its id, as household documents record it.
    pub id: String,
    /// Its name.
    pub name: String,
}

//! The quarantine of refused changes as the API shows it: the refused changes, and what a
//! supervisor's decision decided.

/// One refused change as `/api/quarantine` and `/api/quarantine/mine` list it: everything
/// but its bytes. A message refused unread (over the size limit) is listed too, with `kept`
/// false: its `change` is empty, as is its `household` when the server could not tell which
/// it was for, and it can only be rejected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refused {
    /// The quarantine row.
    pub id: i64,
    /// The household document, as its id; empty when not known.
    pub household: String,
    /// The change's hash; empty when no change was kept.
    pub change: String,
    /// Whether the change itself is kept, so that it can be accepted: not for a message
    /// refused unread for its size. Servers before that said nothing: kept.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default = "kept_unless_said")]
    pub kept: bool,
    /// For a message refused unread, its size in bytes.
    #[serde(default)]
    pub message_bytes: Option<i64>,
    /// Who sent it.
    pub user_id: String,
    /// On which device.
    pub device_id: String,
    /// Why it was refused: core's words (`Refusal`), in English.
    pub reason: String,
    /// The signing time the change claims (ms since the Unix epoch).
    pub signed_at: Option<i64>,
    /// When the server received it (ms since the Unix epoch).
    pub received_at: i64,
    /// `pending`, `accepted` or `rejected`.
    pub status: String,
    /// The supervisor who decided.
    pub decided_by: Option<String>,
    /// When (ms since the Unix epoch).
    pub decided_at: Option<i64>,
}

/// What a refused change's `kept` is when the server does not say.
fn kept_unless_said() -> bool {
    true
}

/// What a supervisor's decision on a refused change decided.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decided {
    /// The quarantine rows decided: the one asked for and those that depend on it.
    pub ids: Vec<i64>,
    /// `accepted` or `rejected`.
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_change_from_a_server_that_did_not_say_whether_it_is_kept_is_kept() {
        let listed = r#"{"id":1,"household":"","change":"00","user_id":"u-anna",
            "device_id":"d-1","reason":"it deletes a visit","signed_at":null,
            "received_at":0,"status":"pending","decided_by":null,"decided_at":null}"#;
        let refused: Refused = serde_json::from_str(listed).unwrap();
        assert!(refused.kept);
        assert_eq!(refused.message_bytes, None);
    }
}

//! The API as the administrator's console uses it: devices, users and their passwords,
//! districts, caseloads, and gallring.

use super::*;

pub use lots_core::api::Device;

/// Every user's devices (administrators; others get their own).
pub async fn devices() -> Result<Vec<Device>, ApiError> {
    let response = Request::get("/api/devices").send().await.map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Revokes a device (a lost phone): its sessions end and its sockets close.
pub async fn revoke_device(id: &str) -> Result<(), ApiError> {
    let path = format!("/api/devices/{}/revoke", encode(id));
    let response = Request::post(&path).send().await.map_err(network)?;
    check(response).await.map(|_| ())
}

/// A new user, as an administrator fills in the form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NewUser {
    /// The name they sign in with.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// Their first password, handed over by the administrator.
    pub password: String,
    /// `staff`, `supervisor` or `admin`.
    pub role: String,
    /// Their districts.
    pub districts: Vec<String>,
}

/// Creates a user (administrators).
pub async fn create_user(user: &NewUser) -> Result<Person, ApiError> {
    let body = serde_json::to_value(user).map_err(|error| ApiError::Server(error.to_string()))?;
    send_json("POST", "/api/users", &body)
        .await?
        .json()
        .await
        .map_err(network)
}

/// What an administrator changes about a user: only the fields that are `Some`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UserChange {
    /// Shut out, or let back in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// A new role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// New districts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub districts: Option<Vec<String>>,
    /// A new display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// Changes a user (administrators).
pub async fn update_user(id: &str, change: &UserChange) -> Result<(), ApiError> {
    let body = serde_json::to_value(change).map_err(|error| ApiError::Server(error.to_string()))?;
    send_json("PATCH", &format!("/api/users/{}", encode(id)), &body)
        .await
        .map(|_| ())
}

/// Gives a user a one-time temporary password, returned to show once (administrators).
pub async fn reset_password(id: &str) -> Result<String, ApiError> {
    #[derive(serde::Deserialize)]
    struct Temporary {
        temporary_password: String,
    }
    let path = format!("/api/users/{}/reset-password", encode(id));
    let answer: Temporary = send_json("POST", &path, &serde_json::json!({}))
        .await?
        .json()
        .await
        .map_err(network)?;
    Ok(answer.temporary_password)
}

/// Adds a district (administrators); the server makes an id from the name when `id` is empty.
pub async fn create_district(id: &str, name: &str) -> Result<District, ApiError> {
    let body = serde_json::json!({ "id": id, "name": name });
    send_json("POST", "/api/districts", &body)
        .await?
        .json()
        .await
        .map_err(network)
}

/// Renames a district (administrators); its id stays.
pub async fn rename_district(id: &str, name: &str) -> Result<(), ApiError> {
    let body = serde_json::json!({ "name": name });
    send_json("PATCH", &format!("/api/districts/{}", encode(id)), &body)
        .await
        .map(|_| ())
}

/// One person's share of the caseloads, as administrators see it: counts only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct StaffCaseload {
    /// Their user id.
    pub user_id: String,
    /// Their name.
    pub display_name: String,
    /// `staff`, `supervisor` or `admin`.
    pub role: String,
    /// Their districts.
    #[serde(default)]
    pub districts: Vec<String>,
    /// Whether they are shut out.
    #[serde(default)]
    pub disabled: bool,
    /// Households assigned to them.
    pub households: u64,
    /// The same, per district id.
    #[serde(default)]
    pub households_by_district: std::collections::BTreeMap<String, u64>,
}

/// One district's households, as administrators see them: counts only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct DistrictCaseload {
    /// The district's id (empty for households whose district is not known).
    pub district: String,
    /// Its name.
    pub name: String,
    /// All its households.
    pub households: u64,
    /// Those nobody holds.
    pub unassigned: u64,
}

/// Who holds how many households, per district: no household is named.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct Caseloads {
    /// Per person (every user who is not an administrator, or who holds a household).
    pub staff: Vec<StaffCaseload>,
    /// Per district.
    pub districts: Vec<DistrictCaseload>,
}

/// The caseloads overview (administrators).
pub async fn caseloads() -> Result<Caseloads, ApiError> {
    let response = Request::get("/api/admin/caseloads")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// One household as gallring's dry run weighs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct RetentionCandidate {
    /// The household's document (an id: administrators see no household).
    pub document_id: String,
    /// Its district's id.
    pub district_id: Option<String>,
    /// Its last entry (ms, the server's receipt time).
    pub last_entry_at: i64,
    /// The first day it could be removed (`YYYY-MM-DD`).
    pub due_on: String,
    /// `due`, `kept_for_research` or `unreadable`.
    pub verdict: String,
}

/// What gallring would remove today, and what it keeps although old enough.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct RetentionDryRun {
    /// The server's rule.
    pub rule: lots_core::RetentionRule,
    /// Today, as the server counts it (`YYYY-MM-DD`).
    pub today: String,
    /// Due for removal, oldest first.
    pub due: Vec<RetentionCandidate>,
    /// Old enough but kept.
    pub kept: Vec<RetentionCandidate>,
}

/// Lists what gallring would remove today (administrators; on record).
pub async fn retention_dry_run() -> Result<RetentionDryRun, ApiError> {
    let response = Request::get("/api/admin/retention")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// How many households a removal removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
struct RemovedCount {
    removed: usize,
}

/// Removes the households the dry run listed as due, on a decision (administrators).
pub async fn run_retention(decision: &str, documents: &[String]) -> Result<usize, ApiError> {
    let body = serde_json::json!({ "decision": decision, "documents": documents });
    let response = send_json("POST", "/api/admin/retention", &body).await?;
    let count: RemovedCount = response.json().await.map_err(network)?;
    Ok(count.removed)
}

/// Removes one household on a decision, with the reason (administrators, or a supervisor
/// of its district).
pub async fn remove_household(id: &str, decision: &str, reason: &str) -> Result<(), ApiError> {
    let body = serde_json::json!({ "decision": decision, "reason": reason });
    send_json(
        "POST",
        &format!("/api/households/{}/remove", encode(id)),
        &body,
    )
    .await
    .map(|_| ())
}

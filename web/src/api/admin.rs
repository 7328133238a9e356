//! The API as the administrator's console uses it: devices, users and their passwords,
//! districts, caseloads, and gallring.

use super::*;

pub use lots_core::api::{
    Caseloads, Device, DistrictCaseload, NewUser, RemovedCount, RetentionCandidate,
    RetentionDryRun, RetentionVerdict, StaffCaseload, TemporaryPassword, UserUpdate,
};

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

/// Creates a user (administrators).
pub async fn create_user(user: &NewUser) -> Result<User, ApiError> {
    let body = serde_json::to_value(user).map_err(|error| ApiError::Server(error.to_string()))?;
    send_json("POST", "/api/users", &body)
        .await?
        .json()
        .await
        .map_err(network)
}

/// Changes a user (administrators).
pub async fn update_user(id: &str, change: &UserUpdate) -> Result<(), ApiError> {
    let body = serde_json::to_value(change).map_err(|error| ApiError::Server(error.to_string()))?;
    send_json("PATCH", &format!("/api/users/{}", encode(id)), &body)
        .await
        .map(|_| ())
}

/// Gives a user a one-time temporary password, returned to show once (administrators).
pub async fn reset_password(id: &str) -> Result<String, ApiError> {
    let path = format!("/api/users/{}/reset-password", encode(id));
    let answer: TemporaryPassword = send_json("POST", &path, &serde_json::json!({}))
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

/// The caseloads overview (administrators).
pub async fn caseloads() -> Result<Caseloads, ApiError> {
    let response = Request::get("/api/admin/caseloads")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Lists what gallring would remove today (administrators; on record).
pub async fn retention_dry_run() -> Result<RetentionDryRun, ApiError> {
    let response = Request::get("/api/admin/retention")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
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

/// How devices lock (administrators).
pub async fn device_lock() -> Result<lots_core::api::DeviceLock, ApiError> {
    let response = Request::get("/api/admin/device-lock")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Sets how devices lock (administrators).
pub async fn set_device_lock(lock: &lots_core::api::DeviceLock) -> Result<(), ApiError> {
    let body = serde_json::to_value(lock).map_err(|error| ApiError::Server(error.to_string()))?;
    send_json("PUT", "/api/admin/device-lock", &body)
        .await
        .map(|_| ())
}

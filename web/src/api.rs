//! The server's JSON API, as the app uses it: sign in and out, who am I (and the server's
//! clock), my caseload, the desk's directory, assignments, the access log and the quarantine
//! of refused changes.
//! The session is an HttpOnly cookie the browser sends by itself, also on the WebSocket.

use gloo::net::http::Request;
use lots_core::{DocumentId, Timestamp};

use crate::refused::RefusedRow;

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    /// Their id, also their staff id in documents.
    pub id: String,
    /// The name they sign in with.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// `staff`, `supervisor` or `admin`.
    pub role: String,
    /// Their districts.
    pub districts: Vec<String>,
}

/// Who is signed in on this device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Me {
    /// The person.
    pub user: User,
    /// This device, as the server registered it.
    pub device_id: String,
    /// Signed in with a temporary password an administrator set: a new one must be chosen
    /// before anything else (the server refuses everything else until then).
    #[serde(default)]
    pub must_change_password: bool,
}

impl Me {
    /// The person on this device as core's check knows a writer: what the app signs its
    /// changes with, and vets them as (`replay.rs`). `None` for ids core does not accept.
    pub fn writer(&self) -> Option<lots_core::Writer> {
        Some(lots_core::Writer {
            staff: lots_core::StaffId::new(&self.user.id).ok()?,
            device: lots_core::DeviceId::new(&self.device_id).ok()?,
            role: match self.user.role.as_str() {
                "supervisor" | "admin" => lots_core::WriterRole::Supervisor,
                _ => lots_core::WriterRole::Staff,
            },
            districts: self
                .user
                .districts
                .iter()
                .filter_map(|district| lots_core::DistrictId::new(district).ok())
                .collect(),
        })
    }
}

/// One household of the caseload, as the server summarises it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CaseloadEntry {
    /// The document.
    pub document_id: DocumentId,
    /// Its district.
    #[serde(default)]
    pub district: String,
    /// Its street address (empty when it cannot be read).
    #[serde(default)]
    pub address: String,
    /// Why the server cannot read it, when it cannot: such a household is listed all the
    /// same, and the app shows it with the reason.
    #[serde(default)]
    pub unreadable: Option<String>,
}

/// A household the server removed (gallring, or a decision): every device deletes its copy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct RemovedHousehold {
    /// The tombstone's position: later removals have higher ones.
    pub seq: i64,
    /// The household's document.
    pub document_id: DocumentId,
}

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Wrong username or password, or the session has ended.
    #[error("not signed in")]
    Unauthorized,
    /// No answer: offline, or the server is down.
    #[error("the server cannot be reached: {0}")]
    Network(String),
    /// Too many failed sign-ins: the server says to wait this many seconds.
    #[error("too many failed sign-ins; try again in {0} seconds")]
    TooManyAttempts(u64),
    /// A new password must be chosen first (signed in with a temporary one).
    #[error("choose a new password first")]
    PasswordChangeRequired,
    /// The server answered with an error.
    #[error("{0}")]
    Server(String),
    /// The server refused with a machine-readable code beside its message.
    #[error("{message}")]
    Refused {
        /// The server's code (`username_taken`, `weak_password`, …).
        code: String,
        /// Its message, in English.
        message: String,
    },
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    code: Option<String>,
}

async fn check(response: gloo::net::http::Response) -> Result<gloo::net::http::Response, ApiError> {
    match response.status() {
        200..=299 => Ok(response),
        401 => Err(ApiError::Unauthorized),
        429 => Err(ApiError::TooManyAttempts(
            response
                .headers()
                .get("retry-after")
                .and_then(|seconds| seconds.parse().ok())
                .unwrap_or(60),
        )),
        status => match response.json::<ErrorBody>().await {
            Ok(ErrorBody {
                code: Some(code), ..
            }) if code == "password_change_required" => Err(ApiError::PasswordChangeRequired),
            Ok(ErrorBody {
                code: Some(code),
                error,
            }) => Err(ApiError::Refused {
                code,
                message: error,
            }),
            Ok(ErrorBody { error, .. }) => Err(ApiError::Server(error)),
            Err(_) => Err(ApiError::Server(format!("HTTP {status}"))),
        },
    }
}

fn network(error: gloo::net::Error) -> ApiError {
    ApiError::Network(error.to_string())
}

/// Signs in; the server sets the session cookie and registers this device, or, signing in
/// again, keeps `device` (what was written on it meanwhile is signed as written there).
pub async fn login(
    username: &str,
    password: &str,
    device_label: &str,
    device: Option<&str>,
) -> Result<Me, ApiError> {
    let body = serde_json::json!({
        "username": username,
        "password": password,
        "device_label": device_label,
        "device_id": device,
    });
    let response = Request::post("/api/login")
        .json(&body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    let response = check(response).await?;
    response.json::<Me>().await.map_err(network)
}

/// How one may sign in on the server.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct SignInOptions {
    /// Whether a username and password sign in.
    pub password: bool,
    /// The organisation's identity provider, when the server has one.
    #[serde(default)]
    pub oidc: Option<ProviderOption>,
}

/// The organisation's identity provider, as the sign-in page offers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ProviderOption {
    /// Its name on the button ("Stockholms stad").
    pub label: String,
}

/// How one may sign in on the server (asked before anybody is signed in).
pub async fn sign_in_options() -> Result<SignInOptions, ApiError> {
    let response = Request::get("/api/sign-in-options")
        .send()
        .await
        .map_err(network)?;
    check(response)
        .await?
        .json::<SignInOptions>()
        .await
        .map_err(network)
}

/// Where the browser goes, top level (no pop-up), to sign in with the identity provider;
/// the server sends it on to the provider and, once signed in, back to the app at
/// [`SIGNED_IN_MARK`].
pub fn oidc_start_url(device_label: &str, device: Option<&str>) -> String {
    let mut url = format!(
        "/auth/oidc/start?device_label={}",
        js_sys::encode_uri_component(device_label)
    );
    if let Some(device) = device {
        url.push_str(&format!(
            "&device_id={}",
            js_sys::encode_uri_component(device)
        ));
    }
    url
}

/// What the server adds to the app's address after a sign-in with the identity provider.
pub const SIGNED_IN_MARK: &str = "signed-in=oidc";

/// Who is signed in with the session cookie the browser holds (after a sign-in with the
/// identity provider, which set it).
pub async fn me() -> Result<Me, ApiError> {
    let response = Request::get("/api/me").send().await.map_err(network)?;
    check(response).await?.json::<Me>().await.map_err(network)
}

/// Signs out on the server (the cookie is cleared).
pub async fn logout() -> Result<(), ApiError> {
    let response = Request::post("/api/logout").send().await.map_err(network)?;
    check(response).await.map(|_| ())
}

/// Whether the server still knows this device's sign-in: `Ok(false)` when it has ended
/// (expired, signed out elsewhere, or the device removed).
pub async fn signed_in() -> Result<bool, ApiError> {
    let response = Request::get("/api/me").send().await.map_err(network)?;
    match check(response).await {
        Ok(_) => Ok(true),
        Err(ApiError::Unauthorized) => Ok(false),
        Err(other) => Err(other),
    }
}

/// The server's clock (ms since the epoch), from `GET /api/me`; `None` from a server that
/// does not say it.
pub async fn server_time() -> Result<Option<i64>, ApiError> {
    #[derive(serde::Deserialize)]
    struct Clock {
        #[serde(default)]
        server_time: Option<i64>,
    }
    let response = Request::get("/api/me").send().await.map_err(network)?;
    let clock: Clock = check(response).await?.json().await.map_err(network)?;
    Ok(clock.server_time)
}

/// Whether the server says this person must choose a new password (signed in with a
/// temporary one), from `GET /api/me`.
pub async fn must_change_password() -> Result<bool, ApiError> {
    #[derive(serde::Deserialize)]
    struct Flag {
        #[serde(default)]
        must_change_password: bool,
    }
    let response = Request::get("/api/me").send().await.map_err(network)?;
    let flag: Flag = check(response).await?.json().await.map_err(network)?;
    Ok(flag.must_change_password)
}

/// This device's refused changes and what became of them.
pub async fn my_quarantine() -> Result<Vec<RefusedRow>, ApiError> {
    let response = Request::get("/api/quarantine/mine")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The refused changes to households of the supervisor's districts, newest first.
pub async fn quarantine() -> Result<Vec<RefusedRow>, ApiError> {
    let response = Request::get("/api/quarantine")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// What a supervisor's decision on a refused change decided.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Decided {
    /// The quarantine rows decided: the one chosen and those that depend on it.
    pub ids: Vec<i64>,
    /// `accepted` or `rejected`.
    pub status: String,
}

/// Accepts (`accept`) or rejects a refused change, with the refused changes that depend
/// on it (supervisors).
pub async fn decide(id: i64, accept: bool) -> Result<Decided, ApiError> {
    let verb = if accept { "accept" } else { "reject" };
    let response = Request::post(&format!("/api/quarantine/{id}/{verb}"))
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The households this person may sync.
pub async fn caseload() -> Result<Vec<CaseloadEntry>, ApiError> {
    let response = Request::get("/api/caseload")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The households removed that this person's devices may hold, oldest first.
pub async fn removed() -> Result<Vec<RemovedHousehold>, ApiError> {
    let response = Request::get("/api/removed").send().await.map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The server's WebSocket address for this page.
pub fn sync_url() -> String {
    let location = web_sys::window().map(|window| window.location());
    let (protocol, host) = location
        .map(|location| {
            (
                location.protocol().unwrap_or_default(),
                location.host().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/sync")
}

/// A user, as supervisors see them (to assign households and name who did what).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Person {
    /// Their id, also their staff id in documents.
    pub id: String,
    /// The name they sign in with.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// `staff`, `supervisor` or `admin`.
    pub role: String,
    /// Their districts.
    pub districts: Vec<String>,
    /// Whether they are shut out.
    pub disabled: bool,
}

/// A district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct District {
    /// Its id, as household documents record it.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One row of the access log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AuditEntry {
    /// Position in the log.
    pub seq: i64,
    /// When (milliseconds since the Unix epoch).
    pub at: i64,
    /// Who.
    pub user_id: String,
    /// On which device.
    pub device_id: String,
    /// Which household document.
    pub document_id: String,
    /// `open`, `change` or `refused`.
    pub action: String,
    /// More about it.
    pub detail: String,
}

/// The access log, newest first, with whether its hash chain is intact.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AuditLog {
    /// The rows.
    pub entries: Vec<AuditEntry>,
    /// The first row whose hash does not match, if any: the log was altered there.
    pub first_broken_row: Option<i64>,
    /// Rows worth a reviewer's look.
    #[serde(default)]
    pub flags: Vec<FlaggedRow>,
}

/// A row of the log flagged for review: `after-hours`, `many-households` or `export`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FlaggedRow {
    /// The row.
    pub seq: i64,
    /// Why.
    pub flag: String,
}

/// A period of the log a supervisor marked reviewed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LogReview {
    /// Its id.
    pub id: i64,
    /// Who reviewed.
    pub reviewer: String,
    /// The district, or none for all of the reviewer's.
    pub district_id: Option<String>,
    /// The period's start (ms).
    pub period_from: i64,
    /// Its end (ms, exclusive).
    pub period_to: i64,
    /// What they noted.
    pub comment: String,
    /// When (ms).
    pub reviewed_at: i64,
}

/// The reviews of this supervisor's districts, newest first.
pub async fn log_reviews() -> Result<Vec<LogReview>, ApiError> {
    let response = Request::get("/api/audit/reviews")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Records that the log from `from` to `to` (of `district`, or all of this supervisor's)
/// was reviewed, with `comment`.
pub async fn add_log_review(
    from: Timestamp,
    to: Timestamp,
    district: Option<&str>,
    comment: &str,
) -> Result<(), ApiError> {
    let body = serde_json::json!({
        "from": from.as_millis(),
        "to": to.as_millis(),
        "district": district,
        "comment": comment,
    });
    send_json("POST", "/api/audit/reviews", &body)
        .await
        .map(|_| ())
}

/// Every user (supervisors and administrators).
pub async fn users() -> Result<Vec<Person>, ApiError> {
    let response = Request::get("/api/users").send().await.map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Every district.
pub async fn districts() -> Result<Vec<District>, ApiError> {
    let response = Request::get("/api/districts")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Moves a household to a staff member's caseload, or to nobody's (supervisors). The server
/// writes the assignment into the household, so it arrives here by sync.
pub async fn assign(household: DocumentId, staff: Option<&str>) -> Result<(), ApiError> {
    let body = serde_json::json!({ "household": household.to_string(), "staff": staff });
    let response = Request::post("/api/assignments")
        .json(&body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    check(response).await.map(|_| ())
}

/// Logs the households this device showed (`reads.rs`). `Ok` once the server has answered
/// for every one of them: logged, logged before, or refused for good (malformed, or of a
/// household this person never held), which the device drops all the same.
pub async fn log_reads(reads: &[impl serde::Serialize]) -> Result<(), ApiError> {
    let body = serde_json::json!({ "reads": reads });
    send_json("POST", "/api/reads", &body).await.map(|_| ())
}

/// Logs a table saved as a file at the desk: its name and rows.
pub async fn log_export(file: &str, rows: usize) -> Result<(), ApiError> {
    let body = serde_json::json!({ "file": file, "rows": rows });
    send_json("POST", "/api/exports", &body).await.map(|_| ())
}

/// The access log, optionally of one household and one user, at most `limit` rows.
pub async fn audit(
    household: Option<&str>,
    user: Option<&str>,
    limit: u32,
) -> Result<AuditLog, ApiError> {
    let limit = limit.to_string();
    let mut query = vec![("limit", limit.as_str())];
    if let Some(household) = household {
        query.push(("household", household));
    }
    if let Some(user) = user {
        query.push(("user", user));
    }
    let response = Request::get("/api/audit")
        .query(query)
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Sends `body` as JSON with `method` to `path` and checks the answer.
async fn send_json(
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<gloo::net::http::Response, ApiError> {
    let request = match method {
        "PATCH" => Request::patch(path),
        _ => Request::post(path),
    };
    let response = request
        .json(body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    check(response).await
}

/// Chooses a new password in place of the current one (after a temporary password, or
/// any time). The session stays.
pub async fn change_password(current: &str, new: &str) -> Result<(), ApiError> {
    let body = serde_json::json!({ "current_password": current, "new_password": new });
    send_json("POST", "/api/me/password", &body)
        .await
        .map(|_| ())
}

/// A signed-in device, as administrators see every user's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
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

/// `text` made safe for one segment of a path.
fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// A filed tertial report, without its figures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FiledReportSummary {
    /// Its id.
    pub id: i64,
    /// The tertial, as `2026 T1`.
    pub tertial: String,
    /// The district; none for every district.
    pub district_id: Option<String>,
    /// The supervisor who filed it.
    pub filed_by: String,
    /// When (ms).
    pub filed_at: i64,
    /// How many households were read to compute it.
    pub households: i64,
}

/// A filed tertial report with its figures, as it was filed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FiledReport {
    /// Who filed it, when, for what.
    #[serde(flatten)]
    pub summary: FiledReportSummary,
    /// The figures.
    pub report: lots_core::TertialReport,
}

/// The reports filed for this supervisor's districts and for every district, newest first.
pub async fn filed_reports() -> Result<Vec<FiledReportSummary>, ApiError> {
    let response = Request::get("/api/reports").send().await.map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// One filed report.
pub async fn filed_report(id: i64) -> Result<FiledReport, ApiError> {
    let response = Request::get(&format!("/api/reports/{id}"))
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Files the report of `tertial` (over) for `district`, or every district; the server
/// computes it from the stored households and keeps it as filed.
pub async fn file_report(
    tertial: lots_core::Tertial,
    district: Option<&str>,
) -> Result<FiledReport, ApiError> {
    let body = serde_json::json!({ "tertial": tertial.to_string(), "district": district });
    let response = send_json("POST", "/api/reports", &body).await?;
    response.json().await.map_err(network)
}

/// A person's own copy, as the server made or released it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PersonCopy {
    /// The household's document.
    pub household: String,
    /// Made or released when (ms).
    pub at: i64,
    /// By which supervisor.
    pub by: String,
    /// Whether this is the released copy.
    pub released: bool,
    /// SHA-256 of the copy's JSON: a release names the copy reviewed by it.
    pub digest: String,
    /// The passages.
    pub copy: lots_core::PersonCopy,
}

fn copy_path(household: &str, member: &str) -> String {
    format!(
        "/api/households/{}/members/{}/copy",
        encode(household),
        encode(member)
    )
}

/// Everything held about one member, for review (on the access log).
pub async fn person_copy(household: &str, member: &str) -> Result<PersonCopy, ApiError> {
    let response = Request::get(&copy_path(household, member))
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The copy to hand out, with `withheld` withheld; `digest` names the copy reviewed, and the
/// server refuses if what it holds changed since.
pub async fn release_person_copy(
    household: &str,
    member: &str,
    digest: &str,
    withheld: &[String],
) -> Result<PersonCopy, ApiError> {
    let body = serde_json::json!({ "digest": digest, "withheld": withheld });
    let path = format!("{}/release", copy_path(household, member));
    let response = send_json("POST", &path, &body).await?;
    response.json().await.map_err(network)
}

//! The JSON API: sign in and out, who am I, my caseload, users, districts, devices,
//! assignments, the audit log and the quarantine of refused changes. Input types are separate
//! from the stored model.

pub mod admin;
pub mod handed_in;
pub mod oidc;
pub mod person_copy;
pub mod quarantine;
pub mod reads;
pub mod reports;
pub mod retention;
pub mod reviews;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lots_core::{DocumentId, Timestamp};

use crate::AppState;
use crate::auth::{Session, SignedIn, new_token, session_cookie};
use crate::caseload::HouseholdSummary;
use crate::error::AppError;
use crate::store::{AuditFilter, AuditReader, Device, District, Role, SessionKind, User};
use crate::sync::hub::now;
use crate::throttle;

pub use lots_core::api::{AuditLog, FlaggedRow, Me, NewUser};

/// How long a sync token lasts.
const SYNC_TOKEN_SECONDS: i64 = 60;

/// `POST /api/login` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    username: String,
    password: String,
    /// What to call this device in the device list ("Annas telefon").
    #[serde(default)]
    device_label: Option<String>,
    /// The device this person signed in on before, when signing in again on it (a session
    /// that ran out while the phone was away): kept if it is theirs and not revoked, so
    /// that what they recorded meanwhile, signed on it, is still theirs to sync. Otherwise
    /// a new device is registered.
    #[serde(default)]
    device_id: Option<String>,
}

/// `POST /api/login` answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The session token, for clients that use bearer tokens.
    token: String,
    /// The device this login registered.
    device_id: String,
    /// Who signed in.
    user: User,
    /// Signed in with a temporary password: everything but `GET /api/me`, `POST
    /// /api/logout` and `POST /api/me/password` is refused (403, `password_change_required`)
    /// until a new one is chosen.
    must_change_password: bool,
}

/// Signs in: checks the password, registers the device (or keeps the one signed in on
/// before), opens a session.
#[utoipa::path(post, path = "/api/login", request_body = LoginRequest, responses((status = 200, description = "Signed in; also sets the session cookie", body = LoginResponse), (status = 401, description = "Wrong username or password", body = ErrorBody), (status = 429, description = "Too many failed sign-ins; see Retry-After", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    address: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Json(request): Json<LoginRequest>,
) -> Result<Response, AppError> {
    if !state.config.password_sign_in {
        return Err(AppError::PasswordSignInOff);
    }
    let username: String = request
        .username
        .trim()
        .to_lowercase()
        .chars()
        .take(64)
        .collect();
    let address = address.map(|axum::Extension(info)| info.0.ip());
    let keys: Vec<throttle::Key> = std::iter::once(throttle::Key::Username(username.clone()))
        .chain(address.map(throttle::Key::Address))
        .collect();
    let attempted = std::time::Instant::now();
    if let Some(wait) = state.throttle.must_wait(&keys, attempted) {
        tracing::warn!(%username, ?address, "sign-in refused: too many failures");
        return Err(AppError::TooManyAttempts {
            retry_after: wait.as_secs().max(1),
        });
    }
    let found = state.store.user_by_username(&username).await?;
    let verified = match &found {
        Some((user, stored_hash)) => {
            let verified = state
                .hashing
                .verify(request.password, Arc::new(stored_hash.clone()))
                .await
                .map_err(AppError::Internal)?;
            verified && !user.disabled
        }
        None => {
            // Spend the same time as a real check so timing does not tell which usernames
            // exist.
            let _ = state
                .hashing
                .verify(request.password, state.dummy_hash.clone())
                .await;
            false
        }
    };
    let from = address.map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string());
    // On record as who it named, when that is a user: their log shows the attempts.
    let named = found
        .as_ref()
        .map_or_else(|| "-".to_owned(), |(user, _)| user.id.clone());
    let Some((user, _)) = found.filter(|_| verified) else {
        state.throttle.failed(&keys, attempted);
        state
            .store
            .audit_event(
                now(),
                &named,
                "-",
                "sign-in-failed",
                &format!("username {username:?} from {from}"),
            )
            .await?;
        return Err(AppError::BadCredentials);
    };
    state.throttle.succeeded(&username);
    let (token, device_id, cookie) = open_session(
        &state,
        &user,
        request.device_label.as_deref(),
        request.device_id.as_deref(),
        &format!("from {from}"),
    )
    .await?;
    let must_change_password = state.store.must_change_password(&user.id).await?;
    let mut response = Json(LoginResponse {
        token,
        device_id,
        user,
        must_change_password,
    })
    .into_response();
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

/// Opens a session for `user`, who has just shown who they are (a password, or the identity
/// provider): registers the device (or keeps `device_id`, the one they signed in on before,
/// if it is theirs and not revoked) and puts the sign-in on record with `how`. Returns the
/// session token, the device and the session cookie to set.
pub(crate) async fn open_session(
    state: &AppState,
    user: &User,
    device_label: Option<&str>,
    device_id: Option<&str>,
    how: &str,
) -> Result<(String, String, HeaderValue), AppError> {
    let now = state.clock.now();
    // Sessions that ran out are deleted here, now and then, rather than on a timer.
    state
        .store
        .purge_sessions(now, state.config.session_rules().idle_ms)
        .await?;
    let label = device_label
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .unwrap_or("okänd enhet");
    if label.chars().count() > 100 {
        return Err(AppError::BadRequest(
            "the device label is longer than 100 characters".into(),
        ));
    }
    let known = match device_id {
        Some(id) => state.store.active_device_of(id, &user.id).await?,
        None => None,
    };
    let device_id = match known {
        Some(device) => device.id,
        None => {
            let device_id = format!("d-{}", &new_token()[..16]);
            state
                .store
                .add_device(&device_id, &user.id, label, now)
                .await?;
            device_id
        }
    };
    let token = new_token();
    let lifetime_ms = state.config.session_lifetime_ms();
    let expires = Timestamp::from_millis(now.as_millis() + lifetime_ms);
    state
        .store
        .add_session(
            &token,
            &user.id,
            &device_id,
            SessionKind::Session,
            now,
            expires,
        )
        .await?;
    state
        .store
        .audit_event(now, &user.id, &device_id, "sign-in", how)
        .await?;
    tracing::info!(user = %user.id, device = %device_id, "signed in");
    let cookie = session_cookie(state, &token, lifetime_ms / 1000)?;
    Ok((token, device_id, cookie))
}

/// Signs out: ends this device's session (with its rotated tokens).
#[utoipa::path(post, path = "/api/logout", responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Response, AppError> {
    state
        .store
        .delete_device_sessions(&session.device_id)
        .await?;
    // The device's sockets end with its sign-in, here and on every other server process.
    state
        .close_everywhere(None, Some(session.device_id.clone()), "signed out")
        .await;
    state
        .store
        .audit_event(now(), &session.user.id, &session.device_id, "sign-out", "")
        .await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(SET_COOKIE, session_cookie(&state, "", 0)?);
    // The browser drops everything of the site: the app has cleared its own storage first,
    // and this reaches what it cannot (the HTTP cache, a tab's leftovers, the cookie jar).
    headers.insert(CLEAR_SITE_DATA, HeaderValue::from_static(CLEAR_EVERYTHING));
    Ok(response)
}

/// Says that a device an administrator shut out (revoked, or its user disabled) has deleted
/// what Lots held on it. Its ended session's token is the proof it is that device; the
/// deletion goes on the log for the administrator, and the token is forgotten.
#[utoipa::path(post, path = "/api/wiped", responses((status = 204, description = "On record"), (status = 401, body = ErrorBody)))]
pub async fn wiped(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let ended = ended_session(&state, &parts, now).await?;
    state
        .store
        .audit_event(
            now,
            &ended.user_id,
            &ended.device_id,
            "device-wiped",
            ended.why.code(),
        )
        .await?;
    state.store.forget_ended_sessions(&ended.device_id).await?;
    tracing::info!(user = %ended.user_id, device = %ended.device_id, "a shut-out device deleted what it held");
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(SET_COOKIE, session_cookie(&state, "", 0)?);
    headers.insert(CLEAR_SITE_DATA, HeaderValue::from_static(CLEAR_EVERYTHING));
    Ok(response)
}

/// The ended session a shut-out device presents (its token is the proof of which device it
/// is); a live or unknown token is unauthenticated here.
pub(crate) async fn ended_session(
    state: &AppState,
    parts: &axum::http::request::Parts,
    now: Timestamp,
) -> Result<crate::store::EndedSession, AppError> {
    let token = crate::auth::request_token(parts).ok_or(AppError::Unauthenticated)?;
    state
        .store
        .ended_session(&token, now)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// `Clear-Site-Data`'s header name (not among `http`'s constants).
const CLEAR_SITE_DATA: axum::http::HeaderName =
    axum::http::HeaderName::from_static("clear-site-data");

/// Every kind of data `Clear-Site-Data` names, as it wants them: quoted.
const CLEAR_EVERYTHING: &str = "\"cache\", \"cookies\", \"storage\"";

/// Who is signed in, on which device.
#[utoipa::path(get, path = "/api/me", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
) -> Result<Json<Me>, AppError> {
    Ok(Json(Me {
        user: session.user,
        device_id: session.device_id,
        server_time: Some(now().as_millis()),
        must_change_password: session.must_change_password,
        device_lock: Some(state.store.device_lock().await?),
    }))
}

/// `POST /api/sync-token` answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SyncToken {
    token: String,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    expires_at: Timestamp,
}

/// A single-use token to open `/sync?token=…` within a minute, for clients that cannot set
/// headers or cookies on a WebSocket.
#[utoipa::path(post, path = "/api/sync-token", responses((status = 200, body = SyncToken), (status = 401, body = ErrorBody)))]
pub async fn sync_token(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<SyncToken>, AppError> {
    let now = now();
    let token = new_token();
    let expires_at = Timestamp::from_millis(now.as_millis() + SYNC_TOKEN_SECONDS * 1000);
    state
        .store
        .add_session(
            &token,
            &session.user.id,
            &session.device_id,
            SessionKind::Sync,
            now,
            expires_at,
        )
        .await?;
    Ok(Json(SyncToken { token, expires_at }))
}

/// The households this user may sync, most urgent first.
#[utoipa::path(get, path = "/api/caseload", responses((status = 200, body = Vec<HouseholdSummary>), (status = 401, body = ErrorBody)))]
pub async fn caseload(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<HouseholdSummary>>, AppError> {
    let caseload = crate::caseload::caseload(&state.store, &session.principal(), now()).await?;
    // A list names households: on record, in counts (which ones is the caseload itself).
    let detail = format!("households={}", caseload.len());
    audit_action(&state, &session, "caseload-listed", &detail).await?;
    Ok(Json(caseload))
}

/// Every district.
#[utoipa::path(get, path = "/api/districts", responses((status = 200, body = Vec<District>), (status = 401, body = ErrorBody)))]
pub async fn districts(
    State(state): State<AppState>,
    _session: Session,
) -> Result<Json<Vec<District>>, AppError> {
    Ok(Json(state.store.districts().await?))
}

/// `POST /api/districts` body, and `PATCH /api/districts/{id}`'s (without the id).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct NewDistrict {
    #[serde(default)]
    id: String,
    name: String,
}

/// Adds a district (administrators).
#[utoipa::path(post, path = "/api/districts", request_body = NewDistrict, responses((status = 201, body = District), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_district(
    State(state): State<AppState>,
    session: Session,
    Json(new): Json<NewDistrict>,
) -> Result<(StatusCode, Json<District>), AppError> {
    require(&session, &[Role::Admin])?;
    let (id, name) = crate::setup::district(&new.id, &new.name)
        .map_err(|error| AppError::BadRequest(error.to_string()))?;
    if state
        .store
        .districts()
        .await?
        .iter()
        .any(|district| district.id == id)
    {
        return Err(AppError::BadRequest(format!(
            "the district {id:?} exists already"
        )));
    }
    state.store.add_district(&id, &name).await?;
    audit_action(
        &state,
        &session,
        "district-created",
        &format!("{id} ({name})"),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(District { id, name })))
}

/// Renames a district (administrators); its id, which the records hold, stays.
#[utoipa::path(patch, path = "/api/districts/{id}", request_body = NewDistrict, params(("id" = String, Path, description = "The id")), responses((status = 204, description = "Renamed"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rename_district(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Json(update): Json<NewDistrict>,
) -> Result<StatusCode, AppError> {
    require(&session, &[Role::Admin])?;
    let (id, name) = crate::setup::district(&id, &update.name)
        .map_err(|error| AppError::BadRequest(error.to_string()))?;
    if !state.store.rename_district(&id, &name).await? {
        return Err(AppError::NotFound("district"));
    }
    audit_action(
        &state,
        &session,
        "district-renamed",
        &format!("{id} to {name}"),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts what a signed-in person did on record (an administrator's action, a listing, a
/// reading of the log): who, on which device, what, to whom.
pub(crate) async fn audit_action(
    state: &AppState,
    session: &Session,
    action: &str,
    detail: &str,
) -> Result<(), AppError> {
    state
        .store
        .audit_event(now(), &session.user.id, &session.device_id, action, detail)
        .await?;
    Ok(())
}

/// [`audit_action`] for an action on a user's access: filed under `districts` too, so that
/// the supervisors of every district concerned read it.
pub(crate) async fn audit_action_in(
    state: &AppState,
    session: &Session,
    action: &str,
    detail: &str,
    districts: &[String],
) -> Result<(), AppError> {
    state
        .store
        .audit_event_in(
            now(),
            &session.user.id,
            &session.device_id,
            action,
            detail,
            districts,
        )
        .await?;
    Ok(())
}

pub(crate) fn require(session: &Session, roles: &[Role]) -> Result<(), AppError> {
    if roles.contains(&session.user.role) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Every user (supervisors see them to assign; administrators to manage).
#[utoipa::path(get, path = "/api/users", responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<User>>, AppError> {
    require(&session, &[Role::Supervisor, Role::Admin])?;
    Ok(Json(state.store.users().await?))
}

/// Creates a user (administrators).
#[utoipa::path(post, path = "/api/users", request_body = NewUser, responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    session: Session,
    Json(new): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), AppError> {
    require(&session, &[Role::Admin])?;
    let username = crate::auth::normalized_username(&new.username).map_err(AppError::BadRequest)?;
    crate::auth::check_new_password(&new.password).map_err(AppError::BadRequest)?;
    if new.display_name.trim().is_empty() {
        return Err(AppError::BadRequest(
            "the display name must not be empty".into(),
        ));
    }
    if state.store.user_by_username(&username).await?.is_some() {
        return Err(AppError::BadRequest(format!(
            "the username {username:?} is taken"
        )));
    }
    let known: Vec<String> = state
        .store
        .districts()
        .await?
        .into_iter()
        .map(|district| district.id)
        .collect();
    if let Some(unknown) = new
        .districts
        .iter()
        .find(|district| !known.contains(district))
    {
        return Err(AppError::BadRequest(format!(
            "there is no district {unknown:?}"
        )));
    }
    let user = User {
        id: format!("u-{username}"),
        username,
        display_name: new.display_name.trim().to_owned(),
        role: new.role,
        districts: new.districts,
        disabled: false,
    };
    state
        .store
        .add_user(&user, &state.hashing.hash(new.password).await?, now())
        .await?;
    state.hub.users_changed();
    audit_action_in(
        &state,
        &session,
        "user-created",
        &format!(
            "{} ({}) as {}, districts {}",
            user.id,
            user.display_name,
            user.role.as_str(),
            user.districts.join(", ")
        ),
        &user.districts,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Devices: an administrator sees all, others their own.
#[utoipa::path(get, path = "/api/devices", responses((status = 200, body = Vec<Device>)))]
pub async fn devices(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<Device>>, AppError> {
    let owner = (session.user.role != Role::Admin).then_some(session.user.id.as_str());
    Ok(Json(state.store.devices(owner).await?))
}

/// Revokes a device (a lost phone): its sessions end, its sockets close.
#[utoipa::path(post, path = "/api/devices/{id}/revoke", params(("id" = String, Path, description = "The id")), responses((status = 204, description = "Revoked; its sockets are closed"), (status = 404, body = ErrorBody)))]
pub async fn revoke_device(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let devices = state.store.devices(None).await?;
    let device = devices
        .iter()
        .find(|device| device.id == id)
        .ok_or(AppError::NotFound("device"))?;
    if session.user.role != Role::Admin && device.user_id != session.user.id {
        return Err(AppError::NotFound("device"));
    }
    state.store.revoke_device(&id, now()).await?;
    audit_action(
        &state,
        &session,
        "device-revoked",
        &format!("{id} of {} ({})", device.user_id, device.label),
    )
    .await?;
    state
        .close_everywhere(None, Some(id), "this device was revoked")
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/assignments` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    household: String,
    staff: Option<String>,
}

/// Moves a household to a staff member's caseload (supervisors, their districts).
#[utoipa::path(post, path = "/api/assignments", request_body = Assignment, responses((status = 204, description = "Assigned"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    session: Session,
    Json(assignment): Json<Assignment>,
) -> Result<StatusCode, AppError> {
    require(&session, &[Role::Supervisor])?;
    let document: DocumentId = assignment
        .household
        .parse()
        .map_err(|_| AppError::NotFound("household"))?;
    if let Some(staff) = &assignment.staff {
        let user = state
            .store
            .user(staff)
            .await?
            .ok_or_else(|| AppError::BadRequest(format!("there is no user {staff:?}")))?;
        if user.role != Role::Staff || user.disabled {
            return Err(AppError::BadRequest(format!(
                "{staff:?} is not active staff"
            )));
        }
    }
    state
        .hub
        .assign(session.principal(), document, assignment.staff)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/audit` query: every parameter given narrows.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// One household's rows.
    household: Option<String>,
    /// One user's rows: what they did, and the changes of their access.
    user: Option<String>,
    /// The rows filed under one district.
    district: Option<String>,
    /// One kind of row: `open`, `change`, `refused`, `sign-in`, `user-access-changed`, …
    action: Option<String>,
    /// From this time on (ms since the epoch, inclusive).
    from: Option<i64>,
    /// Before this time (ms since the epoch).
    to: Option<i64>,
    /// At most this many rows (1–5,000; 200 when not given).
    limit: Option<i64>,
}

/// Reads the audit log. A supervisor reads the rows filed under their districts: what
/// happened to those districts' households, and what their staff did; an administrator reads
/// the rows about no household (sign-ins and administration). Reading is itself logged.
#[utoipa::path(get, path = "/api/audit", params(AuditQuery), responses((status = 200, body = AuditLog), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditLog>, AppError> {
    require(&session, &[Role::Supervisor, Role::Admin])?;
    let reader = if session.user.role == Role::Supervisor {
        AuditReader::Districts {
            supervisor: &session.user.id,
        }
    } else {
        AuditReader::Administration
    };
    let time = |value: Option<i64>, name: &str| match value {
        Some(ms) if !(0..=MAX_AUDIT_TIME_MS).contains(&ms) => Err(AppError::bad_request(
            "bad_time",
            format!(
                "{name} must be a time in milliseconds since 1970, between 0 and {MAX_AUDIT_TIME_MS}"
            ),
        )),
        value => Ok(value.map(Timestamp::from_millis)),
    };
    let filter = AuditFilter {
        reader,
        document: query.household.as_deref(),
        user: query.user.as_deref(),
        district: query.district.as_deref(),
        action: query.action.as_deref(),
        from: time(query.from, "from")?,
        to: time(query.to, "to")?,
        limit: query.limit.unwrap_or(200).clamp(1, 5_000),
    };
    let entries = state.store.audit_query(&filter).await?;
    let detail = audit_read_detail(&query, entries.len());
    audit_action(&state, &session, "log-read", &detail).await?;
    let flags = crate::review::flags(&entries)
        .into_iter()
        .flat_map(|(seq, flags)| {
            flags.into_iter().map(move |flag| FlaggedRow {
                seq,
                flag: flag.as_str().to_owned(),
            })
        })
        .collect();
    Ok(Json(AuditLog {
        entries,
        first_broken_row: state.store.verify_audit_chain().await?,
        flags,
    }))
}

/// The latest time a log query may name (the year 9999).
const MAX_AUDIT_TIME_MS: i64 = 253_402_300_799_999;

/// What a reading of the log asked for and got, for its own row: ids and times only.
fn audit_read_detail(query: &AuditQuery, rows: usize) -> String {
    let mut parts = Vec::new();
    for (name, value) in [
        ("household", &query.household),
        ("user", &query.user),
        ("district", &query.district),
        ("action", &query.action),
    ] {
        if let Some(value) = value {
            parts.push(format!("{name}={value}"));
        }
    }
    for (name, value) in [("from", query.from), ("to", query.to)] {
        if let Some(value) = value {
            parts.push(format!("{name}={value}"));
        }
    }
    parts.push(format!("rows={rows}"));
    parts.join(" ")
}

/// The JSON body of every error response.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a person to read.
    error: String,
    /// For some errors, a code for the app to act on: `password_change_required` (403:
    /// signed in with a temporary password), `wrong_password`, `weak_password`,
    /// `password_reused`, `own_role_or_districts`, `own_account`, `unknown_district`,
    /// `empty_display_name`, `display_name_too_long`, `nothing_to_change`.
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

/// The OpenAPI description of this API, generated from the handlers and types above.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Lots API",
        description = "Sign-in, caseloads, users, devices, assignments and the audit log. \
        Household records themselves sync over the automerge-repo protocol at /sync."
    ),
    paths(
        login,
        logout,
        wiped,
        handed_in::waiting,
        me,
        sync_token,
        caseload,
        districts,
        create_district,
        rename_district,
        users,
        create_user,
        admin::update_user,
        admin::reset_password,
        admin::change_own_password,
        admin::caseloads,
        admin::device_lock,
        admin::set_device_lock,
        devices,
        revoke_device,
        assign,
        audit,
        quarantine::list,
        quarantine::mine,
        quarantine::accept,
        quarantine::reject,
        reads::log_reads,
        reads::log_export,
        reviews::add,
        reviews::list,
        retention::dry_run,
        retention::run,
        retention::remove_one,
        retention::removed,
        reports::file,
        reports::list,
        reports::one,
        person_copy::make,
        person_copy::release,
        oidc::sign_in_options,
        oidc::identity,
        oidc::link_identity,
        oidc::unlink_identity
    ),
    components(schemas(ErrorBody, Role))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi as _;
    Json(ApiDoc::openapi())
}

/// Answers API paths that do not exist with JSON, not the web app.
pub async fn not_found() -> AppError {
    AppError::NotFound("API endpoint")
}

//! Administration of people and passwords: a user's role, districts, name and access, a
//! temporary password, one's own new password, and who holds how many households (counts
//! only: administrators see no household record).
//!
//! The contract (the administrator's console is built against it):
//!
//! - `PATCH /api/users/{id}` (administrators) `{"disabled"?: bool, "role"?: "staff" |
//!   "supervisor" | "admin", "districts"?: [district id], "display_name"?: string}`, every
//!   field optional, unknown fields refused (422) → 204. 400 for an unknown district
//!   (`unknown_district`), an empty or over-long display name (`empty_display_name`,
//!   `display_name_too_long`), nothing to change (`nothing_to_change`) or disabling oneself
//!   (`own_account`); 403 (`own_role_or_districts`) for an
//!   administrator changing their own role or districts; 404 for no such user. A change of
//!   role or districts is audited as `user-access-changed` with before and after
//!   (`u-omar: role staff → staff; districts district-a → district-b`), shown in the log to
//!   supervisors (the `user` filter of `GET /api/audit` finds it under the changed user too),
//!   and takes effect on caseload access at once.
//! - `POST /api/users/{id}/reset-password` (administrators), no body → 200
//!   `{"temporary_password": "xxxxx-xxxxx-xxxxx-xxxxx"}` (23 characters). The user's sessions
//!   end, their sockets close, and they must choose a new password at the next sign-in.
//!   Audited `password-reset`. 404 for no such user; 400 (`own_account`) for one's own
//!   account (use `POST /api/me/password`).
//! - `POST /api/me/password` (anyone signed in, also with a temporary password)
//!   `{"current_password": "...", "new_password": "..."}` → 204; the session stays, the
//!   user's sessions on other devices end. 400 `wrong_password` (counted with failed
//!   sign-ins: 429 with `Retry-After` after too many), `weak_password`, `password_reused`.
//!   Audited `password-changed`.
//! - While a temporary password is not changed, `GET /api/me` and the sign-in answer say
//!   `"must_change_password": true`, and every other API call but `POST /api/logout` and
//!   `POST /api/me/password` is refused with 403 `{"error": "...", "code":
//!   "password_change_required"}`; `/sync` is refused too.
//! - `GET /api/admin/caseloads` (administrators) → 200 `{"staff": [{"user_id",
//!   "display_name", "role", "districts", "disabled", "households": n,
//!   "households_by_district": {district id: n}}], "districts": [{"district", "name",
//!   "households": n, "unassigned": n}]}`: every user who is not an administrator or who
//!   holds a household, and every district; households whose district is not known are
//!   counted under the district `""` (named "(no district)") when there are any.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::{ErrorBody, audit_action, audit_action_in, require};
use crate::AppState;
use crate::auth::{Session, SignedIn, check_new_password, temporary_password};
use crate::error::AppError;
use crate::store::{Role, User, UserChange};
use crate::throttle;

pub use lots_core::api::{
    Caseloads, DeviceLock, DistrictCaseload, StaffCaseload, TemporaryPassword, UserUpdate,
};

/// Changes a user's role, districts, name or access (administrators). No administrator
/// changes their own role or districts, or disables themselves.
#[utoipa::path(patch, path = "/api/users/{id}", request_body = UserUpdate, params(("id" = String, Path, description = "The id")), responses((status = 204, description = "Updated"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Json(update): Json<UserUpdate>,
) -> Result<StatusCode, AppError> {
    require(&session, &[Role::Admin])?;
    let before = state
        .store
        .user(&id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let own = id == session.user.id;
    // An administrator who shut themselves out might leave nobody to let them back in.
    if own && update.disabled == Some(true) {
        return Err(AppError::bad_request(
            "own_account",
            "you cannot disable your own account; another administrator can",
        ));
    }
    let display_name = match update.display_name.as_deref().map(str::trim) {
        Some("") => {
            return Err(AppError::bad_request(
                "empty_display_name",
                "the display name must not be empty",
            ));
        }
        Some(name) if name.chars().count() > 200 => {
            return Err(AppError::bad_request(
                "display_name_too_long",
                "the display name may have at most 200 characters",
            ));
        }
        other => other.map(str::to_owned),
    };
    let districts = match update.districts {
        Some(requested) => {
            let known: Vec<String> = state
                .store
                .districts()
                .await?
                .into_iter()
                .map(|district| district.id)
                .collect();
            let mut districts: Vec<String> = Vec::with_capacity(requested.len());
            for district in requested {
                if !known.contains(&district) {
                    return Err(AppError::bad_request(
                        "unknown_district",
                        format!("there is no district {district:?}"),
                    ));
                }
                if !districts.contains(&district) {
                    districts.push(district);
                }
            }
            Some(districts)
        }
        None => None,
    };
    let role_changes = update.role.is_some_and(|role| role != before.role);
    let districts_change = districts
        .as_ref()
        .is_some_and(|districts| !same_districts(districts, &before.districts));
    // Nobody grants themselves more reach: another administrator does it, on record.
    if own && (role_changes || districts_change) {
        return Err(AppError::forbidden(
            "own_role_or_districts",
            "you cannot change your own role or districts; another administrator can",
        ));
    }
    if update.disabled.is_none()
        && update.role.is_none()
        && districts.is_none()
        && display_name.is_none()
    {
        return Err(AppError::bad_request(
            "nothing_to_change",
            "give at least one of disabled, role, districts and display_name",
        ));
    }
    let change = UserChange {
        role: update.role.filter(|_| role_changes),
        districts: districts.clone().filter(|_| districts_change),
        display_name: display_name
            .clone()
            .filter(|name| *name != before.display_name),
        disabled: update.disabled,
    };
    if !state.store.change_user(&id, &change).await? {
        return Err(AppError::NotFound("user"));
    }
    state.hub.users_changed();
    if role_changes || districts_change {
        let after_role = change.role.unwrap_or(before.role);
        let after_districts = change
            .districts
            .clone()
            .unwrap_or_else(|| before.districts.clone());
        let concerned: Vec<String> = before
            .districts
            .iter()
            .chain(&after_districts)
            .cloned()
            .collect();
        audit_action_in(
            &state,
            &session,
            "user-access-changed",
            &access_detail(&before, after_role, &after_districts),
            &concerned,
        )
        .await?;
        // An open socket keeps the role and districts it opened with; closed, the app
        // reconnects with the new ones, so what the user may sync changes at once.
        state
            .close_everywhere(Some(id.clone()), None, "your role or districts changed")
            .await;
    }
    if let Some(name) = &change.display_name {
        audit_action(
            &state,
            &session,
            "user-renamed",
            &format!("{id}: {:?} → {name:?}", before.display_name),
        )
        .await?;
    }
    if let Some(disabled) = update.disabled {
        let action = if disabled {
            "user-disabled"
        } else {
            "user-enabled"
        };
        audit_action(&state, &session, action, &id).await?;
        if disabled {
            state
                .close_everywhere(Some(id), None, "your account was disabled")
                .await;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Whether two lists hold the same districts, in any order.
fn same_districts(left: &[String], right: &[String]) -> bool {
    left.len() == right.len() && left.iter().all(|district| right.contains(district))
}

/// The audit detail of a change of role or districts: the user first (so the log's filter
/// by user finds it), then before and after, naming every district concerned.
fn access_detail(before: &User, role: Role, districts: &[String]) -> String {
    let list = |districts: &[String]| {
        if districts.is_empty() {
            "(none)".to_owned()
        } else {
            districts.join(", ")
        }
    };
    format!(
        "{}: role {} → {}; districts {} → {}",
        before.id,
        before.role.as_str(),
        role.as_str(),
        list(&before.districts),
        list(districts)
    )
}

/// Gives a user a temporary password (administrators): their sessions end and their sockets
/// close, and at the next sign-in they must choose a new one.
#[utoipa::path(post, path = "/api/users/{id}/reset-password", params(("id" = String, Path, description = "The id")), responses((status = 200, body = TemporaryPassword), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<TemporaryPassword>, AppError> {
    require(&session, &[Role::Admin])?;
    if id == session.user.id {
        return Err(AppError::bad_request(
            "own_account",
            "change your own password with POST /api/me/password",
        ));
    }
    let password = temporary_password();
    let hash = state.hashing.hash(password.clone()).await?;
    if !state.store.set_temporary_password(&id, &hash).await? {
        return Err(AppError::NotFound("user"));
    }
    audit_action(&state, &session, "password-reset", &id).await?;
    state
        .close_everywhere(Some(id), None, "your password was reset")
        .await;
    Ok(Json(TemporaryPassword {
        temporary_password: password,
    }))
}

/// `POST /api/me/password` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Chooses a new password (anyone signed in; the only thing a user with a temporary password
/// may do). This session stays; the user's sessions on other devices end.
#[utoipa::path(post, path = "/api/me/password", request_body = PasswordChange, responses((status = 204, description = "Changed"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn change_own_password(
    State(state): State<AppState>,
    SignedIn(session): SignedIn,
    Json(change): Json<PasswordChange>,
) -> Result<StatusCode, AppError> {
    let username = session.user.username.clone();
    // Someone holding a session is not to learn the password by trying: wrong guesses count
    // with failed sign-ins of the same username.
    let keys = [throttle::Key::Username(username.clone())];
    let attempted = std::time::Instant::now();
    if let Some(wait) = state.throttle.must_wait(&keys, attempted) {
        return Err(AppError::TooManyAttempts {
            retry_after: wait.as_secs().max(1),
        });
    }
    let (_, stored) = state
        .store
        .user_by_username(&username)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let verified = state
        .hashing
        .verify(change.current_password.clone(), Arc::new(stored))
        .await?;
    if !verified {
        state.throttle.failed(&keys, attempted);
        return Err(AppError::bad_request(
            "wrong_password",
            "the current password is wrong",
        ));
    }
    check_new_password(&change.new_password)
        .map_err(|message| AppError::bad_request("weak_password", message))?;
    if change.new_password == change.current_password {
        return Err(AppError::bad_request(
            "password_reused",
            "the new password must differ from the current one",
        ));
    }
    let hash = state.hashing.hash(change.new_password).await?;
    if !state
        .store
        .change_own_password(&session.user.id, &hash, &session.device_id)
        .await?
    {
        return Err(AppError::Unauthenticated);
    }
    audit_action(&state, &session, "password-changed", &session.user.id).await?;
    // Whoever knew the old password is signed out on every other device.
    for device in state.store.devices(Some(&session.user.id)).await? {
        if device.id != session.device_id && device.revoked_at.is_none() {
            state.hub.close_for(
                Some(session.user.id.clone()),
                Some(device.id),
                "your password was changed",
            );
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Who holds how many households, per district (administrators): counts only, no household.
#[utoipa::path(get, path = "/api/admin/caseloads", responses((status = 200, body = Caseloads), (status = 403, body = ErrorBody)))]
pub async fn caseloads(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Caseloads>, AppError> {
    require(&session, &[Role::Admin])?;
    let counts = state.store.caseload_counts().await?;
    let users = state.store.users().await?;
    let mut districts: Vec<DistrictCaseload> = state
        .store
        .districts()
        .await?
        .into_iter()
        .map(|district| DistrictCaseload {
            district: district.id,
            name: district.name,
            households: 0,
            unassigned: 0,
        })
        .collect();
    let mut staff: Vec<StaffCaseload> = users
        .into_iter()
        .map(|user| StaffCaseload {
            user_id: user.id,
            display_name: user.display_name,
            role: user.role,
            districts: user.districts,
            disabled: user.disabled,
            households: 0,
            households_by_district: BTreeMap::new(),
        })
        .collect();
    for count in counts {
        let district_id = count.district_id.unwrap_or_default();
        let index = match districts
            .iter()
            .position(|district| district.district == district_id)
        {
            Some(index) => index,
            None => {
                districts.push(DistrictCaseload {
                    name: if district_id.is_empty() {
                        "(no district)".to_owned()
                    } else {
                        district_id.clone()
                    },
                    district: district_id.clone(),
                    households: 0,
                    unassigned: 0,
                });
                districts.len() - 1
            }
        };
        districts[index].households += count.households;
        match count.staff {
            None => districts[index].unassigned += count.households,
            Some(holder) => {
                let index = match staff.iter().position(|person| person.user_id == holder) {
                    Some(index) => index,
                    // A holder who is no user (never should be): shown, so no household
                    // goes uncounted.
                    None => {
                        staff.push(StaffCaseload {
                            display_name: holder.clone(),
                            user_id: holder,
                            role: Role::Staff,
                            districts: Vec::new(),
                            disabled: true,
                            households: 0,
                            households_by_district: BTreeMap::new(),
                        });
                        staff.len() - 1
                    }
                };
                staff[index].households += count.households;
                *staff[index]
                    .households_by_district
                    .entry(district_id)
                    .or_default() += count.households;
            }
        }
    }
    staff.retain(|person| person.role != Role::Admin || person.households > 0);
    Ok(Json(Caseloads { staff, districts }))
}

/// How devices lock (administrators).
#[utoipa::path(get, path = "/api/admin/device-lock", responses((status = 200, body = DeviceLock), (status = 403, body = ErrorBody)))]
pub async fn device_lock(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<DeviceLock>, AppError> {
    require(&session, &[Role::Admin])?;
    Ok(Json(state.store.device_lock().await?))
}

/// Sets how devices lock (administrators): every device follows it from its next contact
/// with the server. On the log.
#[utoipa::path(put, path = "/api/admin/device-lock", request_body = DeviceLock, responses((status = 204, description = "Set"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn set_device_lock(
    State(state): State<AppState>,
    session: Session,
    Json(lock): Json<DeviceLock>,
) -> Result<StatusCode, AppError> {
    require(&session, &[Role::Admin])?;
    lock.check().map_err(AppError::BadRequest)?;
    state.store.set_device_lock(&lock).await?;
    let detail = format!(
        "phone {} min, desk {} min, offline {} days",
        lock.phone_idle_minutes, lock.desk_idle_minutes, lock.offline_days
    );
    audit_action(&state, &session, "device-lock-set", &detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

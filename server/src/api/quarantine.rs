//! The quarantine of refused changes: supervisors see their districts' and decide; a device
//! reads its own, to learn what became of what it sent.

use axum::Json;
use axum::extract::{Path, State};
use lots_core::Timestamp;

use super::{ErrorBody, require};
use crate::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::store::{QuarantineStatus, QuarantinedChange, Role};

pub use lots_core::api::{Decided, Refused};

impl From<QuarantinedChange> for Refused {
    fn from(row: QuarantinedChange) -> Self {
        Self {
            id: row.id,
            household: row
                .document
                .map(|document| document.to_string())
                .unwrap_or_default(),
            kept: row.bytes.is_some(),
            change: row.change_hash.unwrap_or_default(),
            message_bytes: row.message_bytes,
            user_id: row.user_id,
            device_id: row.device_id,
            reason: row.reason,
            signed_at: row.signed_at.map(Timestamp::as_millis),
            received_at: row.received_at.as_millis(),
            status: row.status.as_str().to_owned(),
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(Timestamp::as_millis),
        }
    }
}

/// Refused changes to households of the supervisor's districts, newest first. A refused
/// first change of a household the server never took, and a message refused unread, are
/// shown to the supervisors of the sender's districts.
#[utoipa::path(get, path = "/api/quarantine", responses((status = 200, body = Vec<Refused>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<Refused>>, AppError> {
    require(&session, &[Role::Supervisor])?;
    let rows = state.store.quarantined(None, None).await?;
    let mut shown = Vec::new();
    for row in rows {
        let district = match &row.document {
            Some(document) => state
                .store
                .household(document)
                .await?
                .and_then(|(district, _)| district),
            None => None,
        };
        let visible = match district {
            Some(district) => session.user.districts.contains(&district),
            None => state.store.user(&row.user_id).await?.is_some_and(|sender| {
                sender
                    .districts
                    .iter()
                    .any(|district| session.user.districts.contains(district))
            }),
        };
        if visible {
            shown.push(Refused::from(row));
        }
    }
    Ok(Json(shown))
}

/// This device's refused changes and what became of them.
#[utoipa::path(get, path = "/api/quarantine/mine", responses((status = 200, body = Vec<Refused>), (status = 401, body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<Refused>>, AppError> {
    let rows = state.store.quarantined(None, None).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|row| row.device_id == session.device_id && row.user_id == session.user.id)
            .map(Refused::from)
            .collect(),
    ))
}

/// Accepts a change that was refused wrongly: it merges and syncs as usual, with the
/// refused changes that depend on it. A message refused unread holds nothing to accept
/// (400).
#[utoipa::path(post, path = "/api/quarantine/{id}/accept", responses((status = 200, body = Decided), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Json<Decided>, AppError> {
    decide(state, session, id, true).await
}

/// Rejects a refused change, with the refused changes that depend on it.
#[utoipa::path(post, path = "/api/quarantine/{id}/reject", responses((status = 200, body = Decided), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Json<Decided>, AppError> {
    decide(state, session, id, false).await
}

async fn decide(
    state: AppState,
    session: Session,
    id: i64,
    accept: bool,
) -> Result<Json<Decided>, AppError> {
    require(&session, &[Role::Supervisor])?;
    let ids = state.hub.decide(session.principal(), id, accept).await?;
    let status = if accept {
        QuarantineStatus::Accepted
    } else {
        QuarantineStatus::Rejected
    };
    Ok(Json(Decided {
        ids,
        status: status.as_str().to_owned(),
    }))
}

//! What a shut-out device still had waiting for the server, handed in before it deletes
//! everything: `POST /api/wiped/waiting/{id}` with the device's copy of one household.
//!
//! A device that was revoked, or whose person was disabled, may be in someone else's hands:
//! nothing it sends goes straight into the record. Each change of its copy that the server
//! does not have goes to the quarantine, where a supervisor reads it and accepts or rejects
//! it, as for any refused change. The device's ended session is the proof of which device it
//! is ([`crate::store::Store::ended_session`]); the quarantine's quota per device bounds what
//! it can leave there.

use axum::body::Bytes;
use axum::extract::{Path, State};
use lots_core::{DocumentId, Signature};

use crate::AppState;
use crate::error::AppError;
use crate::store::{NewQuarantined, Writes};

/// How many changes went to the quarantine.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct HandedIn {
    /// Changes of the device's copy the server did not have, now waiting for a supervisor.
    pub quarantined: usize,
}

/// Takes a shut-out device's copy of one household: every change in it the server does not
/// have waits in the quarantine for a supervisor. The body is the document as the device
/// saved it (Automerge's binary format).
#[utoipa::path(
    post,
    path = "/api/wiped/waiting/{id}",
    params(("id" = String, Path, description = "The household's document id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, body = HandedIn),
        (status = 400, body = crate::api::ErrorBody),
        (status = 401, body = crate::api::ErrorBody),
        (status = 410, body = crate::api::ErrorBody),
        (status = 429, body = crate::api::ErrorBody),
    )
)]
pub async fn waiting(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: axum::http::request::Parts,
    body: Bytes,
) -> Result<axum::Json<HandedIn>, AppError> {
    let now = state.clock.now();
    let ended = super::ended_session(&state, &parts, now).await?;
    let document: DocumentId = id
        .parse()
        .map_err(|_| AppError::BadRequest(format!("{id:?} is not a document id")))?;
    // A removed household stays removed: nothing of it is taken back, not even for a look.
    if state.store.removed_household(&document).await?.is_some() {
        return Err(AppError::Refused {
            status: axum::http::StatusCode::GONE,
            code: "household_removed",
            message: format!("household {document} was removed; nothing of it is kept"),
        });
    }
    let theirs = lots_core::load_stored(&body)
        .map_err(|error| AppError::BadRequest(format!("the household does not load: {error}")))?;
    let ours = match state.store.document(&document).await? {
        Some(bytes) => lots_core::load_stored(&bytes).map_err(|error| {
            AppError::Internal(anyhow::anyhow!("stored document {document}: {error}"))
        })?,
        None => lots_core::automerge::Automerge::new(),
    };
    // The changes of theirs that ours lacks.
    let missing = ours.get_changes_added(&theirs);
    let pending = state
        .store
        .pending_quarantine_count(&ended.device_id)
        .await?;
    let room = usize::try_from(state.config.quarantine_quota.saturating_sub(pending)).unwrap_or(0);
    if missing.len() > room {
        return Err(AppError::Refused {
            status: axum::http::StatusCode::TOO_MANY_REQUESTS,
            code: "quarantine_full",
            message: format!(
                "the quarantine holds {pending} changes of this device already; {} more do not fit",
                missing.len()
            ),
        });
    }
    let reason = format!(
        "sent by a device after it was shut out ({}): it may be in someone else's hands",
        ended.why.code()
    );
    let mut writes = Writes::default();
    for change in &missing {
        writes.quarantine(NewQuarantined {
            document,
            change_hash: change.hash().to_string(),
            bytes: change.raw_bytes().to_vec(),
            user_id: ended.user_id.clone(),
            device_id: ended.device_id.clone(),
            reason: reason.clone(),
            signed_at: change
                .message()
                .and_then(Signature::from_change_message)
                .map(|(signature, _)| signature.at),
            received_at: now,
        });
    }
    state.store.commit(&writes, now).await?;
    tracing::info!(
        user = %ended.user_id,
        device = %ended.device_id,
        %document,
        changes = missing.len(),
        "a shut-out device handed in what it had waiting"
    );
    Ok(axum::Json(HandedIn {
        quarantined: missing.len(),
    }))
}

//! A person's own copy (GDPR article 15). A supervisor of the household's district asks for
//! everything Lots holds about one member (`person-copy-made` on the log), reviews it, and
//! releases it with the passages withheld under secrecy (`person-copy-released`). Both are
//! computed from the stored document, never from a device's copy, so the copy is the record.
//! The release names the copy the reviewer saw by its digest (SHA-256 of its JSON): if
//! anything in it changed since (a passage added, removed or edited, say by a phone that
//! synced an offline visit), the release is refused and the copy must be made again.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lots_core::{DocumentId, HouseholdDoc, MemberId, PersonCopy};

use super::{ErrorBody, require};
use crate::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::store::{Role, Writes};

pub use lots_core::api::IssuedPersonCopy;

/// `POST …/copy/release` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Release {
    /// The digest of the copy the reviewer saw, as made.
    digest: String,
    /// The keys of the passages withheld under secrecy.
    withheld: Vec<String>,
}

/// The copy of everything held about one member, for review (supervisors of the household's
/// district); on record as `person-copy-made`.
#[utoipa::path(get, path = "/api/households/{id}/members/{member}/copy", params(("id" = String, Path, description = "The household's document id"), ("member" = String, Path, description = "The member's id")), responses((status = 200, body = IssuedPersonCopy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn make(
    State(state): State<AppState>,
    session: Session,
    Path((id, member)): Path<(String, String)>,
) -> Result<Json<IssuedPersonCopy>, AppError> {
    let (document, member, copy) = copy_of(&state, &session, &id, &member).await?;
    let detail = format!("member={member} passages={}", copy.passages.len());
    logged(&state, &session, document, copy, false, &detail).await
}

/// The copy answered, once its making or its release is on the access log.
async fn logged(
    state: &AppState,
    session: &Session,
    document: DocumentId,
    copy: PersonCopy,
    released: bool,
    detail: &str,
) -> Result<Json<IssuedPersonCopy>, AppError> {
    let action = if released {
        "person-copy-released"
    } else {
        "person-copy-made"
    };
    let now = state.clock.now();
    let mut writes = Writes::default();
    writes.audit(
        now,
        &session.user.id,
        &session.device_id,
        document,
        action,
        detail,
    );
    state.store.commit(&writes, now).await?;
    Ok(Json(IssuedPersonCopy {
        household: document.to_string(),
        at: now.as_millis(),
        by: session.user.id.clone(),
        released,
        digest: digest(&copy)?,
        copy,
    }))
}

/// SHA-256 of the copy's JSON, hex. The JSON of one copy is always the same: fields in
/// declaration order, passages in the copy's order.
fn digest(copy: &PersonCopy) -> Result<String, AppError> {
    use sha2::Digest as _;
    let json = serde_json::to_vec(copy).map_err(|error| {
        AppError::Internal(anyhow::anyhow!("the copy did not serialise: {error}"))
    })?;
    Ok(hex::encode(sha2::Sha256::digest(&json)))
}

/// The copy to hand to the person, with the reviewed passages withheld; on record as
/// `person-copy-released`.
#[utoipa::path(post, path = "/api/households/{id}/members/{member}/copy/release", request_body = Release, params(("id" = String, Path, description = "The household's document id"), ("member" = String, Path, description = "The member's id")), responses((status = 200, body = IssuedPersonCopy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn release(
    State(state): State<AppState>,
    session: Session,
    Path((id, member)): Path<(String, String)>,
    Json(body): Json<Release>,
) -> Result<Json<IssuedPersonCopy>, AppError> {
    let (document, member, copy) = copy_of(&state, &session, &id, &member).await?;
    if digest(&copy)? != body.digest {
        return Err(AppError::Refused {
            status: StatusCode::CONFLICT,
            code: "changed_since_review",
            message: "what Lots holds about this person changed since the copy was made; \
                      make the copy again and review it"
                .into(),
        });
    }
    let withheld: BTreeSet<String> = body.withheld.into_iter().collect();
    let total = copy.passages.len();
    let released = copy
        .withhold(&withheld)
        .map_err(|unknown| AppError::Refused {
            status: StatusCode::CONFLICT,
            code: "unknown_passage",
            message: unknown.to_string(),
        })?;
    let detail = format!(
        "member={member} passages={total} withheld={}",
        withheld.len()
    );
    logged(&state, &session, document, released, true, &detail).await
}

/// The household, the member and their copy, read from the stored document: for a
/// supervisor of the household's district. Anything else is answered as not found.
async fn copy_of(
    state: &AppState,
    session: &Session,
    id: &str,
    member: &str,
) -> Result<(DocumentId, MemberId, PersonCopy), AppError> {
    require(session, &[Role::Supervisor])?;
    let no_member = || AppError::Refused {
        status: StatusCode::NOT_FOUND,
        code: "no_member",
        message: format!("there is no member {member:?} of household {id:?} in your districts"),
    };
    let document: DocumentId = id.trim().parse().map_err(|_| no_member())?;
    let member = MemberId::new(member.trim()).map_err(|_| no_member())?;
    let Some((district, _)) = state.store.household(&document).await? else {
        return Err(no_member());
    };
    if !district
        .as_ref()
        .is_some_and(|district| session.user.districts.contains(district))
    {
        return Err(no_member());
    }
    let bytes = state
        .store
        .document(&document)
        .await?
        .ok_or_else(no_member)?;
    let copy = tokio::task::spawn_blocking(move || {
        let doc = crate::sync::hub::load_caught(&bytes)
            .and_then(|doc| HouseholdDoc::from_automerge(doc).map_err(|error| error.to_string()))?;
        doc.person_copy(&member)
            .map(|copy| copy.map(|copy| (member, copy)))
            .map_err(|error| error.to_string())
    })
    .await
    .map_err(|error| AppError::Internal(anyhow::anyhow!("the copy's reading failed: {error}")))?
    .map_err(|why| AppError::Refused {
        status: StatusCode::CONFLICT,
        code: "unreadable_household",
        message: format!("household {document} does not read as a household: {why}"),
    })?;
    let (member, copy) = copy.ok_or_else(no_member)?;
    Ok((document, member, copy))
}

//! Gallring and removal on a decision, at the API.
//!
//! An administrator first lists what the rule makes due (a dry run, on record), then removes
//! exactly the households listed, naming the decision; each is judged again at that moment,
//! and one that is no longer due refuses the whole run. A single household recorded in error
//! is removed on a decision with a reason, by an administrator or a supervisor of its
//! district. Every device learns what was removed from `GET /api/removed` and erases its
//! copies; the server never takes a removed household again (`CaseloadPolicy::removed`).

use axum::Json;
use axum::extract::{Path, State};
use lots_core::{Date, DocumentId, Retention, RetentionRule, Timestamp};

use super::{ErrorBody, require};
use crate::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::store::{HouseholdAge, Removal, RemovalKind, RemovedHousehold, Role};

pub use lots_core::api::{RemovedCount, RetentionCandidate, RetentionDryRun, RetentionVerdict};

/// The most households one gallring run removes: a larger backlog is run in parts.
pub const MAX_REMOVALS_PER_RUN: usize = 5_000;

/// A decision's reference at most, in characters.
pub const MAX_DECISION_CHARS: usize = 200;

/// A reason at most, in characters.
pub const MAX_REASON_CHARS: usize = 1_000;

/// Lists what gallring would remove today (administrators); on record as `retention-listed`.
#[utoipa::path(get, path = "/api/admin/retention", responses((status = 200, body = RetentionDryRun), (status = 403, body = ErrorBody)))]
pub async fn dry_run(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<RetentionDryRun>, AppError> {
    require(&session, &[Role::Admin])?;
    let now = state.clock.now();
    let rule = state.config.retention_rule();
    let (due, kept) = judge_all(&state, rule, now).await?;
    let detail = format!("due={} kept={}", due.len(), kept.len());
    super::audit_action(&state, &session, "retention-listed", &detail).await?;
    Ok(Json(RetentionDryRun {
        rule,
        today: now.date().to_string(),
        due,
        kept,
    }))
}

/// Every household old enough for gallring, judged: (due, kept).
async fn judge_all(
    state: &AppState,
    rule: RetentionRule,
    now: Timestamp,
) -> Result<(Vec<RetentionCandidate>, Vec<RetentionCandidate>), AppError> {
    let today = now.date();
    let (mut due, mut kept) = (Vec::new(), Vec::new());
    for age in state.store.household_ages().await? {
        let Some(candidate) = judge(state, rule, today, &age).await? else {
            continue;
        };
        if candidate.verdict == RetentionVerdict::Due {
            due.push(candidate);
        } else {
            kept.push(candidate);
        }
    }
    Ok((due, kept))
}

/// One household judged; `None` when it is not old enough.
async fn judge(
    state: &AppState,
    rule: RetentionRule,
    today: Date,
    age: &HouseholdAge,
) -> Result<Option<RetentionCandidate>, AppError> {
    let due_on = rule.due_on(age.last_entry_at);
    if today < due_on {
        return Ok(None);
    }
    let verdict = match birth_dates(state, &age.document).await? {
        Some(born) => match rule.judge(age.last_entry_at, today, born) {
            Retention::Due => RetentionVerdict::Due,
            Retention::KeptForResearch => RetentionVerdict::KeptForResearch,
            Retention::NotDue { .. } => return Ok(None),
        },
        None => RetentionVerdict::Unreadable,
    };
    Ok(Some(RetentionCandidate {
        document_id: age.document.to_string(),
        district_id: age.district.clone(),
        last_entry_at: age.last_entry_at.as_millis(),
        due_on: due_on.to_string(),
        verdict,
    }))
}

/// The members' dates of birth, from the stored document; `None` when it does not read as a
/// household.
async fn birth_dates(
    state: &AppState,
    document: &DocumentId,
) -> Result<Option<Vec<Date>>, AppError> {
    let Some(bytes) = state.store.document(document).await? else {
        return Ok(None);
    };
    let household = crate::sync::hub::load_caught(&bytes)
        .ok()
        .and_then(|doc| lots_core::HouseholdDoc::from_automerge(doc).ok())
        .and_then(|doc| doc.household().ok());
    Ok(household.map(|household| {
        household
            .members
            .values()
            .map(|member| member.birth_date)
            .collect()
    }))
}

/// `POST /api/admin/retention` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Run {
    /// The decision to remove, by its reference (1–200 characters).
    decision: String,
    /// The households to remove, as the dry run listed them as due.
    documents: Vec<String>,
}

/// Removes households due for gallring (administrators): exactly those named, each judged
/// again now; one that is not due refuses the whole run (`not_due`).
#[utoipa::path(post, path = "/api/admin/retention", request_body = Run, responses((status = 200, body = RemovedCount), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    session: Session,
    Json(run): Json<Run>,
) -> Result<Json<RemovedCount>, AppError> {
    require(&session, &[Role::Admin])?;
    let decision = checked_text(
        &run.decision,
        "bad_decision",
        "a decision's reference",
        MAX_DECISION_CHARS,
    )?;
    if run.documents.is_empty() || run.documents.len() > MAX_REMOVALS_PER_RUN {
        return Err(AppError::bad_request(
            "bad_documents",
            format!("name 1–{MAX_REMOVALS_PER_RUN} households to remove"),
        ));
    }
    let mut documents = Vec::with_capacity(run.documents.len());
    for id in &run.documents {
        let document: DocumentId = id.parse().map_err(|_| {
            AppError::bad_request("bad_household", format!("{id:?} is not a household id"))
        })?;
        if !documents.contains(&document) {
            documents.push(document);
        }
    }
    let now = state.clock.now();
    let rule = state.config.retention_rule();
    let ages: std::collections::HashMap<DocumentId, HouseholdAge> = state
        .store
        .household_ages()
        .await?
        .into_iter()
        .map(|age| (age.document, age))
        .collect();
    for document in &documents {
        let Some(age) = ages.get(document) else {
            return Err(AppError::bad_request(
                "not_due",
                format!("household {document} is not stored (removed already?)"),
            ));
        };
        let verdict = judge(&state, rule, now.date(), age).await?;
        if verdict
            .as_ref()
            .is_none_or(|candidate| candidate.verdict != RetentionVerdict::Due)
        {
            return Err(AppError::bad_request(
                "not_due",
                format!(
                    "household {document} is not due for gallring today; list again and run \
                     what the list shows"
                ),
            ));
        }
    }
    let removals: Vec<Removal> = documents
        .iter()
        .map(|document| Removal {
            document: *document,
            kind: RemovalKind::Retention,
            decision: decision.clone(),
            reason: String::new(),
        })
        .collect();
    let removed = removals.len();
    state.hub.remove(session.principal(), removals).await?;
    Ok(Json(RemovedCount { removed }))
}

/// `POST /api/households/{id}/remove` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct RemoveOne {
    /// The decision, by its reference (1–200 characters).
    decision: String,
    /// Why (1–1,000 characters), such as "recorded twice".
    reason: String,
}

/// Removes one household on a decision (an administrator, or a supervisor of its district).
#[utoipa::path(post, path = "/api/households/{id}/remove", request_body = RemoveOne, params(("id" = String, Path, description = "The household's document id")), responses((status = 200, body = RemovedCount), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_one(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Json(body): Json<RemoveOne>,
) -> Result<Json<RemovedCount>, AppError> {
    require(&session, &[Role::Admin, Role::Supervisor])?;
    let no_household = || AppError::Refused {
        status: axum::http::StatusCode::NOT_FOUND,
        code: "no_household",
        message: format!("there is no household {id:?} (or it was removed already)"),
    };
    let document: DocumentId = id.trim().parse().map_err(|_| no_household())?;
    let decision = checked_text(
        &body.decision,
        "bad_decision",
        "a decision's reference",
        MAX_DECISION_CHARS,
    )?;
    let reason = checked_text(&body.reason, "bad_reason", "a reason", MAX_REASON_CHARS)?;
    let Some((district, _)) = state.store.household(&document).await? else {
        return Err(no_household());
    };
    // A household of another district is answered as if it did not exist.
    if session.user.role == Role::Supervisor
        && !district
            .as_ref()
            .is_some_and(|district| session.user.districts.contains(district))
    {
        return Err(no_household());
    }
    let removal = Removal {
        document,
        kind: RemovalKind::Decision,
        decision,
        reason,
    };
    state.hub.remove(session.principal(), vec![removal]).await?;
    Ok(Json(RemovedCount { removed: 1 }))
}

/// The removed households this person's devices may hold, oldest first: of their districts
/// or assigned to them when removed (every one, for an administrator). The reason, free
/// text, only for administrators and supervisors.
#[utoipa::path(get, path = "/api/removed", responses((status = 200, body = Vec<RemovedHousehold>)))]
pub async fn removed(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<RemovedHousehold>>, AppError> {
    let all = session.user.role == Role::Admin;
    let mut removed = state
        .store
        .removed_households(&session.user.id, all)
        .await?;
    if session.user.role == Role::Staff {
        for tombstone in &mut removed {
            tombstone.reason.clear();
        }
    }
    Ok(Json(removed))
}

/// `text` trimmed, when it is 1–`max` characters without control characters.
fn checked_text(
    text: &str,
    code: &'static str,
    what: &str,
    max: usize,
) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > max
        || text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(AppError::bad_request(
            code,
            format!("{what} is 1–{max} characters"),
        ));
    }
    Ok(text.to_owned())
}

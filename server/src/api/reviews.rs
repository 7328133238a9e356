//! The systematic review of the access log: a supervisor records that a period (of one of
//! their districts, or all of them) was reviewed, with a comment; the record is itself on
//! the log, and their districts' supervisors read it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use lots_core::Timestamp;

use super::{ErrorBody, require};
use crate::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::store::{LogReview, NewLogReview, Role};

/// A comment's length at most, in characters.
pub const MAX_COMMENT_CHARS: usize = 2_000;

/// `POST /api/audit/reviews` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct NewReview {
    /// The period's start (ms since the epoch, inclusive).
    from: i64,
    /// Its end (exclusive), after `from`. An end in the future is read as now: no one has
    /// reviewed what is not yet on the log, and the device's clock is not the judge of when
    /// now is.
    to: i64,
    /// One of the supervisor's districts; none for all of them.
    district: Option<String>,
    /// What the reviewer noted (1–2,000 characters).
    comment: String,
}

/// `POST /api/audit/reviews` answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Reviewed {
    /// The review's id.
    id: i64,
}

/// Records that a period of the log was reviewed (supervisors).
#[utoipa::path(post, path = "/api/audit/reviews", request_body = NewReview, responses((status = 201, body = Reviewed), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    session: Session,
    Json(review): Json<NewReview>,
) -> Result<(StatusCode, Json<Reviewed>), AppError> {
    require(&session, &[Role::Supervisor])?;
    let now = state.clock.now();
    // The server's clock bounds the period: a desk whose clock runs a little ahead (its
    // offset is learned over a network) still records "up to now", and the record says
    // what the server knows was on the log.
    let to = review.to.min(now.as_millis());
    if review.from < 0 || to <= review.from {
        return Err(AppError::bad_request(
            "bad_period",
            "a reviewed period begins before it ends, and before now",
        ));
    }
    let comment = review.comment.trim();
    if comment.is_empty() || comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::bad_request(
            "bad_comment",
            format!("a review's comment is 1–{MAX_COMMENT_CHARS} characters"),
        ));
    }
    let districts = match &review.district {
        Some(district) if !session.user.districts.contains(district) => {
            return Err(AppError::Forbidden);
        }
        Some(district) => vec![district.clone()],
        None => session.user.districts.clone(),
    };
    let new = NewLogReview {
        reviewer: &session.user.id,
        district: review.district.as_deref(),
        from: Timestamp::from_millis(review.from),
        to: Timestamp::from_millis(to),
        comment,
    };
    let id = state.store.add_log_review(&new, now).await?;
    let detail = format!(
        "review={id} from={} to={} district={}",
        review.from,
        to,
        review.district.as_deref().unwrap_or("all")
    );
    super::audit_action_in(&state, &session, "log-reviewed", &detail, &districts).await?;
    Ok((StatusCode::CREATED, Json(Reviewed { id })))
}

/// The reviews of the supervisor's districts, and their own, newest first.
#[utoipa::path(get, path = "/api/audit/reviews", responses((status = 200, body = Vec<LogReview>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<LogReview>>, AppError> {
    require(&session, &[Role::Supervisor])?;
    Ok(Json(state.store.log_reviews(&session.user.id).await?))
}

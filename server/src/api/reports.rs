//! Filed tertial reports. A supervisor files the report of a tertial that is over, for one of
//! their districts (or every district, when they supervise every one); the server computes
//! it from the stored households as they stood at the tertial's end, with core's
//! `tertial_report`, and keeps it as filed: aggregates only, no person and no household id.
//! Removing households later (gallring, a decision) leaves it as it was.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use lots_core::{DocumentId, HouseholdDoc, Scope, Tertial, TertialReport, Timestamp};

use super::{ErrorBody, require};
use crate::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::store::{FiledReportSummary, NewFiledReport, Role, Writes};

pub use lots_core::api::FiledReport;

/// Held while a report is computed and filed.
static FILING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `POST /api/reports` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct FileReport {
    /// The tertial, as `2026 T1`; it must be over.
    tertial: String,
    /// One of the supervisor's districts; none for every district.
    district: Option<String>,
}

/// A filed report with its figures, as the server keeps them: the JSON filed, handed out as
/// it was filed. The OpenAPI document names it `FiledReport`, whose schema is the same
/// whatever holds the figures (an object).
pub type Filed = FiledReport<serde_json::Value>;

/// Files the report of a tertial that is over (supervisors); on record as `report-filed`.
#[utoipa::path(post, path = "/api/reports", request_body = FileReport, responses((status = 201, body = FiledReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    session: Session,
    Json(body): Json<FileReport>,
) -> Result<(StatusCode, Json<Filed>), AppError> {
    require(&session, &[Role::Supervisor])?;
    let now = state.clock.now();
    let tertial: Tertial = body.tertial.trim().parse().map_err(|_| {
        AppError::bad_request(
            "bad_tertial",
            format!("{:?} is not a tertial such as \"2026 T1\"", body.tertial),
        )
    })?;
    if tertial.end() >= now.date() {
        return Err(AppError::bad_request(
            "tertial_not_over",
            format!(
                "{tertial} ends on {}: a report is filed once its tertial is over",
                tertial.end()
            ),
        ));
    }
    let scope = scope_of(&state, &session, body.district.as_deref()).await?;
    // Filing reads every stored household: one filing at a time per process, so that a
    // supervisor's repeated clicks (or a client that is not ours) cannot pile them up.
    let Ok(_filing) = FILING.try_lock() else {
        return Err(AppError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "filing_busy",
            message: "another report is being filed; try again in a moment".into(),
        });
    };
    let documents = state.store.household_ages().await?;
    let mut stored = Vec::with_capacity(documents.len());
    for age in &documents {
        if let Some(bytes) = state.store.document(&age.document).await? {
            stored.push((age.document, bytes));
        }
    }
    let at = tertial.period().end_instant();
    let computing_scope = scope.clone();
    let (report, households) =
        tokio::task::spawn_blocking(move || compute(&stored, tertial, at, &computing_scope))
            .await
            .map_err(|error| {
                AppError::Internal(anyhow::anyhow!("the report's computation failed: {error}"))
            })??;
    // Kept as this JSON, and answered as the same value.
    let report = serde_json::to_value(&report).map_err(|error| {
        AppError::Internal(anyhow::anyhow!("the report did not serialise: {error}"))
    })?;
    let district_id = match &scope {
        Scope::District(district) => Some(district.to_string()),
        Scope::AllDistricts => None,
    };
    let mut writes = Writes::default();
    writes.file_report(NewFiledReport {
        tertial: tertial.to_string(),
        district_id: district_id.clone(),
        filed_by: session.user.id.clone(),
        households: households as i64,
        report: report.to_string(),
    });
    let filed_under = match &district_id {
        Some(district) => vec![district.clone()],
        None => session.user.districts.clone(),
    };
    writes.audit_in(
        now,
        &session.user.id,
        &session.device_id,
        "report-filed",
        &format!(
            "tertial={} district={} households={households}",
            tertial.to_string().replace(' ', "-"),
            district_id.as_deref().unwrap_or("all")
        ),
        &filed_under,
    );
    state.store.commit(&writes, now).await?;
    let newest = state
        .store
        .filed_reports(&filed_under, district_id.is_none())
        .await?
        .into_iter()
        .find(|filed| {
            filed.tertial == tertial.to_string()
                && filed.district_id == district_id
                && filed.filed_by == session.user.id
        })
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the filed report was not read back")))?;
    Ok((
        StatusCode::CREATED,
        Json(Filed {
            summary: newest,
            report,
        }),
    ))
}

/// The scope a supervisor may file: one of their districts, or every district when they
/// supervise every one.
async fn scope_of(
    state: &AppState,
    session: &Session,
    district: Option<&str>,
) -> Result<Scope, AppError> {
    match district {
        Some(district) => {
            if !session.user.districts.iter().any(|own| own == district) {
                return Err(AppError::Refused {
                    status: StatusCode::FORBIDDEN,
                    code: "not_your_district",
                    message: format!("{district:?} is not one of your districts"),
                });
            }
            let district = lots_core::DistrictId::new(district)
                .map_err(|error| AppError::bad_request("bad_district", error.to_string()))?;
            Ok(Scope::District(district))
        }
        None => {
            let every = state.store.districts().await?;
            let all_theirs = every
                .iter()
                .all(|district| session.user.districts.contains(&district.id));
            if !all_theirs {
                return Err(AppError::Refused {
                    status: StatusCode::FORBIDDEN,
                    code: "not_every_district",
                    message: "the report for every district is filed by a supervisor of \
                              every district; file your districts' reports one by one"
                        .into(),
                });
            }
            Ok(Scope::AllDistricts)
        }
    }
}

/// The report over the stored households as they stood at `at`, with how many of them were
/// in its scope then. A household that does not read refuses the filing: a report that left
/// it out would under-count without saying so.
fn compute(
    stored: &[(DocumentId, Vec<u8>)],
    tertial: Tertial,
    at: Timestamp,
    scope: &Scope,
) -> Result<(TertialReport, usize), AppError> {
    let unreadable = |document: &DocumentId, why: String| AppError::Refused {
        status: StatusCode::CONFLICT,
        code: "unreadable_household",
        message: format!(
            "household {document} does not read as a household ({why}); \
             no report is filed until it does"
        ),
    };
    let mut households = Vec::with_capacity(stored.len());
    for (document, bytes) in stored {
        let doc = crate::sync::hub::load_caught(bytes)
            .and_then(|doc| HouseholdDoc::from_automerge(doc).map_err(|error| error.to_string()))
            .map_err(|why| unreadable(document, why))?;
        if let Some(household) = doc
            .household_at(at)
            .map_err(|error| unreadable(document, error.to_string()))?
        {
            households.push(household);
        }
    }
    let in_scope = households
        .iter()
        .filter(|household| scope.includes(&household.profile.district))
        .count();
    Ok((
        lots_core::tertial_report(&households, tertial, scope),
        in_scope,
    ))
}

/// The reports filed for the supervisor's districts and for every district, newest first.
#[utoipa::path(get, path = "/api/reports", responses((status = 200, body = Vec<FiledReportSummary>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<FiledReportSummary>>, AppError> {
    require(&session, &[Role::Supervisor])?;
    Ok(Json(
        state
            .store
            .filed_reports(&session.user.districts, true)
            .await?,
    ))
}

/// One filed report, as it was filed.
#[utoipa::path(get, path = "/api/reports/{id}", params(("id" = i64, Path, description = "The filed report's id")), responses((status = 200, body = FiledReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Json<Filed>, AppError> {
    require(&session, &[Role::Supervisor])?;
    let not_found = || AppError::Refused {
        status: StatusCode::NOT_FOUND,
        code: "no_report",
        message: format!("there is no filed report {id}"),
    };
    let filed = state.store.filed_report(id).await?.ok_or_else(not_found)?;
    // Another district's report is answered as if it did not exist.
    if let Some(district) = &filed.summary.district_id
        && !session.user.districts.contains(district)
    {
        return Err(not_found());
    }
    let report = serde_json::from_str(&filed.report).map_err(|error| {
        AppError::Internal(anyhow::anyhow!(
            "filed report {id} does not read as JSON: {error}"
        ))
    })?;
    Ok(Json(Filed {
        summary: filed.summary,
        report,
    }))
}

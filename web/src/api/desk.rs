//! The API as the supervisor's desk uses it: the directory of people and districts,
//! assignments, the access log and its reviews, reads and exports logged, filed reports, and
//! a person's own copy.

use super::*;

pub use lots_core::api::{
    AuditEntry, AuditLog, District, FiledReport, FiledReportSummary, IssuedPersonCopy, LogReview,
};

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
pub async fn users() -> Result<Vec<User>, ApiError> {
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

fn copy_path(household: &str, member: &str) -> String {
    format!(
        "/api/households/{}/members/{}/copy",
        encode(household),
        encode(member)
    )
}

/// Everything held about one member, for review (on the access log).
pub async fn person_copy(household: &str, member: &str) -> Result<IssuedPersonCopy, ApiError> {
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
) -> Result<IssuedPersonCopy, ApiError> {
    let body = serde_json::json!({ "digest": digest, "withheld": withheld });
    let path = format!("{}/release", copy_path(household, member));
    let response = send_json("POST", &path, &body).await?;
    response.json().await.map_err(network)
}

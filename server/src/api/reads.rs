//! Reads logged where they happen: a device says which households it showed, and when by its
//! own clock; the server puts each on the access log with its own receipt time as well. A
//! phone that read offline uploads its queue at the next contact, so an upload may come
//! again (its answer lost): each read carries the device's id for it and is logged once.

use axum::Json;
use axum::extract::State;
use lots_core::{DocumentId, Tertial, Timestamp};

use super::{ErrorBody, require};
use crate::AppState;
use crate::auth::Session;
use crate::error::AppError;
use crate::store::{Role, Writes};
use crate::sync::policy::HouseholdIndex;

/// Reads in one upload at most; a device with more sends them in turns.
pub const MAX_READS: usize = 500;
/// The earliest time a read may claim (Lots did not exist before): 2020-01-01 UTC.
const EARLIEST_MS: i64 = 1_577_836_800_000;
/// How far ahead of the server's clock a device's time may be, as for signed changes.
const AHEAD_MS: i64 = 10 * 60_000;

/// `POST /api/reads` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Reads {
    /// The reads, oldest first.
    reads: Vec<Read>,
}

/// One household shown on a screen.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Read {
    /// The device's id for this read (1–64 letters, digits, `-` or `_`), unique on it.
    id: String,
    /// The household document.
    household: String,
    /// What was shown.
    shown: Shown,
    /// The visit shown, for `visit`.
    visit: Option<String>,
    /// The report it was counted in, for `report`: its tertial as `2026-T2`.
    #[serde(default)]
    report: Option<String>,
    /// When, by the device's clock (ms since the epoch; corrected by the offset it learned
    /// from the server).
    at: i64,
}

/// What a read showed.
#[derive(Debug, Clone, Copy, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Shown {
    /// The household: its members, visits and plan.
    Household,
    /// One visit, in the form that records it.
    Visit,
    /// Counted in a report on the desk's screen (the tertial report covers it).
    Report,
}

impl Shown {
    fn as_str(self) -> &'static str {
        match self {
            Shown::Household => "household",
            Shown::Visit => "visit",
            Shown::Report => "report",
        }
    }
}

/// `POST /api/reads` answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Logged {
    /// Reads put on the log now.
    logged: usize,
    /// Reads on the log already (an upload sent again).
    already: usize,
    /// Reads refused, which the device drops: each with its position and why.
    refused: Vec<RefusedRead>,
}

/// A read the server does not log.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RefusedRead {
    /// Its position in the upload.
    index: usize,
    /// `bad_id`, `bad_household`, `bad_visit`, `bad_report`, `bad_time` or `not_yours`.
    code: &'static str,
    /// Why, for a person to read.
    reason: String,
}

/// Logs the households a device showed (staff and supervisors; an administrator reads none).
#[utoipa::path(post, path = "/api/reads", request_body = Reads, responses((status = 200, body = Logged), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn log_reads(
    State(state): State<AppState>,
    session: Session,
    Json(upload): Json<Reads>,
) -> Result<Json<Logged>, AppError> {
    require(&session, &[Role::Staff, Role::Supervisor])?;
    if upload.reads.len() > MAX_READS {
        return Err(AppError::bad_request(
            "too_many_reads",
            format!(
                "{} reads in one upload; at most {MAX_READS}",
                upload.reads.len()
            ),
        ));
    }
    let now = state.clock.now();
    let principal = session.principal();
    let ids: Vec<String> = upload.reads.iter().map(|read| read.id.clone()).collect();
    let known = state.store.logged_reads(&session.device_id, &ids).await?;
    let mut answer = Logged {
        logged: 0,
        already: 0,
        refused: Vec::new(),
    };
    let mut writes = Writes::default();
    let mut seen = std::collections::HashSet::new();
    // An upload names a few households many times: each is looked up once.
    let mut holds: std::collections::HashMap<DocumentId, Option<Vec<String>>> = Default::default();
    for (index, read) in upload.reads.iter().enumerate() {
        if known.contains(&read.id) || !seen.insert(read.id.as_str()) {
            answer.already += 1;
            continue;
        }
        let document = match check(read, now, session.user.role == Role::Supervisor) {
            Ok(document) => document,
            Err((code, reason)) => {
                answer.refused.push(RefusedRead {
                    index,
                    code,
                    reason,
                });
                continue;
            }
        };
        let held = match holds.get(&document) {
            Some(held) => held.clone(),
            None => {
                let held = shown_to(&state, &principal, &document).await?;
                holds.insert(document, held.clone());
                held
            }
        };
        let Some(file_under) = held else {
            answer.refused.push(RefusedRead {
                index,
                code: "not_yours",
                reason: format!(
                    "household {document} is not one you hold or held, so this device \
                     cannot have shown it"
                ),
            });
            continue;
        };
        let mut detail = format!("shown={}", read.shown.as_str());
        if let Some(visit) = &read.visit {
            detail.push_str(&format!(" visit={visit}"));
        }
        if let Some(report) = &read.report {
            detail.push_str(&format!(" report={report}"));
        }
        detail.push_str(&format!(" device_at={} read={}", read.at, read.id));
        writes.read_receipt(&session.device_id, &read.id);
        writes.audit_about(
            now,
            &session.user.id,
            &session.device_id,
            document,
            "read",
            &detail,
            &file_under,
        );
        answer.logged += 1;
    }
    state.store.commit(&writes, now).await?;
    Ok(Json(answer))
}

/// A read's own fields: its household, or why it is refused.
fn check(
    read: &Read,
    now: Timestamp,
    supervisor: bool,
) -> Result<DocumentId, (&'static str, String)> {
    if !is_id(&read.id) {
        return Err((
            "bad_id",
            "a read's id is 1–64 letters, digits, '-' or '_'".to_owned(),
        ));
    }
    let document: DocumentId = read.household.parse().map_err(|_| {
        (
            "bad_household",
            format!("{:?} is not a household id", read.household),
        )
    })?;
    match (read.shown, &read.visit, &read.report) {
        (Shown::Visit, Some(visit), None) if is_id(visit) => {}
        (Shown::Household, None, None) => {}
        (Shown::Report, None, Some(report))
            if supervisor && report.replacen('-', " ", 1).parse::<Tertial>().is_ok() => {}
        (Shown::Report, ..) => {
            return Err((
                "bad_report",
                "a report read is a supervisor's and names its tertial (such as 2026-T2), and \
                 no visit"
                    .to_owned(),
            ));
        }
        _ => {
            return Err((
                "bad_visit",
                "a visit read names its visit (1–64 letters, digits, '-' or '_'), and only \
                 a visit read does"
                    .to_owned(),
            ));
        }
    }
    let latest = now.as_millis().saturating_add(AHEAD_MS);
    if !(EARLIEST_MS..=latest).contains(&read.at) {
        return Err((
            "bad_time",
            format!(
                "the read's time {} is before 2020 or more than 10 minutes ahead of the \
                 server's clock",
                read.at
            ),
        ));
    }
    Ok(document)
}

fn is_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Whether `principal` may have seen `document` on a screen: it is theirs to read now, or
/// was in their caseload before it moved (a phone that read it offline before it heard).
/// `Some` when they may have, with the district to file the read under when the household
/// is no longer in the index (removed since: its tombstone tells whose it was).
async fn shown_to(
    state: &AppState,
    principal: &crate::sync::policy::Principal,
    document: &DocumentId,
) -> Result<Option<Vec<String>>, AppError> {
    let (district, assigned_staff, removed) = match state.store.household(document).await? {
        Some((district, assigned_staff)) => (district, assigned_staff, false),
        None => match state.store.removed_household(document).await? {
            Some(tombstone) => (tombstone.district_id, tombstone.assigned_staff, true),
            None => return Ok(None),
        },
    };
    let file_under = if removed {
        district.iter().cloned().collect()
    } else {
        Vec::new()
    };
    if principal.may_read(&HouseholdIndex {
        district,
        assigned_staff,
    }) {
        return Ok(Some(file_under));
    }
    let held = state
        .store
        .former_holders(Some(document))
        .await?
        .iter()
        .any(|(_, staff, _)| *staff == principal.user_id);
    Ok(held.then_some(file_under))
}

/// `POST /api/exports` body: a table the desk saved as a file.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct Export {
    /// The file's name (1–100 characters, none a control character).
    file: String,
    /// Its rows, the header not counted.
    rows: u32,
}

/// Logs an export from the desk: which table, how many rows (supervisors). The rows are
/// the desk's own figures (the tables are made on the device, from what it holds).
#[utoipa::path(post, path = "/api/exports", request_body = Export, responses((status = 204, description = "Logged"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn log_export(
    State(state): State<AppState>,
    session: Session,
    Json(export): Json<Export>,
) -> Result<axum::http::StatusCode, AppError> {
    require(&session, &[Role::Supervisor])?;
    let named = (1..=100).contains(&export.file.chars().count())
        && !export.file.chars().any(char::is_control);
    if !named {
        return Err(AppError::bad_request(
            "bad_file",
            "an export's file name is 1–100 characters, none a control character",
        ));
    }
    let detail = format!("file={} rows={}", export.file, export.rows);
    super::audit_action(&state, &session, "export", &detail).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

//! Tertial reports as they were filed: aggregates only, kept as JSON so that removing
//! households later does not change what was reported.

use super::{Row, Store, StoreError, unwrapped};

/// A report to file, computed by the caller ([`Writes::file_report`](super::Writes::file_report)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFiledReport {
    /// The tertial, as `2026 T1`.
    pub tertial: String,
    /// The district; `None` for every district.
    pub district_id: Option<String>,
    /// The supervisor who filed it.
    pub filed_by: String,
    /// How many households of its scope it was computed over.
    pub households: i64,
    /// The report (core's `TertialReport`) as JSON.
    pub report: String,
}

pub use lots_core::api::FiledReportSummary;

api_row!(FiledReportSummary { id: i64, tertial: String, district_id: Option<String>, filed_by: String, filed_at: i64, households: i64 });

/// A filed report with its figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiledReport {
    /// Who, when, what.
    pub summary: FiledReportSummary,
    /// The report as JSON, as it was filed.
    pub report: String,
}

/// `$1` tertial, `$2` district, `$3` by, `$4` at, `$5` households, `$6` the JSON.
pub(super) const INSERT_FILED_REPORT: &str = "INSERT INTO filed_reports \
     (tertial, district_id, filed_by, filed_at, households, report) VALUES ($1, $2, $3, $4, $5, $6)";

const SUMMARY: &str = "id, tertial, district_id, filed_by, filed_at, households";

impl Store {
    /// The reports filed for `districts` (and, with `every_district`, those for every
    /// district), newest first.
    pub async fn filed_reports(
        &self,
        districts: &[String],
        every_district: bool,
    ) -> Result<Vec<FiledReportSummary>, StoreError> {
        let rows: Vec<Row<FiledReportSummary>> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {SUMMARY} FROM filed_reports ORDER BY filed_at DESC, id DESC"
            ))
            .fetch_all(pool)
            .await?
        });
        Ok(unwrapped(rows)
            .into_iter()
            .filter(|row| match &row.district_id {
                Some(district) => districts.contains(district),
                None => every_district,
            })
            .collect())
    }

    /// One filed report.
    pub async fn filed_report(&self, id: i64) -> Result<Option<FiledReport>, StoreError> {
        type Filed = (i64, String, Option<String>, String, i64, i64, String);
        let row: Option<Filed> = on_pool!(self, |pool| {
            sqlx::query_as(&format!(
                "SELECT {SUMMARY}, report FROM filed_reports WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(
            |(id, tertial, district_id, filed_by, filed_at, households, report)| FiledReport {
                summary: FiledReportSummary {
                    id,
                    tertial,
                    district_id,
                    filed_by,
                    filed_at,
                    households,
                },
                report,
            },
        ))
    }
}

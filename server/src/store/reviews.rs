//! Reviews of the access log: who reviewed which period of which district, and what they
//! noted.

use lots_core::Timestamp;

use super::{Row, Store, StoreError, unwrapped};

pub use lots_core::api::LogReview;

api_row!(LogReview { id: i64, reviewer: String, district_id: Option<String>, period_from: i64, period_to: i64, comment: String, reviewed_at: i64 });

/// A review to record.
#[derive(Debug, Clone)]
pub struct NewLogReview<'a> {
    /// The supervisor.
    pub reviewer: &'a str,
    /// The district, or all of theirs.
    pub district: Option<&'a str>,
    /// The period.
    pub from: Timestamp,
    /// Its end.
    pub to: Timestamp,
    /// Their comment.
    pub comment: &'a str,
}

impl Store {
    /// Records a review; returns its id.
    pub async fn add_log_review(
        &self,
        review: &NewLogReview<'_>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO log_reviews (reviewer, district_id, period_from, period_to, comment, reviewed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(review.reviewer)
            .bind(review.district)
            .bind(review.from.as_millis())
            .bind(review.to.as_millis())
            .bind(review.comment)
            .bind(at.as_millis())
            .fetch_one(pool)
            .await?
        }))
    }

    /// The reviews a supervisor reads, newest first: of their districts, and their own.
    pub async fn log_reviews(&self, supervisor: &str) -> Result<Vec<LogReview>, StoreError> {
        let rows: Vec<Row<LogReview>> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, reviewer, district_id, period_from, period_to, comment, reviewed_at \
                 FROM log_reviews WHERE reviewer = $1 OR district_id IN \
                 (SELECT district_id FROM user_districts WHERE user_id = $1) \
                 ORDER BY id DESC LIMIT 1000",
            )
            .bind(supervisor)
            .fetch_all(pool)
            .await?
        });
        Ok(unwrapped(rows))
    }
}

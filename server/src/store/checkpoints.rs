//! What a checkpoint of the audit log reads from the database: the chain's tip, and whether
//! a row a checkpoint names is still there as it was.

use super::{Store, StoreError};

/// The newest row of the audit log, and how many rows there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditTip {
    /// The newest row's position.
    pub seq: i64,
    /// Its hash, which covers every row before it.
    pub hash: String,
    /// How many rows the log holds.
    pub rows: i64,
}

impl Store {
    /// The audit log's newest row; `None` while the log is empty.
    pub async fn audit_tip(&self) -> Result<Option<AuditTip>, StoreError> {
        let tip: Option<(i64, String)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        let Some((seq, hash)) = tip else {
            return Ok(None);
        };
        let rows = self.audit_rows_through(seq).await?;
        Ok(Some(AuditTip { seq, hash, rows }))
    }

    /// The hash of the audit row at `seq`; `None` when there is no such row.
    pub async fn audit_hash_at(&self, seq: i64) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(seq)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// How many audit rows there are up to and including `seq`.
    pub async fn audit_rows_through(&self, seq: i64) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq <= $1")
                .bind(seq)
                .fetch_one(pool)
                .await?
        }))
    }
}

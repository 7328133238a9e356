//! Reads logged by devices: which of a device's read ids are on record already, so that an
//! upload sent again is logged once. The rows themselves go through [`Writes`]
//! (`read_receipt` and `audit`), in one transaction.

use std::collections::HashSet;

use super::{Store, StoreError};

/// Records a device's read id (see `Writes::read_receipt`).
pub(super) const INSERT_READ_RECEIPT: &str =
    "INSERT INTO read_receipts (device_id, read_id, received_at) VALUES ($1, $2, $3)";

impl Store {
    /// Which of `read_ids` `device_id` has logged already.
    pub async fn logged_reads(
        &self,
        device_id: &str,
        read_ids: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut known = HashSet::new();
        // A few hundred at most per upload: one query each keeps the statement portable.
        for read_id in read_ids {
            let found: Option<String> = on_pool!(self, |pool| {
                sqlx::query_scalar(
                    "SELECT read_id FROM read_receipts WHERE device_id = $1 AND read_id = $2",
                )
                .bind(device_id)
                .bind(read_id)
                .fetch_optional(pool)
                .await?
            });
            known.extend(found);
        }
        Ok(known)
    }
}

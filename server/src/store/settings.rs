//! The installation's settings an administrator changes in the console, one JSON value per
//! name: how devices lock ([`DeviceLock`]).

use lots_core::api::DeviceLock;

use super::{Store, StoreError};

/// The name [`DeviceLock`] is stored under.
const DEVICE_LOCK: &str = "device-lock";

impl Store {
    /// How devices lock: as an administrator set it, or the defaults.
    pub async fn device_lock(&self) -> Result<DeviceLock, StoreError> {
        let value: Option<(String,)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT value FROM settings WHERE name = $1")
                .bind(DEVICE_LOCK)
                .fetch_optional(pool)
                .await?
        });
        match value {
            Some((json,)) => serde_json::from_str(&json)
                .map_err(|error| StoreError::Damaged(format!("the device lock setting: {error}"))),
            None => Ok(DeviceLock::default()),
        }
    }

    /// Sets how devices lock.
    pub async fn set_device_lock(&self, lock: &DeviceLock) -> Result<(), StoreError> {
        let json =
            serde_json::to_string(lock).map_err(|error| StoreError::Damaged(error.to_string()))?;
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(DEVICE_LOCK)
            .bind(&json)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

//! Copies of the embedded SQLite database, made while the server runs. PostgreSQL has its
//! own tools (`pg_dump`, `pg_restore`), which see a consistent snapshot just as well; Lots
//! does not wrap them.

use std::path::Path;

use lots_core::Timestamp;

use super::{Pool, Store, StoreError};

/// The audit action of a backup: recorded in the database just before it is copied, so the
/// copy holds the record of its own making (and `restore` can say when it was made).
pub const BACKUP_MADE: &str = "backup-made";

/// The audit action of a restore, recorded in the restored database.
pub const RESTORED: &str = "restored";

impl Store {
    /// Writes a consistent copy of the whole SQLite database to `to` (a new file), while
    /// other connections go on reading and writing. `VACUUM INTO` is SQLite's own online
    /// copy: it reads one snapshot in one transaction, so the copy is never half a commit.
    /// On PostgreSQL this refuses, naming the tool to use.
    pub async fn backup_into(&self, to: &Path, at: Timestamp) -> Result<(), StoreError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(StoreError::Unsupported(
                "a PostgreSQL database is backed up with pg_dump (`pg_dump --format=custom`) and restored with pg_restore; see the README".into(),
            ));
        };
        if to.exists() {
            return Err(StoreError::Unsupported(format!(
                "{} exists already; a backup never overwrites a file",
                to.display()
            )));
        }
        let target = to.to_str().ok_or_else(|| {
            StoreError::Unsupported(format!("{} is not a UTF-8 path", to.display()))
        })?;
        self.audit_event(at, "-", "-", BACKUP_MADE, &format!("to {}", file_name(to)))
            .await?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// When the backup this database was restored from was made: the time of its newest
    /// `backup-made` row.
    pub async fn backup_made_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT MAX(at) FROM audit_log WHERE action = $1")
                .bind(BACKUP_MADE)
                .fetch_one(pool)
                .await?
        });
        Ok(at.map(Timestamp::from_millis))
    }

    /// Moves everything in SQLite's write-ahead log into the database file and empties the
    /// log, so the file alone holds every commit.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if let Pool::Sqlite(pool) = &self.pool {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Closes every connection (SQLite: the file may then be moved).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
    }
}

/// A file's name without its directory, for the log (the directory may name a person's
/// home directory; the name is enough to find the file).
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

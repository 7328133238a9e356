//! Durable storage: users, devices, sessions, documents, actor bindings, the quarantine and
//! the audit log, in SQLite (the embedded default) or PostgreSQL (larger installations,
//! several server processes).
//!
//! Every statement is written once, in SQL both databases read the same way (`$n`
//! placeholders, `RETURNING`, `ON CONFLICT`), and runs on whichever pool is open; only
//! locking, notifications and the integrity check differ. sqlx's `Any` driver would hide the
//! two pools behind one type, but it decodes fewer types and loses compile-time typing per
//! database, so the two concrete pools are kept and matched on (see [`on_pool!`]).
//!
//! SQLite is opened in WAL mode with `synchronous=FULL`, and PostgreSQL commits with its
//! default `synchronous_commit=on`, so a committed transaction is on disk when the call
//! returns: the sync hub writes a document's new changes here before it sends anything that
//! depends on them.
//!
//! This file opens the database; each stored concept has a file of its own under `store/`:
//! `accounts` (users, devices, sessions, districts), `identities` (who a user is at the
//! identity provider), `documents` (chunks and the household index), `actors` (which device
//! an Automerge actor belongs to), `quarantine` (changes refused for a person to decide on),
//! `audit` (the hash-chained log), `writes` (the batch that [`Store::commit`] makes durable
//! in one transaction) and `announce` (what server processes on one PostgreSQL tell each
//! other).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use lots_core::DocumentId;
use sqlx::SqlitePool;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

// The store's tests (`use super::*`) name the instant type through this module, as they did
// when the whole store was one file.
#[cfg(test)]
use lots_core::Timestamp;

/// Runs `$body` with `$pool` bound to the open pool, whichever database it is. The body is
/// compiled once per database, so every query is type-checked against both.
///
/// Defined before the submodules below, which use it: a `macro_rules!` macro is in scope only
/// after its definition.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}

/// One of core's API types (`lots_core::api`) read from a row. Core knows nothing of
/// databases, so those types cannot derive sqlx's `FromRow`; this wrapper carries it for them
/// (`api_row!`), reading each field from the column of its name.
pub(crate) struct Row<T>(pub(crate) T);

impl<T> std::ops::Deref for Row<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Implements `FromRow` for [`Row`] of an API type, given its fields and their types.
macro_rules! api_row {
    ($type:ident { $($field:ident: $field_type:ty),+ $(,)? }) => {
        impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for $crate::store::Row<$type>
        where
            &'r str: sqlx::ColumnIndex<R>,
            $($field_type: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,)+
        {
            fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
                Ok($crate::store::Row($type { $($field: row.try_get(stringify!($field))?),+ }))
            }
        }
    };
}

/// Rows read as API types, unwrapped.
fn unwrapped<T>(rows: Vec<Row<T>>) -> Vec<T> {
    rows.into_iter().map(|Row(value)| value).collect()
}

mod accounts;
mod actors;
mod announce;
mod audit;
mod backup;
mod checkpoints;
mod documents;
mod identities;
mod quarantine;
mod reads;
mod removals;
mod reports;
mod reviews;
mod sessions;
mod settings;
mod staffing;
mod test_support;
mod writes;

pub use accounts::{Device, District, Role, SessionKind, User, token_hash};
pub use actors::ActorBinding;
pub use announce::{Announcement, Heard, Listener};
pub use audit::{AuditEntry, AuditFilter, AuditReader};
pub use backup::{BACKUP_MADE, RESTORED, file_name};
pub use checkpoints::AuditTip;
pub use documents::{HouseholdRow, IndexRow};
pub use identities::{Identity, Linked};
pub use quarantine::{NewQuarantined, NewUnread, QuarantineStatus, QuarantinedChange};
pub use removals::{HouseholdAge, Removal, RemovalKind, RemovedHousehold};
pub use reports::{FiledReport, FiledReportSummary, NewFiledReport};
pub use reviews::{LogReview, NewLogReview};
pub use sessions::{Ended, EndedSession, LiveSession, RotatedToken, SessionRules};
pub use staffing::{CaseloadCount, UserChange};
#[doc(hidden)]
pub use test_support::{create_scratch_database, test_postgres_url};
pub use writes::{Appended, Writes};

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Stored data that does not parse.
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    /// A database URL that is not a PostgreSQL one.
    #[error("{0}")]
    BadUrl(String),
    /// Something this database cannot do, and what to do instead.
    #[error("{0}")]
    Unsupported(String),
    /// An Automerge actor id already bound to another device. The commit that would have
    /// bound it to a second one was refused whole: nothing of it was written.
    #[error("the actor {actor_id} belongs to another device")]
    ActorTaken {
        /// The actor id (hex).
        actor_id: String,
    },
    /// A household to remove that the index does not hold (removed already, or never
    /// known). The commit was refused whole.
    #[error("household {0} is not stored, so it cannot be removed")]
    NotStored(DocumentId),
    /// A chunk for a household another server process removed. The commit was refused
    /// whole.
    #[error("household {0} was removed")]
    Removed(DocumentId),
}

/// The open database.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The storage handle; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// This process's name in announcements, so it can skip its own.
    instance: String,
    /// When this process last wrote each device's last-seen time (ms).
    last_seen: Arc<Mutex<HashMap<String, i64>>>,
    /// On SQLite, which takes one writer at a time: the hub partitions' commits queue here
    /// in turn, instead of meeting the file's lock and polling it in sleeps of up to 100 ms
    /// (SQLite's busy handler).
    writer: Arc<tokio::sync::Mutex<()>>,
}

fn parse_document_id(id: &str) -> Result<DocumentId, StoreError> {
    id.parse()
        .map_err(|error| StoreError::Damaged(format!("document id {id:?}: {error}")))
}

fn random_instance() -> String {
    use rand::Rng as _;
    hex::encode(rand::rng().random::<[u8; 8]>())
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| {
                StoreError::Damaged(format!("cannot create {}: {error}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool: Pool::Sqlite(pool),
            instance: random_instance(),
            last_seen: Arc::default(),
            writer: Arc::default(),
        })
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://…`) and migrates it. Several
    /// server processes may share one database.
    pub async fn open_postgres(url: &str) -> Result<Self, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::BadUrl(format!(
                "the database URL must start with postgres:// or postgresql://, not {:?}",
                url.split(':').next().unwrap_or_default()
            )));
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await?;
        // The migrator takes an advisory lock, so processes starting together migrate once.
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self {
            pool: Pool::Postgres(pool),
            instance: random_instance(),
            last_seen: Arc::default(),
            writer: Arc::default(),
        })
    }

    /// Which database this is: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Whether this is PostgreSQL, where several processes may write at once and so take
    /// advisory locks and announce what they wrote.
    fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// This process's turn to write, on SQLite (on PostgreSQL, writers lock rows instead).
    pub(crate) async fn writing_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.pool {
            Pool::Sqlite(_) => Some(self.writer.lock().await),
            Pool::Postgres(_) => None,
        }
    }

    /// How to begin a transaction that reads and then writes. SQLite's default (deferred)
    /// transaction fails with "database is locked" when two of them both read and then try to
    /// write, so it takes the write lock at once; PostgreSQL locks explicitly where it matters.
    fn begin_writing(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "BEGIN IMMEDIATE",
            Pool::Postgres(_) => "BEGIN",
        }
    }

    /// The database's own consistency check; `Ok(())` when it is sound. SQLite checks the
    /// whole file (`PRAGMA integrity_check`); PostgreSQL reads every row of every table, which
    /// fails on a damaged page.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let result: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(pool)
                    .await?;
                if result != "ok" {
                    return Err(StoreError::Damaged(result));
                }
            }
            Pool::Postgres(pool) => {
                for table in [
                    "districts",
                    "users",
                    "user_districts",
                    "devices",
                    "sessions",
                    "households",
                    "document_chunks",
                    "actors",
                    "quarantine",
                    "audit_log",
                    "identities",
                ] {
                    // Summing the row sizes makes PostgreSQL read each row in full.
                    sqlx::query(&format!(
                        "SELECT COUNT(*), SUM(pg_column_size(t.*)) FROM {table} t"
                    ))
                    .execute(pool)
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Runs one statement as it is, bypassing every rule of this module: for tests that play
    /// someone with direct access to the database.
    #[doc(hidden)]
    pub async fn execute_unchecked(&self, statement: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query(statement).execute(pool).await?.rows_affected()
        }))
    }
}

#[cfg(test)]
mod tests;

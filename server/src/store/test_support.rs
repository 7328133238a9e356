//! Support for tests that run against PostgreSQL: a scratch database per test, and the
//! server to make them on.

use super::{StoreError, random_instance};

/// Creates an empty database with a fresh name on the PostgreSQL server that `admin_url`
/// reaches, and returns its URL: each test gets a database of its own.
#[doc(hidden)]
pub async fn create_scratch_database(admin_url: &str) -> Result<String, StoreError> {
    use sqlx::Connection as _;
    let mut connection = sqlx::PgConnection::connect(admin_url).await?;
    let name = format!("lots_test_{}", random_instance());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .ok_or_else(|| StoreError::BadUrl(format!("{admin_url:?} names no database")))?;
    Ok(format!("{base}/{name}"))
}

/// The PostgreSQL server the tests use, from `LOTS_TEST_POSTGRES_URL` (the test command
/// starts one and sets it). Without it a test's PostgreSQL half fails, unless it is skipped
/// on purpose with `LOTS_SKIP_POSTGRES=1` (outside CI, on a machine without PostgreSQL;
/// `cargo xtask test` never skips it).
#[doc(hidden)]
pub fn test_postgres_url() -> Option<String> {
    match std::env::var("LOTS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("LOTS_SKIP_POSTGRES").is_some_and(|skip| skip == "1"),
                "LOTS_TEST_POSTGRES_URL is not set: run `cargo xtask test`, which starts a \
                 PostgreSQL, or skip the PostgreSQL half on purpose with LOTS_SKIP_POSTGRES=1"
            );
            eprintln!("note: LOTS_SKIP_POSTGRES=1: the PostgreSQL half is skipped");
            None
        }
    }
}

impl super::Store {
    /// Moves a household's last entry back to `at`, as if nothing had been written to it
    /// since: for gallring's tests, which cannot wait five years. Writes the index only.
    #[doc(hidden)]
    pub async fn backdate_last_entry(
        &self,
        document: &lots_core::DocumentId,
        at: lots_core::Timestamp,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("UPDATE households SET last_entry_at = $2 WHERE document_id = $1")
                .bind(document.to_string())
                .bind(at.as_millis())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Clears every household's digest, as in a database from before digests were kept: for
    /// the test of the caseload's backfill.
    #[doc(hidden)]
    pub async fn forget_digests(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("UPDATE households SET digest = NULL")
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

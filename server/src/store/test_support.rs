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
/// starts one and sets it). Without it the PostgreSQL half of a test is skipped with a note,
/// unless `LOTS_REQUIRE_POSTGRES` is set, as the test command does, which makes it a failure.
#[doc(hidden)]
pub fn test_postgres_url() -> Option<String> {
    match std::env::var("LOTS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("LOTS_REQUIRE_POSTGRES").is_none(),
                "LOTS_REQUIRE_POSTGRES is set but LOTS_TEST_POSTGRES_URL is not"
            );
            eprintln!(
                "note: LOTS_TEST_POSTGRES_URL is not set; the PostgreSQL half is skipped (`cargo xtask test` runs it)"
            );
            None
        }
    }
}

//! Backing up and restoring the embedded SQLite database: `lots-server backup` (while the
//! server runs) and `lots-server restore` (while it is stopped).
//!
//! A restore puts the server back in time, but nothing the phones hold is lost: each phone
//! keeps every change it made, and at its next sync it offers the server whatever the server
//! lacks, so the work recorded after the backup flows back in. The database the restore
//! replaces is never deleted; it is moved aside, and the restore says where.
//!
//! The serving process holds an exclusive lock on `lots.lock` in the data directory, so a
//! restore cannot swap the database under a running server.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::config::Config;
use crate::store::{RESTORED, Store, file_name};
use crate::sync::hub::now;

/// The lock a serving process holds on its data directory; released when dropped.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock on `data_dir`, or says that a server holds it.
    pub fn take(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let path = data_dir.join("lots.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "a Lots server is running on {} (it holds {}): stop it first",
                data_dir.display(),
                path.display()
            ),
            Err(std::fs::TryLockError::Error(error)) => {
                Err(error).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}

/// `lots-server backup --to FILE`: a consistent copy of the running server's database.
pub async fn backup(store: &Store, to: &Path) -> anyhow::Result<String> {
    store.backup_into(to, now()).await?;
    let size = std::fs::metadata(to).map(|meta| meta.len()).unwrap_or(0);
    Ok(format!(
        "backed up the database to {} ({} KB)",
        to.display(),
        size.div_ceil(1024)
    ))
}

/// `lots-server restore --from FILE`: replaces the stopped server's database with a backup.
///
/// The backup is checked before anything is touched (it must open, migrate to this version's
/// schema and pass SQLite's integrity check); the current database is then moved aside,
/// never deleted, and the restore is recorded in the restored database's log.
pub async fn restore(config: &Config, from: &Path) -> anyhow::Result<String> {
    if config.database_url.is_some() {
        bail!(
            "a PostgreSQL database is restored with pg_restore (from `pg_dump --format=custom`); see the README"
        );
    }
    let _lock = DataDirLock::take(&config.data_dir)?;
    let database = config.database_path();
    if !from.is_file() {
        bail!("there is no backup file {}", from.display());
    }
    if same_file(from, &database) {
        bail!("{} is the database itself, not a backup", from.display());
    }

    // Checked as a copy next to the database, so the backup file itself stays as it was.
    let incoming = sibling(&database, "restoring");
    remove_if_there(&incoming)?;
    std::fs::copy(from, &incoming).with_context(|| format!("cannot copy {}", from.display()))?;
    let made_at = match check(&incoming).await {
        Ok(made_at) => made_at,
        Err(error) => {
            remove_if_there(&incoming)?;
            return Err(error.context(format!("{} is not a usable Lots backup", from.display())));
        }
    };

    let kept = if database.exists() {
        // Everything committed is moved into the file, so that moving the file keeps it.
        let current = Store::open_sqlite(&database).await?;
        current.checkpoint().await?;
        current.close().await;
        let kept = sibling(&database, &format!("before-restore-{}", now().as_millis()));
        std::fs::rename(&database, &kept)
            .with_context(|| format!("cannot move {} aside", database.display()))?;
        // The audit log's signed checkpoints belong to the log they signed, which is now the
        // kept one: they go aside with it, and the restored log gets checkpoints of its own.
        let checkpoints = config.checkpointing().file;
        if checkpoints.exists() {
            let aside = PathBuf::from(format!(
                "{}.{}",
                checkpoints.display(),
                kept.extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("before-restore")
            ));
            std::fs::rename(&checkpoints, &aside)
                .with_context(|| format!("cannot move {} aside", checkpoints.display()))?;
        }
        for suffix in ["-wal", "-shm"] {
            remove_if_there(&PathBuf::from(format!("{}{suffix}", database.display())))?;
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, &database)
        .with_context(|| format!("cannot move the backup into {}", database.display()))?;

    let restored = Store::open_sqlite(&database).await?;
    let detail = format!(
        "from {}, made at {}; the database before it kept as {}",
        file_name(from),
        made_at.as_millis(),
        kept.as_deref().map_or_else(|| "-".to_owned(), file_name)
    );
    restored
        .audit_event(now(), "-", "-", RESTORED, &detail)
        .await?;
    restored.close().await;

    let mut said = format!("restored the database from {}", from.display());
    if let Some(kept) = kept {
        said.push_str(&format!(
            "; the database it replaced is kept as {}",
            kept.display()
        ));
    }
    said.push_str(
        ". Phones send what they recorded since the backup at their next sync; people whose accounts or devices were added since must be added again.",
    );
    Ok(said)
}

/// Opens a candidate database (migrating it to this version's schema), checks it, and
/// returns when the backup was made. Every backup holds the record of its own making; a
/// database without one was not made by `lots-server backup`.
async fn check(path: &Path) -> anyhow::Result<lots_core::Timestamp> {
    let store = Store::open_sqlite(path)
        .await
        .context("it does not open as a Lots database")?;
    let result = async {
        store.integrity_check().await?;
        store.backup_made_at().await
    }
    .await;
    store.close().await;
    result?
        .context("it holds no record of a backup being made: was it made by `lots-server backup`?")
}

/// `lots.sqlite3` → `lots.sqlite3.<what>`.
fn sibling(database: &Path, what: &str) -> PathBuf {
    PathBuf::from(format!("{}.{what}", database.display()))
}

fn remove_if_there(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

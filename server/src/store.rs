//! Durable storage in SQLite: users, devices, sessions, documents and the audit log.
//!
//! The file is opened in WAL mode with `synchronous=FULL`, so a committed transaction is on
//! disk when the call returns: the sync hub writes a document's new changes here before it
//! sends anything that depends on them.

use std::path::Path;
use std::str::FromStr;

use lots_core::{DocumentId, Timestamp};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

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
}

/// A role, deciding what a user may see.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Field staff: their own caseload.
    Staff,
    /// Supervisors: every household of their districts.
    Supervisor,
    /// Administrators: users and devices, no records.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

impl FromStr for Role {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self, StoreError> {
        match text {
            "staff" => Ok(Role::Staff),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(StoreError::Damaged(format!("unknown role {other:?}"))),
        }
    }
}

/// A user as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    /// The user's id; also their staff id in documents.
    pub id: String,
    /// The name they sign in with.
    pub username: String,
    /// The name shown.
    pub display_name: String,
    /// Their role.
    pub role: Role,
    /// Their districts.
    pub districts: Vec<String>,
    /// Whether they are shut out.
    pub disabled: bool,
}

/// A signed-in device.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Device {
    /// Its id.
    pub id: String,
    /// Whose.
    pub user_id: String,
    /// What the user called it.
    pub label: String,
    /// When it first signed in (ms).
    pub created_at: i64,
    /// When it was last used (ms).
    pub last_seen_at: i64,
    /// When it was revoked, if it was (ms).
    pub revoked_at: Option<i64>,
}

/// A district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct District {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the log.
    pub seq: i64,
    /// When (ms).
    pub at: i64,
    /// Who.
    pub user_id: String,
    /// On which device.
    pub device_id: String,
    /// Which household document.
    pub document_id: String,
    /// `open`, `change` or `refused`.
    pub action: String,
    /// More about it.
    pub detail: String,
}

/// Where a session is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A cookie or bearer session.
    Session,
    /// A short-lived token for opening one WebSocket from a client that cannot set headers.
    Sync,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Session => "session",
            SessionKind::Sync => "sync",
        }
    }
}

/// The storage handle; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// The hash under which a session token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn audit_hash(prev_hash: &str, entry: &AuditEntry) -> String {
    let mut hasher = Sha256::new();
    for field in [
        prev_hash,
        &entry.seq.to_string(),
        &entry.at.to_string(),
        &entry.user_id,
        &entry.device_id,
        &entry.document_id,
        &entry.action,
        &entry.detail,
    ] {
        // Length-prefix each field so no two rows can hash alike by shifting text between fields.
        hasher.update((field.len() as u64).to_le_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Whether any user exists (false on first start).
    pub async fn has_users(&self) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }

    /// Adds a district.
    pub async fn add_district(&self, id: &str, name: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO districts (id, name) VALUES ($1, $2)")
            .bind(id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every district.
    pub async fn districts(&self) -> Result<Vec<District>, StoreError> {
        let rows = sqlx::query("SELECT id, name FROM districts ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| District {
                id: row.get("id"),
                name: row.get("name"),
            })
            .collect())
    }

    /// Adds a user with an already hashed password.
    pub async fn add_user(
        &self,
        user: &User,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, role, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.id)
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(password_hash)
        .bind(user.role.as_str())
        .bind(user.disabled)
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        for district in &user.districts {
            sqlx::query("INSERT INTO user_districts (user_id, district_id) VALUES ($1, $2)")
                .bind(&user.id)
                .bind(district)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn user_from_row(&self, row: &sqlx::sqlite::SqliteRow) -> Result<User, StoreError> {
        let id: String = row.get("id");
        let districts = sqlx::query_scalar(
            "SELECT district_id FROM user_districts WHERE user_id = $1 ORDER BY district_id",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?;
        Ok(User {
            username: row.get("username"),
            display_name: row.get("display_name"),
            role: row.get::<String, _>("role").parse()?,
            disabled: row.get("disabled"),
            districts,
            id,
        })
    }

    /// A user and their password hash, by username.
    pub async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some((
                self.user_from_row(&row).await?,
                row.get("password_hash"),
            ))),
            None => Ok(None),
        }
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => Ok(Some(self.user_from_row(&row).await?)),
            None => Ok(None),
        }
    }

    /// Every user.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY display_name")
            .fetch_all(&self.pool)
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for row in &rows {
            users.push(self.user_from_row(row).await?);
        }
        Ok(users)
    }

    /// Shuts a user out (or lets them back in); their sessions end.
    pub async fn set_user_disabled(&self, id: &str, disabled: bool) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(disabled)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(changed > 0)
    }

    /// Registers a device for a user.
    pub async fn add_device(
        &self,
        id: &str,
        user_id: &str,
        label: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO devices (id, user_id, label, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(id)
            .bind(user_id)
            .bind(label)
            .bind(now.as_millis())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Devices, of one user or of everyone.
    pub async fn devices(&self, user_id: Option<&str>) -> Result<Vec<Device>, StoreError> {
        let rows = match user_id {
            Some(user_id) => {
                sqlx::query("SELECT * FROM devices WHERE user_id = $1 ORDER BY created_at")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM devices ORDER BY created_at")
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows
            .iter()
            .map(|row| Device {
                id: row.get("id"),
                user_id: row.get("user_id"),
                label: row.get("label"),
                created_at: row.get("created_at"),
                last_seen_at: row.get("last_seen_at"),
                revoked_at: row.get("revoked_at"),
            })
            .collect())
    }

    /// Revokes a device: its sessions end and it can never sign in again.
    pub async fn revoke_device(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let owner: Option<String> = sqlx::query_scalar("SELECT user_id FROM devices WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if owner.is_some() {
            sqlx::query("UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
                .bind(now.as_millis())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE device_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(owner)
    }

    /// Stores a session for a token (only its hash is kept).
    pub async fn add_session(
        &self,
        token: &str,
        user_id: &str,
        device_id: &str,
        kind: SessionKind,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, device_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(token))
        .bind(user_id)
        .bind(device_id)
        .bind(kind.as_str())
        .bind(now.as_millis())
        .bind(expires_at.as_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user and device of a live session, touching the device's last-seen time.
    /// Sync tokens are single-use: they are deleted as they are read.
    pub async fn session(
        &self,
        token: &str,
        kind: SessionKind,
        now: Timestamp,
    ) -> Result<Option<(User, String)>, StoreError> {
        let hash = token_hash(token);
        let row = sqlx::query(
            "SELECT s.user_id, s.device_id FROM sessions s \
             JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id \
             WHERE s.token_hash = $1 AND s.kind = $2 AND s.expires_at > $3 \
               AND NOT u.disabled AND d.revoked_at IS NULL",
        )
        .bind(&hash)
        .bind(kind.as_str())
        .bind(now.as_millis())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (user_id, device_id): (String, String) = (row.get("user_id"), row.get("device_id"));
        if kind == SessionKind::Sync {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&hash)
                .execute(&self.pool)
                .await?;
        }
        sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
            .bind(now.as_millis())
            .bind(&device_id)
            .execute(&self.pool)
            .await?;
        Ok(self.user(&user_id).await?.map(|user| (user, device_id)))
    }

    /// Ends a session.
    pub async fn delete_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every stored document's bytes (chunks concatenated), for loading at start.
    pub async fn documents(&self) -> Result<Vec<(DocumentId, Vec<u8>)>, StoreError> {
        let rows =
            sqlx::query("SELECT document_id, bytes FROM document_chunks ORDER BY document_id, seq")
                .fetch_all(&self.pool)
                .await?;
        let mut documents: Vec<(DocumentId, Vec<u8>)> = Vec::new();
        for row in rows {
            let id: String = row.get("document_id");
            let id: DocumentId = id
                .parse()
                .map_err(|error| StoreError::Damaged(format!("{error}")))?;
            let bytes: Vec<u8> = row.get("bytes");
            match documents.last_mut() {
                Some((last, stored)) if *last == id => stored.extend(bytes),
                _ => documents.push((id, bytes)),
            }
        }
        Ok(documents)
    }

    /// Appends a chunk (a save or an incremental save) to a document, durably.
    pub async fn append_chunk(
        &self,
        document: &DocumentId,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO document_chunks (document_id, bytes, created_at) VALUES ($1, $2, $3)",
        )
        .bind(document.to_string())
        .bind(bytes)
        .bind(now.as_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many chunks a document has.
    pub async fn chunk_count(&self, document: &DocumentId) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM document_chunks WHERE document_id = $1")
                .bind(document.to_string())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Replaces a document's chunks with one full save, in one transaction.
    pub async fn compact(
        &self,
        document: &DocumentId,
        full: &[u8],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM document_chunks WHERE document_id = $1")
            .bind(document.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO document_chunks (document_id, bytes, created_at) VALUES ($1, $2, $3)",
        )
        .bind(document.to_string())
        .bind(full)
        .bind(now.as_millis())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records which district and staff member a household belongs to.
    pub async fn index_household(
        &self,
        document: &DocumentId,
        district: Option<&str>,
        assigned_staff: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO households (document_id, district_id, assigned_staff, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (document_id) DO UPDATE SET district_id = $2, assigned_staff = $3, updated_at = $4",
        )
        .bind(document.to_string())
        .bind(district)
        .bind(assigned_staff)
        .bind(now.as_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The stored household index: district and assigned staff per document.
    pub async fn household_index(
        &self,
    ) -> Result<Vec<(DocumentId, Option<String>, Option<String>)>, StoreError> {
        let rows = sqlx::query("SELECT document_id, district_id, assigned_staff FROM households")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.get("document_id");
                let id = id
                    .parse()
                    .map_err(|error| StoreError::Damaged(format!("{error}")))?;
                Ok((id, row.get("district_id"), row.get("assigned_staff")))
            })
            .collect()
    }

    /// Appends to the audit log, chaining the row to the previous one.
    pub async fn audit(
        &self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        document: &DocumentId,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (seq, prev_hash) = match last {
            Some(row) => (row.get::<i64, _>("seq") + 1, row.get::<String, _>("hash")),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let entry = AuditEntry {
            seq,
            at: at.as_millis(),
            user_id: user_id.to_owned(),
            device_id: device_id.to_owned(),
            document_id: document.to_string(),
            action: action.to_owned(),
            detail: detail.to_owned(),
        };
        let hash = audit_hash(&prev_hash, &entry);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, user_id, device_id, document_id, action, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.user_id)
        .bind(&entry.device_id)
        .bind(&entry.document_id)
        .bind(&entry.action)
        .bind(&entry.detail)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Audit entries, newest first, optionally for one document or user.
    pub async fn audit_entries(
        &self,
        document: Option<&str>,
        user_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE ($1 IS NULL OR document_id = $1) AND ($2 IS NULL OR user_id = $2) \
             ORDER BY seq DESC LIMIT $3",
        )
        .bind(document)
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(audit_entry).collect())
    }

    /// Walks the whole audit chain; returns the first row whose hash does not match.
    pub async fn verify_audit_chain(&self) -> Result<Option<i64>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit_log ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        let mut prev_hash = GENESIS_HASH.to_owned();
        for row in &rows {
            let entry = audit_entry(row);
            let stored_prev: String = row.get("prev_hash");
            let stored_hash: String = row.get("hash");
            if stored_prev != prev_hash || audit_hash(&prev_hash, &entry) != stored_hash {
                return Ok(Some(entry.seq));
            }
            prev_hash = stored_hash;
        }
        Ok(None)
    }

    /// SQLite's own integrity check; `Ok(())` when the file is sound.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        let result: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?;
        if result == "ok" {
            Ok(())
        } else {
            Err(StoreError::Damaged(result))
        }
    }

    /// The pool, for tests that must reach under the API.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn audit_entry(row: &sqlx::sqlite::SqliteRow) -> AuditEntry {
    AuditEntry {
        seq: row.get("seq"),
        at: row.get("at"),
        user_id: row.get("user_id"),
        device_id: row.get("device_id"),
        document_id: row.get("document_id"),
        action: row.get("action"),
        detail: row.get("detail"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (
            Store::open_sqlite(&dir.path().join("lots.sqlite3"))
                .await
                .unwrap(),
            dir,
        )
    }

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    #[tokio::test]
    async fn chunks_concatenate_and_compaction_keeps_the_document() {
        let (store, _dir) = store().await;
        let id = DocumentId::from_bytes([1; 16]);
        let mut doc = lots_core::automerge::AutoCommit::new();
        use lots_core::automerge::transaction::Transactable as _;
        let mut heads = Vec::new();
        for index in 0..10_i64 {
            doc.put(lots_core::automerge::ROOT, format!("k{index}"), index)
                .unwrap();
            let chunk = doc.save_after(&heads);
            heads = doc.get_heads();
            store.append_chunk(&id, &chunk, at(index)).await.unwrap();
        }
        let loaded = |stored: Vec<(DocumentId, Vec<u8>)>| {
            lots_core::automerge::Automerge::load(&stored[0].1)
                .unwrap()
                .get_heads()
        };
        assert_eq!(loaded(store.documents().await.unwrap()), doc.get_heads());
        assert_eq!(store.chunk_count(&id).await.unwrap(), 10);
        store.compact(&id, &doc.save(), at(11)).await.unwrap();
        assert_eq!(store.chunk_count(&id).await.unwrap(), 1);
        assert_eq!(loaded(store.documents().await.unwrap()), doc.get_heads());
    }

    #[tokio::test]
    async fn sessions_expire_sync_tokens_are_single_use_and_revocation_ends_them() {
        let (store, _dir) = store().await;
        let user = User {
            id: "u-anna".into(),
            username: "anna".into(),
            display_name: "Anna".into(),
            role: Role::Staff,
            districts: vec![],
            disabled: false,
        };
        store.add_user(&user, "hash", at(0)).await.unwrap();
        store
            .add_device("d-1", "u-anna", "telefon", at(0))
            .await
            .unwrap();
        store
            .add_session(
                "session",
                "u-anna",
                "d-1",
                SessionKind::Session,
                at(0),
                at(1_000),
            )
            .await
            .unwrap();
        store
            .add_session("sync", "u-anna", "d-1", SessionKind::Sync, at(0), at(1_000))
            .await
            .unwrap();
        assert!(
            store
                .session("session", SessionKind::Session, at(10))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .session("session", SessionKind::Sync, at(10))
                .await
                .unwrap()
                .is_none(),
            "kinds do not mix"
        );
        assert!(
            store
                .session("session", SessionKind::Session, at(1_000))
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        assert!(
            store
                .session("sync", SessionKind::Sync, at(10))
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .session("sync", SessionKind::Sync, at(11))
                .await
                .unwrap()
                .is_none(),
            "single use"
        );
        store
            .add_session(
                "again",
                "u-anna",
                "d-1",
                SessionKind::Session,
                at(0),
                at(1_000),
            )
            .await
            .unwrap();
        assert_eq!(
            store.revoke_device("d-1", at(20)).await.unwrap().as_deref(),
            Some("u-anna")
        );
        assert!(
            store
                .session("again", SessionKind::Session, at(21))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .revoke_device("d-unknown", at(20))
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn the_audit_log_is_append_only_and_chained() {
        let (store, _dir) = store().await;
        let id = DocumentId::from_bytes([2; 16]);
        for index in 0..5 {
            store
                .audit(at(index), "u-anna", "d-1", &id, "open", "sync started")
                .await
                .unwrap();
        }
        assert_eq!(store.verify_audit_chain().await.unwrap(), None);
        assert!(
            sqlx::query("UPDATE audit_log SET detail = 'x'")
                .execute(store.pool())
                .await
                .is_err()
        );
        assert!(
            sqlx::query("DELETE FROM audit_log")
                .execute(store.pool())
                .await
                .is_err()
        );
        let entries = store
            .audit_entries(Some(&id.to_string()), None, 3)
            .await
            .unwrap();
        assert_eq!(
            entries.iter().map(|entry| entry.seq).collect::<Vec<_>>(),
            vec![5, 4, 3]
        );
    }
}

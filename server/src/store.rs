//! Durable storage: users, devices, sessions, documents and the audit log, in SQLite (the
//! embedded default) or PostgreSQL (larger installations, several server processes).
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

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use lots_core::{DocumentId, Timestamp};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct District {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
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

/// Writes that are made durable together, in one transaction and so one sync to disk: new
/// document chunks, household index entries and audit rows, applied in that order. The sync
/// hub gathers everything a burst of messages changed into one of these (group commit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    chunks: Vec<(DocumentId, Vec<u8>)>,
    households: Vec<(DocumentId, Option<String>, Option<String>)>,
    audit: Vec<AuditRow>,
}

/// An audit row waiting in [`Writes`]; its position and chain hash are given at commit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuditRow {
    at: Timestamp,
    user_id: String,
    device_id: String,
    document: DocumentId,
    action: String,
    detail: String,
}

impl Writes {
    /// Appends a chunk (a save or an incremental save) to a document.
    pub fn chunk(&mut self, document: DocumentId, bytes: Vec<u8>) {
        self.chunks.push((document, bytes));
    }

    /// Records which district and staff member a household belongs to.
    pub fn household(
        &mut self,
        document: DocumentId,
        district: Option<String>,
        assigned_staff: Option<String>,
    ) {
        self.households.push((document, district, assigned_staff));
    }

    /// Appends a row to the audit log.
    pub fn audit(
        &mut self,
        at: Timestamp,
        user_id: &str,
        device_id: &str,
        document: DocumentId,
        action: &str,
        detail: &str,
    ) {
        self.audit.push(AuditRow {
            at,
            user_id: user_id.to_owned(),
            device_id: device_id.to_owned(),
            document,
            action: action.to_owned(),
            detail: detail.to_owned(),
        });
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.households.is_empty() && self.audit.is_empty()
    }
}

/// A chunk that [`Store::commit`] appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its document.
    pub document: DocumentId,
    /// Its position.
    pub seq: i64,
    /// How many chunks the document has now, this one included.
    pub chunks: i64,
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

/// The open database.
#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the open pool, whichever database it is. The body is
/// compiled once per database, so every query is type-checked against both.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// The storage handle; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// This process's name in announcements, so it can skip its own.
    instance: String,
    /// When this process last wrote each device's last-seen time (ms).
    last_seen: Arc<Mutex<HashMap<String, i64>>>,
}

/// A device's last-seen time is written at most this often (ms): it is shown to the minute,
/// and writing it on every request would cost a write to disk per request.
const LAST_SEEN_EVERY_MS: i64 = 60_000;

/// What one server process tells the others on a shared PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Announcement {
    /// A document has a new chunk.
    Chunk {
        /// The document.
        document: DocumentId,
        /// The chunk's position.
        seq: i64,
    },
    /// Close the sockets of a user or device (disabled, revoked).
    Close {
        /// Every socket of this user.
        user_id: Option<String>,
        /// Every socket of this device.
        device_id: Option<String>,
        /// Why, shown to the person.
        reason: String,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    from: String,
    #[serde(flatten)]
    announcement: Announcement,
}

/// The PostgreSQL channel announcements travel on.
const CHANNEL: &str = "lots_announcements";

/// What a [`Listener`] hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Another process announced something.
    Announcement(Announcement),
    /// The connection to the database was lost and has been made again: announcements may
    /// have been missed, so whatever depends on them must be read again.
    Reconnected,
}

/// Hears what other server processes announce (PostgreSQL only).
#[derive(Debug)]
pub struct Listener {
    listener: PgListener,
    instance: String,
}

impl Listener {
    /// Waits for the next announcement from another process.
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        loop {
            let Some(notification) = self.listener.try_recv().await? else {
                return Ok(Heard::Reconnected);
            };
            match serde_json::from_str::<Envelope>(notification.payload()) {
                Ok(envelope) if envelope.from == self.instance => {}
                Ok(envelope) => return Ok(Heard::Announcement(envelope.announcement)),
                Err(error) => {
                    tracing::warn!(%error, payload = notification.payload(), "an announcement that does not parse is ignored");
                }
            }
        }
    }
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

/// Takes a document's advisory lock until the transaction ends (PostgreSQL): its writers
/// and its compaction take turns.
const LOCK_DOCUMENT: &str = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";

/// How many chunks a document has.
const COUNT_CHUNKS: &str = "SELECT COUNT(*) FROM document_chunks WHERE document_id = $1";

/// The advisory lock key of the audit chain (PostgreSQL).
const AUDIT_LOCK: i64 = 0x4c6f_7473_4175_6474; // "LotsAudt"

/// An audit row with its chain links.
#[derive(sqlx::FromRow)]
struct ChainRow {
    #[sqlx(flatten)]
    entry: AuditEntry,
    prev_hash: String,
    hash: String,
}

/// A user row as stored.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    display_name: String,
    password_hash: String,
    role: String,
    disabled: bool,
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
        })
    }

    /// Which database this is: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
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

    /// Starts hearing other processes' announcements; `None` for SQLite, which has one
    /// process.
    pub async fn listen(&self) -> Result<Option<Listener>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(Listener {
            listener,
            instance: self.instance.clone(),
        }))
    }

    /// Tells the other server processes something (PostgreSQL only; a no-op on SQLite).
    pub async fn announce(&self, announcement: Announcement) -> Result<(), StoreError> {
        if let Pool::Postgres(pool) = &self.pool {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(self.envelope(announcement))
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    fn envelope(&self, announcement: Announcement) -> String {
        let envelope = Envelope {
            from: self.instance.clone(),
            announcement,
        };
        // A struct of strings and integers always serializes.
        serde_json::to_string(&envelope).unwrap_or_default()
    }

    /// Whether any user exists (false on first start).
    pub async fn has_users(&self) -> Result<bool, StoreError> {
        let count: i64 = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await?
        });
        Ok(count > 0)
    }

    /// Adds a district.
    pub async fn add_district(&self, id: &str, name: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("INSERT INTO districts (id, name) VALUES ($1, $2)")
                .bind(id)
                .bind(name)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Every district.
    pub async fn districts(&self) -> Result<Vec<District>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name FROM districts ORDER BY name")
                .fetch_all(pool)
                .await?
        }))
    }

    /// Adds a user with an already hashed password.
    pub async fn add_user(
        &self,
        user: &User,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
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
            tx.commit().await?
        });
        Ok(())
    }

    async fn user_from_row(&self, row: UserRow) -> Result<(User, String), StoreError> {
        let districts: Vec<String> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT district_id FROM user_districts WHERE user_id = $1 ORDER BY district_id",
            )
            .bind(&row.id)
            .fetch_all(pool)
            .await?
        });
        let user = User {
            role: row.role.parse()?,
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            disabled: row.disabled,
            districts,
        };
        Ok((user, row.password_hash))
    }

    /// A user and their password hash, by username.
    pub async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT * FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(Some(self.user_from_row(row).await?)),
            None => Ok(None),
        }
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT * FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => Ok(Some(self.user_from_row(row).await?.0)),
            None => Ok(None),
        }
    }

    /// Every user.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT * FROM users ORDER BY display_name")
                .fetch_all(pool)
                .await?
        });
        let mut users = Vec::with_capacity(rows.len());
        for row in rows {
            users.push(self.user_from_row(row).await?.0);
        }
        Ok(users)
    }

    /// Shuts a user out (or lets them back in); their sessions end.
    pub async fn set_user_disabled(&self, id: &str, disabled: bool) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
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
            changed
        });
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
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO devices (id, user_id, label, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(id)
            .bind(user_id)
            .bind(label)
            .bind(now.as_millis())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Devices, of one user or of everyone.
    pub async fn devices(&self, user_id: Option<&str>) -> Result<Vec<Device>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT * FROM devices WHERE (CAST($1 AS TEXT) IS NULL OR user_id = $1) ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Revokes a device: its sessions end and it can never sign in again.
    pub async fn revoke_device(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            let owner: Option<String> =
                sqlx::query_scalar("SELECT user_id FROM devices WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if owner.is_some() {
                sqlx::query(
                    "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
                )
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
            owner
        }))
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
        on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, device_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(token_hash(token))
            .bind(user_id)
            .bind(device_id)
            .bind(kind.as_str())
            .bind(now.as_millis())
            .bind(expires_at.as_millis())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Whether a device's last-seen time is to be written now; notes it as written if so.
    fn last_seen_is_due(&self, device_id: &str, now: Timestamp) -> bool {
        let now = now.as_millis();
        let Ok(mut last_seen) = self.last_seen.lock() else {
            return true;
        };
        if last_seen
            .get(device_id)
            .is_some_and(|at| now - at < LAST_SEEN_EVERY_MS)
        {
            return false;
        }
        // Forget devices not seen for a while, so the map holds only the active ones.
        if last_seen.len() >= 4096 {
            last_seen.retain(|_, at| now - *at < LAST_SEEN_EVERY_MS);
        }
        last_seen.insert(device_id.to_owned(), now);
        true
    }

    /// The user and device of a live session, touching the device's last-seen time (at most
    /// once a minute per device and process).
    /// Sync tokens are single-use: they are deleted as they are read, in one statement, so two
    /// sockets racing with one token cannot both open.
    pub async fn session(
        &self,
        token: &str,
        kind: SessionKind,
        now: Timestamp,
    ) -> Result<Option<(User, String)>, StoreError> {
        let hash = token_hash(token);
        let found: Option<(String, String)> = on_pool!(self, |pool| {
            let live = "SELECT s.user_id, s.device_id FROM sessions s \
                 JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id \
                 WHERE s.token_hash = $1 AND s.kind = $2 AND s.expires_at > $3 \
                   AND NOT u.disabled AND d.revoked_at IS NULL";
            let found: Option<(String, String)> = if kind == SessionKind::Sync {
                sqlx::query_as(&format!(
                    "DELETE FROM sessions WHERE token_hash = $1 AND EXISTS ({live}) \
                     RETURNING user_id, device_id"
                ))
                .bind(&hash)
                .bind(kind.as_str())
                .bind(now.as_millis())
                .fetch_optional(pool)
                .await?
            } else {
                sqlx::query_as(live)
                    .bind(&hash)
                    .bind(kind.as_str())
                    .bind(now.as_millis())
                    .fetch_optional(pool)
                    .await?
            };
            if let Some((_, device_id)) = &found
                && self.last_seen_is_due(device_id, now)
            {
                sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
                    .bind(now.as_millis())
                    .bind(device_id)
                    .execute(pool)
                    .await?;
            }
            found
        });
        let Some((user_id, device_id)) = found else {
            return Ok(None);
        };
        Ok(self.user(&user_id).await?.map(|user| (user, device_id)))
    }

    /// Ends a session.
    pub async fn delete_session(&self, token: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash(token))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Every stored document's bytes (chunks concatenated), for loading at start.
    pub async fn documents(&self) -> Result<Vec<(DocumentId, Vec<u8>)>, StoreError> {
        let rows: Vec<(String, Vec<u8>)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT document_id, bytes FROM document_chunks ORDER BY document_id, seq",
            )
            .fetch_all(pool)
            .await?
        });
        let mut documents: Vec<(DocumentId, Vec<u8>)> = Vec::new();
        for (id, bytes) in rows {
            let id = parse_document_id(&id)?;
            match documents.last_mut() {
                Some((last, stored)) if *last == id => stored.extend(bytes),
                _ => documents.push((id, bytes)),
            }
        }
        Ok(documents)
    }

    /// One document's bytes (its chunks concatenated); `None` when it has none.
    pub async fn document(&self, document: &DocumentId) -> Result<Option<Vec<u8>>, StoreError> {
        let chunks: Vec<Vec<u8>> = on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT bytes FROM document_chunks WHERE document_id = $1 ORDER BY seq",
            )
            .bind(document.to_string())
            .fetch_all(pool)
            .await?
        });
        Ok((!chunks.is_empty()).then(|| chunks.concat()))
    }

    /// One chunk of a document; `None` when it is gone (compacted into a newer one).
    pub async fn chunk(
        &self,
        document: &DocumentId,
        seq: i64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT bytes FROM document_chunks WHERE document_id = $1 AND seq = $2",
            )
            .bind(document.to_string())
            .bind(seq)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Appends a chunk (a save or an incremental save) to a document, durably; returns its
    /// position. On PostgreSQL the other server processes hear of it once it is committed.
    pub async fn append_chunk(
        &self,
        document: &DocumentId,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut writes = Writes::default();
        writes.chunk(*document, bytes.to_vec());
        self.commit(&writes, now)
            .await?
            .first()
            .map(|appended| appended.seq)
            .ok_or_else(|| StoreError::Damaged("the appended chunk has no position".into()))
    }

    /// Makes `writes` durable in one transaction: when this returns, every one of them is on
    /// disk; when it fails, none is. Returns the chunks appended, in order. On PostgreSQL each
    /// written document's advisory lock is held until the commit (taken in document order, so
    /// two processes' commits cannot deadlock), and the other server processes hear of each
    /// chunk once it is committed.
    pub async fn commit(
        &self,
        writes: &Writes,
        now: Timestamp,
    ) -> Result<Vec<Appended>, StoreError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let postgres = matches!(self.pool, Pool::Postgres(_));
        let insert_chunk = "INSERT INTO document_chunks (document_id, bytes, created_at) VALUES ($1, $2, $3) RETURNING seq";
        let mut documents: Vec<DocumentId> = writes
            .chunks
            .iter()
            .map(|(document, _)| *document)
            .collect();
        documents.sort();
        documents.dedup();
        Ok(on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            if postgres {
                for document in &documents {
                    sqlx::query(LOCK_DOCUMENT)
                        .bind(document.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let mut appended = Vec::with_capacity(writes.chunks.len());
            for (document, bytes) in &writes.chunks {
                let seq: i64 = sqlx::query_scalar(insert_chunk)
                    .bind(document.to_string())
                    .bind(bytes)
                    .bind(now.as_millis())
                    .fetch_one(&mut *tx)
                    .await?;
                if postgres {
                    // Delivered at commit, and only if the commit succeeds.
                    sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(self.envelope(Announcement::Chunk {
                            document: *document,
                            seq,
                        }))
                        .execute(&mut *tx)
                        .await?;
                }
                appended.push(Appended {
                    document: *document,
                    seq,
                    chunks: 0,
                });
            }
            for document in &documents {
                let chunks: i64 = sqlx::query_scalar(COUNT_CHUNKS)
                    .bind(document.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
                for entry in appended
                    .iter_mut()
                    .filter(|entry| entry.document == *document)
                {
                    entry.chunks = chunks;
                }
            }
            for (document, district, assigned_staff) in &writes.households {
                sqlx::query(
                    "INSERT INTO households (document_id, district_id, assigned_staff, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (document_id) DO UPDATE SET district_id = $2, assigned_staff = $3, updated_at = $4",
                )
                .bind(document.to_string())
                .bind(district)
                .bind(assigned_staff)
                .bind(now.as_millis())
                .execute(&mut *tx)
                .await?;
            }
            if !writes.audit.is_empty() {
                if postgres {
                    // Several processes append: one at a time, or two rows would chain to one.
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(AUDIT_LOCK)
                        .execute(&mut *tx)
                        .await?;
                }
                let last: Option<(i64, String)> =
                    sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&mut *tx)
                        .await?;
                let (mut seq, mut prev_hash) = last
                    .map(|(seq, hash)| (seq + 1, hash))
                    .unwrap_or_else(|| (1, GENESIS_HASH.to_owned()));
                for row in &writes.audit {
                    let entry = AuditEntry {
                        seq,
                        at: row.at.as_millis(),
                        user_id: row.user_id.clone(),
                        device_id: row.device_id.clone(),
                        document_id: row.document.to_string(),
                        action: row.action.clone(),
                        detail: row.detail.clone(),
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
                    seq += 1;
                    prev_hash = hash;
                }
            }
            tx.commit().await?;
            appended
        }))
    }

    /// How many chunks a document has.
    pub async fn chunk_count(&self, document: &DocumentId) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(COUNT_CHUNKS)
                .bind(document.to_string())
                .fetch_one(pool)
                .await?
        }))
    }

    /// Replaces a document's chunks with one full save of all of them, in one transaction.
    ///
    /// The save is made here from what is stored, not from a caller's copy in memory: on a
    /// shared PostgreSQL another process may have appended a chunk the caller has not merged
    /// yet, and it must survive. Appends to the document wait on the same lock meanwhile.
    pub async fn compact(&self, document: &DocumentId, now: Timestamp) -> Result<(), StoreError> {
        let select = "SELECT seq, bytes FROM document_chunks WHERE document_id = $1 ORDER BY seq";
        let delete = "DELETE FROM document_chunks WHERE document_id = $1 AND seq <= $2";
        let insert =
            "INSERT INTO document_chunks (document_id, bytes, created_at) VALUES ($1, $2, $3)";
        on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            if let Pool::Postgres(_) = &self.pool {
                sqlx::query(LOCK_DOCUMENT)
                    .bind(document.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            let chunks: Vec<(i64, Vec<u8>)> = sqlx::query_as(select)
                .bind(document.to_string())
                .fetch_all(&mut *tx)
                .await?;
            let Some(last) = chunks.last().map(|(seq, _)| *seq) else {
                return Ok(());
            };
            if chunks.len() > 1 {
                let bytes: Vec<u8> = chunks.into_iter().flat_map(|(_, bytes)| bytes).collect();
                let full = lots_core::automerge::Automerge::load(&bytes)
                    .map_err(|error| {
                        StoreError::Damaged(format!("document {document} does not load: {error}"))
                    })?
                    .save();
                sqlx::query(delete)
                    .bind(document.to_string())
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(insert)
                    .bind(document.to_string())
                    .bind(full)
                    .bind(now.as_millis())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?
        });
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
        let mut writes = Writes::default();
        writes.household(
            *document,
            district.map(str::to_owned),
            assigned_staff.map(str::to_owned),
        );
        self.commit(&writes, now).await?;
        Ok(())
    }

    /// The stored household index: district and assigned staff per document.
    pub async fn household_index(
        &self,
    ) -> Result<Vec<(DocumentId, Option<String>, Option<String>)>, StoreError> {
        let rows: Vec<(String, Option<String>, Option<String>)> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT document_id, district_id, assigned_staff FROM households")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(id, district, staff)| Ok((parse_document_id(&id)?, district, staff)))
            .collect()
    }

    /// One household's index entry: its district and assigned staff, if it has one.
    pub async fn household(
        &self,
        document: &DocumentId,
    ) -> Result<Option<(Option<String>, Option<String>)>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT district_id, assigned_staff FROM households WHERE document_id = $1",
            )
            .bind(document.to_string())
            .fetch_optional(pool)
            .await?
        }))
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
        let mut writes = Writes::default();
        writes.audit(at, user_id, device_id, *document, action, detail);
        self.commit(&writes, at).await?;
        Ok(())
    }

    /// Audit entries, newest first, optionally for one document or user.
    pub async fn audit_entries(
        &self,
        document: Option<&str>,
        user_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT seq, at, user_id, device_id, document_id, action, detail FROM audit_log \
                 WHERE (CAST($1 AS TEXT) IS NULL OR document_id = $1) \
                   AND (CAST($2 AS TEXT) IS NULL OR user_id = $2) \
                 ORDER BY seq DESC LIMIT $3",
            )
            .bind(document)
            .bind(user_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Walks the whole audit chain; returns the first row whose hash does not match.
    pub async fn verify_audit_chain(&self) -> Result<Option<i64>, StoreError> {
        let rows: Vec<ChainRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT seq, at, user_id, device_id, document_id, action, detail, prev_hash, hash \
                 FROM audit_log ORDER BY seq",
            )
            .fetch_all(pool)
            .await?
        });
        let mut prev_hash = GENESIS_HASH.to_owned();
        for ChainRow {
            entry,
            prev_hash: stored_prev,
            hash: stored_hash,
        } in rows
        {
            if stored_prev != prev_hash || audit_hash(&prev_hash, &entry) != stored_hash {
                return Ok(Some(entry.seq));
            }
            prev_hash = stored_hash;
        }
        Ok(None)
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
                    "audit_log",
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

//! Who may use the server: roles, users, districts, devices and sessions (stored as token
//! hashes only), and how often a device's last-seen time is written.

use lots_core::Timestamp;
use sha2::{Digest, Sha256};

use super::{Row, Store, StoreError, unwrapped};

pub use lots_core::api::{Role, User};

pub use lots_core::api::Device;

api_row!(Device { id: String, user_id: String, label: String, created_at: i64, last_seen_at: i64, revoked_at: Option<i64> });

pub use lots_core::api::District;

api_row!(District {
    id: String,
    name: String
});

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

/// A device's last-seen time is written at most this often (ms): it is shown to the minute,
/// and writing it on every request would cost a write to disk per request.
const LAST_SEEN_EVERY_MS: i64 = 60_000;

/// The hash under which a session token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
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

impl Store {
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
        let rows: Vec<Row<District>> = on_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name FROM districts ORDER BY name")
                .fetch_all(pool)
                .await?
        });
        Ok(unwrapped(rows))
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
            role: row
                .role
                .parse::<Role>()
                .map_err(|error| StoreError::Damaged(error.to_string()))?,
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
        let change = super::UserChange {
            disabled: Some(disabled),
            ..Default::default()
        };
        self.change_user(id, &change).await
    }

    /// Sets a user's password hash (chosen by an administrator at the server: no change is
    /// asked of them); every session of theirs ends (whoever knew the old password is
    /// signed out everywhere).
    pub async fn set_password(&self, id: &str, password_hash: &str) -> Result<bool, StoreError> {
        self.replace_password(id, password_hash, false, None).await
    }

    /// Renames a district; whether it exists.
    pub async fn rename_district(&self, id: &str, name: &str) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            sqlx::query("UPDATE districts SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
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

    /// A device of `user_id` that has not been revoked: the one a sign-in again names.
    pub async fn active_device_of(
        &self,
        id: &str,
        user_id: &str,
    ) -> Result<Option<Device>, StoreError> {
        let row: Option<Row<Device>> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT * FROM devices WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|Row(device)| device))
    }

    /// Devices, of one user or of everyone.
    pub async fn devices(&self, user_id: Option<&str>) -> Result<Vec<Device>, StoreError> {
        let rows: Vec<Row<Device>> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT * FROM devices WHERE (CAST($1 AS TEXT) IS NULL OR user_id = $1) ORDER BY created_at, id",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        Ok(unwrapped(rows))
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
                sqlx::query(&super::sessions::end_sessions_where(
                    "device_id",
                    "device-revoked",
                ))
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
                "INSERT INTO sessions (token_hash, user_id, device_id, kind, created_at, expires_at, last_used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $5)",
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
    pub(super) fn last_seen_is_due(&self, device_id: &str, now: Timestamp) -> bool {
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
                   AND NOT u.disabled AND NOT u.must_change_password AND d.revoked_at IS NULL";
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
}

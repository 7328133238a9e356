//! Sessions in use: the idle timeout, the absolute lifetime and token rotation, and the
//! password changes that end sessions.
//!
//! A session row holds the hash of one token. Rotation adds a successor row whose token is
//! derived from the presented token and a random salt kept on the predecessor, so the server
//! can hand the same new token out again to a client whose answer was lost (a phone that
//! went out of coverage mid-request) without ever storing a token. The predecessor stays
//! valid until a grace period after the successor is first used, so concurrent requests and
//! a phone's in-flight calls do not fail; then it dies. A successor keeps the predecessor's
//! absolute expiry: rotation never lengthens a session past its lifetime.

use lots_core::Timestamp;
use sha2::{Digest, Sha256};

use super::{Store, StoreError, User, token_hash};

/// How long sessions live; from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRules {
    /// A session unused for this long (ms) ends.
    pub idle_ms: i64,
    /// A token older than this (ms) is rotated on its next use.
    pub rotate_after_ms: i64,
    /// A rotated token stays valid for this long (ms) after its successor's first use.
    pub grace_ms: i64,
}

/// A live session, as a request presenting its token finds it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// Whose.
    pub user: User,
    /// On which device.
    pub device_id: String,
    /// Signed in with a temporary password: nothing but choosing a new one is allowed.
    pub must_change_password: bool,
    /// The token to use from now on, when the presented one was rotated.
    pub rotated_to: Option<RotatedToken>,
}

/// A token that replaces the presented one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatedToken {
    /// The new token.
    pub token: String,
    /// When the session ends at the latest (its absolute lifetime).
    pub expires_at: Timestamp,
}

/// A session's last-use time is written at most this often (ms): the idle timeout is hours,
/// and writing it on every request would cost a write to disk per request.
const LAST_USED_EVERY_MS: i64 = 60_000;

/// The token that succeeds `token` under `salt`. Only someone holding `token` can compute it;
/// the database holds neither.
fn successor_token(token: &str, salt: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"lots-session-successor\0");
    hasher.update(salt.as_bytes());
    hasher.update(b"\0");
    hasher.update(token.as_bytes());
    hex::encode(hasher.finalize())
}

fn random_salt() -> String {
    use rand::Rng as _;
    hex::encode(rand::rng().random::<[u8; 16]>())
}

/// A session row with what decides whether it is live.
#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: String,
    device_id: String,
    created_at: i64,
    expires_at: i64,
    last_used_at: i64,
    successor_salt: Option<String>,
    predecessor_hash: Option<String>,
    must_change_password: bool,
}

impl Store {
    /// The session a request's token opens, at `now`, under `rules`; `None` when there is
    /// none, it ran out (its lifetime, or idle past the timeout: then it is deleted), its
    /// user is disabled or its device revoked. With `may_rotate`, a token older than the
    /// rotation interval is rotated (see the module's comment) and the new one returned.
    pub async fn use_session(
        &self,
        token: &str,
        now: Timestamp,
        rules: SessionRules,
        may_rotate: bool,
    ) -> Result<Option<LiveSession>, StoreError> {
        let hash = token_hash(token);
        let now_ms = now.as_millis();
        let row: Option<SessionRow> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT s.user_id, s.device_id, s.created_at, s.expires_at, s.last_used_at, \
                        s.successor_salt, s.predecessor_hash, u.must_change_password \
                 FROM sessions s JOIN users u ON u.id = s.user_id JOIN devices d ON d.id = s.device_id \
                 WHERE s.token_hash = $1 AND s.kind = 'session' \
                   AND NOT u.disabled AND d.revoked_at IS NULL",
            )
            .bind(&hash)
            .fetch_optional(pool)
            .await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        if row.expires_at <= now_ms || now_ms - row.last_used_at >= rules.idle_ms {
            on_pool!(self, |pool| {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(&hash)
                    .execute(pool)
                    .await?;
            });
            return Ok(None);
        }
        let mut last_used_written = false;
        // The first use of a successor: its predecessor ends after the grace period.
        if let Some(predecessor) = &row.predecessor_hash {
            let predecessor_ends = now_ms + rules.grace_ms;
            on_pool!(self, |pool| {
                let mut tx = pool.begin_with(self.begin_writing()).await?;
                sqlx::query(
                    "UPDATE sessions SET expires_at = $1 WHERE token_hash = $2 AND expires_at > $1",
                )
                .bind(predecessor_ends)
                .bind(predecessor)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE sessions SET predecessor_hash = NULL, last_used_at = $1 WHERE token_hash = $2",
                )
                .bind(now_ms)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            });
            last_used_written = true;
        }
        let salt = match row.successor_salt {
            // Rotated already: the same successor again.
            Some(salt) => Some(salt),
            None if may_rotate && now_ms - row.created_at >= rules.rotate_after_ms => {
                let salt = self.rotate(&hash, token, &row, now_ms).await?;
                last_used_written = true;
                Some(salt)
            }
            None => None,
        };
        if !last_used_written && now_ms - row.last_used_at >= LAST_USED_EVERY_MS {
            on_pool!(self, |pool| {
                sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE token_hash = $2")
                    .bind(now_ms)
                    .bind(&hash)
                    .execute(pool)
                    .await?;
            });
        }
        if self.last_seen_is_due(&row.device_id, now) {
            on_pool!(self, |pool| {
                sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE id = $2")
                    .bind(now_ms)
                    .bind(&row.device_id)
                    .execute(pool)
                    .await?;
            });
        }
        let Some(user) = self.user(&row.user_id).await? else {
            return Ok(None);
        };
        Ok(Some(LiveSession {
            user,
            device_id: row.device_id,
            must_change_password: row.must_change_password,
            rotated_to: salt.map(|salt| RotatedToken {
                token: successor_token(token, &salt),
                expires_at: Timestamp::from_millis(row.expires_at),
            }),
        }))
    }

    /// Rotates the session of `token` (hash `hash`): adds its successor, unless a concurrent
    /// request did so first; the salt the successor's token derives from.
    async fn rotate(
        &self,
        hash: &str,
        token: &str,
        row: &SessionRow,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let salt = random_salt();
        Ok(on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            let won = sqlx::query(
                "UPDATE sessions SET successor_salt = $1, last_used_at = $2 \
                 WHERE token_hash = $3 AND successor_salt IS NULL",
            )
            .bind(&salt)
            .bind(now_ms)
            .bind(hash)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let salt = if won {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, device_id, kind, created_at, expires_at, \
                                           last_used_at, predecessor_hash) \
                     VALUES ($1, $2, $3, 'session', $4, $5, $4, $6)",
                )
                .bind(token_hash(&successor_token(token, &salt)))
                .bind(&row.user_id)
                .bind(&row.device_id)
                .bind(now_ms)
                .bind(row.expires_at)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
                salt
            } else {
                let stored: Option<String> =
                    sqlx::query_scalar("SELECT successor_salt FROM sessions WHERE token_hash = $1")
                        .bind(hash)
                        .fetch_one(&mut *tx)
                        .await?;
                stored.ok_or_else(|| {
                    StoreError::Damaged("a rotated session without its salt".into())
                })?
            };
            tx.commit().await?;
            salt
        }))
    }

    /// Deletes every session past its lifetime or idle for `idle_ms`, every sync token past
    /// its minute, and every ended session past its lifetime: they could open nothing, and
    /// would otherwise stay.
    pub async fn purge_sessions(&self, now: Timestamp, idle_ms: i64) -> Result<u64, StoreError> {
        Ok(on_pool!(self, |pool| {
            let ended = sqlx::query("DELETE FROM ended_sessions WHERE expires_at <= $1")
                .bind(now.as_millis())
                .execute(pool)
                .await?
                .rows_affected();
            let sessions = sqlx::query(
                "DELETE FROM sessions WHERE expires_at <= $1 \
                    OR (kind = 'session' AND last_used_at <= $2)",
            )
            .bind(now.as_millis())
            .bind(now.as_millis() - idle_ms)
            .execute(pool)
            .await?
            .rows_affected();
            ended + sessions
        }))
    }

    /// Why an administrator ended the session `token` opened, if one did and it has not run
    /// out since.
    pub async fn ended_session(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<EndedSession>, StoreError> {
        let hash = token_hash(token);
        let row: Option<(String, String, String)> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT user_id, device_id, why FROM ended_sessions \
                 WHERE token_hash = $1 AND expires_at > $2",
            )
            .bind(&hash)
            .bind(now.as_millis())
            .fetch_optional(pool)
            .await?
        });
        Ok(row.and_then(|(user_id, device_id, why)| {
            let why = Ended::from_code(&why)?;
            Some(EndedSession {
                user_id,
                device_id,
                why,
            })
        }))
    }

    /// Forgets the ended sessions of a device that said it deleted what it held: nothing
    /// more is to be told it.
    pub async fn forget_ended_sessions(&self, device_id: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM ended_sessions WHERE device_id = $1")
                .bind(device_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Ends every session of a device (signing out: with its rotated tokens).
    pub async fn delete_device_sessions(&self, device_id: &str) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE device_id = $1")
                .bind(device_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Gives a user a temporary password (already hashed) that must be changed at the next
    /// sign-in; every session of theirs ends. Whether the user exists.
    pub async fn set_temporary_password(
        &self,
        id: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        self.replace_password(id, password_hash, true, None).await
    }

    /// A user's own new password (already hashed); a temporary one's duty to change it is
    /// done. Their sessions on other devices end (whoever knew the old password is signed
    /// out there); those of `device_id`, where they changed it, stay.
    pub async fn change_own_password(
        &self,
        id: &str,
        password_hash: &str,
        device_id: &str,
    ) -> Result<bool, StoreError> {
        self.replace_password(id, password_hash, false, Some(device_id))
            .await
    }

    /// Sets a user's password hash and whether it must be changed, and ends their sessions
    /// but those of `keep_device`; whether the user exists.
    pub(super) async fn replace_password(
        &self,
        id: &str,
        password_hash: &str,
        must_change: bool,
        keep_device: Option<&str>,
    ) -> Result<bool, StoreError> {
        let changed = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            let changed = sqlx::query(
                "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3",
            )
            .bind(password_hash)
            .bind(must_change)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query(
                "DELETE FROM sessions WHERE user_id = $1 \
                   AND (CAST($2 AS TEXT) IS NULL OR device_id <> $2)",
            )
            .bind(id)
            .bind(keep_device)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            changed
        });
        Ok(changed > 0)
    }

    /// Whether a user must change a temporary password before anything else.
    pub async fn must_change_password(&self, id: &str) -> Result<bool, StoreError> {
        let flag: Option<bool> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT must_change_password FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(flag.unwrap_or(false))
    }
}

/// Why an administrator ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Its device was revoked (lost, stolen, handed in).
    DeviceRevoked,
    /// Its user was disabled.
    UserDisabled,
}

impl Ended {
    /// As stored.
    pub fn code(self) -> &'static str {
        match self {
            Ended::DeviceRevoked => "device-revoked",
            Ended::UserDisabled => "user-disabled",
        }
    }

    /// The API's error code for a request this session made.
    pub fn api_code(self) -> &'static str {
        match self {
            Ended::DeviceRevoked => "device_revoked",
            Ended::UserDisabled => "user_disabled",
        }
    }

    /// What the API's error says.
    pub fn message(self) -> &'static str {
        match self {
            Ended::DeviceRevoked => {
                "an administrator revoked this device: delete what Lots holds on it"
            }
            Ended::UserDisabled => {
                "an administrator disabled this account: delete what Lots holds on this device"
            }
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        [Ended::DeviceRevoked, Ended::UserDisabled]
            .into_iter()
            .find(|ended| ended.code() == code)
    }
}

/// A session an administrator ended, as its token finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedSession {
    /// Whose it was.
    pub user_id: String,
    /// On which device.
    pub device_id: String,
    /// Why it ended.
    pub why: Ended,
}

/// The statement that moves the sessions whose `column` is `$1` to `ended_sessions`, ended
/// for `why`; run in the transaction that revokes or disables, before the sessions go.
pub(super) fn end_sessions_where(column: &str, why: &str) -> String {
    format!(
        "INSERT INTO ended_sessions (token_hash, user_id, device_id, why, expires_at) \
         SELECT token_hash, user_id, device_id, '{why}', expires_at FROM sessions \
         WHERE {column} = $1 AND kind = 'session' \
         ON CONFLICT (token_hash) DO NOTHING"
    )
}

//! What server processes sharing one PostgreSQL tell each other (`NOTIFY`/`LISTEN`): new
//! chunks, and sockets to close. SQLite has one process, so there nothing is announced.

use lots_core::DocumentId;
use sqlx::postgres::PgListener;

use super::{Pool, Store, StoreError};

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
    /// A household was removed (gallring, or a decision): forget it.
    Removed {
        /// The household's document.
        document: DocumentId,
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

/// An announcement as it travels: with its sender, so a process can skip its own.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    from: String,
    #[serde(flatten)]
    announcement: Announcement,
}

/// The PostgreSQL channel announcements travel on.
pub(super) const CHANNEL: &str = "lots_announcements";

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

impl Store {
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

    /// The `NOTIFY` payload of an announcement from this process.
    pub(super) fn envelope(&self, announcement: Announcement) -> String {
        let envelope = Envelope {
            from: self.instance.clone(),
            announcement,
        };
        // A struct of strings and integers always serializes.
        serde_json::to_string(&envelope).unwrap_or_default()
    }
}

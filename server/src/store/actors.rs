//! Actor bindings: each Automerge actor id belongs to the device that first used it, so a
//! change can be traced to a device, and a device cannot write under another's actor.
//!
//! Bindings are written by [`Store::commit`](super::Store::commit) in the same transaction as
//! the chunks they came with: a commit that would bind an actor already bound to another
//! device fails whole ([`StoreError::ActorTaken`]).

use super::{Store, StoreError};

/// An Automerge actor id and the device (and so the user) it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActorBinding {
    /// The actor id, as hex.
    pub actor_id: String,
    /// Whose device it is.
    pub user_id: String,
    /// The device that first used it.
    pub device_id: String,
}

/// Binds an actor unless it is bound already; the first binding stays.
pub(super) const INSERT_ACTOR: &str = "INSERT INTO actors (actor_id, user_id, device_id, first_seen) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (actor_id) DO NOTHING";

/// The device an actor is bound to.
pub(super) const ACTOR_DEVICE: &str = "SELECT device_id FROM actors WHERE actor_id = $1";

impl Store {
    /// Every actor binding, in the order the actors were first seen.
    pub async fn actors(&self) -> Result<Vec<ActorBinding>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT actor_id, user_id, device_id FROM actors ORDER BY first_seen, actor_id",
            )
            .fetch_all(pool)
            .await?
        }))
    }
}

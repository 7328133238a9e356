//! Who a user is at the organisation's identity provider: the OpenID Connect issuer and
//! subject an administrator linked them to. Only such a link signs anyone in through the
//! provider; an e-mail address or a name from the provider never does.

use lots_core::Timestamp;

use super::{Store, StoreError};

/// A user's link to the identity provider.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Identity {
    /// The user.
    pub user_id: String,
    /// The provider's issuer URL, exactly as its ID tokens name it.
    pub issuer: String,
    /// The person's subject at that issuer (for Entra ID, the object id).
    pub subject: String,
    /// When it was linked (ms).
    pub linked_at: i64,
    /// Who linked it: an administrator's user id, or `setup`.
    pub linked_by: String,
}

/// What linking an identity did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// The user is now linked to it (any earlier identity of theirs is replaced).
    Linked,
    /// There is no such user.
    NoSuchUser,
    /// The identity is linked to another user already; it names at most one.
    TakenBy(String),
}

impl Store {
    /// Links `user_id` to the provider's `issuer` and `subject`, replacing the identity they
    /// had. Refused when another user has this identity.
    pub async fn link_identity(
        &self,
        user_id: &str,
        issuer: &str,
        subject: &str,
        linked_by: &str,
        now: Timestamp,
    ) -> Result<Linked, StoreError> {
        Ok(on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            let user: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            if user.is_none() {
                return Ok(Linked::NoSuchUser);
            }
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2",
            )
            .bind(issuer)
            .bind(subject)
            .fetch_optional(&mut *tx)
            .await?;
            match holder {
                Some(holder) if holder != user_id => Linked::TakenBy(holder),
                _ => {
                    sqlx::query(
                        "INSERT INTO identities (user_id, issuer, subject, linked_at, linked_by) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (user_id) DO UPDATE SET issuer = $2, subject = $3, \
                         linked_at = $4, linked_by = $5",
                    )
                    .bind(user_id)
                    .bind(issuer)
                    .bind(subject)
                    .bind(now.as_millis())
                    .bind(linked_by)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Linked::Linked
                }
            }
        }))
    }

    /// Removes a user's link to the provider; whether they had one.
    pub async fn unlink_identity(&self, user_id: &str) -> Result<bool, StoreError> {
        let removed = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM identities WHERE user_id = $1")
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
    }

    /// A user's link to the provider, if they have one.
    pub async fn identity_of(&self, user_id: &str) -> Result<Option<Identity>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as("SELECT * FROM identities WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The user linked to the provider's `issuer` and `subject`, if any.
    pub async fn user_by_identity(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<crate::store::User>, StoreError> {
        let user_id: Option<String> = on_pool!(self, |pool| {
            sqlx::query_scalar("SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2")
                .bind(issuer)
                .bind(subject)
                .fetch_optional(pool)
                .await?
        });
        match user_id {
            Some(id) => self.user(&id).await,
            None => Ok(None),
        }
    }
}

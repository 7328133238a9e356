//! Who holds what: an administrator's changes to a user's role, districts and name, and how
//! many households each staff member holds, counted without reading any household.

use super::{Role, Store, StoreError};

/// What an administrator changes about a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    /// A new role.
    pub role: Option<Role>,
    /// New districts (replacing all of them).
    pub districts: Option<Vec<String>>,
    /// A new display name.
    pub display_name: Option<String>,
    /// Shut out, or let back in; shutting out ends every session.
    pub disabled: Option<bool>,
}

/// How many households of a district one staff member holds (`staff` `None`: nobody).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseloadCount {
    /// The district; `None` for households whose district is not known.
    pub district_id: Option<String>,
    /// Who holds them.
    pub staff: Option<String>,
    /// How many.
    pub households: i64,
}

impl Store {
    /// Applies `change` to a user in one transaction; whether the user exists.
    pub async fn change_user(&self, id: &str, change: &UserChange) -> Result<bool, StoreError> {
        let exists = on_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_writing()).await?;
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                if let Some(role) = change.role {
                    sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                        .bind(role.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(name) = &change.display_name {
                    sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
                        .bind(name)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(districts) = &change.districts {
                    sqlx::query("DELETE FROM user_districts WHERE user_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    for district in districts {
                        sqlx::query(
                            "INSERT INTO user_districts (user_id, district_id) VALUES ($1, $2)",
                        )
                        .bind(id)
                        .bind(district)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                if let Some(disabled) = change.disabled {
                    sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                        .bind(disabled)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    if disabled {
                        sqlx::query(&super::sessions::end_sessions_where(
                            "user_id",
                            "user-disabled",
                        ))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
            exists.is_some()
        });
        Ok(exists)
    }

    /// Households per district and holder, from the household index.
    pub async fn caseload_counts(&self) -> Result<Vec<CaseloadCount>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT district_id, assigned_staff AS staff, COUNT(*) AS households \
                 FROM households GROUP BY district_id, assigned_staff \
                 ORDER BY district_id, assigned_staff",
            )
            .fetch_all(pool)
            .await?
        }))
    }
}

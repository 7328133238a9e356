//! Passwords, sessions and who is asking.
//!
//! Passwords are hashed with Argon2id. A session is a random 256-bit token: the PWA holds it
//! in an HttpOnly, SameSite=Strict cookie (Secure whenever the server is reached over HTTPS),
//! other clients send it as a bearer token. Only the token's SHA-256 is stored.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use rand::RngCore;

use crate::AppState;
use crate::error::AppError;
use crate::store::{SessionKind, User};
use crate::sync::hub::now;
use crate::sync::policy::Principal;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "lots_session";

/// Hashes a password for storage.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))
}

/// Whether `password` matches a stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh random token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The session token a request carries: the cookie, else a bearer token.
pub fn request_token(parts: &Parts) -> Option<String> {
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned);
    bearer.or_else(|| {
        parts
            .headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|cookies| {
                cookies.split(';').find_map(|cookie| {
                    let (name, value) = cookie.trim().split_once('=')?;
                    (name == COOKIE_NAME).then(|| value.to_owned())
                })
            })
    })
}

/// A signed-in user on a device: the extractor every protected handler takes.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The device.
    pub device_id: String,
    /// The token the request carried.
    pub token: String,
}

impl Session {
    /// The user as the sync policy sees them.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.user.id.clone(),
            device_id: self.device_id.clone(),
            role: self.user.role,
            districts: self.user.districts.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = request_token(parts).ok_or(AppError::Unauthenticated)?;
        let (user, device_id) = state
            .store
            .session(&token, SessionKind::Session, now())
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(Session {
            user,
            device_id,
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let stored = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &stored));
        assert!(!verify_password("correct horsE", &stored));
        assert!(!verify_password("anything", "not a hash"));
    }
}

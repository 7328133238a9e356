//! Passwords, sessions and who is asking.
//!
//! Passwords are hashed with Argon2id. A session is a random 256-bit token: the PWA holds it
//! in an HttpOnly, SameSite=Strict cookie (Secure whenever the server is reached over HTTPS),
//! other clients send it as a bearer token. Only the token's SHA-256 is stored.
//!
//! An Argon2id hash takes tens of milliseconds of CPU and 19 MiB of memory, so the server
//! hashes on a thread per core of its own ([`Hashing`]): a burst of sign-ins can then
//! neither stall the async workers that carry sync traffic nor hold a hash's memory per
//! request.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use lots_core::Timestamp;
use rand::RngCore;

use crate::AppState;
use crate::error::AppError;
use crate::store::{LiveSession, User};
use crate::sync::hub::now;
use crate::sync::policy::Principal;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "lots_session";

/// The fewest characters a new password may have.
pub use lots_core::api::MIN_PASSWORD_CHARS;

/// A username as stored (trimmed, lower case), or why it cannot be one.
pub fn normalized_username(raw: &str) -> Result<String, String> {
    let username = raw.trim().to_lowercase();
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    if username.is_empty() || username.len() > 64 || !username.chars().all(allowed) {
        return Err("a username is 1–64 letters, digits, '.' or '-'".into());
    }
    Ok(username)
}

/// Whether `password` may be set as a new password, and if not, why.
pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.chars().count() > 1024 {
        return Err("a password may have at most 1,024 characters".into());
    }
    Ok(())
}

/// Hashes a password for storage.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    hash_password_in(&mut Vec::new(), password)
}

/// Whether `password` matches a stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_in(&mut Vec::new(), password, stored)
}

/// Argon2 with its working memory taken from `memory` (grown when too small), so that a
/// thread that hashes again and again keeps one buffer rather than allocating and freeing
/// 19 MiB a time, which the allocator would hold on to.
fn argon2_into(
    memory: &mut Vec<Block>,
    argon2: &Argon2,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let blocks = argon2.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
}

/// [`hash_password`] in the given working memory: the PHC string `Argon2::hash_password`
/// makes, with the default Argon2id parameters and a random salt.
fn hash_password_in(memory: &mut Vec<Block>, password: &str) -> anyhow::Result<String> {
    let failed =
        |error: &dyn std::fmt::Display| anyhow::anyhow!("hashing a password failed: {error}");
    let salt = SaltString::generate(&mut OsRng);
    let argon2 = Argon2::default();
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_buffer)
        .map_err(|error| failed(&error))?;
    let output_len = argon2
        .params()
        .output_len()
        .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(output_len, |out| {
        Ok(argon2_into(
            memory,
            &argon2,
            password.as_bytes(),
            salt_bytes,
            out,
        )?)
    })
    .map_err(|error| failed(&error))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|error| failed(&error))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// [`verify_password`] in the given working memory: the stored hash's own algorithm,
/// version and parameters, compared in constant time, as `Argon2::verify_password` does.
fn verify_password_in(memory: &mut Vec<Block>, password: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let version = match hash.version {
        Some(version) => Version::try_from(version).ok(),
        None => Some(Version::default()),
    };
    let (Ok(algorithm), Some(version), Ok(params)) = (
        Algorithm::try_from(hash.algorithm),
        version,
        Params::try_from(&hash),
    ) else {
        return false;
    };
    let mut salt_buffer = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buffer) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    Output::init_with(expected.len(), |out| {
        Ok(argon2_into(
            memory,
            &argon2,
            password.as_bytes(),
            salt,
            out,
        )?)
    })
    // `Output`'s equality is constant-time.
    .is_ok_and(|computed| computed == expected)
}

/// Password hashing on a few threads of its own, one hash per thread at a time; cheap to
/// clone.
///
/// Not on the async workers, where a burst of sign-ins would stall sync traffic. Each thread
/// keeps one Argon2 working buffer (19 MiB) for all its hashes: allocated and freed per hash,
/// as `Argon2::hash_password` does, glibc kept the freed buffers in its per-thread arenas and
/// a burst of 500 sign-ins left the server at 240–430 MB.
#[derive(Debug, Clone)]
pub struct Hashing {
    jobs: std::sync::mpsc::Sender<Job>,
}

/// Work for a hashing thread, given the thread's Argon2 working memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

impl Hashing {
    /// `threads` hashing threads (at least one); they end when the last clone is dropped.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("lots-hashing-{index}"))
                .spawn(move || {
                    // Grown to 19 MiB by the first hash and kept: one buffer per thread.
                    let mut memory = Vec::new();
                    loop {
                        // One thread waits for the next job while holding the lock; the others
                        // wait for the lock.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// As many hashing threads as the machine has cores.
    pub fn per_core() -> std::io::Result<Self> {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// [`hash_password`], waiting for a turn.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.run(move |memory| hash_password_in(memory, &password))
            .await?
    }

    /// [`verify_password`], waiting for a turn.
    pub async fn verify(&self, password: String, stored: Arc<String>) -> anyhow::Result<bool> {
        self.run(move |memory| verify_password_in(memory, &password, &stored))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |memory: &mut Vec<Block>| {
                let _ = reply.send(work(memory));
            }))
            .map_err(|_| anyhow::anyhow!("the password hashing threads have stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("a password hashing thread failed"))
    }
}

/// A fresh random token.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A temporary password for an administrator to hand over: four groups of five characters
/// from an alphabet without look-alikes (no 0/o, 1/l/i), about 99 bits, read out without
/// mistakes ("k7mpq-3rtzh-wna8v-d4cex").
pub fn temporary_password() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let mut password = String::with_capacity(23);
    for index in 0..20 {
        if index > 0 && index % 5 == 0 {
            password.push('-');
        }
        password.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    password
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
    bearer.or_else(|| cookie_token(&parts.headers))
}

/// The session cookie's value, if the request carries it.
fn cookie_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookies| {
            cookies.split(';').find_map(|cookie| {
                let (name, value) = cookie.trim().split_once('=')?;
                (name == COOKIE_NAME).then(|| value.to_owned())
            })
        })
}

/// Refuses a request that changes something (not GET, HEAD or OPTIONS) from another site:
/// one whose `Origin` is not the server's public origin, or, without an `Origin`, that
/// carries the session cookie and whose `Sec-Fetch-Site` is not `same-origin`. The cookie is
/// SameSite=Strict already; this holds where that does not (an old browser, a sibling
/// subdomain). Clients with a bearer token send no cookie and no `Origin`, and pass.
pub async fn same_site_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let method = request.method();
    if method == axum::http::Method::GET
        || method == axum::http::Method::HEAD
        || method == axum::http::Method::OPTIONS
    {
        return next.run(request).await;
    }
    let headers = request.headers();
    let origin = headers
        .get(axum::http::header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok());
    let has_cookie = cookie_token(headers).is_some();
    let same_site = match origin {
        Some(origin) => origin == state.config.public_origin,
        None => !has_cookie || matches!(fetch_site, Some("same-origin" | "none")),
    };
    if !same_site {
        tracing::warn!(?origin, ?fetch_site, path = %request.uri().path(), "refused a cross-site request");
        return AppError::CrossSite.into_response();
    }
    next.run(request).await
}

/// The response header that carries a rotated session token to bearer clients (browsers get
/// a new cookie instead, which their scripts cannot read).
pub const ROTATED_TOKEN_HEADER: &str = "lots-session-token";

/// The clock sessions are judged by: the system's, moved on by tests (so that idle timeouts
/// and rotation are tested without waiting); cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// Now, by this clock.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(
            now()
                .as_millis()
                .saturating_add(self.offset_ms.load(Ordering::Relaxed)),
        )
    }

    /// Moves this clock on by `by`: for tests.
    #[doc(hidden)]
    pub fn advance(&self, by: std::time::Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(by, Ordering::Relaxed);
    }
}

/// A signed-in user on a device: the extractor every protected handler takes. It refuses
/// (403, `password_change_required`) a user who signed in with a temporary password and has
/// not chosen a new one; [`SignedIn`] lets them through to do so.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: User,
    /// The device.
    pub device_id: String,
    /// The token the request carried.
    pub token: String,
    /// Signed in with a temporary password not yet changed.
    pub must_change_password: bool,
}

/// Any signed-in session, including one whose temporary password must still be changed:
/// for who-am-I, signing out and changing the password.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Session);

/// The session a request's token opened, found once by [`track_sessions`] (`None`: the
/// token opens none) for the extractors to take.
#[derive(Debug, Clone)]
struct Resolved(Option<Session>);

/// Finds the session of every API request that carries a token, rotating a token older than
/// the rotation interval: the new token goes back as a `Set-Cookie` to a request that came
/// with the cookie, and in the [`ROTATED_TOKEN_HEADER`] header to one with a bearer token.
/// A handler that sets the cookie itself (signing in or out) decides alone.
pub async fn track_sessions(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let (mut parts, body) = request.into_parts();
    let Some(token) = request_token(&parts) else {
        return next
            .run(axum::extract::Request::from_parts(parts, body))
            .await;
    };
    // As `request_token` chose: a bearer token before the cookie.
    let by_bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Bearer "));
    let live = match state
        .store
        .use_session(
            &token,
            state.clock.now(),
            state.config.session_rules(),
            true,
        )
        .await
    {
        Ok(live) => live,
        Err(error) => return AppError::from(error).into_response(),
    };
    let rotated = live.as_ref().and_then(|live| live.rotated_to.clone());
    parts
        .extensions
        .insert(Resolved(live.map(|live| Session::from_live(live, token))));
    request = axum::extract::Request::from_parts(parts, body);
    let mut response = next.run(request).await;
    if let Some(rotated) = rotated
        && !response.headers().contains_key(SET_COOKIE)
    {
        let header = if by_bearer {
            HeaderValue::from_str(&rotated.token).map(|value| (ROTATED_TOKEN_HEADER, value))
        } else {
            let max_age = (rotated.expires_at.as_millis() - state.clock.now().as_millis()) / 1000;
            match session_cookie(&state, &rotated.token, max_age.max(0)) {
                Ok(cookie) => Ok((SET_COOKIE.as_str(), cookie)),
                Err(error) => return error.into_response(),
            }
        };
        match header {
            Ok((name, value)) => {
                response.headers_mut().insert(name, value);
            }
            Err(error) => return AppError::Internal(error.into()).into_response(),
        }
    }
    response
}

/// The session cookie holding `value` for `max_age_seconds` (0 removes it); Secure behind
/// https.
pub(crate) fn session_cookie(
    state: &AppState,
    value: &str,
    max_age_seconds: i64,
) -> Result<HeaderValue, AppError> {
    let secure = if state.config.public_origin.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}"
    );
    HeaderValue::from_str(&cookie).map_err(|error| AppError::Internal(error.into()))
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

impl Session {
    fn from_live(live: LiveSession, token: String) -> Self {
        Session {
            user: live.user,
            device_id: live.device_id,
            token,
            must_change_password: live.must_change_password,
        }
    }
}

/// The session of a request: as [`track_sessions`] found it, or (outside the API, at
/// `/sync`) looked up here, without rotating.
async fn signed_in(parts: &Parts, state: &AppState) -> Result<Session, AppError> {
    let token = request_token(parts).ok_or(AppError::Unauthenticated)?;
    let live = match parts.extensions.get::<Resolved>() {
        Some(Resolved(found)) => found.clone(),
        None => state
            .store
            .use_session(
                &token,
                state.clock.now(),
                state.config.session_rules(),
                false,
            )
            .await?
            .map(|live| Session::from_live(live, token.clone())),
    };
    match live {
        Some(session) => Ok(session),
        None => Err(ended(state, &token).await?),
    }
}

/// Why a token opens no session: an administrator ended it (the device revoked, the user
/// disabled), which the device is told so that it deletes what it holds; or not signed in.
pub async fn ended(state: &AppState, token: &str) -> Result<AppError, AppError> {
    Ok(
        match state.store.ended_session(token, state.clock.now()).await? {
            Some(ended) => AppError::Refused {
                status: axum::http::StatusCode::UNAUTHORIZED,
                code: ended.why.api_code(),
                message: ended.why.message().to_owned(),
            },
            None => AppError::Unauthenticated,
        },
    )
}

impl FromRequestParts<AppState> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let session = signed_in(parts, state).await?;
        if session.must_change_password {
            return Err(AppError::PasswordChangeRequired);
        }
        Ok(session)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(SignedIn(signed_in(parts, state).await?))
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

    #[test]
    fn hashes_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let ours = hash_password("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"correct horsE", &parsed)
                .is_err()
        );
        assert_eq!(
            ours.split('$').take(4).collect::<Vec<_>>(),
            ["", "argon2id", "v=19", "m=19456,t=2,p=1"]
        );
        // Hashes the crate made, with the default and with other parameters, verify here.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let params = Params::new(4096, 3, 2, Some(24)).unwrap();
        let other = Argon2::new(Algorithm::Argon2i, Version::V0x10, params)
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let mut memory = Vec::new();
        for stored in [&theirs, &other] {
            assert!(verify_password_in(&mut memory, "correct horse", stored));
            assert!(!verify_password_in(&mut memory, "correct horsE", stored));
        }
        assert_eq!(
            memory.len(),
            19456,
            "the buffer grew to the largest hash and stayed"
        );
    }

    #[test]
    fn temporary_passwords_are_long_readable_and_new_passwords() {
        let first = temporary_password();
        assert_eq!(first.len(), 23);
        assert!(
            first.split('-').all(|group| group.len() == 5
                && group.chars().all(|c| c.is_ascii_alphanumeric()
                    && !"01ilo".contains(c)
                    && !c.is_ascii_uppercase())),
            "{first}"
        );
        assert!(check_new_password(&first).is_ok());
        assert_ne!(first, temporary_password());
    }

    #[tokio::test]
    async fn hashing_off_the_workers_verifies_the_same() {
        let hashing = Hashing::new(1).unwrap();
        let stored = Arc::new(hashing.hash("correct horse".into()).await.unwrap());
        assert!(
            hashing
                .verify("correct horse".into(), stored.clone())
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify("correct horsE".into(), stored)
                .await
                .unwrap()
        );
    }
}

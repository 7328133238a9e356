//! The server's JSON API, as the app uses it: sign in and out, who am I (and the server's
//! clock), my caseload, the desk's directory, assignments, the access log and the quarantine
//! of refused changes.
//! The session is an HttpOnly cookie the browser sends by itself, also on the WebSocket.

use gloo::net::http::Request;
use lots_core::{DocumentId, Timestamp};

mod admin;
mod desk;

pub use admin::*;
pub use desk::*;
pub use lots_core::api::{
    Decided, HouseholdSummary, Me, ProviderOption, Refused, RemovedHousehold, Role, SignInOptions,
    User,
};

/// Why an API call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Wrong username or password, or the session has ended.
    #[error("not signed in")]
    Unauthorized,
    /// No answer: offline, or the server is down.
    #[error("the server cannot be reached: {0}")]
    Network(String),
    /// Too many failed sign-ins: the server says to wait this many seconds.
    #[error("too many failed sign-ins; try again in {0} seconds")]
    TooManyAttempts(u64),
    /// A new password must be chosen first (signed in with a temporary one).
    #[error("choose a new password first")]
    PasswordChangeRequired,
    /// The server answered with an error.
    #[error("{0}")]
    Server(String),
    /// The server refused with a machine-readable code beside its message.
    #[error("{message}")]
    Refused {
        /// The server's code (`username_taken`, `weak_password`, …).
        code: String,
        /// Its message, in English.
        message: String,
    },
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    code: Option<String>,
}

async fn check(response: gloo::net::http::Response) -> Result<gloo::net::http::Response, ApiError> {
    match response.status() {
        200..=299 => Ok(response),
        401 => Err(ApiError::Unauthorized),
        429 => Err(ApiError::TooManyAttempts(
            response
                .headers()
                .get("retry-after")
                .and_then(|seconds| seconds.parse().ok())
                .unwrap_or(60),
        )),
        status => match response.json::<ErrorBody>().await {
            Ok(ErrorBody {
                code: Some(code), ..
            }) if code == "password_change_required" => Err(ApiError::PasswordChangeRequired),
            Ok(ErrorBody {
                code: Some(code),
                error,
            }) => Err(ApiError::Refused {
                code,
                message: error,
            }),
            Ok(ErrorBody { error, .. }) => Err(ApiError::Server(error)),
            Err(_) => Err(ApiError::Server(format!("HTTP {status}"))),
        },
    }
}

fn network(error: gloo::net::Error) -> ApiError {
    ApiError::Network(error.to_string())
}

/// Signs in; the server sets the session cookie and registers this device, or, signing in
/// again, keeps `device` (what was written on it meanwhile is signed as written there).
pub async fn login(
    username: &str,
    password: &str,
    device_label: &str,
    device: Option<&str>,
) -> Result<Me, ApiError> {
    let body = serde_json::json!({
        "username": username,
        "password": password,
        "device_label": device_label,
        "device_id": device,
    });
    let response = Request::post("/api/login")
        .json(&body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    let response = check(response).await?;
    response.json::<Me>().await.map_err(network)
}

/// How one may sign in on the server (asked before anybody is signed in).
pub async fn sign_in_options() -> Result<SignInOptions, ApiError> {
    let response = Request::get("/api/sign-in-options")
        .send()
        .await
        .map_err(network)?;
    check(response)
        .await?
        .json::<SignInOptions>()
        .await
        .map_err(network)
}

/// Where the browser goes, top level (no pop-up), to sign in with the identity provider;
/// the server sends it on to the provider and, once signed in, back to the app at
/// [`SIGNED_IN_MARK`].
pub fn oidc_start_url(device_label: &str, device: Option<&str>) -> String {
    let mut url = format!(
        "/auth/oidc/start?device_label={}",
        js_sys::encode_uri_component(device_label)
    );
    if let Some(device) = device {
        url.push_str(&format!(
            "&device_id={}",
            js_sys::encode_uri_component(device)
        ));
    }
    url
}

/// What the server adds to the app's address after a sign-in with the identity provider.
pub const SIGNED_IN_MARK: &str = "signed-in=oidc";

/// Who is signed in with the session cookie the browser holds (after a sign-in with the
/// identity provider, which set it).
pub async fn me() -> Result<Me, ApiError> {
    let response = Request::get("/api/me").send().await.map_err(network)?;
    check(response).await?.json::<Me>().await.map_err(network)
}

/// A sign-out the server has not heard of yet, in `localStorage`: the device signed out
/// offline. Its data is gone already; the session it held ends at the next contact
/// ([`finish_sign_out`]), since until then its cookie would open it again.
const SIGN_OUT_PENDING: &str = "lots-sign-out-pending";

/// Signs out on the server: the session ends, and its answer clears the browser's cookies,
/// caches and storage for the site (`Clear-Site-Data`). Unanswered (offline, the server
/// down), the sign-out is kept to send at the next contact.
pub async fn logout() -> Result<(), ApiError> {
    let sent = async {
        let response = Request::post("/api/logout").send().await.map_err(network)?;
        check(response).await.map(|_| ())
    };
    let result = sent.await;
    if let Some(storage) = crate::screens::local_storage() {
        let _ = match &result {
            // Ended now, or long since.
            Ok(()) | Err(ApiError::Unauthorized) => storage.remove_item(SIGN_OUT_PENDING),
            Err(_) => storage.set_item(SIGN_OUT_PENDING, "1"),
        };
    }
    result
}

/// Sends a sign-out made offline, if one waits: when the sign-in starts, when the network
/// returns, and before anyone signs in again on the device.
pub async fn finish_sign_out() {
    let pending = crate::screens::local_storage()
        .and_then(|storage| storage.get_item(SIGN_OUT_PENDING).ok().flatten())
        .is_some();
    if pending {
        let _ = logout().await;
    }
}

/// Why an administrator shut this device out, as the server says when its session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutOut {
    /// The device was revoked (lost, stolen, handed in).
    DeviceRevoked,
    /// Its person's account was disabled.
    UserDisabled,
}

impl ShutOut {
    /// The server's error code, and the page's address says it after a wipe (`?wiped=`).
    pub fn code(self) -> &'static str {
        match self {
            ShutOut::DeviceRevoked => "device_revoked",
            ShutOut::UserDisabled => "user_disabled",
        }
    }

    /// The one `code` names.
    pub fn from_code(code: &str) -> Option<Self> {
        [ShutOut::DeviceRevoked, ShutOut::UserDisabled]
            .into_iter()
            .find(|why| why.code() == code)
    }
}

/// Whether an administrator shut this device out (revoked it, or disabled its person), as
/// `GET /api/me` answers a session that ended: `Ok(None)` when it ended otherwise (expired,
/// signed out elsewhere) or has not.
pub async fn shut_out() -> Result<Option<ShutOut>, ApiError> {
    let response = Request::get("/api/me").send().await.map_err(network)?;
    if response.status() != 401 {
        return Ok(None);
    }
    Ok(response
        .json::<ErrorBody>()
        .await
        .ok()
        .and_then(|body| ShutOut::from_code(body.code.as_deref()?)))
}

/// Tells the server that this shut-out device deleted what Lots held on it (its answer
/// clears the site's cookies, caches and storage too).
pub async fn wiped() -> Result<(), ApiError> {
    let response = Request::post("/api/wiped").send().await.map_err(network)?;
    check(response).await.map(|_| ())
}

/// Hands in a shut-out device's copy of a household, with its changes the server does not
/// have: they wait in the quarantine for a supervisor (`POST /api/wiped/waiting/{id}`).
pub async fn hand_in(document: &lots_core::DocumentId, saved: Vec<u8>) -> Result<(), ApiError> {
    let body = js_sys::Uint8Array::from(saved.as_slice());
    let response = Request::post(&format!("/api/wiped/waiting/{document}"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    check(response).await.map(|_| ())
}

/// Whether the server still knows this device's sign-in: `Ok(false)` when it has ended
/// (expired, signed out elsewhere, or the device removed).
pub async fn signed_in() -> Result<bool, ApiError> {
    let response = Request::get("/api/me").send().await.map_err(network)?;
    match check(response).await {
        Ok(_) => Ok(true),
        Err(ApiError::Unauthorized) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Whether the server says this person must choose a new password (signed in with a
/// temporary one), from `GET /api/me`.
pub async fn must_change_password() -> Result<bool, ApiError> {
    Ok(me().await?.must_change_password)
}

/// This device's refused changes and what became of them.
pub async fn my_quarantine() -> Result<Vec<Refused>, ApiError> {
    let response = Request::get("/api/quarantine/mine")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The refused changes to households of the supervisor's districts, newest first.
pub async fn quarantine() -> Result<Vec<Refused>, ApiError> {
    let response = Request::get("/api/quarantine")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// Accepts (`accept`) or rejects a refused change, with the refused changes that depend
/// on it (supervisors).
pub async fn decide(id: i64, accept: bool) -> Result<Decided, ApiError> {
    let verb = if accept { "accept" } else { "reject" };
    let response = Request::post(&format!("/api/quarantine/{id}/{verb}"))
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The households this person may sync.
pub async fn caseload() -> Result<Vec<HouseholdSummary>, ApiError> {
    let response = Request::get("/api/caseload")
        .send()
        .await
        .map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The households removed that this person's devices may hold, oldest first.
pub async fn removed() -> Result<Vec<RemovedHousehold>, ApiError> {
    let response = Request::get("/api/removed").send().await.map_err(network)?;
    check(response).await?.json().await.map_err(network)
}

/// The server's WebSocket address for this page.
pub fn sync_url() -> String {
    let location = web_sys::window().map(|window| window.location());
    let (protocol, host) = location
        .map(|location| {
            (
                location.protocol().unwrap_or_default(),
                location.host().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/sync")
}

/// Sends `body` as JSON with `method` to `path` and checks the answer.
async fn send_json(
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<gloo::net::http::Response, ApiError> {
    let request = match method {
        "PATCH" => Request::patch(path),
        "PUT" => Request::put(path),
        _ => Request::post(path),
    };
    let response = request
        .json(body)
        .map_err(network)?
        .send()
        .await
        .map_err(network)?;
    check(response).await
}

/// Chooses a new password in place of the current one (after a temporary password, or
/// any time). The session stays.
pub async fn change_password(current: &str, new: &str) -> Result<(), ApiError> {
    let body = serde_json::json!({ "current_password": current, "new_password": new });
    send_json("POST", "/api/me/password", &body)
        .await
        .map(|_| ())
}

/// `text` made safe for one segment of a path.
fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

//! Sign-in with the organisation's identity provider, over HTTP: which ways to sign in there
//! are, the top-level redirect to the provider and back (`/auth/oidc/start`,
//! `/auth/oidc/callback`), the pages a person sees when it does not work, and the
//! administrators' links between users and the provider's identities.
//!
//! A person is signed in by the provider only through a link an administrator made between
//! their Lots user and the provider's issuer and subject; then exactly as by a password
//! (`api::open_session`: the same session cookie, device registration and "sign-in" row).

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::api::{audit_action, open_session, require};
use crate::auth::Session;
use crate::error::AppError;
use crate::oidc::{OidcError, PENDING_COOKIE, PENDING_SECONDS, Pending};
use crate::store::{Identity, Linked, Role};
use crate::sync::hub::now;
use crate::throttle;

pub use lots_core::api::{ProviderOption, SignInOptions};

/// Where the app starts after a sign-in with the provider; the app looks for `signed-in`.
pub const SIGNED_IN_PATH: &str = "/?signed-in=oidc";

/// The browser's routes of the sign-in with the provider.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/start", get(start))
        .route("/auth/oidc/callback", get(callback))
        .route("/auth/oidc/page.css", get(page_css))
}

/// How one may sign in here: the sign-in page asks before anybody is signed in.
#[utoipa::path(get, path = "/api/sign-in-options", responses((status = 200, body = SignInOptions)))]
pub async fn sign_in_options(State(state): State<AppState>) -> Json<SignInOptions> {
    Json(SignInOptions {
        password: state.config.password_sign_in,
        oidc: state.oidc.as_ref().map(|oidc| ProviderOption {
            label: oidc.name.clone(),
        }),
    })
}

/// `GET /auth/oidc/start` query: as `POST /api/login`'s device fields.
#[derive(Debug, serde::Deserialize)]
pub struct StartQuery {
    /// What to call this device in the device list.
    #[serde(default)]
    device_label: Option<String>,
    /// The device this person signed in on before, when signing in again on it.
    #[serde(default)]
    device_id: Option<String>,
}

/// Starts a sign-in with the provider: a top-level redirect there, with the pending sign-in
/// (state, PKCE verifier, nonce, device) in a signed cookie for the way back.
pub async fn start(State(state): State<AppState>, Query(query): Query<StartQuery>) -> Response {
    let Some(oidc) = state.oidc.clone() else {
        return page(StatusCode::NOT_FOUND, Page::NotConfigured);
    };
    let device_label = query
        .device_label
        .map(|label| label.trim().chars().take(100).collect::<String>());
    let device_id = query
        .device_id
        .filter(|id| !id.is_empty() && id.len() <= 64);
    match oidc.begin(device_label, device_id, now().as_millis()).await {
        Ok((url, pending)) => {
            let mut response = redirect(&url);
            if let Ok(cookie) = pending_cookie(&state, &oidc.seal(&pending), PENDING_SECONDS) {
                response.headers_mut().insert(SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => error_page(&error),
    }
}

/// `GET /auth/oidc/callback` query: the provider's answer.
#[derive(Debug, serde::Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The provider sends the browser back here: the answer is verified and the person linked
/// to the identity is signed in, as by a password; anyone else gets a page saying why not.
pub async fn callback(
    State(state): State<AppState>,
    address: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let mut response = match signed_in(&state, address, &headers, query).await {
        Ok(response) => response,
        Err(response) => response,
    };
    // The pending sign-in is used once, whatever came of it.
    if let Ok(cleared) = pending_cookie(&state, "", 0) {
        response.headers_mut().append(SET_COOKIE, cleared);
    }
    response
}

async fn signed_in(
    state: &AppState,
    address: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<Response, Response> {
    let oidc = state
        .oidc
        .clone()
        .ok_or_else(|| page(StatusCode::NOT_FOUND, Page::NotConfigured))?;
    let address = address.map(|axum::Extension(info)| info.0.ip());
    let from = address.map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string());
    // Throttled by address, as failed password sign-ins are: refused identities count.
    let keys: Vec<throttle::Key> = address.map(throttle::Key::Address).into_iter().collect();
    let attempted = std::time::Instant::now();
    if let Some(wait) = state.throttle.must_wait(&keys, attempted) {
        return Err(page(
            StatusCode::TOO_MANY_REQUESTS,
            Page::Throttled(wait.as_secs().max(1)),
        ));
    }
    if let Some(error) = query.error {
        tracing::info!(%error, "the identity provider refused a sign-in");
        return Err(error_page(&OidcError::Refused(error)));
    }
    let pending = pending_of(&oidc, headers).ok_or_else(|| error_page(&OidcError::NotStarted))?;
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(error_page(&OidcError::NotStarted));
    };
    let failed = |reason: String| {
        let state = state.clone();
        let keys = keys.clone();
        let from = from.clone();
        async move {
            state.throttle.failed(&keys, attempted);
            state
                .store
                .audit_event(
                    now(),
                    "-",
                    "-",
                    "sign-in-failed",
                    &format!("method oidc, {reason} from {from}"),
                )
                .await
        }
    };
    let identity = match oidc
        .finish(&pending, &returned_state, &code, now().as_millis())
        .await
    {
        Ok(identity) => identity,
        Err(error) => {
            if let OidcError::Invalid(why) = &error {
                tracing::warn!(%why, "an answer from the identity provider did not verify");
                failed("an answer that did not verify".into())
                    .await
                    .map_err(internal)?;
            }
            return Err(error_page(&error));
        }
    };
    let user = state
        .store
        .user_by_identity(&identity.issuer, &identity.subject)
        .await
        .map_err(internal)?;
    let disabled = user
        .as_ref()
        .filter(|user| user.disabled)
        .map(|user| user.id.clone());
    let Some(user) = user.filter(|user| !user.disabled) else {
        // On record by issuer and subject only: an administrator links them from the log,
        // and no name of someone who is not a user is kept.
        let reason = match disabled {
            Some(user_id) => format!("{user_id} is disabled"),
            None => format!(
                "unknown identity: issuer {} subject {}",
                identity.issuer, identity.subject
            ),
        };
        failed(reason).await.map_err(internal)?;
        return Err(page(
            StatusCode::FORBIDDEN,
            Page::NotSetUp {
                subject: identity.subject,
                email: identity.email,
            },
        ));
    };
    let (_, _, cookie) = open_session(
        state,
        &user,
        pending.device_label.as_deref(),
        pending.device_id.as_deref(),
        &format!("method oidc from {from}"),
    )
    .await
    .map_err(IntoResponse::into_response)?;
    let mut response = redirect(SIGNED_IN_PATH);
    response.headers_mut().insert(SET_COOKIE, cookie);
    Ok(response)
}

fn internal(error: impl Into<anyhow::Error>) -> Response {
    AppError::Internal(error.into()).into_response()
}

/// The pending sign-in the request's cookie holds, if this server sealed it.
fn pending_of(oidc: &crate::oidc::Oidc, headers: &HeaderMap) -> Option<Pending> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .filter(|(name, _)| *name == PENDING_COOKIE)
        .find_map(|(_, value)| oidc.open(value))
}

/// The pending sign-in's cookie: HttpOnly, and SameSite=Lax, not Strict, because the
/// provider's redirect back is a navigation from another site, which must carry it.
fn pending_cookie(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, AppError> {
    let secure = if state.config.public_origin.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{PENDING_COOKIE}={value}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|error| AppError::Internal(error.into()))
}

fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(error) => internal(error),
    }
}

/// What a person reads when a sign-in with the provider did not sign them in.
#[derive(Debug)]
enum Page {
    NotConfigured,
    Unreachable,
    NotStarted,
    Refused,
    Invalid,
    Throttled(u64),
    NotSetUp {
        subject: String,
        email: Option<String>,
    },
}

fn error_page(error: &OidcError) -> Response {
    match error {
        OidcError::Unreachable(_) => page(StatusCode::SERVICE_UNAVAILABLE, Page::Unreachable),
        OidcError::NotStarted => page(StatusCode::BAD_REQUEST, Page::NotStarted),
        OidcError::Refused(_) => page(StatusCode::FORBIDDEN, Page::Refused),
        OidcError::Invalid(_) => page(StatusCode::BAD_REQUEST, Page::Invalid),
    }
}

/// A page in Swedish and English (the server does not know the app's language), with the
/// way back to the sign-in.
fn page(status: StatusCode, what: Page) -> Response {
    let (sv_title, sv_text, en_title, en_text) = match &what {
        Page::NotConfigured => (
            "Inloggning med organisationens konto finns inte här",
            "Den här Lots-servern är inte inställd för det. Logga in med användarnamn och lösenord.".to_owned(),
            "Sign-in with your organisation's account is not set up here",
            "This Lots server is not configured for it. Sign in with your username and password.".to_owned(),
        ),
        Page::Unreachable => (
            "Inloggningstjänsten går inte att nå",
            "Lots får inget svar från organisationens inloggningstjänst just nu. Försök igen om en stund. Det som redan finns i din telefon kan du fortfarande använda.".to_owned(),
            "The sign-in service cannot be reached",
            "Lots gets no answer from your organisation's sign-in service right now. Try again in a while. What is already on your phone you can still use.".to_owned(),
        ),
        Page::NotStarted => (
            "Inloggningen gick ut",
            "Inloggningen påbörjades inte i den här webbläsaren eller tog för lång tid. Börja om.".to_owned(),
            "The sign-in expired",
            "The sign-in was not started in this browser, or took too long. Start again.".to_owned(),
        ),
        Page::Refused => (
            "Inloggningen avbröts",
            "Inloggningstjänsten loggade inte in dig (du avbröt, eller tjänsten tillät det inte). Börja om, eller fråga din administratör.".to_owned(),
            "The sign-in was cancelled",
            "The sign-in service did not sign you in (you cancelled, or it did not allow it). Start again, or ask your administrator.".to_owned(),
        ),
        Page::Invalid => (
            "Inloggningen kunde inte kontrolleras",
            "Svaret från inloggningstjänsten gick inte att kontrollera, så du loggades inte in. Börja om; om det händer igen, berätta för din administratör.".to_owned(),
            "The sign-in could not be verified",
            "The sign-in service's answer could not be verified, so you were not signed in. Start again; if it happens again, tell your administrator.".to_owned(),
        ),
        Page::Throttled(seconds) => {
            let minutes = seconds.div_ceil(60);
            (
                "För många misslyckade inloggningar",
                format!("Vänta {minutes} min och försök igen."),
                "Too many failed sign-ins",
                format!("Wait {minutes} min and try again."),
            )
        }
        Page::NotSetUp { .. } => (
            "Ditt konto är inte upplagt i Lots",
            "Du loggade in hos din organisation, men ingen användare i Lots är kopplad till ditt konto. Fråga din administratör. Ge dem uppgifterna nedan.".to_owned(),
            "Your account is not set up in Lots",
            "You signed in at your organisation, but no Lots user is linked to your account. Ask your administrator, and give them the details below.".to_owned(),
        ),
    };
    let details = match &what {
        Page::NotSetUp { subject, email } => {
            let email = email
                .as_deref()
                .map(|email| format!("<dt>E-post / E-mail</dt><dd>{}</dd>", escape(email)))
                .unwrap_or_default();
            format!(
                "<dl><dt>Id (subject)</dt><dd><code>{}</code></dd>{email}</dl>",
                escape(subject)
            )
        }
        _ => String::new(),
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"sv\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{sv_title} – Lots</title><link rel=\"stylesheet\" href=\"/auth/oidc/page.css\"></head>\
<body><main><h1>{sv_title}</h1><p>{sv_text}</p>\
<section lang=\"en\"><h2>{en_title}</h2><p>{en_text}</p></section>{details}\
<p><a class=\"button\" href=\"/\">Till inloggningen · Back to sign-in</a></p></main></body></html>\n"
    );
    (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The pages' look (the page's policy allows no inline style).
async fn page_css() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        "body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f24;line-height:1.5}\
main{max-width:36rem;margin:0 auto;padding:1.5rem 1rem}\
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .25rem}\
section{border-top:1px solid #c9d1d9;margin-top:1rem}\
dl{background:#fff;border:1px solid #c9d1d9;border-radius:.5rem;padding:.75rem 1rem;overflow-wrap:anywhere}\
dt{font-weight:600}dd{margin:0 0 .5rem}\
a.button{display:inline-block;background:#0b5cad;color:#fff;padding:.75rem 1rem;border-radius:.5rem;text-decoration:none;margin-top:1rem}",
    )
}

/// `PUT /api/users/{id}/identity` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct NewIdentity {
    /// The provider's issuer URL, as its ID tokens name it.
    issuer: String,
    /// The person's subject there (for Entra ID, the object id).
    subject: String,
}

/// An issuer and subject as they may be stored, or why not.
pub(crate) fn checked_identity(issuer: &str, subject: &str) -> Result<(String, String), String> {
    let (issuer, subject) = (issuer.trim(), subject.trim());
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) || issuer.len() > 500 {
        return Err("the issuer is the provider's URL, at most 500 characters".into());
    }
    // OpenID Connect Core: a subject is at most 255 ASCII characters.
    if subject.is_empty() || subject.len() > 255 || !subject.chars().all(|c| c.is_ascii_graphic()) {
        return Err("the subject is 1–255 printable ASCII characters".into());
    }
    Ok((issuer.to_owned(), subject.to_owned()))
}

/// A user's link to the identity provider (administrators).
#[utoipa::path(get, path = "/api/users/{id}/identity", params(("id" = String, Path, description = "The user")), responses((status = 200, body = Identity), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn identity(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<Identity>, AppError> {
    require(&session, &[Role::Admin])?;
    state
        .store
        .identity_of(&id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound("identity"))
}

/// Links a user to the provider's issuer and subject (administrators): they may then sign
/// in with the provider. Replaces the identity they had.
#[utoipa::path(put, path = "/api/users/{id}/identity", request_body = NewIdentity, params(("id" = String, Path, description = "The user")), responses((status = 204, description = "Linked"), (status = 400, body = crate::api::ErrorBody), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn link_identity(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Json(new): Json<NewIdentity>,
) -> Result<StatusCode, AppError> {
    require(&session, &[Role::Admin])?;
    let (issuer, subject) =
        checked_identity(&new.issuer, &new.subject).map_err(AppError::BadRequest)?;
    match state
        .store
        .link_identity(&id, &issuer, &subject, &session.user.id, now())
        .await?
    {
        Linked::Linked => {}
        Linked::NoSuchUser => return Err(AppError::NotFound("user")),
        Linked::TakenBy(holder) => {
            return Err(AppError::BadRequest(format!(
                "this identity is linked to {holder} already; unlink it there first"
            )));
        }
    }
    audit_action(
        &state,
        &session,
        "identity-linked",
        &format!("{id} to issuer {issuer} subject {subject}"),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a user's link to the provider (administrators): they no longer sign in with it.
#[utoipa::path(delete, path = "/api/users/{id}/identity", params(("id" = String, Path, description = "The user")), responses((status = 204, description = "Unlinked"), (status = 403, body = crate::api::ErrorBody), (status = 404, body = crate::api::ErrorBody)))]
pub async fn unlink_identity(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    require(&session, &[Role::Admin])?;
    if !state.store.unlink_identity(&id).await? {
        return Err(AppError::NotFound("identity"));
    }
    audit_action(&state, &session, "identity-unlinked", &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests;

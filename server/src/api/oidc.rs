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
use crate::api::{audit_admin, open_session, require};
use crate::auth::Session;
use crate::error::AppError;
use crate::oidc::{OidcError, PENDING_COOKIE, PENDING_SECONDS, Pending};
use crate::store::{Identity, Linked, Role};
use crate::sync::hub::now;
use crate::throttle;

/// Where the app starts after a sign-in with the provider; the app looks for `signed-in`.
pub const SIGNED_IN_PATH: &str = "/?signed-in=oidc";

/// The browser's routes of the sign-in with the provider.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/oidc/start", get(start))
        .route("/auth/oidc/callback", get(callback))
        .route("/auth/oidc/page.css", get(page_css))
}

/// `GET /api/sign-in-options` answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SignInOptions {
    /// Whether a username and password sign in.
    password: bool,
    /// The identity provider, when one is configured.
    oidc: Option<ProviderOption>,
}

/// The identity provider as the sign-in page shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProviderOption {
    /// Its name on the button ("Stockholms stad").
    label: String,
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
    audit_admin(
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
    audit_admin(&state, &session, "identity-unlinked", &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;
    use crate::store::User;

    /// A server whose identity provider is an address where nothing answers, with an
    /// administrator and a member of staff who sign in with passwords.
    async fn server(extra: &[&str]) -> (tempfile::TempDir, AppState) {
        use clap::Parser as _;
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "the client secret\n").unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
        drop(closed);
        let data = dir.path().join("data");
        let mut args = vec![
            "lots-server",
            "--data-dir",
            data.to_str().unwrap(),
            "--oidc-issuer",
            &issuer,
            "--oidc-client-id",
            "lots",
            "--oidc-client-secret-file",
            secret.to_str().unwrap(),
            "--oidc-name",
            "Exempelkommun",
        ];
        args.extend_from_slice(extra);
        let config = crate::config::Config::try_parse_from(args).unwrap();
        let state = AppState::open(config).await.unwrap();
        for (id, role) in [("admin", Role::Admin), ("anna", Role::Staff)] {
            let user = User {
                id: format!("u-{id}"),
                username: id.into(),
                display_name: id.into(),
                role,
                districts: Vec::new(),
                disabled: false,
            };
            let hash = crate::auth::hash_password(&format!("{id}s lösenord här")).unwrap();
            state.store.add_user(&user, &hash, now()).await.unwrap();
        }
        (dir, state)
    }

    struct Answer {
        status: StatusCode,
        headers: HeaderMap,
        body: String,
    }

    async fn call(
        state: &AppState,
        method: &str,
        path: &str,
        token: Option<&str>,
        cookie: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = crate::app(state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn token(state: &AppState, username: &str) -> String {
        let answer = call(
            state,
            "POST",
            "/api/login",
            None,
            None,
            Some(serde_json::json!({
                "username": username,
                "password": format!("{username}s lösenord här"),
            })),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    const ISSUER: &str = "https://login.example/tenant/v2.0";

    #[tokio::test]
    async fn administrators_link_and_unlink_identities_and_nobody_else_may() {
        let (_dir, state) = server(&[]).await;
        let admin = token(&state, "admin").await;
        let anna = token(&state, "anna").await;
        let link = |subject: &str| serde_json::json!({ "issuer": ISSUER, "subject": subject });
        let path = "/api/users/u-anna/identity";

        let by_anna = call(&state, "PUT", path, Some(&anna), None, Some(link("s-1"))).await;
        assert_eq!(by_anna.status, StatusCode::FORBIDDEN);
        let linked = call(&state, "PUT", path, Some(&admin), None, Some(link("s-1"))).await;
        assert_eq!(linked.status, StatusCode::NO_CONTENT, "{}", linked.body);
        let shown = call(&state, "GET", path, Some(&admin), None, None).await;
        assert!(shown.body.contains("\"subject\":\"s-1\""), "{}", shown.body);
        let user = state.store.user_by_identity(ISSUER, "s-1").await.unwrap();
        assert_eq!(user.unwrap().id, "u-anna");

        // One identity names one user; only users exist; a subject is checked.
        let taken = call(
            &state,
            "PUT",
            "/api/users/u-admin/identity",
            Some(&admin),
            None,
            Some(link("s-1")),
        )
        .await;
        assert_eq!(taken.status, StatusCode::BAD_REQUEST);
        assert!(taken.body.contains("linked to u-anna"), "{}", taken.body);
        let nobody = call(
            &state,
            "PUT",
            "/api/users/u-nobody/identity",
            Some(&admin),
            None,
            Some(link("s-2")),
        )
        .await;
        assert_eq!(nobody.status, StatusCode::NOT_FOUND);
        let empty = call(&state, "PUT", path, Some(&admin), None, Some(link(" "))).await;
        assert_eq!(empty.status, StatusCode::BAD_REQUEST);

        let by_anna = call(&state, "DELETE", path, Some(&anna), None, None).await;
        assert_eq!(by_anna.status, StatusCode::FORBIDDEN);
        let unlinked = call(&state, "DELETE", path, Some(&admin), None, None).await;
        assert_eq!(unlinked.status, StatusCode::NO_CONTENT);
        let again = call(&state, "DELETE", path, Some(&admin), None, None).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert!(
            state
                .store
                .user_by_identity(ISSUER, "s-1")
                .await
                .unwrap()
                .is_none()
        );

        let entries = state
            .store
            .audit_entries(None, Some("u-admin"), 100)
            .await
            .unwrap();
        let actions: Vec<&str> = entries.iter().map(|entry| entry.action.as_str()).collect();
        assert!(actions.contains(&"identity-linked"), "{actions:?}");
        assert!(actions.contains(&"identity-unlinked"), "{actions:?}");
    }

    /// The pending-sign-in cookie is cleared by every answer of the callback, and no session
    /// cookie is set by a refused one.
    fn assert_refused_without_a_session(answer: &Answer) {
        let cookies: Vec<&str> = answer
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|value| value.to_str().unwrap())
            .collect();
        assert!(
            cookies
                .iter()
                .any(|cookie| cookie.starts_with("lots_oidc=;") && cookie.contains("Max-Age=0")),
            "{cookies:?}"
        );
        assert!(
            !cookies
                .iter()
                .any(|cookie| cookie.starts_with(crate::auth::COOKIE_NAME)),
            "{cookies:?}"
        );
    }

    #[tokio::test]
    async fn the_callback_refuses_what_this_browser_did_not_start() {
        let (_dir, state) = server(&[]).await;
        let callback = "/auth/oidc/callback?code=a-code&state=state-2";
        let unstarted = call(&state, "GET", callback, None, None, None).await;
        assert_eq!(unstarted.status, StatusCode::BAD_REQUEST);
        assert!(
            unstarted.body.contains("Inloggningen gick ut"),
            "{}",
            unstarted.body
        );
        assert!(unstarted.body.contains("The sign-in expired"));
        assert_refused_without_a_session(&unstarted);

        let forged = call(
            &state,
            "GET",
            callback,
            None,
            Some("lots_oidc=e30.AAAA"),
            None,
        )
        .await;
        assert_eq!(forged.status, StatusCode::BAD_REQUEST);
        assert_refused_without_a_session(&forged);

        // Sealed by this server, but for another state (a callback URL from someone else's
        // sign-in, opened in this browser): refused before the provider is asked.
        let oidc = state.oidc.clone().unwrap();
        let pending = crate::oidc::Pending {
            state: "state-1".into(),
            verifier: "verifier".into(),
            nonce: "nonce".into(),
            device_label: None,
            device_id: None,
            expires_at: now().as_millis() + 60_000,
        };
        let cookie = format!("lots_oidc={}", oidc.seal(&pending));
        let other = call(&state, "GET", callback, None, Some(&cookie), None).await;
        assert_eq!(other.status, StatusCode::BAD_REQUEST);
        assert_refused_without_a_session(&other);
        let expired = crate::oidc::Pending {
            state: "state-2".into(),
            expires_at: now().as_millis() - 1,
            ..pending.clone()
        };
        let cookie = format!("lots_oidc={}", oidc.seal(&expired));
        let late = call(&state, "GET", callback, None, Some(&cookie), None).await;
        assert_eq!(late.status, StatusCode::BAD_REQUEST);

        // The provider said no.
        let denied = call(
            &state,
            "GET",
            "/auth/oidc/callback?error=access_denied&state=state-1",
            None,
            Some(&cookie),
            None,
        )
        .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert!(denied.body.contains("The sign-in was cancelled"));
        assert_refused_without_a_session(&denied);
    }

    #[tokio::test]
    async fn a_provider_that_is_down_gets_a_clear_page_and_password_sign_in_goes_on() {
        let (_dir, state) = server(&[]).await;
        let start = call(&state, "GET", "/auth/oidc/start", None, None, None).await;
        assert_eq!(start.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(start.body.contains("Inloggningstjänsten går inte att nå"));
        assert!(start.body.contains("The sign-in service cannot be reached"));
        assert!(start.headers.get(SET_COOKIE).is_none());
        let options = call(&state, "GET", "/api/sign-in-options", None, None, None).await;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&options.body).unwrap(),
            serde_json::json!({ "password": true, "oidc": { "label": "Exempelkommun" } })
        );
        token(&state, "anna").await;
    }

    #[tokio::test]
    async fn password_sign_in_can_be_turned_off() {
        let (_dir, state) = server(&["--password-sign-in=false"]).await;
        let refused = call(
            &state,
            "POST",
            "/api/login",
            None,
            None,
            Some(serde_json::json!({ "username": "admin", "password": "admins lösenord här" })),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("password sign-in is turned off"),
            "{}",
            refused.body
        );
        let options = call(&state, "GET", "/api/sign-in-options", None, None, None).await;
        assert!(
            options.body.contains("\"password\":false"),
            "{}",
            options.body
        );
    }

    #[test]
    fn identities_are_checked_before_they_are_stored() {
        assert_eq!(
            checked_identity(" https://login.example/t/v2.0 ", " 0a1b-2c3d "),
            Ok(("https://login.example/t/v2.0".into(), "0a1b-2c3d".into()))
        );
        assert!(checked_identity("login.example", "x").is_err());
        assert!(checked_identity("https://login.example", "").is_err());
        assert!(checked_identity("https://login.example", "with space").is_err());
        assert!(checked_identity("https://login.example", &"x".repeat(256)).is_err());
    }

    #[test]
    fn the_refusal_page_escapes_what_the_provider_sent() {
        let response = page(
            StatusCode::FORBIDDEN,
            Page::NotSetUp {
                subject: "<script>".into(),
                email: Some("a\"b@example.org".into()),
            },
        );
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

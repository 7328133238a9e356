//! Sign-in with the identity provider at the HTTP API, without a provider: the links
//! administrators make, and the callback's refusals of what this browser did not start.

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

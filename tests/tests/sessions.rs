//! Sign-in and sessions at the API: failed sign-ins are throttled (429 with a growing
//! `Retry-After`) and, like successful ones, on record in the audit log; signing out closes
//! the device's sockets; a request that changes something is refused from another site;
//! sessions end when idle and with their lifetime, and their tokens rotate (on the server's
//! session clock, moved on by the tests rather than waited for).

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::time::{Duration, Instant};

use lots_server::throttle::Key;
use lots_tests::{Api as _, SyncClient, TestServer};

fn password(username: &str) -> &'static str {
    lots_tests::demo_password(username).unwrap()
}

async fn sign_in(server: &TestServer, username: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_and_every_sign_in_is_on_record() {
    let server = TestServer::start(1).await.unwrap();
    // Anna signs in, then her password is tried wrongly five times: each is refused and
    // counted, none is held back yet.
    assert_eq!(
        sign_in(&server, "anna", password("anna")).await.status(),
        200
    );
    for _ in 0..5 {
        assert_eq!(sign_in(&server, "anna", "fel lösenord").await.status(), 401);
    }
    // Four more failures a moment ago (the waits grow 1, 2, 4, 8 s; put straight into the
    // count, so that a slow machine cannot outlast the wait between two requests: the
    // waits themselves are tested on a clock of their own in `throttle.rs`).
    let anna = [Key::Username("anna".into())];
    for _ in 0..4 {
        server.state.throttle.failed(&anna, Instant::now());
    }
    let throttled = sign_in(&server, "Anna", password("anna")).await;
    assert_eq!(throttled.status(), 429, "even with the right password");
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=16).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = throttled.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("too many failed sign-ins")
    );
    // Another person signing in meanwhile is not held back.
    assert_eq!(
        sign_in(&server, "omar", password("omar")).await.status(),
        200
    );

    // The log has the five failures, named for Anna (the throttled attempt was never
    // checked), and her sign-in with its device and address.
    let entries = server
        .state
        .store
        .audit_entries(None, Some("u-anna"), 1000)
        .await
        .unwrap();
    let failed = entries
        .iter()
        .filter(|entry| entry.action == "sign-in-failed")
        .count();
    assert_eq!(failed, 5);
    let signed_in: Vec<_> = entries
        .iter()
        .filter(|entry| entry.action == "sign-in")
        .collect();
    assert_eq!(signed_in.len(), 1);
    assert!(signed_in[0].device_id.starts_with("d-") && signed_in[0].detail.contains("127.0.0.1"));
    // A username nobody has is on record too, as nobody's.
    assert_eq!(sign_in(&server, "ingen-sådan", "x").await.status(), 401);
    let strangers = server
        .state
        .store
        .audit_entries(None, Some("-"), 1000)
        .await
        .unwrap();
    assert!(
        strangers
            .iter()
            .any(|entry| entry.detail.contains("ingen-sådan"))
    );
    assert_eq!(server.state.store.verify_audit_chain().await.unwrap(), None);
}

#[tokio::test]
async fn signing_out_closes_the_devices_sockets_and_clears_the_site() {
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let mut phone = SyncClient::connect(&server, &token, "anna-phone")
        .await
        .unwrap();
    let out = reqwest::Client::new()
        .post(server.url("/api/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    // The browser is told to drop everything of the site: storage, caches and cookies.
    assert_eq!(
        out.headers()["clear-site-data"],
        "\"cache\", \"cookies\", \"storage\""
    );
    phone.settle(Duration::from_secs(2)).await.unwrap();
    let closed = phone.closed.clone().expect("the socket was closed");
    assert!(closed.reason.contains("signed out"), "{closed:?}");
    assert!(
        SyncClient::connect(&server, &token, "anna-phone")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_change_from_another_site_is_refused_and_one_from_the_app_is_not() {
    let server = TestServer::start(1).await.unwrap();
    let signed_in = sign_in(&server, "sara", password("sara")).await;
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let logout = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut request = http
            .post(server.url("/api/logout"))
            .header("cookie", &cookie);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(fetch_site) = fetch_site {
            request = request.header("sec-fetch-site", fetch_site);
        }
        request.send()
    };
    let from_elsewhere = logout(Some("https://elak.example"), None).await.unwrap();
    assert_eq!(from_elsewhere.status(), 403);
    let body: serde_json::Value = from_elsewhere.json().await.unwrap();
    assert_eq!(body["error"], "a request from another site is refused");
    let cross_site = logout(None, Some("cross-site")).await.unwrap();
    assert_eq!(cross_site.status(), 403);
    // Reading is never refused, and the session is still there.
    let me = http
        .get(server.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // The app's own request (its origin) goes through.
    let origin = server.url("");
    let own = logout(Some(&origin), Some("same-origin")).await.unwrap();
    assert_eq!(own.status(), 204);
}

#[tokio::test]
async fn an_administrators_actions_are_on_record_and_none_shuts_themselves_out() {
    let server = TestServer::start(1).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let http = reqwest::Client::new();
    // A request as `token`; its status.
    let call = |method: reqwest::Method, path: &str, token: &str, body: serde_json::Value| {
        let request = http
            .request(method, server.url(path))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let (post, patch) = (reqwest::Method::POST, reqwest::Method::PATCH);
    let district = serde_json::json!({ "id": "district-sodermalm", "name": "Södermalm" });
    assert_eq!(
        call(post.clone(), "/api/districts", &admin, district.clone()).await,
        201
    );
    assert_eq!(
        call(post.clone(), "/api/districts", &admin, district).await,
        400
    );
    let renamed = serde_json::json!({ "name": "Södermalm och Gamla stan" });
    assert_eq!(
        call(
            patch.clone(),
            "/api/districts/district-sodermalm",
            &admin,
            renamed
        )
        .await,
        204
    );
    // Staff add no district.
    let other = serde_json::json!({ "id": "district-x", "name": "X" });
    assert_eq!(call(post, "/api/districts", &anna, other).await, 403);
    // An administrator does not disable their own account; another's, on record.
    let disable = serde_json::json!({ "disabled": true });
    assert_eq!(
        call(patch.clone(), "/api/users/u-admin", &admin, disable.clone()).await,
        400
    );
    assert_eq!(call(patch, "/api/users/u-omar", &admin, disable).await, 204);
    let actions: Vec<String> = server
        .state
        .store
        .audit_entries(None, Some("u-admin"), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    for action in ["district-created", "district-renamed", "user-disabled"] {
        assert!(
            actions.iter().any(|done| done == action),
            "{action}: {actions:?}"
        );
    }
}

const MINUTE: Duration = Duration::from_secs(60);

/// `GET /api/me` with a bearer token: its status and the rotated token, if one came back.
async fn me_by_bearer(server: &TestServer, token: &str) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .get(server.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let rotated = response
        .headers()
        .get("lots-session-token")
        .map(|value| value.to_str().unwrap().to_owned());
    (response.status().as_u16(), rotated)
}

#[tokio::test]
async fn a_rotated_token_works_through_its_grace_and_then_dies() {
    let server = TestServer::start(1).await.unwrap();
    let old = server.login("anna").await.unwrap();
    assert_eq!(me_by_bearer(&server, &old).await, (200, None));
    // Past the rotation interval (15 minutes), the next request brings a new token.
    server.state.clock.advance(16 * MINUTE);
    let (status, rotated) = me_by_bearer(&server, &old).await;
    assert_eq!(status, 200);
    let new = rotated.expect("a new token in Lots-Session-Token");
    assert_ne!(new, old);
    // A request already under way with the old token, or a phone whose answer was lost,
    // still works and is given the same new token.
    assert_eq!(me_by_bearer(&server, &old).await, (200, Some(new.clone())));
    // Until the new token is used, the old one does not run out: a phone that went out of
    // coverage before the answer reached it is not signed out when it comes back.
    server.state.clock.advance(5 * MINUTE);
    assert_eq!(me_by_bearer(&server, &old).await, (200, Some(new.clone())));
    // The new token keeps the device; its first use starts the old one's grace period.
    assert_eq!(
        server.device_of(&new).await.unwrap(),
        server.device_of(&old).await.unwrap()
    );
    server.state.clock.advance(MINUTE);
    assert_eq!(me_by_bearer(&server, &old).await.0, 200, "within the grace");
    server.state.clock.advance(2 * MINUTE);
    assert_eq!(me_by_bearer(&server, &old).await.0, 401, "after the grace");
    assert_eq!(me_by_bearer(&server, &new).await, (200, None));
    // The sync socket opens with the new token, not with the old.
    assert!(
        SyncClient::connect(&server, &new, "anna-phone")
            .await
            .is_ok()
    );
    assert!(
        SyncClient::connect(&server, &old, "anna-phone")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_browser_gets_its_rotated_token_as_a_cookie() {
    let server = TestServer::start(1).await.unwrap();
    let signed_in = sign_in(&server, "sara", password("sara")).await;
    let cookie_of = |response: &reqwest::Response| {
        response
            .headers()
            .get("set-cookie")
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let cookie = cookie_of(&signed_in).unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=2592000"),
        "{cookie}"
    );
    let old = cookie.split(';').next().unwrap().to_owned();
    server.state.clock.advance(20 * MINUTE);
    let http = reqwest::Client::new();
    let response = http
        .get(server.url("/api/users"))
        .header("cookie", &old)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("lots-session-token").is_none(),
        "a browser's token never reaches its scripts"
    );
    let renewed = cookie_of(&response).expect("a new cookie");
    // The session's lifetime counts from the sign-in: 30 days less the 20 minutes (and the
    // moments the test took).
    let max_age: i64 = renewed
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    let left = 30 * 86_400 - 20 * 60;
    assert!((left - 60..=left).contains(&max_age), "{renewed}");
    let new = renewed.split(';').next().unwrap().to_owned();
    assert_ne!(new, old);
    let me = http
        .get(server.url("/api/me"))
        .header("cookie", &new)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    // Signing out with the new cookie ends the old one too.
    let out = http
        .post(server.url("/api/logout"))
        .header("cookie", &new)
        .header("origin", server.url(""))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert!(cookie_of(&out).unwrap().contains("Max-Age=0"));
    for cookie in [&old, &new] {
        let me = http
            .get(server.url("/api/me"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 401);
    }
}

#[tokio::test]
async fn an_idle_session_ends_and_every_session_ends_with_its_lifetime() {
    let server = TestServer::start(1).await.unwrap();
    let first = server.login("omar").await.unwrap();
    // A day offline and the next morning (35 hours) leave the session open.
    server.state.clock.advance(35 * 60 * MINUTE);
    let (status, rotated) = me_by_bearer(&server, &first).await;
    assert_eq!(status, 200, "a day offline");
    let rotated = rotated.unwrap();
    // Unused past the idle timeout (36 hours): refused, and gone.
    server.state.clock.advance(36 * 60 * MINUTE + MINUTE);
    assert_eq!(me_by_bearer(&server, &rotated).await.0, 401);
    assert_eq!(me_by_bearer(&server, &first).await.0, 401);
    let omar_sessions = server
        .state
        .store
        .execute_unchecked("UPDATE sessions SET kind = kind WHERE user_id = 'u-omar'")
        .await
        .unwrap();
    assert_eq!(omar_sessions, 0, "the idle session was deleted");
    // Used every day, a session still ends 30 days after its sign-in.
    let mut busy = server.login("anna").await.unwrap();
    for day in 1..30 {
        server.state.clock.advance(24 * 60 * MINUTE);
        let (status, rotated) = me_by_bearer(&server, &busy).await;
        assert_eq!(status, 200, "day {day}");
        busy = rotated.unwrap_or(busy);
    }
    server.state.clock.advance(24 * 60 * MINUTE);
    assert_eq!(me_by_bearer(&server, &busy).await.0, 401, "30 days on");
}

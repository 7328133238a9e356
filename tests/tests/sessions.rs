//! Sign-in and sessions at the API: failed sign-ins are throttled (429 with a growing
//! `Retry-After`) and, like successful ones, on record in the audit log; signing out closes
//! the device's sockets; a request that changes something is refused from another site.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::time::Duration;

use lots_server::demo::DEMO_LOGINS;
use lots_tests::{Api as _, SyncClient, TestServer};

fn password(username: &str) -> &'static str {
    DEMO_LOGINS
        .iter()
        .find(|login| login.username == username)
        .unwrap()
        .password
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
    for _ in 0..5 {
        assert_eq!(sign_in(&server, "anna", "fel lösenord").await.status(), 401);
    }
    // The sixth within the second waits, whatever the password.
    let throttled = sign_in(&server, "Anna", password("anna")).await;
    assert_eq!(throttled.status(), 429);
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1).contains(&retry_after), "{retry_after}");
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
    // Once the wait is over, the right password works and clears the count.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        sign_in(&server, "anna", password("anna")).await.status(),
        200
    );
    assert_eq!(sign_in(&server, "anna", "fel igen").await.status(), 401);
    assert_eq!(
        sign_in(&server, "anna", password("anna")).await.status(),
        200
    );

    // The log has Anna's failures, named for her, and her sign-ins with their device.
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
    assert_eq!(failed, 6, "five, then one more after the wait");
    let signed_in: Vec<_> = entries
        .iter()
        .filter(|entry| entry.action == "sign-in")
        .collect();
    assert_eq!(signed_in.len(), 2);
    assert!(
        signed_in
            .iter()
            .all(|entry| entry.device_id.starts_with("d-") && entry.detail.contains("127.0.0.1"))
    );
    // A username nobody has is on record too (as nobody's), and throttled the same way.
    for _ in 0..6 {
        sign_in(&server, "ingen-sådan", "x").await;
    }
    assert_eq!(sign_in(&server, "ingen-sådan", "x").await.status(), 429);
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
async fn signing_out_closes_the_devices_sockets() {
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
    let http = reqwest::Client::new();
    let created = http
        .post(server.url("/api/districts"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "id": "district-sodermalm", "name": "Södermalm" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let again = http
        .post(server.url("/api/districts"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "id": "district-sodermalm", "name": "Igen" }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    let renamed = http
        .patch(server.url("/api/districts/district-sodermalm"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "name": "Södermalm och Gamla stan" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 204);
    // Staff add no district.
    let anna = server.login("anna").await.unwrap();
    let refused = http
        .post(server.url("/api/districts"))
        .bearer_auth(&anna)
        .json(&serde_json::json!({ "id": "district-x", "name": "X" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    // An administrator does not disable their own account; another's, on record.
    let own = http
        .patch(server.url("/api/users/u-admin"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "disabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 400);
    let omar = http
        .patch(server.url("/api/users/u-omar"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "disabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(omar.status(), 204);
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

//! An administrator's work at the API: temporary passwords that must be changed before
//! anything else, a user's role and districts (never one's own, always on record for the
//! supervisors concerned, in force at once), and the caseload overview without a household.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::time::Duration;

use lots_tests::{Api as _, SyncClient, TestServer, call};
use serde_json::{Value, json};

fn password(username: &str) -> &'static str {
    lots_tests::demo_password(username).unwrap()
}

async fn sign_in(server: &TestServer, username: &str, password: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/api/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `PATCH /api/users/{id}` with `body`, as `token`.
async fn patch(server: &TestServer, id: &str, body: Value, token: &str) -> (u16, Value) {
    let path = format!("/api/users/{id}");
    call(server, reqwest::Method::PATCH, &path, token, Some(body)).await
}

async fn actions_of(server: &TestServer, user: &str) -> Vec<(String, String)> {
    server
        .state
        .store
        .audit_entries(None, Some(user), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.action, entry.detail))
        .collect()
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_before_anything_else() {
    use reqwest::Method;
    let server = TestServer::start(1).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let mut phone = SyncClient::connect(&server, &omar, "omar-phone")
        .await
        .unwrap();
    // Only an administrator resets, and not their own password.
    let reset = "/api/users/u-omar/reset-password";
    assert_eq!(call(&server, Method::POST, reset, &anna, None).await.0, 403);
    let (status, body) = call(
        &server,
        Method::POST,
        "/api/users/u-admin/reset-password",
        &admin,
        None,
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("own_account")));
    let nobody = "/api/users/u-nobody/reset-password";
    assert_eq!(
        call(&server, Method::POST, nobody, &admin, None).await.0,
        404
    );
    let (status, body) = call(&server, Method::POST, reset, &admin, None).await;
    assert_eq!(status, 200);
    let temporary = body["temporary_password"].as_str().unwrap().to_owned();
    assert!(temporary.chars().count() >= 16, "{temporary}");
    // Omar is signed out everywhere, his socket closed, his old password gone.
    phone.settle(Duration::from_secs(2)).await.unwrap();
    let closed = phone.closed.clone().expect("the socket was closed");
    assert!(closed.reason.contains("password was reset"), "{closed:?}");
    assert_eq!(
        call(&server, Method::GET, "/api/me", &omar, None).await.0,
        401
    );
    assert_eq!(sign_in(&server, "omar", password("omar")).await.0, 401);
    assert!(
        actions_of(&server, "u-admin")
            .await
            .contains(&("password-reset".into(), "u-omar".into()))
    );

    // Signed in with the temporary password, he may only choose a new one.
    let (status, body) = sign_in(&server, "omar", &temporary).await;
    assert_eq!((status, &body["must_change_password"]), (200, &json!(true)));
    let omar = body["token"].as_str().unwrap().to_owned();
    let (status, me) = call(&server, Method::GET, "/api/me", &omar, None).await;
    assert_eq!((status, &me["must_change_password"]), (200, &json!(true)));
    for path in ["/api/caseload", "/api/districts", "/api/quarantine/mine"] {
        let (status, body) = call(&server, Method::GET, path, &omar, None).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(body["code"], "password_change_required", "{path}");
    }
    let (status, body) = call(&server, Method::POST, "/api/sync-token", &omar, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("password_change_required"))
    );
    assert!(
        SyncClient::connect(&server, &omar, "omar-phone")
            .await
            .is_err()
    );

    // Each bad new password is refused with its reason.
    let change = |current: &str, new: &str| {
        let body = json!({ "current_password": current, "new_password": new });
        call(&server, Method::POST, "/api/me/password", &omar, Some(body))
    };
    let chosen = "en mening som bara Omar kan";
    for (current, new, code) in [
        ("fel lösenord", chosen, "wrong_password"),
        (temporary.as_str(), "kort", "weak_password"),
        (temporary.as_str(), temporary.as_str(), "password_reused"),
    ] {
        let (status, body) = change(current, new).await;
        assert_eq!((status, body["code"].as_str()), (400, Some(code)), "{body}");
    }
    assert_eq!(change(&temporary, chosen).await.0, 204);
    // The session stays and may do everything again.
    let (status, me) = call(&server, Method::GET, "/api/me", &omar, None).await;
    assert_eq!((status, &me["must_change_password"]), (200, &json!(false)));
    assert_eq!(
        call(&server, Method::GET, "/api/caseload", &omar, None)
            .await
            .0,
        200
    );
    assert!(
        SyncClient::connect(&server, &omar, "omar-phone")
            .await
            .is_ok()
    );
    assert_eq!(sign_in(&server, "omar", &temporary).await.0, 401);
    let (status, body) = sign_in(&server, "omar", chosen).await;
    assert_eq!(
        (status, &body["must_change_password"]),
        (200, &json!(false))
    );
    assert!(
        actions_of(&server, "u-omar")
            .await
            .iter()
            .any(|(action, _)| action == "password-changed")
    );
}

#[tokio::test]
async fn role_and_district_changes_are_on_record_for_the_supervisors_concerned() {
    use reqwest::Method;
    let server = TestServer::start(2).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let anna = server.login("anna").await.unwrap();
    // A third district and its supervisor.
    let district = json!({ "id": "district-sodermalm", "name": "Södermalm" });
    let created = call(
        &server,
        Method::POST,
        "/api/districts",
        &admin,
        Some(district),
    )
    .await;
    assert_eq!(created.0, 201);
    let lisa = json!({
        "username": "lisa", "display_name": "Lisa Berg", "password": "ett långt lösenord",
        "role": "supervisor", "districts": ["district-sodermalm"],
    });
    assert_eq!(
        call(&server, Method::POST, "/api/users", &admin, Some(lisa))
            .await
            .0,
        201
    );
    let (_, body) = sign_in(&server, "lisa", "ett långt lösenord").await;
    let lisa = body["token"].as_str().unwrap().to_owned();

    // Omar moves from Kungsholmen to Södermalm: on record with before and after.
    let moved = json!({ "districts": ["district-sodermalm"] });
    assert_eq!(patch(&server, "u-omar", moved, &admin).await.0, 204);
    let expected =
        "u-omar: role staff → staff; districts district-kungsholmen → district-sodermalm";
    // The supervisors of the old and of the new district both read it in his log.
    for supervisor in [&sara, &lisa] {
        let (status, log) = call(
            &server,
            Method::GET,
            "/api/audit?user=u-omar",
            supervisor,
            None,
        )
        .await;
        assert_eq!(status, 200);
        let found = log["entries"].as_array().unwrap().iter().any(|entry| {
            entry["action"] == "user-access-changed"
                && entry["detail"] == expected
                && entry["user_id"] == "u-admin"
        });
        assert!(found, "{log}");
    }

    // Anna becomes a supervisor of both districts: her reach changes at once, her socket
    // closes so that it reopens with it.
    let before = server.caseload(&anna).await.unwrap();
    let mut phone = SyncClient::connect(&server, &anna, "anna-phone")
        .await
        .unwrap();
    let promoted = json!({
        "role": "supervisor",
        "districts": ["district-norrmalm", "district-kungsholmen", "district-norrmalm"],
    });
    assert_eq!(patch(&server, "u-anna", promoted, &admin).await.0, 204);
    let after = server.caseload(&anna).await.unwrap();
    assert!(before.iter().all(|household| after.contains(household)));
    assert!(
        after.len() > before.len(),
        "{} → {}",
        before.len(),
        after.len()
    );
    phone.settle(Duration::from_secs(2)).await.unwrap();
    let closed = phone.closed.clone().expect("the socket was closed");
    assert!(
        closed.reason.contains("role or districts changed"),
        "{closed:?}"
    );
    let users: Value = call(&server, Method::GET, "/api/users", &admin, None)
        .await
        .1;
    let anna_now = users
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["id"] == "u-anna")
        .unwrap();
    assert_eq!(anna_now["role"], "supervisor");
    assert_eq!(
        anna_now["districts"].as_array().unwrap().len(),
        2,
        "a district named twice is held once"
    );

    // No administrator changes their own role or districts; their own name they may, and
    // a form that sends their role unchanged is no change of it.
    for own in [
        json!({ "role": "staff" }),
        json!({ "districts": ["district-norrmalm"] }),
    ] {
        let (status, body) = patch(&server, "u-admin", own, &admin).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("own_role_or_districts"))
        );
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("your own role or districts")
        );
    }
    let renamed = json!({ "role": "admin", "districts": [], "display_name": "Admin Andersson" });
    assert_eq!(patch(&server, "u-admin", renamed, &admin).await.0, 204);

    // Bad input, each with its reason; nothing of it is saved.
    for (body, status, code) in [
        (
            json!({ "districts": ["district-nowhere"] }),
            400,
            Some("unknown_district"),
        ),
        (
            json!({ "display_name": "  " }),
            400,
            Some("empty_display_name"),
        ),
        (json!({}), 400, Some("nothing_to_change")),
        (json!({ "role": "boss" }), 422, None),
        (json!({ "districs": [] }), 422, None),
    ] {
        let (answered, answer) = patch(&server, "u-omar", body.clone(), &admin).await;
        assert_eq!(answered, status, "{body}: {answer}");
        assert_eq!(answer["code"].as_str(), code, "{body}");
    }
    assert_eq!(
        patch(&server, "u-nobody", json!({ "role": "staff" }), &admin)
            .await
            .0,
        404
    );
    assert_eq!(
        patch(&server, "u-omar", json!({ "role": "admin" }), &sara)
            .await
            .0,
        403
    );
    let omar = server.state.store.user("u-omar").await.unwrap().unwrap();
    assert_eq!(omar.districts, ["district-sodermalm"]);
    assert_eq!(omar.role, lots_server::store::Role::Staff);
    let admin_actions = actions_of(&server, "u-admin").await;
    assert!(admin_actions.contains(&(
        "user-renamed".into(),
        "u-admin: \"Admin Lots\" → \"Admin Andersson\"".into()
    )));
    assert_eq!(
        admin_actions
            .iter()
            .filter(|(action, _)| action == "user-access-changed")
            .count(),
        2
    );
    assert_eq!(server.state.store.verify_audit_chain().await.unwrap(), None);
}

#[tokio::test]
async fn administrators_see_who_holds_how_many_households_and_no_household() {
    use reqwest::Method;
    let server = TestServer::start(3).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let anna = server.login("anna").await.unwrap();
    for token in [&sara, &anna] {
        assert_eq!(
            call(&server, Method::GET, "/api/admin/caseloads", token, None)
                .await
                .0,
            403
        );
    }
    let overview = || async {
        let (status, body) = call(&server, Method::GET, "/api/admin/caseloads", &admin, None).await;
        assert_eq!(status, 200);
        body
    };
    let held = |overview: &Value, user: &str| {
        overview["staff"]
            .as_array()
            .unwrap()
            .iter()
            .find(|person| person["user_id"] == user)
            .map(|person| person["households"].as_i64().unwrap())
    };
    let unassigned = |overview: &Value, district: &str| {
        overview["districts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["district"] == district)
            .unwrap()["unassigned"]
            .as_i64()
            .unwrap()
    };
    let first = overview().await;
    let openapi = call(&server, Method::GET, "/api/openapi.json", &anna, None)
        .await
        .1;
    for path in [
        "/api/admin/caseloads",
        "/api/me/password",
        "/api/users/{id}/reset-password",
        "/api/users/{id}",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} is described");
    }
    let annas = server.caseload(&anna).await.unwrap();
    assert_eq!(
        held(&first, "u-anna"),
        Some(i64::try_from(annas.len()).unwrap())
    );
    assert_eq!(
        held(&first, "u-admin"),
        None,
        "administrators hold no caseload"
    );
    let anna_row = first["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|person| person["user_id"] == "u-anna")
        .unwrap();
    assert_eq!(anna_row["display_name"], "Anna Lind");
    assert_eq!(anna_row["role"], "staff");
    assert_eq!(anna_row["districts"], json!(["district-norrmalm"]));
    // Every district's households are its holders' and its unassigned ones.
    for district in first["districts"].as_array().unwrap() {
        let id = district["district"].as_str().unwrap();
        let held_here: i64 = first["staff"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|person| person["households_by_district"][id].as_i64())
            .sum();
        assert_eq!(
            held_here + district["unassigned"].as_i64().unwrap(),
            district["households"].as_i64().unwrap(),
            "{district}"
        );
    }
    // No household is named anywhere in it.
    let text = first.to_string();
    assert!(
        annas
            .iter()
            .all(|household| !text.contains(&household.to_string()))
    );

    // Sara takes one of Anna's households off her caseload: the overview follows.
    let released = json!({ "household": annas[0].to_string(), "staff": null });
    assert_eq!(
        call(
            &server,
            Method::POST,
            "/api/assignments",
            &sara,
            Some(released)
        )
        .await
        .0,
        204
    );
    let second = overview().await;
    assert_eq!(
        held(&second, "u-anna"),
        held(&first, "u-anna").map(|n| n - 1)
    );
    assert_eq!(
        unassigned(&second, "district-norrmalm"),
        unassigned(&first, "district-norrmalm") + 1
    );
}

#[tokio::test]
async fn an_administrator_sets_how_devices_lock_and_every_device_hears_it() {
    let server = TestServer::start(1).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let path = "/api/admin/device-lock";
    let (status, lock) = call(&server, reqwest::Method::GET, path, &admin, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        lock,
        json!({ "phone_idle_minutes": 5, "desk_idle_minutes": 15, "offline_days": 30 })
    );
    // Out of range, in words; nothing changes.
    let never = json!({ "phone_idle_minutes": 0, "desk_idle_minutes": 15, "offline_days": 30 });
    let (status, body) = call(&server, reqwest::Method::PUT, path, &admin, Some(never)).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("1–60 minutes"),
        "{body}"
    );
    let year = json!({ "phone_idle_minutes": 5, "desk_idle_minutes": 15, "offline_days": 365 });
    let (status, _) = call(&server, reqwest::Method::PUT, path, &admin, Some(year)).await;
    assert_eq!(status, 400);
    // Only an administrator sets it.
    let shorter = json!({ "phone_idle_minutes": 2, "desk_idle_minutes": 10, "offline_days": 14 });
    let (status, _) = call(
        &server,
        reqwest::Method::PUT,
        path,
        &anna,
        Some(shorter.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &server,
        reqwest::Method::PUT,
        path,
        &admin,
        Some(shorter.clone()),
    )
    .await;
    assert_eq!(status, 204);
    // Every device hears it with who is signed in, and it is on the log.
    let (_, me) = call(&server, reqwest::Method::GET, "/api/me", &anna, None).await;
    assert_eq!(me["device_lock"], shorter);
    let (_, log) = call(
        &server,
        reqwest::Method::GET,
        "/api/audit?action=device-lock-set",
        &admin,
        None,
    )
    .await;
    assert_eq!(
        log["entries"][0]["detail"],
        "phone 2 min, desk 10 min, offline 14 days"
    );
}

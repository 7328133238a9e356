//! The sync server end to end: core's peer as a client over a real WebSocket, the JSON API,
//! access by caseload, durability across a restart, revocation, limits and the audit log.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::time::Duration;

use lots_core::automerge::Automerge;
use lots_core::*;
use lots_tests::{Api as _, ServerProcess, SyncClient, TestServer, call};
use rand::{Rng, SeedableRng};

fn sign(staff: &str, device: &str, at: Timestamp) -> Signature {
    Signature::new(
        StaffId::new(staff).unwrap(),
        DeviceId::new(device).unwrap(),
        at,
    )
}

fn record(at: Timestamp, staff: &str) -> VisitRecord {
    VisitRecord {
        held_at: at,
        staff: StaffId::new(staff).unwrap(),
        present: Set::new(),
        interpreter: None,
        duration_minutes: 30,
        topics: [Topic::Budget].into_iter().collect(),
        notes: "Synkat från testklienten.".into(),
    }
}

#[tokio::test]
async fn a_phone_syncs_its_caseload_and_its_changes_survive_a_restart() {
    let server = TestServer::start(2).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let caseload = server.caseload(&token).await.unwrap();
    assert_eq!(caseload.len(), 2, "anna has two households");
    let document = caseload[0];

    let mut phone = SyncClient::connect(&server, &token, "anna-phone")
        .await
        .unwrap();
    assert!(
        phone.fetch(document).await.unwrap(),
        "anna's own household syncs"
    );
    let visit = VisitId::new("v-from-phone").unwrap();
    let now = lots_server::sync::hub::now();
    let device = phone.device.clone();
    let doc: &mut Automerge = phone.peer.document_mut(&document).unwrap();
    let mut household = HouseholdDoc::new(doc);
    if household.profile().unwrap().status == CaseStatus::Closed {
        household
            .reopen_case(&sign("u-anna", &device, now))
            .unwrap();
    }
    household
        .record_visit(
            &sign("u-anna", &device, now),
            &visit,
            record(now.plus_minutes(-60), "u-anna"),
        )
        .unwrap();
    phone.input(Input::LocalChange { document }).await.unwrap();
    let synced = phone
        .pump_until(Duration::from_secs(5), |events| {
            events
                .iter()
                .any(|e| matches!(e, Output::DocumentSynced { .. }))
        })
        .await;
    if synced.is_err() {
        let refused = reqwest::Client::new()
            .get(server.url("/api/quarantine/mine"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        panic!(
            "not synced: closed {:?}, events {:?}, refused {refused}",
            phone.closed, phone.events
        );
    }
    assert_eq!(phone.peer.status().dirty_documents, 0);

    // The server acknowledged it, so it is on disk: a restarted server has it.
    let TestServer { data, .. } = server;
    let restarted = TestServer::start_in(data, 2).await.unwrap();
    let token = restarted.login("anna").await.unwrap();
    let mut other_phone = SyncClient::connect(&restarted, &token, "anna-tablet")
        .await
        .unwrap();
    assert!(other_phone.fetch(document).await.unwrap());
    let stored = HouseholdDoc::new(other_phone.peer.document(&document).unwrap())
        .household()
        .unwrap();
    assert!(
        stored.visits.contains_key(&visit),
        "the visit survived the restart"
    );
    restarted.state.store.integrity_check().await.unwrap();
}

#[tokio::test]
async fn nobody_reads_or_writes_outside_their_caseload() {
    let server = TestServer::start(3).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let annas = server.caseload(&anna).await.unwrap();
    let omars = server.caseload(&omar).await.unwrap();
    assert_eq!(
        server.caseload(&sara).await.unwrap().len(),
        6,
        "the supervisor sees both districts"
    );
    assert!(
        server.caseload(&admin).await.unwrap().is_empty(),
        "administrators see no records"
    );

    // A hostile client probes documents it may not see — real ones of other caseloads and
    // random ids — over the request path (asking for them) and the sync path (offering its
    // own content under their ids, as a forged write). Every answer must be "unavailable",
    // and nothing of the server's may arrive.
    let before: Vec<_> = {
        let mut omars_phone = SyncClient::connect(&server, &omar, "omar-before")
            .await
            .unwrap();
        let mut heads = Vec::new();
        for document in &omars {
            assert!(omars_phone.fetch(*document).await.unwrap());
            heads.push(omars_phone.peer.document(document).unwrap().get_heads());
        }
        heads
    };
    let mut hostile = SyncClient::connect(&server, &anna, "anna-hostile")
        .await
        .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let forged = forged_household();
    let probes = 10_000;
    let mut leaked = 0;
    for probe in 0..probes {
        // Offering content under a fresh id is creating a household, which staff may do;
        // so the sync path probes only documents that exist and are someone else's.
        let offer = probe % 2 == 1;
        let document = if offer || rng.random_bool(0.5) {
            omars[rng.random_range(0..omars.len())]
        } else {
            DocumentId::from_bytes(rng.random())
        };
        let input = if !offer {
            Input::Want { document }
        } else {
            hostile.peer.insert_document(document, forged.clone());
            Input::LocalChange { document }
        };
        if hostile.probe(document, input).await.unwrap() {
            leaked += 1;
        }
        hostile.peer.remove_document(&document);
    }
    assert_eq!(leaked, 0, "{leaked} of {probes} probes received a document");

    let mut omars_phone = SyncClient::connect(&server, &omar, "omar-after")
        .await
        .unwrap();
    for (document, heads) in omars.iter().zip(&before) {
        assert!(omars_phone.fetch(*document).await.unwrap());
        let after = omars_phone.peer.document(document).unwrap().get_heads();
        assert_eq!(&after, heads, "a foreign write was accepted");
    }
    assert!(annas.iter().all(|document| !omars.contains(document)));
}

fn forged_household() -> Automerge {
    HouseholdDoc::create(
        lots_core::automerge::ActorId::random(),
        &sign("u-anna", "d-test", lots_server::sync::hub::now()),
        NewHousehold {
            district: DistrictId::new("district-kungsholmen").unwrap(),
            address: "Falsk gata 1".into(),
            unit: String::new(),
            housing_form: HousingForm::OwnHousing,
            arrival_route: ArrivalRoute::OwnHousing,
            arrived_on: Date::from_ymd(2024, 1, 1).unwrap(),
            opened_on: Date::from_ymd(2024, 1, 1).unwrap(),
            assigned_staff: Some(StaffId::new("u-anna").unwrap()),
        },
    )
    .unwrap()
    .into_automerge()
}

#[tokio::test]
async fn revoking_a_device_closes_its_socket_and_keeps_it_out() {
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let mut phone = SyncClient::connect(&server, &token, "anna-lost-phone")
        .await
        .unwrap();
    let device = server.device_of(&token).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    assert_eq!(server.revoke(&admin, &device).await.unwrap(), 204);
    // Closed at once, not at the next ping: a timing target is a measurement, so this only
    // waits as long as the pump settles (the idle timeout is 90 s).
    phone.settle(Duration::from_secs(2)).await.unwrap();
    let closed = phone.closed.clone().expect("the socket was closed");
    assert!(closed.reason.contains("revoked"), "{closed:?}");
    assert!(
        SyncClient::connect(&server, &token, "anna-lost-phone")
            .await
            .is_err(),
        "a revoked device is refused"
    );
    // Told why, so that it deletes what it holds.
    assert_eq!(
        shut_out_as(&server, &token).await,
        (401, Some("device_revoked".to_owned()))
    );
    // A token nobody ended is only unknown.
    assert_eq!(shut_out_as(&server, "not-a-token").await, (401, None));
    // A live session cannot claim a wipe; the revoked device can, once, and it is on the log.
    let wiped = |token: String| {
        let request = reqwest::Client::new()
            .post(server.url("/api/wiped"))
            .bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(wiped(admin.clone()).await.status(), 401);
    let answer = wiped(token.clone()).await;
    assert_eq!(answer.status(), 204);
    assert!(answer.headers().contains_key("clear-site-data"));
    assert_eq!(wiped(token.clone()).await.status(), 401);
    assert_eq!(shut_out_as(&server, &token).await, (401, None));
    let (_, log) = call(
        &server,
        reqwest::Method::GET,
        "/api/audit?action=device-wiped",
        &admin,
        None,
    )
    .await;
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["device_id"], device.as_str());
    assert_eq!(entries[0]["detail"], "device-revoked");
}

#[tokio::test]
async fn a_revoked_devices_waiting_changes_go_to_the_quarantine_not_into_the_record() {
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let device = server.device_of(&token).await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    // A household made on the phone while offline, never synced.
    let made = forged_household();
    let document = lots_core::DocumentId::from_bytes([77; 16]);
    let hand_in = |token: String, id: String, body: Vec<u8>| {
        let request = reqwest::Client::new()
            .post(server.url(&format!("/api/wiped/waiting/{id}")))
            .bearer_auth(token)
            .body(body);
        async move { request.send().await.unwrap() }
    };
    // Only a shut-out device hands in: a live session cannot put changes in the quarantine
    // this way.
    assert_eq!(
        hand_in(token.clone(), document.to_string(), made.save())
            .await
            .status(),
        401
    );
    // One of her households removed on a decision meanwhile.
    let removed = server.caseload(&token).await.unwrap()[0];
    let (status, _) = call(
        &server,
        reqwest::Method::POST,
        &format!("/api/households/{removed}/remove"),
        &sara,
        Some(serde_json::json!({ "decision": "Dnr 2031/12", "reason": "Registrerat två gånger" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(server.revoke(&admin, &device).await.unwrap(), 204);
    // A removed household stays removed: nothing of it is taken, and the device is told.
    let gone = hand_in(token.clone(), removed.to_string(), made.save()).await;
    assert_eq!(gone.status(), 410);
    assert!(gone.text().await.unwrap().contains("household_removed"));
    // Bytes that are no household, and a path that is no document, are refused in words.
    let garbage = hand_in(token.clone(), document.to_string(), vec![1, 2, 3]).await;
    assert_eq!(garbage.status(), 400);
    assert!(garbage.text().await.unwrap().contains("does not load"));
    assert_eq!(
        hand_in(token.clone(), "not-a-document".into(), made.save())
            .await
            .status(),
        400
    );
    let answer = hand_in(token.clone(), document.to_string(), made.save()).await;
    assert_eq!(answer.status(), 200);
    let handed: serde_json::Value = answer.json().await.unwrap();
    let changes = made.get_changes(&[]).len();
    assert_eq!(handed["quarantined"], changes);
    // Handing in again adds nothing: each change is quarantined once.
    assert_eq!(
        hand_in(token.clone(), document.to_string(), made.save())
            .await
            .status(),
        200
    );
    let (_, quarantined) = call(
        &server,
        reqwest::Method::GET,
        "/api/quarantine",
        &sara,
        None,
    )
    .await;
    let rows: Vec<&serde_json::Value> = quarantined
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["household"] == document.to_string().as_str())
        .collect();
    assert_eq!(rows.len(), changes, "{quarantined}");
    assert!(rows.iter().all(|row| {
        row["status"] == "pending"
            && row["device_id"] == device.as_str()
            && row["reason"]
                .as_str()
                .unwrap()
                .contains("shut out (device-revoked)")
    }));
    // Not in the record: nobody's caseload lists it.
    let (_, caseload) = call(&server, reqwest::Method::GET, "/api/caseload", &sara, None).await;
    assert!(!caseload.to_string().contains(&document.to_string()));
    // Said wiped, the device's proof is gone: nothing more can be handed in.
    let wiped = reqwest::Client::new()
        .post(server.url("/api/wiped"))
        .bearer_auth(token.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wiped.status(), 204);
    assert_eq!(
        hand_in(token, document.to_string(), made.save())
            .await
            .status(),
        401
    );
}

/// What `GET /api/me` answers a token: the status and the error's code.
async fn shut_out_as(server: &TestServer, token: &str) -> (u16, Option<String>) {
    let (status, body) = call(server, reqwest::Method::GET, "/api/me", token, None).await;
    (status, body["code"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_disabled_users_devices_are_told_so_and_enabling_her_again_opens_no_old_session() {
    let server = TestServer::start(1).await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let admin = server.login("admin").await.unwrap();
    let set_disabled = |disabled: bool| {
        let request = reqwest::Client::new()
            .patch(server.url("/api/users/u-omar"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({ "disabled": disabled }));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(set_disabled(true).await, 204);
    assert_eq!(
        shut_out_as(&server, &omar).await,
        (401, Some("user_disabled".to_owned()))
    );
    // Let back in, she signs in anew: the session that was ended stays ended.
    assert_eq!(set_disabled(false).await, 204);
    assert_eq!(shut_out_as(&server, &omar).await.0, 401);
    let again = server.login("omar").await.unwrap();
    assert_eq!(shut_out_as(&server, &again).await.0, 200);
}

/// Signs in as `username` naming `device` as the one signed in on before; the device the
/// server registered for the session.
async fn sign_in_again(server: &TestServer, username: &str, device: &str) -> String {
    let response = reqwest::Client::new()
        .post(server.url("/api/login"))
        .json(&serde_json::json!({
            "username": username,
            "password": lots_server::demo::DEMO_LOGINS
                .iter()
                .find(|login| login.username == username)
                .unwrap()
                .password,
            "device_id": device,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["device_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn signing_in_again_keeps_ones_own_device_but_never_a_revoked_or_anothers() {
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let device = server.device_of(&token).await.unwrap();
    // A session that ran out: what was recorded meanwhile was signed on this device.
    assert_eq!(sign_in_again(&server, "anna", &device).await, device);
    // Omar cannot take Anna's device by naming it.
    assert_ne!(sign_in_again(&server, "omar", &device).await, device);
    // Nor can anyone bring a revoked device back.
    let admin = server.login("admin").await.unwrap();
    assert_eq!(server.revoke(&admin, &device).await.unwrap(), 204);
    assert_ne!(sign_in_again(&server, "anna", &device).await, device);
    assert_ne!(
        sign_in_again(&server, "anna", "d-made-up").await,
        "d-made-up"
    );
}

/// Assigns `household` to `staff` (or to nobody) as `token`; the HTTP status.
async fn assign(
    server: &TestServer,
    token: &str,
    household: &DocumentId,
    staff: Option<&str>,
) -> u16 {
    reqwest::Client::new()
        .post(server.url("/api/assignments"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "household": household.to_string(), "staff": staff }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_household_assigned_to_nobody_stays_on_the_supervisors_desk_and_can_be_assigned_back() {
    let server = TestServer::start(2).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let household = server.caseload(&anna).await.unwrap()[0];
    assert_eq!(assign(&server, &sara, &household, None).await, 204);
    assert!(!server.caseload(&anna).await.unwrap().contains(&household));
    assert!(
        server.caseload(&sara).await.unwrap().contains(&household),
        "the supervisor still sees it"
    );
    assert_eq!(
        assign(&server, &sara, &household, Some("u-anna")).await,
        204
    );
    assert!(server.caseload(&anna).await.unwrap().contains(&household));
}

#[tokio::test]
async fn an_oversized_message_closes_only_its_own_connection() {
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let mut bully = SyncClient::connect(&server, &token, "anna-bully")
        .await
        .unwrap();
    let mut bystander = SyncClient::connect(&server, &token, "anna-bystander")
        .await
        .unwrap();
    bully.send_raw(vec![0; 2 * 1024 * 1024]).await.unwrap();
    bully.settle(Duration::from_secs(2)).await.unwrap();
    let closed = bully
        .closed
        .clone()
        .expect("the oversized sender was closed");
    assert!(
        closed.code == Some(1009) || closed.reason.contains("too"),
        "{closed:?}"
    );
    let document = server.caseload(&token).await.unwrap()[0];
    assert!(
        bystander.fetch(document).await.unwrap(),
        "other clients keep syncing"
    );
}

#[tokio::test]
async fn a_flooding_connection_is_closed_with_its_reason() {
    let server = TestServer::start_with(tempfile_dir(), 1, 50).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let mut flooder = SyncClient::connect(&server, &token, "anna-flood")
        .await
        .unwrap();
    for _ in 0..200 {
        // Ephemeral messages are valid and ignored: only the rate limit can close this socket.
        if flooder
            .send_raw(
                Message::Other {
                    kind: "ephemeral".into(),
                }
                .encode(),
            )
            .await
            .is_err()
        {
            break;
        }
    }
    flooder.settle(Duration::from_secs(2)).await.unwrap();
    let closed = flooder.closed.clone().expect("the flooder was closed");
    assert_eq!(closed.reason, "more than 50 messages a second");
    // "Try again later": clients come back after a pause rather than give up.
    assert_eq!(closed.code, Some(1013));
}

fn tempfile_dir() -> lots_tests::TempDir {
    lots_tests::TempDir::new().unwrap()
}

#[tokio::test]
async fn reads_and_changes_are_audited_and_tampering_is_detected() {
    let server = TestServer::start(1).await.unwrap();
    let (token, document, _phone) = server
        .phone_with_first_household("anna", "anna-phone")
        .await
        .unwrap();
    let sara = server.login("sara").await.unwrap();
    let log: serde_json::Value = reqwest::Client::new()
        .get(server.url(&format!("/api/audit?household={document}")))
        .bearer_auth(&sara)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|entry| entry["action"] == "open" && entry["user_id"] == "u-anna"),
        "{log}"
    );
    assert!(log["first_broken_row"].is_null());

    // Someone with the database file rewrites history: the chain shows where.
    let store = &server.state.store;
    store
        .execute_unchecked("DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    store
        .execute_unchecked("UPDATE audit_log SET user_id = 'u-omar' WHERE seq = 1")
        .await
        .unwrap();
    assert_eq!(
        server.state.store.verify_audit_chain().await.unwrap(),
        Some(1)
    );
    let staff_reads = reqwest::Client::new()
        .get(server.url("/api/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(staff_reads.status(), 403, "staff do not read the audit log");
}

#[tokio::test]
async fn the_api_answers_errors_as_json_and_every_response_carries_the_csp() {
    let server = TestServer::start(1).await.unwrap();
    let client = reqwest::Client::new();
    let wrong = client
        .post(server.url("/api/login"))
        .json(&serde_json::json!({ "username": "anna", "password": "wrong" }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let csp = wrong.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'")
            && csp.contains("frame-ancestors 'none'")
    );
    assert_eq!(wrong.headers()["cache-control"], "no-store");
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "wrong username or password");
    let missing = client
        .get(server.url("/api/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let page = client.get(server.url("/")).send().await.unwrap();
    assert!(page.headers().contains_key("content-security-policy"));
    match tokio_tungstenite::connect_async(format!("ws://{}/sync", server.addr)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!(
            "an unauthenticated socket was not refused: {:?}",
            other.map(|_| ())
        ),
    }
}

#[tokio::test]
async fn nobody_can_take_over_another_users_peer_id() {
    let server = TestServer::start(1).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let mut annas_phone = SyncClient::connect(&server, &anna, "phone-7")
        .await
        .unwrap();
    let error = SyncClient::connect(&server, &omar, "phone-7")
        .await
        .err()
        .expect("the claim is refused");
    assert!(error.to_string().contains("in use"), "{error}");
    // Anna's connection is untouched and keeps syncing.
    let document = server.caseload(&anna).await.unwrap()[0];
    assert!(annas_phone.fetch(document).await.unwrap());
    // Anna herself may reconnect under her own id (a phone whose old socket died).
    assert!(SyncClient::connect(&server, &anna, "phone-7").await.is_ok());
}

/// One figure of an OpenMetrics text: the value of the sample named `sample` exactly
/// (labels included), if there is one.
fn figure(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// The sum of a figure over the hub's partitions (its `partition` label).
fn every_partition(text: &str, name: &str) -> f64 {
    text.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix("{partition=\""))
        .filter_map(|rest| rest.split_once("} ")?.1.trim().parse::<f64>().ok())
        .sum()
}

/// A server process with `args` and its figures on a listener of their own: the server and
/// that listener's address.
async fn server_with_metrics(args: &[&str]) -> (ServerProcess, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut all = vec!["--metrics-listen", &listen];
    all.extend_from_slice(args);
    let server = ServerProcess::start(&all).await.unwrap();
    (server, listen)
}

/// The figures a server serves on `listen`, in the OpenMetrics text format.
async fn figures(listen: &str) -> String {
    let response = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn an_operator_reads_the_servers_figures_on_a_listener_of_its_own() {
    let (server, metrics_listen) = server_with_metrics(&[]).await;
    let read = || figures(&metrics_listen);
    let before = read().await;
    let started = figure(&before, "lots_startup_seconds").unwrap();
    assert!(started > 0.0 && started < 120.0, "{started}");
    // Start-up reads no document, and a caseload is read from tables: listing every
    // household (the supervisor's two districts) loads none.
    let sara = server.login("sara").await.unwrap();
    let all = server.caseload(&sara).await.unwrap().len();
    assert!(all >= 40, "{all}");
    let listed = read().await;
    for name in ["lots_documents_in_memory", "lots_documents_loaded_total"] {
        assert_eq!(figure(&listed, name), Some(0.0), "{name}: {listed}");
    }
    assert_eq!(figure(&before, r#"lots_sockets{role="staff"}"#), None);

    // A phone connects and records a visit: one socket, batches committed.
    let (_, document, mut phone) = server
        .phone_with_first_household("anna", "anna-phone")
        .await
        .unwrap();
    let visit = VisitId::new("v-metrics").unwrap();
    phone
        .record_visit(document, &visit, "u-anna")
        .await
        .unwrap();
    phone.settle(Duration::from_millis(500)).await.unwrap();
    let during = read().await;
    assert_eq!(
        figure(&during, r#"lots_sockets{role="staff"}"#),
        Some(1.0),
        "{during}"
    );
    let batches = every_partition(&during, "lots_hub_batch_inputs_count");
    let commits = every_partition(&during, "lots_hub_commit_seconds_count");
    assert!(batches >= 1.0 && commits >= 1.0, "{during}");
    assert_eq!(
        figure(&during, "lots_quarantined_changes_pending"),
        Some(0.0)
    );
    // The one household the phone synced came into memory as it did, and only it.
    for name in ["lots_documents_in_memory", "lots_documents_loaded_total"] {
        assert_eq!(figure(&during, name), Some(1.0), "{name}: {during}");
    }
    assert!(
        figure(&during, "lots_document_memory_bytes").unwrap() > 0.0,
        "{during}"
    );

    // Gone with the socket.
    drop(phone);
    let mut after = read().await;
    for _ in 0..50 {
        if figure(&after, r#"lots_sockets{role="staff"}"#) == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = read().await;
    }
    assert_eq!(
        figure(&after, r#"lots_sockets{role="staff"}"#),
        Some(0.0),
        "{after}"
    );

    // The app's own port does not serve them.
    let app = reqwest::get(format!("http://{}/metrics", server.address()))
        .await
        .unwrap();
    let body = app.text().await.unwrap();
    assert!(!body.contains("lots_documents_in_memory"), "{body}");
}

/// Records a visit of anna's on `phone` and checks that it reaches `tablet`.
async fn visit_reaches(
    phone: &mut SyncClient,
    tablet: &mut SyncClient,
    document: DocumentId,
    visit: &VisitId,
) {
    phone.record_visit(document, visit, "u-anna").await.unwrap();
    phone.settle(Duration::from_millis(300)).await.unwrap();
    tablet.settle(Duration::from_millis(500)).await.unwrap();
    let on_tablet = HouseholdDoc::new(tablet.peer.document(&document).unwrap())
        .household()
        .unwrap();
    assert!(on_tablet.visits.contains_key(visit));
}

/// Anna's session token, her caseload (at least ten households) and two devices of hers,
/// each connected and holding every household of it.
async fn anna_with_two_devices(
    server: &ServerProcess,
) -> (String, Vec<DocumentId>, SyncClient, SyncClient) {
    let sync = format!("ws://{}/sync", server.address());
    let token = server.login("anna").await.unwrap();
    let households = server.caseload(&token).await.unwrap();
    assert!(households.len() >= 10, "{}", households.len());
    let mut phone = SyncClient::connect_url(&sync, Some(&token), "anna-phone")
        .await
        .unwrap();
    let tablet_token = server.login("anna").await.unwrap();
    let mut tablet = SyncClient::connect_url(&sync, Some(&tablet_token), "anna-tablet")
        .await
        .unwrap();
    for document in &households {
        assert!(phone.fetch(*document).await.unwrap());
        assert!(tablet.fetch(*document).await.unwrap());
    }
    (token, households, phone, tablet)
}

#[tokio::test]
async fn a_household_evicted_from_memory_still_reaches_every_device_that_synced_it() {
    // A budget that holds a few demo households, not a caseload.
    let (server, metrics_listen) = server_with_metrics(&["--document-memory-mb", "1"]).await;
    let read = || figures(&metrics_listen);
    let (token, households, mut phone, mut tablet) = anna_with_two_devices(&server).await;
    let figures = read().await;
    let evicted = figure(&figures, "lots_documents_evicted_total").unwrap();
    let held = figure(&figures, "lots_documents_in_memory").unwrap();
    assert!(evicted >= 1.0, "{figures}");
    assert!(held < households.len() as f64, "{figures}");
    assert!(
        figure(&figures, "lots_document_memory_bytes").unwrap() <= f64::from(1 << 20),
        "{figures}"
    );

    // The first household synced is the least recently used: out of memory by now. A visit
    // recorded on the phone still reaches the tablet, and the caseload line shows it.
    let first = households[0];
    let visit = VisitId::new("v-evicted").unwrap();
    visit_reaches(&mut phone, &mut tablet, first, &visit).await;
    let (_, lines) = call(&server, reqwest::Method::GET, "/api/caseload", &token, None).await;
    let line = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["document_id"] == first.to_string())
        .unwrap();
    let last_visit = line["last_visit"].as_i64().unwrap();
    assert!(
        last_visit >= lots_server::sync::hub::now().plus_minutes(-31).as_millis(),
        "{line}"
    );
}

#[tokio::test]
async fn each_partition_syncs_its_share_of_the_households_over_one_socket() {
    let (server, metrics_listen) = server_with_metrics(&["--partitions", "2"]).await;
    // One socket per device: the handshake is answered once (a second answer would make
    // the client close), and each household's messages go to its partition.
    let (_, households, mut phone, mut tablet) = anna_with_two_devices(&server).await;
    for (n, document) in households.iter().enumerate() {
        let visit = VisitId::new(format!("v-partition-{n}")).unwrap();
        visit_reaches(&mut phone, &mut tablet, *document, &visit).await;
    }
    let figures = figures(&metrics_listen).await;
    for partition in ["0", "1"] {
        let batches = format!(r#"lots_hub_batch_inputs_count{{partition="{partition}"}}"#);
        let commits = format!(r#"lots_hub_commit_seconds_count{{partition="{partition}"}}"#);
        assert!(figure(&figures, &batches).unwrap() >= 1.0, "{figures}");
        assert!(figure(&figures, &commits).unwrap() >= 1.0, "{figures}");
    }
    // What each partition holds adds up: every household was read once, none evicted.
    assert_eq!(
        figure(&figures, "lots_documents_in_memory"),
        Some(households.len() as f64),
        "{figures}"
    );
    assert_eq!(
        figure(&figures, "lots_documents_loaded_total"),
        Some(households.len() as f64),
        "{figures}"
    );
}

#[tokio::test]
async fn households_stored_before_digests_are_listed_whole_and_digested_once() {
    let server = TestServer::start(4).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let server = &server;
    let caseload = |token: String| async move {
        call(server, reqwest::Method::GET, "/api/caseload", &token, None)
            .await
            .1
    };
    let digested = caseload(token.clone()).await;
    server.state.store.forget_digests().await.unwrap();
    let digests_kept = || async {
        let rows = server.state.store.caseload_rows(Some("u-anna"), &[]).await;
        rows.unwrap()
            .iter()
            .map(|row| row.digest.is_some())
            .collect::<Vec<_>>()
    };
    assert_eq!(digests_kept().await, [false; 4]);

    // The list reads the stored households instead, says the same, and keeps their digests.
    assert_eq!(caseload(token.clone()).await, digested);
    assert_eq!(digested.as_array().unwrap().len(), 4);
    assert!(
        digested[0]["address"]
            .as_str()
            .is_some_and(|address| !address.is_empty())
    );
    assert_eq!(digests_kept().await, [true; 4]);
}

#[tokio::test]
async fn a_phone_back_after_a_night_with_nothing_new_costs_the_server_no_reading() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let args = ["--data-dir", dir.as_str(), "--peer-id", "lots-night"];
    let (server, _) = server_with_metrics(&args).await;
    let token = server.login("anna").await.unwrap();
    let households = server.caseload(&token).await.unwrap();
    assert!(households.len() >= 10, "{}", households.len());
    let sync = format!("ws://{}/sync", server.address());
    let mut phone = SyncClient::connect_url(&sync, Some(&token), "anna-phone")
        .await
        .unwrap();
    for document in &households {
        assert!(phone.fetch(*document).await.unwrap());
    }
    phone.settle(Duration::from_millis(300)).await.unwrap();
    let offline = PeerConfig::new(PeerId::new("unused").unwrap(), Role::Client);
    let held = std::mem::replace(&mut phone.peer, SyncPeer::new(offline));
    drop(phone);
    // The night: the server restarts and holds no household in memory.
    server.kill().unwrap();
    let (server, metrics_listen) = server_with_metrics(&args).await;
    let token = server.login("anna").await.unwrap();
    let sync = format!("ws://{}/sync", server.address());
    let mut phone = SyncClient::connect_peer(&sync, Some(&token), held)
        .await
        .unwrap();
    phone.settle(Duration::from_millis(500)).await.unwrap();
    // Every household was offered and answered from its stored heads: none was read.
    let morning = figures(&metrics_listen).await;
    for name in ["lots_documents_in_memory", "lots_documents_loaded_total"] {
        assert_eq!(figure(&morning, name), Some(0.0), "{name}: {morning}");
    }
    assert!(
        phone
            .events
            .iter()
            .all(|event| !matches!(event, Output::DocumentUnavailable { .. })),
        "{:?}",
        phone.events
    );

    // A visit recorded now reads its household, and reaches a second device of anna's that
    // was answered the same way.
    let visit = VisitId::new("v-morning").unwrap();
    let first = households[0];
    let tablet_token = server.login("anna").await.unwrap();
    let mut tablet = SyncClient::connect_url(&sync, Some(&tablet_token), "anna-tablet")
        .await
        .unwrap();
    assert!(tablet.fetch(first).await.unwrap());
    visit_reaches(&mut phone, &mut tablet, first, &visit).await;
    let later = figures(&metrics_listen).await;
    assert_eq!(
        figure(&later, "lots_documents_loaded_total"),
        Some(1.0),
        "{later}"
    );
}

//! Gallring and removal on a decision, against a real server: the dry run lists exactly the
//! households due in a synthetic set built so that the answer is known; the run removes
//! exactly those, for good (a phone that held one cannot bring it back), on record; a
//! supervisor removes a household recorded in error in their own district only.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::collections::BTreeSet;
use std::time::Duration;

use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{DeviceId, DistrictId, DocumentId, HouseholdDoc, Input, StaffId, Timestamp};
use lots_tests::{Api as _, SyncClient, TestServer, call};
use serde_json::{Value, json};

const YEAR_MS: i64 = 365 * 24 * 3_600_000;

/// Synthetic households of Anna's in Norrmalm, until one with a member born on the 5th,
/// 15th or 25th and `plain` without are found: (with, without).
fn synthetic_households(plain: usize) -> (HouseholdDoc, Vec<HouseholdDoc>) {
    let mut generator = Generator::new(17);
    let today = lots_server::sync::hub::now().date();
    let spec = HouseholdSpec {
        district: DistrictId::new("district-norrmalm").unwrap(),
        staff: StaffId::new("u-anna").unwrap(),
        device: DeviceId::new("d-demo").unwrap(),
        opened_on: today.plus_days(-400),
        visits: 5,
        today,
    };
    let (mut research, mut without) = (None, Vec::new());
    while research.is_none() || without.len() < plain {
        let doc = generator.household(&spec).unwrap();
        let born_on_a_kept_day = doc
            .household()
            .unwrap()
            .members
            .values()
            .any(|member| lots_core::RESEARCH_BIRTH_DAYS.contains(&member.birth_date.day()));
        if born_on_a_kept_day {
            research.get_or_insert(doc);
        } else if without.len() < plain {
            without.push(doc);
        }
    }
    (research.unwrap(), without)
}

fn ids(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["document_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn gallring_removes_exactly_what_is_due_for_good() {
    let server = TestServer::start(2).await.unwrap();
    let store = &server.state.store;
    let now = lots_server::sync::hub::now();
    let (research, plain) = synthetic_households(3);
    let mut documents = Vec::new();
    for (index, doc) in std::iter::once(research).chain(plain).enumerate() {
        let document = DocumentId::from_bytes([100 + index as u8; 16]);
        server
            .state
            .hub
            .insert(document, doc.into_automerge())
            .await
            .unwrap();
        documents.push(document);
    }
    // Six years old: the one with a member born on a kept day, and two without; four years
    // old: one without. The demo's households were written just now.
    let [kept, due_a, due_b, young] = documents[..] else {
        panic!("four households")
    };
    for (document, years) in [(kept, 6), (due_a, 6), (due_b, 6), (young, 4)] {
        store
            .backdate_last_entry(
                &document,
                Timestamp::from_millis(now.as_millis() - years * YEAR_MS),
            )
            .await
            .unwrap();
    }

    // Anna's phone holds one of the due households, and goes offline.
    let anna = server.login("anna").await.unwrap();
    let mut phone = SyncClient::connect(&server, &anna, "anna-phone")
        .await
        .unwrap();
    assert!(phone.fetch(due_a).await.unwrap());
    let held = phone.peer.document(&due_a).unwrap().clone();
    drop(phone);

    let admin = server.login("admin").await.unwrap();
    let (status, listed) = call(
        &server,
        reqwest::Method::GET,
        "/api/admin/retention",
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        ids(&listed["due"]),
        [due_a, due_b].iter().map(ToString::to_string).collect(),
        "exactly the six-year-old households without a kept birthday are due"
    );
    assert_eq!(ids(&listed["kept"]), BTreeSet::from([kept.to_string()]));
    assert_eq!(listed["kept"][0]["verdict"], "kept_for_research");
    assert_eq!(listed["rule"]["years"], 5);

    // Staff and supervisors may not list or run it.
    let sara = server.login("sara").await.unwrap();
    for token in [&anna, &sara] {
        let (status, _) = call(
            &server,
            reqwest::Method::GET,
            "/api/admin/retention",
            token,
            None,
        )
        .await;
        assert_eq!(status, 403);
    }

    // A run naming one household that is not due removes nothing.
    let body = |documents: &[DocumentId]| {
        json!({
            "decision": "Dnr 2031/4711",
            "documents": documents.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    };
    let (status, refused) = call(
        &server,
        reqwest::Method::POST,
        "/api/admin/retention",
        &admin,
        Some(body(&[due_a, due_b, young])),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("not_due")),
        "{refused}"
    );
    assert!(store.document(&due_a).await.unwrap().is_some());
    let (status, _) = call(
        &server,
        reqwest::Method::POST,
        "/api/admin/retention",
        &admin,
        Some(json!({"decision": " ", "documents": [due_a.to_string()]})),
    )
    .await;
    assert_eq!(status, 400);

    let (status, ran) = call(
        &server,
        reqwest::Method::POST,
        "/api/admin/retention",
        &admin,
        Some(body(&[due_a, due_b])),
    )
    .await;
    assert_eq!((status, ran["removed"].as_u64()), (200, Some(2)), "{ran}");
    for document in [due_a, due_b] {
        assert_eq!(store.document(&document).await.unwrap(), None);
        assert_eq!(store.household(&document).await.unwrap(), None);
    }
    for document in [kept, young] {
        assert!(store.document(&document).await.unwrap().is_some());
    }
    let actions: Vec<(String, String)> = store
        .audit_entries(None, Some("u-admin"), 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.action, entry.document_id))
        .collect();
    assert!(actions.contains(&("retention-listed".into(), String::new())));
    for document in [due_a, due_b] {
        assert!(
            actions.contains(&("household-removed".into(), document.to_string())),
            "{actions:?}"
        );
    }

    // The phone comes back with its copy and offers it: the server does not take it again.
    let mut phone = SyncClient::connect(&server, &anna, "anna-phone")
        .await
        .unwrap();
    phone.peer.insert_document(due_a, held);
    assert!(
        !phone
            .probe(due_a, Input::LocalChange { document: due_a })
            .await
            .unwrap()
    );
    phone.settle(Duration::from_millis(300)).await.unwrap();
    assert_eq!(
        store.document(&due_a).await.unwrap(),
        None,
        "a removed household came back"
    );
    assert!(!phone.fetch(due_b).await.unwrap());
    // It learns what to erase: both, for Anna's district; nothing for Omar of another.
    let (_, removed) = call(&server, reqwest::Method::GET, "/api/removed", &anna, None).await;
    assert_eq!(
        ids(&removed),
        [due_a, due_b].iter().map(ToString::to_string).collect()
    );
    assert_eq!(removed[0]["reason"], "");
    let omar = server.login("omar").await.unwrap();
    let (_, removed) = call(&server, reqwest::Method::GET, "/api/removed", &omar, None).await;
    assert_eq!(removed, json!([]));

    // A read made offline before the removal is still logged.
    let read = json!({ "reads": [{
        "id": "r-before-removal",
        "household": due_a.to_string(),
        "shown": "household",
        "at": now.as_millis() - 60_000,
    }]});
    let (status, answer) = call(
        &server,
        reqwest::Method::POST,
        "/api/reads",
        &anna,
        Some(read),
    )
    .await;
    assert_eq!(
        (status, answer["logged"].as_u64()),
        (200, Some(1)),
        "{answer}"
    );
}

#[tokio::test]
async fn a_household_recorded_in_error_is_removed_on_a_decision_by_its_supervisor() {
    let server = TestServer::start(2).await.unwrap();
    let store = &server.state.store;
    let anna = server.login("anna").await.unwrap();
    let annas = server.caseload(&anna).await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let omars = server.caseload(&omar).await.unwrap();
    // A supervisor of Kungsholmen only.
    let nils = lots_server::store::User {
        id: "u-nils".into(),
        username: "nils".into(),
        display_name: "Nils".into(),
        role: lots_server::store::Role::Supervisor,
        districts: vec!["district-kungsholmen".into()],
        disabled: false,
    };
    store
        .add_user(
            &nils,
            &lots_server::auth::hash_password("nils-password-2026").unwrap(),
            lots_server::sync::hub::now(),
        )
        .await
        .unwrap();
    let nils = server
        .login_with("nils", "nils-password-2026")
        .await
        .unwrap();

    // Anna's phone is online with her household when it goes.
    let mut phone = SyncClient::connect(&server, &anna, "anna-phone")
        .await
        .unwrap();
    assert!(phone.fetch(annas[0]).await.unwrap());

    let path = format!("/api/households/{}/remove", annas[0]);
    let body = json!({ "decision": "Dnr 2031/12", "reason": "Registrerat två gånger" });
    let (status, _) = call(
        &server,
        reqwest::Method::POST,
        &path,
        &anna,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 403, "staff may not remove");
    let (status, refused) = call(
        &server,
        reqwest::Method::POST,
        &path,
        &nils,
        Some(body.clone()),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (404, Some("no_household")),
        "another district's household is not there for him"
    );
    let (status, refused) = call(
        &server,
        reqwest::Method::POST,
        &path,
        &nils,
        Some(json!({ "decision": "Dnr 1", "reason": "" })),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert!(store.document(&annas[0]).await.unwrap().is_some());

    let sara = server.login("sara").await.unwrap();
    let (status, removed) = call(&server, reqwest::Method::POST, &path, &sara, Some(body)).await;
    assert_eq!(
        (status, removed["removed"].as_u64()),
        (200, Some(1)),
        "{removed}"
    );
    assert_eq!(store.document(&annas[0]).await.unwrap(), None);
    let tombstone = store.removed_household(&annas[0]).await.unwrap().unwrap();
    assert_eq!(tombstone.reason, "Registrerat två gånger");
    assert_eq!(tombstone.removed_by, "u-sara");

    // The phone's socket is closed with the reason, so it asks what to erase at once.
    phone.settle(Duration::from_millis(500)).await.unwrap();
    let closed = phone.closed.as_ref().expect("the socket was closed");
    assert_eq!(closed.code, Some(4005));
    assert_eq!(closed.reason, format!("removed {}", annas[0]));
    // Omar's households are untouched, and his removed list is empty.
    assert!(store.document(&omars[0]).await.unwrap().is_some());
    let (_, list) = call(&server, reqwest::Method::GET, "/api/removed", &omar, None).await;
    assert_eq!(list, json!([]));
    // Anna learns of it, without the reason; Sara with it.
    let (_, list) = call(&server, reqwest::Method::GET, "/api/removed", &anna, None).await;
    assert_eq!(list[0]["reason"], "");
    let (_, list) = call(&server, reqwest::Method::GET, "/api/removed", &sara, None).await;
    assert_eq!(list[0]["reason"], "Registrerat två gånger");
    let (_, openapi) = call(
        &server,
        reqwest::Method::GET,
        "/api/openapi.json",
        &sara,
        None,
    )
    .await;
    for path in [
        "/api/admin/retention",
        "/api/households/{id}/remove",
        "/api/removed",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} is described");
    }
}

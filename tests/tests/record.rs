//! The record kept for the law, against a real server: a filed tertial report reads the same
//! after households it counted are removed; a person's own copy holds their entries and
//! nobody else's, is reviewed and released with passages withheld, and both are on record;
//! supervisors of other districts get nothing.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::time::Duration;

use lots_core::{DocumentId, HouseholdDoc, Input, NoteRef, Tertial};
use lots_tests::{Api as _, SyncClient, TestServer, call};
use reqwest::Method;
use serde_json::{Value, json};

/// Creates Lisa, a supervisor of Kungsholmen only, and signs her in.
async fn lisa(server: &TestServer) -> String {
    let admin = server.login("admin").await.unwrap();
    let (status, created) = call(
        server,
        Method::POST,
        "/api/users",
        &admin,
        Some(json!({
            "username": "lisa", "display_name": "Lisa Berg", "password": "ett långt lösenord",
            "role": "supervisor", "districts": ["district-kungsholmen"],
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    server
        .login_with("lisa", "ett långt lösenord")
        .await
        .unwrap()
}

/// The households of a district, from the server's index.
async fn households_of(server: &TestServer, district: &str) -> Vec<DocumentId> {
    let mut found = Vec::new();
    for age in server.state.store.household_ages().await.unwrap() {
        if age.district.as_deref() == Some(district) {
            found.push(age.document);
        }
    }
    found
}

async fn stored(server: &TestServer, document: &DocumentId) -> HouseholdDoc {
    let bytes = server
        .state
        .store
        .document(document)
        .await
        .unwrap()
        .unwrap();
    HouseholdDoc::from_automerge(lots_core::load_stored(&bytes).unwrap()).unwrap()
}

async fn actions_of(server: &TestServer, user: &str) -> Vec<String> {
    server
        .state
        .store
        .audit_entries(None, Some(user), 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

#[tokio::test]
async fn a_filed_report_reads_the_same_after_the_households_it_counted_are_removed() {
    let server = TestServer::start(3).await.unwrap();
    let sara = server.login("sara").await.unwrap(); // supervisor of both districts
    let anna = server.login("anna").await.unwrap();
    let lisa = lisa(&server).await;
    let today = lots_server::sync::hub::now().date();
    let current = Tertial::containing(today);
    let last = current.previous().unwrap();
    let file = |token: &str, tertial: Tertial, district: Option<&str>| {
        let body = json!({ "tertial": tertial.to_string(), "district": district });
        let token = token.to_owned();
        let server = &server;
        async move { call(server, Method::POST, "/api/reports", &token, Some(body)).await }
    };

    // Refused: a tertial not yet over, another's district, every district by a supervisor
    // of one, a staff member, nonsense.
    let (status, refused) = file(&sara, current, Some("district-norrmalm")).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("tertial_not_over"))
    );
    let (status, refused) = file(&lisa, last, Some("district-norrmalm")).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("not_your_district"))
    );
    let (status, refused) = file(&lisa, last, None).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("not_every_district"))
    );
    let (status, _) = file(&anna, last, Some("district-norrmalm")).await;
    assert_eq!(status, 403);
    let (status, refused) = call(
        &server,
        Method::POST,
        "/api/reports",
        &sara,
        Some(json!({ "tertial": "2026 T4" })),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_tertial"))
    );

    let (status, filed) = file(&sara, last, Some("district-norrmalm")).await;
    assert_eq!(status, 201, "{filed}");
    let supported = filed["report"]["supported"]["count"].as_u64().unwrap();
    assert!(
        supported > 0,
        "Norrmalm's households were supported last tertial: {filed}"
    );
    assert!(filed["report"]["visits"]["done"]["count"].as_u64().unwrap() > 0);
    // Computed over Norrmalm's households as they stood then, not every district's.
    let counted = filed["households"].as_u64().unwrap() as usize;
    let norrmalm_now = households_of(&server, "district-norrmalm").await.len();
    let every_now = server.state.store.household_ages().await.unwrap().len();
    assert!(
        counted > 0 && counted <= norrmalm_now && norrmalm_now < every_now,
        "{counted}"
    );
    let id = filed["id"].as_i64().unwrap();
    let path = format!("/api/reports/{id}");
    let (status, before) = call(&server, Method::GET, &path, &sara, None).await;
    assert_eq!(status, 200);
    assert_eq!(before["report"], filed["report"]);
    // Aggregates only: no household id and no name of anyone in it.
    let text = before["report"].to_string();
    for document in households_of(&server, "district-norrmalm").await {
        assert!(!text.contains(&document.to_string()));
        for member in stored(&server, &document)
            .await
            .household()
            .unwrap()
            .members
            .values()
        {
            assert!(
                !text.contains(&member.name),
                "{} is in the report",
                member.name
            );
        }
    }
    // The desk's screen showed the report: each household it counted is a read, logged
    // with the report it was counted in; not by a supervisor of another district.
    let norrmalm = households_of(&server, "district-norrmalm").await;
    let now_ms = lots_server::sync::hub::now().as_millis();
    let reads = |prefix: &str, report: Option<&str>| {
        json!({ "reads": norrmalm.iter().enumerate().map(|(n, document)| json!({
            "id": format!("{prefix}-{n}"),
            "household": document.to_string(),
            "shown": "report",
            "report": report,
            "at": now_ms,
        })).collect::<Vec<_>>() })
    };
    // The code of the first read an upload has refused.
    let refused_code = |token: &String, body: Value| {
        let (server, token) = (&server, token.clone());
        async move {
            let (_, answer) = call(server, Method::POST, "/api/reads", &token, Some(body)).await;
            answer["refused"][0]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    let (status, logged) = call(
        &server,
        Method::POST,
        "/api/reads",
        &sara,
        Some(reads("r-sara", Some("2026-T2"))),
    )
    .await;
    assert_eq!(
        (status, logged["logged"].as_u64()),
        (200, Some(norrmalm.len() as u64)),
        "{logged}"
    );
    assert_eq!(
        refused_code(&sara, reads("r-bad", None)).await,
        "bad_report"
    );
    assert_eq!(
        refused_code(&lisa, reads("r-lisa", Some("2026-T2"))).await,
        "not_yours"
    );
    // A report read is a supervisor's, and names a tertial.
    assert_eq!(
        refused_code(&anna, reads("r-anna", Some("2026-T2"))).await,
        "bad_report"
    );
    assert_eq!(
        refused_code(&sara, reads("r-t9", Some("2026-T9"))).await,
        "bad_report"
    );
    let rows = server
        .state
        .store
        .audit_entries(Some(&norrmalm[0].to_string()), Some("u-sara"), 100)
        .await
        .unwrap();
    assert!(
        rows.iter().any(|row| row.action == "read"
            && row.detail.starts_with("shown=report")
            && row.detail.contains(" report=2026-T2 ")),
        "{rows:?}"
    );

    let (status, every) = file(&sara, last, None).await;
    assert_eq!(status, 201, "{every}");
    assert!(every["report"]["supported"]["count"].as_u64().unwrap() >= supported);

    // Lisa sees the report for every district, not Norrmalm's.
    let (status, hers) = call(&server, Method::GET, "/api/reports", &lisa, None).await;
    assert_eq!(status, 200);
    let districts: Vec<&Value> = hers
        .as_array()
        .unwrap()
        .iter()
        .map(|row| &row["district_id"])
        .collect();
    assert_eq!(districts, [&Value::Null]);
    let (status, _) = call(&server, Method::GET, &path, &lisa, None).await;
    assert_eq!(status, 404);

    // Every Norrmalm household is removed on a decision.
    for document in households_of(&server, "district-norrmalm").await {
        let (status, removed) = call(
            &server,
            Method::POST,
            &format!("/api/households/{document}/remove"),
            &sara,
            Some(json!({ "decision": "Dnr 2026/17", "reason": "recorded in error" })),
        )
        .await;
        assert_eq!(status, 200, "{removed}");
    }
    let (status, after) = call(&server, Method::GET, &path, &sara, None).await;
    assert_eq!(status, 200);
    assert_eq!(after, before, "the filed report is kept as it was filed");
    // Filed again now, the same tertial counts nobody: the removal did change the record.
    let (status, again) = file(&sara, last, Some("district-norrmalm")).await;
    assert_eq!(status, 201);
    assert_eq!(again["report"]["supported"]["count"], 0);
    assert_ne!(again["report"], before["report"]);
    assert_eq!(
        actions_of(&server, "u-sara")
            .await
            .iter()
            .filter(|action| *action == "report-filed")
            .count(),
        3
    );
}

#[tokio::test]
async fn a_persons_copy_holds_their_entries_and_nobody_elses_and_is_released_as_reviewed() {
    let server = TestServer::start(3).await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let lisa = lisa(&server).await;
    // A Norrmalm household of several members, one of whom was at a visit.
    let mut chosen = None;
    for document in households_of(&server, "district-norrmalm").await {
        let household = stored(&server, &document).await.household().unwrap();
        let present = household.members.keys().find(|member| {
            household
                .visits
                .values()
                .any(|visit| visit.present.contains(member) && !visit.notes.as_str().is_empty())
        });
        if household.members.len() >= 2
            && let Some(member) = present
        {
            chosen = Some((document, member.clone(), household));
            break;
        }
    }
    let (document, member, household) = chosen.expect("a household of several members");
    let path = format!("/api/households/{document}/members/{member}/copy");

    for (token, status) in [(&lisa, 404), (&anna, 403)] {
        let (got, _) = call(&server, Method::GET, &path, token, None).await;
        assert_eq!(got, status);
    }
    let (status, missing) = call(
        &server,
        Method::GET,
        &format!("/api/households/{document}/members/m-nobody/copy"),
        &sara,
        None,
    )
    .await;
    assert_eq!((status, missing["code"].as_str()), (404, Some("no_member")));

    let (status, made) = call(&server, Method::GET, &path, &sara, None).await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(made["released"], false);
    let text = made["copy"].to_string();
    assert!(text.contains(&household.members[&member].name));
    for (other, them) in &household.members {
        if other != &member {
            assert!(!text.contains(&them.name), "{} is in the copy", them.name);
            assert!(!text.contains(other.as_str()));
        }
    }
    let passages = made["copy"]["passages"].as_array().unwrap();
    let visits = passages
        .iter()
        .filter(|passage| passage["kind"] == "visit")
        .count();
    let present = household
        .visits
        .values()
        .filter(|visit| {
            visit.present.contains(&member) || visit.status != lots_core::VisitStatus::Done
        })
        .count();
    assert_eq!(
        visits, present,
        "every visit that concerns them, and no other"
    );
    assert!(
        passages
            .iter()
            .all(|passage| passage["written"][0]["staff"].is_string()),
        "every passage says who wrote it"
    );
    let keys: Vec<String> = passages
        .iter()
        .map(|passage| passage["key"].as_str().unwrap().to_owned())
        .collect();
    let notes = passages
        .iter()
        .find(|passage| {
            passage["kind"] == "visit_notes" && !passage["fields"][0]["value"].is_null()
        })
        .unwrap();
    let notes_key = notes["key"].as_str().unwrap();

    let release = format!("{path}/release");
    let digest = made["digest"].as_str().unwrap().to_owned();
    let (status, refused) = call(
        &server,
        Method::POST,
        &release,
        &sara,
        Some(json!({ "digest": digest, "withheld": ["visit/nothing"] })),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("unknown_passage"))
    );

    // Anna's phone edits the plan's notes after the review: same passages, other words.
    let mut phone = SyncClient::connect(&server, &anna, "anna-phone")
        .await
        .unwrap();
    assert!(phone.fetch(document).await.unwrap());
    let signature = phone.signature("u-anna").unwrap();
    {
        let doc = phone.peer.document_mut(&document).unwrap();
        HouseholdDoc::new(doc)
            .splice_note(
                &signature,
                &NoteRef::Plan,
                0,
                0,
                "Tillagt efter granskningen. ",
            )
            .unwrap();
    }
    phone.input(Input::LocalChange { document }).await.unwrap();
    let mut stored_edit = false;
    for _ in 0..100 {
        phone.settle(Duration::from_millis(50)).await.unwrap();
        let notes = stored(&server, &document)
            .await
            .household()
            .unwrap()
            .plan
            .notes;
        if notes.as_str().starts_with("Tillagt efter granskningen.") {
            stored_edit = true;
            break;
        }
    }
    assert!(stored_edit, "the server stored the phone's edit");
    let (status, refused) = call(
        &server,
        Method::POST,
        &release,
        &sara,
        Some(json!({ "digest": digest, "withheld": [notes_key] })),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("changed_since_review")),
        "a copy edited since its review does not go out"
    );

    // Made again and reviewed again, it goes out.
    let (status, made) = call(&server, Method::GET, &path, &sara, None).await;
    assert_eq!(status, 200);
    assert_ne!(made["digest"], digest.as_str());
    assert!(
        made["copy"]
            .to_string()
            .contains("Tillagt efter granskningen.")
    );
    let (status, released) = call(
        &server,
        Method::POST,
        &release,
        &sara,
        Some(json!({ "digest": made["digest"], "withheld": [notes_key] })),
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["released"], true);
    let out = released["copy"]["passages"].as_array().unwrap();
    assert_eq!(out.len(), keys.len());
    for passage in out {
        let withheld = passage["key"] == notes_key;
        assert_eq!(passage["withheld"], withheld);
        assert_eq!(passage["fields"].as_array().unwrap().is_empty(), withheld);
    }
    let actions = actions_of(&server, "u-sara").await;
    assert!(
        actions.contains(&"person-copy-made".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"person-copy-released".to_owned()),
        "{actions:?}"
    );
    let logged = server
        .state
        .store
        .audit_entries(Some(&document.to_string()), Some("u-sara"), 100)
        .await
        .unwrap();
    let released_row = logged
        .iter()
        .find(|entry| entry.action == "person-copy-released")
        .unwrap();
    assert!(released_row.detail.contains(&format!("member={member}")));
    assert!(released_row.detail.contains("withheld=1"));

    let (_, openapi) = call(&server, Method::GET, "/api/openapi.json", &sara, None).await;
    for path in [
        "/api/reports",
        "/api/reports/{id}",
        "/api/households/{id}/members/{member}/copy",
        "/api/households/{id}/members/{member}/copy/release",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} is described");
    }
}

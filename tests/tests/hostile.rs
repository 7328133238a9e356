//! A signed-in client that is not ours: every kind of dishonest change is refused, kept in
//! quarantine and audited, the server keeps answering, and an honest phone syncing at the
//! same time gets all its changes through. Then a supervisor decides on what was refused.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::time::Duration;

use lots_core::automerge::transaction::Transactable as _;
use lots_core::automerge::{Automerge, ObjType, ROOT, ReadDoc as _};
use lots_core::*;
use lots_tests::{Api as _, SyncClient, TestServer};

/// The close code of a refused change (see `server/src/sync/socket.rs`).
const REFUSED: u16 = 4003;

fn object(
    doc: &impl lots_core::automerge::ReadDoc,
    parent: &lots_core::automerge::ObjId,
    key: &str,
) -> lots_core::automerge::ObjId {
    match doc.get(parent, key).unwrap() {
        Some((lots_core::automerge::Value::Object(_), id)) => id,
        other => panic!("no object at {key}: {other:?}"),
    }
}

/// Makes one change on the client's copy of `document`, signed as `signature`, and sends it;
/// returns how the server closed the socket, if it did within a few seconds.
async fn send_change(
    client: &mut SyncClient,
    document: DocumentId,
    signature: Option<Signature>,
    edit: impl FnOnce(&mut lots_core::automerge::transaction::Transaction<'_>),
) -> Option<lots_tests::Closed> {
    let doc: &mut Automerge = client.peer.document_mut(&document).unwrap();
    let mut tx = doc.transaction();
    edit(&mut tx);
    match signature {
        Some(signature) => tx.commit_with(signature.commit_options("hostile")),
        None => tx.commit(),
    };
    // A server that closes the socket while a large message is still being written resets
    // the connection: that is an answer too, read from the close frame if one came.
    if let Err(error) = client.input(Input::LocalChange { document }).await {
        return Some(client.closed.clone().unwrap_or(lots_tests::Closed {
            code: None,
            reason: format!("{error:#}"),
        }));
    }
    let _ = client.settle(Duration::from_secs(3)).await;
    client.closed.clone()
}

async fn hostile_client(
    server: &TestServer,
    token: &str,
    name: &str,
    document: DocumentId,
) -> SyncClient {
    let mut client = SyncClient::connect(server, token, name).await.unwrap();
    assert!(
        client.fetch(document).await.unwrap(),
        "{name} fetches its household"
    );
    client
}

async fn json(server: &TestServer, token: &str, path: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Posts a supervisor's decision (`accept` or `reject`) on quarantine row `id` as `token`.
async fn decide(server: &TestServer, token: &str, id: i64, verb: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url(&format!("/api/quarantine/{id}/{verb}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn assert_refused(closed: Option<lots_tests::Closed>, document: DocumentId, code: &str) {
    let closed = closed.expect("the server closed the socket");
    assert_eq!(closed.code, Some(REFUSED), "{closed:?}");
    assert!(
        closed.reason.starts_with(&format!("refused {document} ")) && closed.reason.contains(code),
        "expected {code}: {closed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dishonest_change_is_refused_quarantined_and_audited_while_honest_work_goes_on() {
    let server = TestServer::start(3).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let annas = server.caseload(&anna).await.unwrap();
    let omars = server.caseload(&omar).await.unwrap();
    let target = annas[0];

    // An honest phone of Anna's records visits on another household all along.
    let honest_token = server.login("anna").await.unwrap();
    let honest_household = annas[1];
    let honest = tokio::spawn({
        let addr = server.addr.to_string();
        async move {
            let mut phone = SyncClient::connect_to(&addr, &honest_token, "anna-honest")
                .await
                .unwrap();
            assert!(phone.fetch(honest_household).await.unwrap());
            let mut visits = Vec::new();
            for index in 0..8 {
                let visit = VisitId::new(format!("v-honest-{index}")).unwrap();
                phone
                    .record_visit(honest_household, &visit, "u-anna")
                    .await
                    .unwrap();
                phone
                    .pump_until(Duration::from_secs(10), |events| {
                        events
                            .iter()
                            .any(|e| matches!(e, Output::DocumentSynced { .. }))
                    })
                    .await
                    .unwrap();
                phone.events.clear();
                visits.push(visit);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            visits
        }
    });

    let mut expected_refusals = Vec::new();
    let mut attempt = 0;
    let mut next = || {
        attempt += 1;
        format!("anna-hostile-{attempt}")
    };

    // A change signed as a colleague, on the colleague's device.
    let omars_device = server.device_of(&omar).await.unwrap();
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let forged = Signature::new(
        StaffId::new("u-omar").unwrap(),
        DeviceId::new(omars_device).unwrap(),
        lots_server::sync::hub::now(),
    );
    let closed = send_change(&mut client, target, Some(forged), |tx| {
        let profile = object(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 1").unwrap();
    })
    .await;
    assert_refused(closed, target, "signer");
    expected_refusals.push("signer");

    // An unsigned change.
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let closed = send_change(&mut client, target, None, |tx| {
        let profile = object(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 2").unwrap();
    })
    .await;
    assert_refused(closed, target, "unsigned");
    expected_refusals.push("unsigned");

    // Another device's actor: Anna's honest phone used one; the hostile device takes it up.
    let mut first = hostile_client(&server, &anna, &next(), target).await;
    let signature = first.signature("u-anna").unwrap();
    let used_actor = first.peer.document(&target).unwrap().get_actor().clone();
    let closed = send_change(&mut first, target, Some(signature), |tx| {
        let profile = object(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 3").unwrap();
    })
    .await;
    assert!(closed.is_none(), "an honest change passes: {closed:?}");
    let other_token = server.login("anna").await.unwrap();
    let mut thief = hostile_client(&server, &other_token, &next(), target).await;
    let signature = thief.signature("u-anna").unwrap();
    thief
        .peer
        .document_mut(&target)
        .unwrap()
        .set_actor(used_actor.clone());
    let closed = send_change(&mut thief, target, Some(signature), |tx| {
        let profile = object(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 4").unwrap();
    })
    .await;
    assert_refused(closed, target, "actor");
    expected_refusals.push("actor");

    // A signing time a day ahead.
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let mut ahead = client.signature("u-anna").unwrap();
    ahead.at = ahead.at.plus_minutes(24 * 60);
    let closed = send_change(&mut client, target, Some(ahead), |tx| {
        let profile = object(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 5").unwrap();
    })
    .await;
    assert_refused(closed, target, "clock");
    expected_refusals.push("clock");

    // Deleting every visit.
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let signature = client.signature("u-anna").unwrap();
    let visits: Vec<String> = {
        let doc = client.peer.document(&target).unwrap();
        let visits = object(doc, &ROOT, "visits");
        doc.keys(&visits).collect()
    };
    assert!(!visits.is_empty());
    let closed = send_change(&mut client, target, Some(signature), |tx| {
        let map = object(tx, &ROOT, "visits");
        for visit in &visits {
            tx.delete(&map, visit.as_str()).unwrap();
        }
    })
    .await;
    assert_refused(closed, target, "deletes");
    expected_refusals.push("deletes");

    // Retyping the plan as a string.
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let signature = client.signature("u-anna").unwrap();
    let closed = send_change(&mut client, target, Some(signature), |tx| {
        tx.put(ROOT, "plan", "ingen plan").unwrap();
    })
    .await;
    assert_refused(closed, target, "replaces");
    expected_refusals.push("replaces");

    // Setting the district, and the assigned staff.
    for (field, value) in [
        ("district", "district-kungsholmen"),
        ("assigned_staff", "u-omar"),
    ] {
        let mut client = hostile_client(&server, &anna, &next(), target).await;
        let signature = client.signature("u-anna").unwrap();
        let closed = send_change(&mut client, target, Some(signature), |tx| {
            let profile = object(tx, &ROOT, "profile");
            tx.put(&profile, field, value).unwrap();
        })
        .await;
        assert_refused(closed, target, "role");
        expected_refusals.push("role");
    }

    // Maps nested 100,000 deep.
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let signature = client.signature("u-anna").unwrap();
    let closed = send_change(&mut client, target, Some(signature), |tx| {
        let mut obj = tx.put_object(ROOT, "deep", ObjType::Map).unwrap();
        for _ in 0..100_000 {
            obj = tx.put_object(&obj, "x", ObjType::Map).unwrap();
        }
    })
    .await;
    assert_refused(closed, target, "shape");
    expected_refusals.push("shape");

    // A million operations.
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let signature = client.signature("u-anna").unwrap();
    let closed = send_change(&mut client, target, Some(signature), |tx| {
        let plan = object(tx, &ROOT, "plan");
        let notes = object(tx, &plan, "notes");
        tx.splice_text(&notes, 0, 0, &"a".repeat(1_000_000))
            .unwrap();
    })
    .await;
    assert_refused(closed, target, "too-large");
    expected_refusals.push("too-large");

    // A 50 MB text: over the message limit as the client sends it, and past the inflation
    // budget had it come compressed (core's `chunks` tests): either way never read.
    let mut client = hostile_client(&server, &anna, &next(), target).await;
    let signature = client.signature("u-anna").unwrap();
    let closed = send_change(&mut client, target, Some(signature), |tx| {
        let profile = object(tx, &ROOT, "profile");
        tx.put(&profile, "address", "x".repeat(50 * 1024 * 1024))
            .unwrap();
    })
    .await
    .expect("the server closed the socket");
    assert!(
        closed.code == Some(1009)
            || closed.reason.contains("inflate")
            || closed.reason.contains("reset"),
        "{closed:?}"
    );
    let oversize_device = client.device.clone();

    // Households outside the caseload, over every kind of message: a request, an offer
    // with changes (a forged write) and a doc-unavailable. Nothing of them comes back and
    // nothing changes on the server.
    let mut prober = SyncClient::connect(&server, &anna, &next()).await.unwrap();
    let theirs = omars[0];
    assert!(
        !prober
            .probe(theirs, Input::Want { document: theirs })
            .await
            .unwrap()
    );
    prober.peer.remove_document(&theirs);
    // A forged write: a sync message carrying a change, sent as it is, without the
    // exchange that would first ask what the server has.
    let mut forged = Automerge::new();
    let mut tx = forged.transaction();
    tx.put(ROOT, "schema_version", 1u64).unwrap();
    tx.commit_with(prober.signature("u-anna").unwrap().commit_options("forged"));
    let mut change = forged.get_last_local_change().unwrap();
    let payload = lots_core::automerge::sync::Message {
        heads: forged.get_heads(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![change.bytes().into_owned()].into(),
        flags: None,
        version: lots_core::automerge::sync::MessageVersion::V1,
    };
    prober
        .send_raw(
            Message::Sync {
                sender: prober.peer.peer_id().clone(),
                target: PeerId::new("lots-server").unwrap(),
                document: theirs,
                data: payload.encode(),
            }
            .encode(),
        )
        .await
        .unwrap();
    prober
        .send_raw(
            Message::DocUnavailable {
                sender: prober.peer.peer_id().clone(),
                target: PeerId::new("lots-server").unwrap(),
                document: theirs,
            }
            .encode(),
        )
        .await
        .unwrap();

    // The server keeps answering, and the honest phone got everything through.
    let me = reqwest::Client::new()
        .get(server.url("/api/me"))
        .bearer_auth(&anna)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let visits = tokio::time::timeout(Duration::from_secs(60), honest)
        .await
        .unwrap()
        .unwrap();
    let mut reader = SyncClient::connect(&server, &sara, "sara-reader")
        .await
        .unwrap();
    assert!(reader.fetch(honest_household).await.unwrap());
    let household = HouseholdDoc::new(reader.peer.document(&honest_household).unwrap())
        .household()
        .unwrap();
    for visit in &visits {
        assert!(
            household.visits.contains_key(visit),
            "honest visit {visit} arrived"
        );
    }
    // Omar's household is as it was, and the target kept every visit and its plan.
    assert!(reader.fetch(theirs).await.unwrap());
    assert!(
        HouseholdDoc::new(reader.peer.document(&theirs).unwrap())
            .household()
            .is_ok()
    );
    assert!(reader.fetch(target).await.unwrap());
    let kept = HouseholdDoc::new(reader.peer.document(&target).unwrap())
        .household()
        .unwrap();
    assert!(!kept.visits.is_empty());
    assert_eq!(
        kept.profile.assigned_staff.as_ref().map(StaffId::as_str),
        Some("u-anna")
    );

    // Every refused change is in the quarantine and in the access log.
    let quarantine = json(&server, &sara, "/api/quarantine").await;
    let (rows, unread): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) = quarantine
        .as_array()
        .unwrap()
        .iter()
        .partition(|row| row["kept"] == true);
    assert_eq!(rows.len(), expected_refusals.len(), "{quarantine:#}");
    assert!(rows.iter().all(|row| row["household"] == target.to_string()
        && row["user_id"] == "u-anna"
        && row["status"] == "pending"));
    // The million operations among them, kept whole.
    assert!(
        rows.iter()
            .any(|row| row["reason"].as_str().unwrap().contains("operations")),
        "{quarantine:#}"
    );
    // The 50 MB message was never read, so nothing of it is kept; the attempt is on record,
    // from whom, on which device, when and how large.
    assert_eq!(unread.len(), 1, "{quarantine:#}");
    let oversize = unread[0];
    assert_eq!(oversize["user_id"], "u-anna");
    assert_eq!(oversize["device_id"], oversize_device.as_str());
    assert_eq!(oversize["status"], "pending");
    assert_eq!(oversize["change"], "");
    assert!(oversize["received_at"].as_i64().unwrap() > 0);
    assert!(
        oversize["message_bytes"].as_i64().unwrap() > 50 * 1024 * 1024,
        "{oversize:#}"
    );
    assert!(
        oversize["reason"]
            .as_str()
            .unwrap()
            .contains("over the limit"),
        "{oversize:#}"
    );
    let audit = json(&server, &sara, "/api/audit?limit=5000").await;
    let refused: Vec<&serde_json::Value> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["action"] == "refused")
        .collect();
    assert!(
        refused
            .iter()
            .any(|entry| entry["device_id"] == oversize_device.as_str()
                && entry["user_id"] == "u-anna"
                && entry["detail"]
                    .as_str()
                    .unwrap()
                    .contains("message refused unread")),
        "the 50 MB message is audited"
    );
    // Nothing of it can be accepted; a supervisor rejects it.
    let id = oversize["id"].as_i64().unwrap();
    let accepted = decide(&server, &sara, id, "accept").await;
    assert_eq!(accepted.status(), 400);
    let error: serde_json::Value = accepted.json().await.unwrap();
    assert!(error.to_string().contains("reject it"), "{error}");
    let rejected: serde_json::Value = decide(&server, &sara, id, "reject")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rejected["ids"], serde_json::json!([id]), "{rejected}");
    for row in &rows {
        let change = row["change"].as_str().unwrap();
        assert!(
            refused
                .iter()
                .any(|entry| entry["detail"].as_str().unwrap().contains(change)),
            "change {change} is audited"
        );
    }
    assert!(
        refused
            .iter()
            .any(|entry| entry["document_id"] == theirs.to_string()),
        "the write outside the caseload is audited"
    );
    assert_eq!(audit["first_broken_row"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_accepts_a_change_refused_wrongly_and_rejects_another() {
    let server = TestServer::start(1).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let target = server.caseload(&anna).await.unwrap()[0];

    // Signed eleven minutes ahead (a clock gone wrong): refused, but honest.
    let mut phone = hostile_client(&server, &anna, "anna-skewed", target).await;
    let mut ahead = phone.signature("u-anna").unwrap();
    ahead.at = ahead.at.plus_minutes(11);
    let closed = send_change(&mut phone, target, Some(ahead), |tx| {
        let profile = object(tx, &ROOT, "profile");
        tx.put(&profile, "unit", "lgh 11").unwrap();
    })
    .await;
    assert_refused(closed, target, "clock");
    let mut phone = hostile_client(&server, &anna, "anna-deleter", target).await;
    let signature = phone.signature("u-anna").unwrap();
    let closed = send_change(&mut phone, target, Some(signature), |tx| {
        tx.put(ROOT, "members", "none").unwrap();
    })
    .await;
    assert_refused(closed, target, "replaces");

    let rows = json(&server, &sara, "/api/quarantine").await;
    let rows = rows.as_array().unwrap();
    let id_of = |reason: &str| {
        rows.iter()
            .find(|row| row["reason"].as_str().unwrap().contains(reason))
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (skewed, replaced) = (id_of("ahead"), id_of("replaces"));
    // Staff cannot decide.
    let status = decide(&server, &anna, skewed, "accept").await.status();
    assert_eq!(status, 403);
    let decided: serde_json::Value = decide(&server, &sara, skewed, "accept")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decided["status"], "accepted", "{decided}");
    let decided: serde_json::Value = decide(&server, &sara, replaced, "reject")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(decided["status"], "rejected", "{decided}");
    // A second decision on the same row is refused.
    let again = decide(&server, &sara, skewed, "reject").await.status();
    assert_eq!(again, 400);

    // The accepted change merged and syncs; the rejected one did not.
    let mut reader = SyncClient::connect(&server, &sara, "sara-reader")
        .await
        .unwrap();
    assert!(reader.fetch(target).await.unwrap());
    let household = HouseholdDoc::new(reader.peer.document(&target).unwrap())
        .household()
        .unwrap();
    assert_eq!(household.profile.unit, "lgh 11");
    // The device that sent them learns what became of each.
    let mine = json(&server, &anna, "/api/quarantine/mine").await;
    let mut statuses: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["status"].as_str().unwrap())
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["accepted", "rejected"]);
    let omar = server.login("omar").await.unwrap();
    let others = json(&server, &omar, "/api/quarantine/mine").await;
    assert!(
        others.as_array().unwrap().is_empty(),
        "another device's rows are not its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_past_its_quarantine_quota_is_refused_until_a_supervisor_decides() {
    let server = TestServer::start(1).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let target = server.caseload(&anna).await.unwrap()[0];
    for attempt in 0..20 {
        let mut client = hostile_client(&server, &anna, &format!("anna-{attempt}"), target).await;
        let closed = send_change(&mut client, target, None, |tx| {
            let profile = object(tx, &ROOT, "profile");
            tx.put(&profile, "unit", format!("lgh {attempt}")).unwrap();
        })
        .await;
        assert_refused(closed, target, "unsigned");
    }
    let refused = SyncClient::connect(&server, &anna, "anna-again").await;
    let error = refused.err().expect("the connection is refused");
    assert!(
        format!("{error:#}").contains("4004") || format!("{error:#}").contains("quarantine"),
        "{error:#}"
    );
    // A supervisor decides on one: the device may connect again.
    let sara = server.login("sara").await.unwrap();
    let rows = json(&server, &sara, "/api/quarantine").await;
    let id = rows[0]["id"].as_i64().unwrap();
    let rejected = decide(&server, &sara, id, "reject").await;
    assert_eq!(rejected.status(), 200);
    SyncClient::connect(&server, &anna, "anna-after-decision")
        .await
        .expect("connects again once under its quota");
}

/// Signs in a staff member made for the test in Anna's district (the demo's Omar works in
/// another), as `username`; returns the session token.
async fn colleague_in_annas_district(server: &TestServer, username: &str) -> String {
    let admin = server.login("admin").await.unwrap();
    let http = reqwest::Client::new();
    let created = http
        .post(server.url("/api/users"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({
            "username": username,
            "display_name": "Omar Lind",
            "password": "a long enough password",
            "role": "staff",
            "districts": ["district-norrmalm"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let login: serde_json::Value = http
        .post(server.url("/api/login"))
        .json(&serde_json::json!({
            "username": username,
            "password": "a long enough password",
            "device_label": "test",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["token"].as_str().unwrap().to_owned()
}

/// A visit recorded on `doc` (a phone's copy) as `staff` on `device`, without sending it.
fn record_offline(doc: &mut Automerge, staff: &str, device: &str, visit: &VisitId) {
    let at = lots_server::sync::hub::now();
    let staff = StaffId::new(staff).unwrap();
    let signature = Signature::new(staff.clone(), DeviceId::new(device).unwrap(), at);
    let mut household = HouseholdDoc::new(doc);
    if household.profile().unwrap().status == CaseStatus::Closed {
        household.reopen_case(&signature).unwrap();
    }
    household
        .record_visit(
            &signature,
            visit,
            VisitRecord {
                held_at: at.plus_minutes(-30),
                staff,
                present: Set::new(),
                interpreter: None,
                duration_minutes: 30,
                topics: Set::new(),
                notes: format!("Besök {visit}"),
            },
        )
        .unwrap();
}

/// Waits until the phone's copy of `document` is synced with the server.
async fn until_synced(phone: &mut SyncClient, document: DocumentId) {
    phone
        .pump_until(Duration::from_secs(10), |events| {
            events.iter().any(
                |event| matches!(event, Output::DocumentSynced { document: d, .. } if *d == document),
            )
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_recorded_offline_before_a_reassignment_arrives_and_the_former_holder_reads_nothing_after()
 {
    let server = TestServer::start(2).await.unwrap();
    let anna = server.login("anna").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let omar = colleague_in_annas_district(&server, "omar-lind").await;
    let household = server.caseload(&anna).await.unwrap()[0];

    // Anna's phone syncs the household and goes offline; a visit is recorded there.
    let mut phone = SyncClient::connect(&server, &anna, "anna-phone")
        .await
        .unwrap();
    assert!(phone.fetch(household).await.unwrap());
    let device = phone.device.clone();
    let mut annas = phone.peer.document(&household).unwrap().clone();
    drop(phone);
    let offline_visit = VisitId::new("v-offline").unwrap();
    record_offline(&mut annas, "u-anna", &device, &offline_visit);

    // Meanwhile Sara moves the household to Omar, who records a visit of his own.
    let status = reqwest::Client::new()
        .post(server.url("/api/assignments"))
        .bearer_auth(&sara)
        .json(&serde_json::json!({ "household": household.to_string(), "staff": "u-omar-lind" }))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
    assert!(!server.caseload(&anna).await.unwrap().contains(&household));
    let mut omars = SyncClient::connect(&server, &omar, "omar-phone")
        .await
        .unwrap();
    assert!(omars.fetch(household).await.unwrap());
    let omars_visit = VisitId::new("v-omar-1").unwrap();
    omars
        .record_visit(household, &omars_visit, "u-omar-lind")
        .await
        .unwrap();
    until_synced(&mut omars, household).await;
    omars.events.clear();

    // Anna's phone comes back: her visit is taken, and her copy is answered as synced.
    let mut phone = SyncClient::connect(&server, &anna, "anna-phone")
        .await
        .unwrap();
    phone.peer.insert_document(household, annas);
    phone
        .input(Input::LocalChange {
            document: household,
        })
        .await
        .unwrap();
    until_synced(&mut phone, household).await;
    assert!(phone.closed.is_none(), "{:?}", phone.closed);

    // It reaches Omar.
    omars
        .pump_until(Duration::from_secs(10), |events| {
            events.iter().any(
                |event| matches!(event, Output::DocumentChanged { document } if *document == household),
            )
        })
        .await
        .unwrap();
    let his = HouseholdDoc::new(omars.peer.document(&household).unwrap())
        .household()
        .unwrap();
    assert!(
        his.visits.contains_key(&offline_visit),
        "Anna's visit reached Omar"
    );
    assert_eq!(
        his.profile.assigned_staff.as_ref().map(StaffId::as_str),
        Some("u-omar-lind")
    );

    // Anna receives nothing of what happened since: not the reassignment, not Omar's visits,
    // not even one he records while she is connected.
    let later_visit = VisitId::new("v-omar-2").unwrap();
    omars
        .record_visit(household, &later_visit, "u-omar-lind")
        .await
        .unwrap();
    until_synced(&mut omars, household).await;
    phone.settle(Duration::from_millis(500)).await.unwrap();
    let hers = HouseholdDoc::new(phone.peer.document(&household).unwrap())
        .household()
        .unwrap();
    assert!(hers.visits.contains_key(&offline_visit));
    assert!(!hers.visits.contains_key(&omars_visit) && !hers.visits.contains_key(&later_visit));
    assert_eq!(
        hers.profile.assigned_staff.as_ref().map(StaffId::as_str),
        Some("u-anna")
    );
    let server_heads = omars.peer.document(&household).unwrap().get_heads();
    let her_doc = phone.peer.document(&household).unwrap();
    assert!(
        server_heads
            .iter()
            .all(|head| her_doc.get_change_meta_by_hash(head).is_none()),
        "no change of Omar's is on Anna's phone"
    );
    // Nor can she ask for it.
    let mut asking = SyncClient::connect(&server, &anna, "anna-tablet")
        .await
        .unwrap();
    assert!(!asking.fetch(household).await.unwrap());

    // A change of hers built on the reassignment (her phone got it some other way) is refused.
    let mut annas = phone.peer.document(&household).unwrap().clone();
    let mut reassigned = omars.peer.document(&household).unwrap().clone();
    annas.merge(&mut reassigned).unwrap();
    record_offline(
        &mut annas,
        "u-anna",
        &device,
        &VisitId::new("v-after").unwrap(),
    );
    *phone.peer.document_mut(&household).unwrap() = annas;
    phone
        .input(Input::LocalChange {
            document: household,
        })
        .await
        .unwrap();
    phone.settle(Duration::from_secs(3)).await.unwrap();
    assert_refused(phone.closed.clone(), household, "role");
    let quarantine = json(&server, &sara, "/api/quarantine").await;
    assert!(
        quarantine
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["household"] == household.to_string()
                && row["user_id"] == "u-anna"
                && row["reason"].as_str().unwrap().contains("no longer yours")),
        "{quarantine:#}"
    );
}

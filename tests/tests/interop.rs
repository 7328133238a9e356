//! Wire compatibility with the JavaScript automerge-repo (the npm packages, 2.5.x): a Node
//! client creates a document through our server and core's peer sees it; core's peer records
//! a visit and the Node client sees that. The Node side is `tests/node/interop.mjs`; its
//! packages are installed by `cargo xtask test` (or `cargo xtask setup`).

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use lots_core::automerge::{Automerge, ROOT, ReadDoc as _};
use lots_core::*;
use lots_tests::{Api as _, SyncClient, TestServer};

fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
    assert!(
        dir.join("node_modules/@automerge/automerge-repo").exists(),
        "the Node packages are missing: run `cargo xtask setup` (or `npm ci` in tests/node)"
    );
    dir
}

async fn sync_url(server: &TestServer, token: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(server.url("/api/sync-token"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!(
        "ws://{}/sync?token={}",
        server.addr,
        body["token"].as_str().unwrap()
    )
}

fn read_json_line(stdout: impl std::io::Read) -> serde_json::Value {
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|error| panic!("node printed {line:?}: {error}"))
}

/// A root string field, whether JavaScript stored it as Text (its default) or as a scalar.
fn read_string(doc: &Automerge, key: &str) -> Option<String> {
    let (value, id) = doc.get(&ROOT, key).ok()??;
    match value {
        lots_core::automerge::Value::Object(_) => doc.text(&id).ok(),
        lots_core::automerge::Value::Scalar(scalar) => scalar.as_str().map(str::to_owned),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_client_and_core_sync_through_the_server_both_ways() {
    let dir = node_dir();
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();

    // JavaScript creates a document; core's peer, as another client, receives it.
    let mut node = Command::new("node")
        .arg("interop.mjs")
        .arg("create")
        .arg(sync_url(&server, &token).await)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let created = read_json_line(node.stdout.take().unwrap());
    assert_eq!(created["ok"], true, "{created}");
    let document: DocumentId = created["url"].as_str().unwrap().parse().unwrap();
    let mut phone = SyncClient::connect(&server, &token, "core-phone")
        .await
        .unwrap();
    let mut title = None;
    for _ in 0..100 {
        if phone.fetch(document).await.unwrap() {
            let doc = phone.peer.document(&document).unwrap();
            if read_string(doc, "notes").is_some_and(|notes| notes.contains("JavaScript")) {
                title = read_string(doc, "title");
                break;
            }
        }
        phone.peer.remove_document(&document);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        title.as_deref(),
        Some("skapad i node"),
        "core never saw the JavaScript client's document"
    );
    drop(node.stdin.take());
    let _ = node.wait();

    // Core records a visit; the JavaScript client finds the household and sees it.
    let household = server.caseload(&token).await.unwrap()[0];
    assert!(phone.fetch(household).await.unwrap());
    let visit = VisitId::new("v-from-core").unwrap();
    let now = lots_server::sync::hub::now();
    let doc: &mut Automerge = phone.peer.document_mut(&household).unwrap();
    let mut editable = HouseholdDoc::new(doc);
    let signature = Signature::new(
        StaffId::new("u-anna").unwrap(),
        DeviceId::new("d-core").unwrap(),
        now,
    );
    if editable.profile().unwrap().status == CaseStatus::Closed {
        editable.reopen_case(&signature).unwrap();
    }
    editable
        .record_visit(
            &signature,
            &visit,
            VisitRecord {
                held_at: now.plus_minutes(-45),
                staff: StaffId::new("u-anna").unwrap(),
                present: Set::new(),
                interpreter: None,
                duration_minutes: 45,
                topics: [Topic::Sfi].into_iter().collect(),
                notes: "Från Rust-kärnan.".into(),
            },
        )
        .unwrap();
    phone
        .input(Input::LocalChange {
            document: household,
        })
        .await
        .unwrap();
    phone
        .pump_until(Duration::from_secs(5), |events| {
            events
                .iter()
                .any(|e| matches!(e, Output::DocumentSynced { .. }))
        })
        .await
        .unwrap();
    let mut node = Command::new("node")
        .arg("interop.mjs")
        .arg("find")
        .arg(sync_url(&server, &token).await)
        .arg(household.url())
        .arg(visit.as_str())
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let found = read_json_line(node.stdout.take().unwrap());
    let _ = node.wait();
    assert_eq!(found["ok"], true, "{found}");
    assert_eq!(found["notes"], "Från Rust-kärnan.");
    assert_eq!(found["status"], "done");
}

//! The trust boundary against a hostile JavaScript automerge-repo client (the npm packages,
//! 2.5.x): signed in as staff, it sends what the server must refuse — changes signed as
//! someone else or not at all, deletions, a replaced plan, a district and staff it may not
//! set, maps nested 100,000 deep, a 50 MB text, a household outside its caseload — each on a
//! fresh connection, while an honest phone of the same staff member records visits on
//! another household. Every attempt must be refused and kept in quarantine with an audit row
//! (or, outside the caseload, leave the server as it was), the server must go on answering,
//! and every honest visit must arrive. The Node side is `tests/node/hostile.mjs`; its
//! packages are installed by `cargo xtask test` (or `cargo xtask setup`).

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lots_core::automerge::ChangeHash;
use lots_core::{DocumentId, HouseholdDoc, Output, VisitId};
use lots_tests::{Api as _, SyncClient, TestServer};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Lots' close code for refused changes.
const REFUSED_CHANGE: u16 = 4003;
/// How long the hostile client may run in all (eight attempts, each bounded at about a
/// minute by the client itself).
const HOSTILE_RUN: Duration = Duration::from_secs(600);
/// How long the honest phone waits for each visit to reach the server.
const VISIT_SYNC: Duration = Duration::from_secs(15);
/// How often the honest phone records a visit while the hostile client runs.
const VISIT_EVERY: Duration = Duration::from_millis(500);
/// The fewest visits the honest phone records, however quick the hostile client is.
const MIN_VISITS: usize = 5;

/// Each attempt on the household in the caseload, with the refusal code the server's close
/// reason must name for it.
const REFUSED: &[(&str, &str)] = &[
    ("signed-as-other", "signer"),
    ("unsigned", "unsigned"),
    ("deletes-visits", "deletes"),
    ("replaces-plan", "replaces"),
    ("sets-district-and-staff", "role"),
    ("nests-deep", "shape"),
    ("huge-text", "too-large"),
];

/// The attempt whose message is larger than the server reads: 50 MB of text goes over the
/// sync message limit (or, compressed, over the budget for inflating it), so the server may
/// end the connection before its change is ever read, and then has nothing to quarantine.
const OVER_THE_LIMITS: &str = "huge-text";

fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
    assert!(
        dir.join("node_modules/@automerge/automerge-repo").exists(),
        "the Node packages are missing: run `cargo xtask setup` (or `npm ci` in tests/node)"
    );
    dir
}

/// The Node process; killed when dropped, so a failing test leaves none behind.
struct Hostile(Child);

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn get_json(server: &TestServer, token: &str, path: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(server.url(path))
        .bearer_auth(token)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// The document as the server holds it now, fetched afresh by `client`.
async fn as_held(client: &mut SyncClient, document: DocumentId) -> (Vec<ChangeHash>, String) {
    client.peer.remove_document(&document);
    assert!(client.fetch(document).await.unwrap(), "{document} is gone");
    let doc = client.peer.document(&document).unwrap();
    let household = HouseholdDoc::new(doc).household().unwrap();
    (doc.get_heads(), serde_json::to_string(&household).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_javascript_client_is_refused_while_an_honest_phone_carries_on() {
    let dir = node_dir();
    let server = TestServer::start(2).await.unwrap();
    let hostile_token = server.login("anna").await.unwrap();
    let hostile_device = server.device_of(&hostile_token).await.unwrap();
    let honest_token = server.login("anna").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let omar = server.login("omar").await.unwrap();
    let caseload = server.caseload(&hostile_token).await.unwrap();
    let (target, honest_household) = (caseload[0], caseload[1]);
    let outside = server.caseload(&omar).await.unwrap()[0];

    // What the server holds before, as a supervisor of both districts sees it.
    let mut onlooker = SyncClient::connect(&server, &sara, "onlooker")
        .await
        .unwrap();
    let target_before = as_held(&mut onlooker, target).await;
    let outside_before = as_held(&mut onlooker, outside).await;
    assert!(
        !HouseholdDoc::new(onlooker.peer.document(&target).unwrap())
            .household()
            .unwrap()
            .visits
            .is_empty(),
        "the attacked household has visits to delete"
    );

    let mut honest = SyncClient::connect(&server, &honest_token, "honest-phone")
        .await
        .unwrap();
    assert_ne!(
        honest.device, hostile_device,
        "the honest phone is another device"
    );
    assert!(honest.fetch(honest_household).await.unwrap());

    let mut child = Command::new("node")
        .arg("hostile.mjs")
        .arg(server.url(""))
        .arg(&hostile_token)
        .arg(target.url())
        .arg(outside.url())
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _hostile = Hostile(child);
    let (sender, mut lines) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });

    // The honest phone records a visit, waits for the server to have it, and again, until
    // the hostile client is done.
    let deadline = Instant::now() + HOSTILE_RUN;
    let mut attempts: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let mut hostile_done = false;
    let mut visits = Vec::new();
    while !hostile_done || visits.len() < MIN_VISITS {
        assert!(
            Instant::now() < deadline,
            "the hostile client did not finish within {HOSTILE_RUN:?}; it got this far: \
             {attempts:#?}"
        );
        let visit = VisitId::new(format!("v-honest-{}", visits.len())).unwrap();
        honest
            .record_visit(honest_household, &visit, "u-anna")
            .await
            .unwrap();
        honest
            .pump_until(VISIT_SYNC, |events| {
                events.iter().any(|event| {
                    matches!(event, Output::DocumentSynced { document, .. }
                        if *document == honest_household)
                })
            })
            .await
            .unwrap_or_else(|error| {
                panic!("the honest phone's visit {visit} did not reach the server: {error}")
            });
        honest.events.clear();
        visits.push(visit);
        if hostile_done {
            continue;
        }
        let line = match tokio::time::timeout(VISIT_EVERY, lines.recv()).await {
            Err(_) => continue,
            Ok(None) => panic!("the hostile client ended early; it got this far: {attempts:#?}"),
            Ok(Some(line)) => line,
        };
        let line: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("hostile.mjs printed {line:?}: {error}"));
        if line["done"] == true {
            hostile_done = true;
        } else {
            let name = line["attempt"].as_str().unwrap().to_owned();
            attempts.insert(name, line);
        }
    }
    eprintln!("the hostile client's attempts: {attempts:#?}");
    eprintln!(
        "the honest phone recorded {} visits meanwhile",
        visits.len()
    );

    // Every attempt on the household in the caseload was refused by name, and its changes
    // are in quarantine with an audit row each.
    let refused: Vec<serde_json::Value> =
        serde_json::from_value(get_json(&server, &sara, "/api/quarantine").await).unwrap();
    let audit = get_json(
        &server,
        &sara,
        &format!("/api/audit?household={target}&limit=5000"),
    )
    .await;
    let audit = audit["entries"].as_array().unwrap();
    for (name, code) in REFUSED {
        let line = attempts
            .get(*name)
            .unwrap_or_else(|| panic!("no result for the attempt {name}"));
        if *name == OVER_THE_LIMITS && line["code"] != REFUSED_CHANGE {
            // Refused unread: the connection was ended (the household is checked below).
            assert!(
                line["code"].is_u64() && line.get("error").is_none(),
                "{name}: the server neither refused the change nor ended the connection: {line}"
            );
            continue;
        }
        assert_eq!(
            line["code"], REFUSED_CHANGE,
            "{name} was not refused with close code {REFUSED_CHANGE}: {line}"
        );
        let reason = line["reason"].as_str().unwrap();
        let expected = format!("refused {target} ");
        assert!(
            reason.starts_with(&expected),
            "{name}: the close reason {reason:?} does not name the household"
        );
        assert!(
            reason[expected.len()..].split(',').any(|c| c == *code),
            "{name}: the close reason {reason:?} does not give the code {code}"
        );
        let changes = line["changes"].as_array().unwrap();
        assert!(!changes.is_empty(), "{name} sent no change: {line}");
        for change in changes {
            let change = change.as_str().unwrap();
            let row = refused
                .iter()
                .find(|row| row["change"] == change)
                .unwrap_or_else(|| panic!("{name}: the change {change} is not in quarantine"));
            assert_eq!(row["household"], target.to_string(), "{name}: {row}");
            assert_eq!(row["user_id"], "u-anna", "{name}: {row}");
            assert_eq!(row["device_id"], hostile_device, "{name}: {row}");
            assert_eq!(row["status"], "pending", "{name}: {row}");
            assert!(
                audit.iter().any(|entry| entry["action"] == "refused"
                    && entry["device_id"] == hostile_device
                    && entry["detail"]
                        .as_str()
                        .is_some_and(|detail| detail.starts_with(change))),
                "{name}: no \"refused\" audit row for the change {change}"
            );
        }
    }
    assert_eq!(
        as_held(&mut onlooker, target).await,
        target_before,
        "a refused change reached the household"
    );

    // Outside the caseload: whatever the server answered, the household is as it was and
    // nothing of the forgery was kept.
    let outside_attempt = attempts
        .get("outside-caseload")
        .expect("no result for the attempt outside the caseload");
    assert!(
        outside_attempt.get("error").is_none(),
        "the attempt outside the caseload did not run: {outside_attempt}"
    );
    assert_eq!(
        as_held(&mut onlooker, outside).await,
        outside_before,
        "the household outside the caseload changed: {outside_attempt}"
    );
    assert!(
        !refused
            .iter()
            .any(|row| row["household"] == outside.to_string()),
        "the forgery of a household outside the caseload was kept in quarantine"
    );

    // The server still answers, the hostile session included.
    for token in [&hostile_token, &honest_token] {
        let me = get_json(&server, token, "/api/me").await;
        assert_eq!(me["user"]["id"], "u-anna");
    }

    // Every honest visit reached the server: a third client sees them all.
    let third = server.login("anna").await.unwrap();
    let mut third = SyncClient::connect(&server, &third, "third").await.unwrap();
    assert!(third.fetch(honest_household).await.unwrap());
    let household = HouseholdDoc::new(third.peer.document(&honest_household).unwrap())
        .household()
        .unwrap();
    let missing: Vec<&VisitId> = visits
        .iter()
        .filter(|visit| !household.visits.contains_key(*visit))
        .collect();
    assert!(
        missing.is_empty(),
        "the honest phone's visits {missing:?} did not reach the server"
    );
    assert!(
        honest.closed.is_none(),
        "the honest phone was disconnected: {:?}",
        honest.closed
    );
}

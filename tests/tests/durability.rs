//! Durability: the server process is killed with SIGKILL at random moments while many clients
//! sync, then restarted, again and again. No change the server acknowledged may be lost, and
//! the SQLite file must pass its integrity check every time.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lots_core::automerge::Automerge;
use lots_core::*;
use lots_server::store::Store;
use lots_tests::SyncClient;
use rand::{Rng, SeedableRng};

const ROUNDS: usize = 5;
const CLIENTS_PER_ROUND: usize = 40;

fn server_binary() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/debug/lots-server");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "lots-server"])
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success(), "building the server failed");
    }
    binary
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    async fn start(data: &std::path::Path) -> Server {
        let port = free_port();
        let child = Command::new(server_binary())
            .args(["--demo", "--data-dir"])
            .arg(data)
            .args([
                "--dist",
                "/nonexistent",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args([
                "--public-origin",
                &format!("http://127.0.0.1:{port}"),
                "--messages-per-second",
                "100000",
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server { child, port };
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start listening");
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown code runs.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal client view of the test server, for the shared helpers.
async fn login(port: u16) -> String {
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/login"))
        .json(&serde_json::json!({ "username": "anna", "password": "demo-anna-2026" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["token"].as_str().unwrap().to_owned()
}

async fn caseload(port: u16, token: &str) -> Vec<DocumentId> {
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/caseload"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body.as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["document_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// One phone: fetch the household, record a visit, wait for the server's acknowledgement.
async fn phone(
    port: u16,
    token: String,
    document: DocumentId,
    visit: VisitId,
) -> anyhow::Result<()> {
    let mut client = SyncClient::connect_to(
        &format!("127.0.0.1:{port}"),
        &token,
        &format!("phone-{visit}"),
    )
    .await?;
    anyhow::ensure!(client.fetch(document).await?, "household not delivered");
    let now = lots_server::sync::hub::now();
    let doc: &mut Automerge = client.peer.document_mut(&document).unwrap();
    let mut household = HouseholdDoc::new(doc);
    let signature = Signature::new(StaffId::new("u-anna")?, DeviceId::new("d-phone")?, now);
    if household.profile()?.status == CaseStatus::Closed {
        household.reopen_case(&signature)?;
    }
    household.record_visit(
        &signature,
        &visit,
        VisitRecord {
            held_at: now.plus_minutes(-30),
            staff: StaffId::new("u-anna")?,
            present: Set::new(),
            interpreter: None,
            duration_minutes: 30,
            topics: Set::new(),
            notes: format!("Besök {visit}"),
        },
    )?;
    client.input(Input::LocalChange { document }).await?;
    client
        .pump_until(Duration::from_secs(10), |events| {
            events.iter().any(|event| matches!(event, Output::DocumentSynced { document: d, .. } if *d == document))
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_change_is_lost_when_the_server_is_killed() {
    let data = tempfile::tempdir().unwrap();
    let acknowledged: Arc<Mutex<Vec<(DocumentId, VisitId)>>> = Arc::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut attempted = 0;
    for round in 0..ROUNDS {
        let server = Server::start(data.path()).await;
        let port = server.port;
        let token = login(port).await;
        let households = caseload(port, &token).await;
        assert!(!households.is_empty());
        let mut tasks = Vec::new();
        for index in 0..CLIENTS_PER_ROUND {
            attempted += 1;
            let document = households[index % households.len()];
            let visit = VisitId::new(format!("v-round{round}-{index}")).unwrap();
            let token = token.clone();
            let acknowledged = acknowledged.clone();
            tasks.push(tokio::spawn(async move {
                if phone(port, token, document, visit.clone()).await.is_ok() {
                    acknowledged.lock().unwrap().push((document, visit));
                }
            }));
        }
        // Kill the server while the syncs are in flight.
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..1_500))).await;
        server.kill();
        for task in tasks {
            let _ = task.await;
        }
        let store = Store::open_sqlite(&data.path().join("lots.sqlite3"))
            .await
            .unwrap();
        store.integrity_check().await.unwrap();
    }

    let server = Server::start(data.path()).await;
    let token = login(server.port).await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        !acknowledged.is_empty(),
        "no sync finished before a kill: the test proves nothing"
    );
    let mut client =
        SyncClient::connect_to(&format!("127.0.0.1:{}", server.port), &token, "checker")
            .await
            .unwrap();
    for document in caseload(server.port, &token).await {
        assert!(client.fetch(document).await.unwrap());
    }
    let mut lost = Vec::new();
    for (document, visit) in &acknowledged {
        let household = HouseholdDoc::new(client.peer.document(document).unwrap())
            .household()
            .unwrap();
        if !household.visits.contains_key(visit) {
            lost.push(visit.clone());
        }
    }
    println!(
        "{} of {attempted} syncs were acknowledged before a kill",
        acknowledged.len()
    );
    assert!(
        lost.is_empty(),
        "acknowledged visits lost after SIGKILL: {lost:?}"
    );
    server.kill();
}

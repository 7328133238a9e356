//! Durability: the server process is killed with SIGKILL at random moments while many clients
//! sync, then restarted, again and again. No change the server acknowledged may be lost, and
//! the SQLite file must pass its integrity check every time.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lots_core::*;
use lots_server::store::Store;
use lots_tests::{Api as _, ServerProcess, SyncClient};
use rand::{Rng, SeedableRng};

const ROUNDS: usize = 5;
const CLIENTS_PER_ROUND: usize = 40;

/// One phone: fetch the household, record a visit, wait for the server's acknowledgement.
async fn phone(
    address: String,
    token: String,
    document: DocumentId,
    visit: VisitId,
) -> anyhow::Result<()> {
    let mut client = SyncClient::connect_to(&address, &token, &format!("phone-{visit}")).await?;
    anyhow::ensure!(client.fetch(document).await?, "household not delivered");
    client.record_visit(document, &visit, "u-anna").await?;
    client
        .pump_until(Duration::from_secs(10), |events| {
            events.iter().any(|event| matches!(event, Output::DocumentSynced { document: d, .. } if *d == document))
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_change_is_lost_when_the_server_is_killed() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let acknowledged: Arc<Mutex<Vec<(DocumentId, VisitId)>>> = Arc::default();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut attempted = 0;
    for round in 0..ROUNDS {
        let server = ServerProcess::start(&["--data-dir", data_dir])
            .await
            .unwrap();
        let address = server.address();
        let token = server.login("anna").await.unwrap();
        let households = server.caseload(&token).await.unwrap();
        assert!(!households.is_empty());
        let mut tasks = Vec::new();
        for index in 0..CLIENTS_PER_ROUND {
            attempted += 1;
            let document = households[index % households.len()];
            let visit = VisitId::new(format!("v-round{round}-{index}")).unwrap();
            let token = token.clone();
            let acknowledged = acknowledged.clone();
            let address = address.clone();
            tasks.push(tokio::spawn(async move {
                if phone(address, token, document, visit.clone()).await.is_ok() {
                    acknowledged.lock().unwrap().push((document, visit));
                }
            }));
        }
        // Kill the server while the syncs are in flight.
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..1_500))).await;
        server.kill().unwrap();
        for task in tasks {
            let _ = task.await;
        }
        let store = Store::open_sqlite(&data.path().join("lots.sqlite3"))
            .await
            .unwrap();
        store.integrity_check().await.unwrap();
    }

    let server = ServerProcess::start(&["--data-dir", data_dir])
        .await
        .unwrap();
    let token = server.login("anna").await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        !acknowledged.is_empty(),
        "no sync finished before a kill: the test proves nothing"
    );
    let mut client = SyncClient::connect_to(&server.address(), &token, "checker")
        .await
        .unwrap();
    for document in server.caseload(&token).await.unwrap() {
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
    server.kill().unwrap();
}

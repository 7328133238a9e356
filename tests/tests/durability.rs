//! Durability: the server process is killed with SIGKILL at random moments while many clients
//! sync, then restarted, again and again. No change the server acknowledged may be lost, and
//! the SQLite file must pass its integrity check every time. And a batch whose commit fails
//! sends nothing: no device hears of a change the server did not store.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lots_core::*;
use lots_server::store::Store;
use lots_tests::{Api as _, ServerProcess, SyncClient, TestServer};
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

#[tokio::test]
async fn nothing_of_a_batch_whose_commit_fails_leaves_the_server() {
    let server = TestServer::start(1).await.unwrap();
    let (token, document, mut phone) = server
        .phone_with_first_household("anna", "anna-phone")
        .await
        .unwrap();
    let mut tablet = SyncClient::connect(&server, &token, "anna-tablet")
        .await
        .unwrap();
    assert!(tablet.fetch(document).await.unwrap());
    let heads = |client: &SyncClient| client.peer.document(&document).unwrap().get_heads();
    let before = heads(&tablet);

    // The database refuses every new chunk, as a full disk would.
    let store = &server.state.store;
    store
        .execute_unchecked(
            "CREATE TRIGGER disk_full BEFORE INSERT ON document_chunks \
             BEGIN SELECT RAISE(ABORT, 'the disk is full (a test)'); END",
        )
        .await
        .unwrap();
    let visit = VisitId::new("v-not-committed").unwrap();
    phone
        .record_visit(document, &visit, "u-anna")
        .await
        .unwrap();
    phone.settle(Duration::from_secs(2)).await.unwrap();
    tablet.settle(Duration::from_secs(1)).await.unwrap();
    // Every connection with a message in the failed batch is cut off to try again (the
    // phone, and the tablet the change was to go to); nothing of the change reached the
    // tablet.
    assert!(phone.closed.is_some(), "the phone's connection stays open");
    assert_eq!(heads(&tablet), before, "the tablet received the change");
    // Nor did the server's memory run ahead of its disk: a new device gets what is stored.
    let mut fresh = SyncClient::connect(&server, &token, "anna-laptop")
        .await
        .unwrap();
    assert!(fresh.fetch(document).await.unwrap());
    assert_eq!(
        heads(&fresh),
        before,
        "the server serves a change it never stored"
    );

    // The disk has room again: the phone connects again and its change goes through.
    store
        .execute_unchecked("DROP TRIGGER disk_full")
        .await
        .unwrap();
    let doc = phone.peer.document(&document).unwrap().clone();
    let mut again = SyncClient::connect(&server, &token, "anna-phone")
        .await
        .unwrap();
    again.peer.insert_document(document, doc);
    again.input(Input::LocalChange { document }).await.unwrap();
    again.settle(Duration::from_secs(1)).await.unwrap();
    assert!(again.closed.is_none(), "{:?}", again.closed);
    assert!(fresh.fetch(document).await.unwrap());
    fresh.settle(Duration::from_secs(1)).await.unwrap();
    assert_eq!(
        heads(&fresh),
        heads(&again),
        "the change arrived once stored"
    );
    assert_ne!(heads(&fresh), before);
}

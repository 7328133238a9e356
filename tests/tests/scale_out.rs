//! Scale-out: two server processes on one PostgreSQL database. A change a phone sends to one
//! reaches a phone connected to the other, and revoking a device on one closes its socket on
//! the other. The test prints the slowest propagation it saw; its deadline is generous,
//! since a timing target is a measurement, not something a loaded CI machine should fail.
//!
//! Needs a PostgreSQL server: `cargo xtask test` starts a throwaway one and sets
//! `LOTS_TEST_POSTGRES_URL`; without it this test fails, unless skipped on purpose with
//! `LOTS_SKIP_POSTGRES=1`.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::time::{Duration, Instant};

use lots_core::{DocumentId, Output, VisitId};
use lots_server::store::{create_scratch_database, test_postgres_url};
use lots_tests::{Api as _, ServerProcess, SyncClient};

/// How long the test waits for a change or a revocation to cross between the processes
/// before it fails. The target is a second; on a quiet machine it is met (the test
/// prints the slowest), but one full test run of three on two busy cores took longer.
const WITHIN: Duration = Duration::from_secs(10);

fn has_visit(client: &SyncClient, document: DocumentId, visit: &VisitId) -> bool {
    client.peer.document(&document).is_some_and(|doc| {
        lots_core::HouseholdDoc::new(doc)
            .household()
            .is_ok_and(|household| household.visits.contains_key(visit))
    })
}

/// Two server processes on a scratch database, and Anna's phone on the first and tablet on
/// the second, each holding her first household.
struct Pair {
    url: String,
    first: ServerProcess,
    second: ServerProcess,
    second_token: String,
    document: DocumentId,
    phone: SyncClient,
    tablet: SyncClient,
}

/// `None` when the test is skipped on purpose (`LOTS_SKIP_POSTGRES=1`).
async fn anna_on_two_processes() -> Option<Pair> {
    let admin_url = test_postgres_url()?;
    let url = create_scratch_database(&admin_url).await.unwrap();
    // The first process creates the demo data; the second finds users and leaves it.
    let first = ServerProcess::start(&["--database-url", &url])
        .await
        .unwrap();
    let second = ServerProcess::start(&["--database-url", &url])
        .await
        .unwrap();
    let first_token = first.login("anna").await.unwrap();
    let second_token = second.login("anna").await.unwrap();
    let households = second.caseload(&second_token).await.unwrap();
    assert_eq!(households, first.caseload(&first_token).await.unwrap());
    let document = households[0];
    let mut phone = SyncClient::connect_to(&first.address(), &first_token, "anna-phone")
        .await
        .unwrap();
    let mut tablet = SyncClient::connect_to(&second.address(), &second_token, "anna-tablet")
        .await
        .unwrap();
    assert!(phone.fetch(document).await.unwrap());
    assert!(tablet.fetch(document).await.unwrap());
    Some(Pair {
        url,
        first,
        second,
        second_token,
        document,
        phone,
        tablet,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_pass_changes_and_revocations_along() {
    let Some(Pair {
        first,
        second,
        second_token,
        document,
        mut phone,
        mut tablet,
        ..
    }) = anna_on_two_processes().await
    else {
        return;
    };

    // Changes go both ways, each through the database to the other process.
    let mut slowest = Duration::ZERO;
    for round in 0..10 {
        let (writer, reader) = if round % 2 == 0 {
            (&mut phone, &mut tablet)
        } else {
            (&mut tablet, &mut phone)
        };
        let visit = VisitId::new(format!("v-scale-out-{round}")).unwrap();
        let sent = Instant::now();
        writer
            .record_visit(document, &visit, "u-anna")
            .await
            .unwrap();
        // Both phones read their sockets meanwhile, as real ones do: when the writer's change
        // matched a false positive of the server's Bloom filter, the server asks for it by
        // hash, and only a writer that answers gets it across.
        let deadline = tokio::time::Instant::from_std(sent + WITHIN);
        while !has_visit(reader, document, &visit) {
            tokio::select! {
                bytes = reader.next_message() => {
                    let bytes = bytes.unwrap_or_else(|| panic!("round {round}: the reader's socket ended: {:?}", reader.closed));
                    reader.receive(bytes).await.unwrap();
                }
                bytes = writer.next_message() => {
                    let bytes = bytes.unwrap_or_else(|| panic!("round {round}: the writer's socket ended: {:?}", writer.closed));
                    writer.receive(bytes).await.unwrap();
                }
                () = tokio::time::sleep_until(deadline) => {
                    panic!("round {round}: the visit did not arrive within {WITHIN:?}");
                }
            }
        }
        slowest = slowest.max(sent.elapsed());
        writer.settle(Duration::from_millis(50)).await.unwrap();
    }
    println!("slowest propagation between processes: {slowest:?}");

    // An administrator revokes the tablet on the first process; the second closes its socket.
    let tablet_device = second.device_of(&second_token).await.unwrap();
    let admin = first.login("admin").await.unwrap();
    let revoked = Instant::now();
    let status = first.revoke(&admin, &tablet_device).await.unwrap();
    assert_eq!(status, 204);
    let outcome = tablet.pump_until(WITHIN, |_| false).await;
    assert!(outcome.is_err());
    let closed = tablet
        .closed
        .clone()
        .unwrap_or_else(|| panic!("the tablet's socket was not closed within {WITHIN:?}"));
    println!(
        "revocation closed the other process's socket after {:?}",
        revoked.elapsed()
    );
    assert!(closed.reason.contains("revoked"), "{closed:?}");
    assert!(
        phone
            .events
            .iter()
            .all(|event| !matches!(event, Output::Close { .. })),
        "the phone stays connected"
    );
}

/// Past 64 chunks a process compacts a household, from its copy in memory when that holds
/// every stored change. With the other process writing to the same household meanwhile,
/// every change of both survives the compactions, in the database itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compaction_keeps_every_change_of_both_processes() {
    let Some(pair) = anna_on_two_processes().await else {
        return;
    };
    let (document, mut phone, mut tablet) = (pair.document, pair.phone, pair.tablet);

    // Records a visit of Anna's and reads the answers for `quiet`: each lands as a chunk.
    async fn record(
        client: &mut SyncClient,
        document: DocumentId,
        id: String,
        quiet: u64,
    ) -> VisitId {
        let visit = VisitId::new(id).unwrap();
        client
            .record_visit(document, &visit, "u-anna")
            .await
            .unwrap();
        client.settle(Duration::from_millis(quiet)).await.unwrap();
        visit
    }
    let mut visits = Vec::new();
    for round in 0..80 {
        visits.push(record(&mut phone, document, format!("v-phone-{round}"), 20).await);
        if round % 8 == 0 {
            visits.push(record(&mut tablet, document, format!("v-tablet-{round}"), 5).await);
        }
    }
    phone.settle(Duration::from_millis(500)).await.unwrap();
    tablet.settle(Duration::from_millis(500)).await.unwrap();
    assert!(phone.closed.is_none() && tablet.closed.is_none());

    let store = lots_server::store::Store::open_postgres(&pair.url)
        .await
        .unwrap();
    let chunks = store.chunk_count(&document).await.unwrap();
    assert!(chunks < 64, "compacted: {chunks} chunks left of 90 writes");
    let stored = store.document(&document).await.unwrap().unwrap();
    let doc = lots_core::load_stored(&stored).unwrap();
    let household = lots_core::HouseholdDoc::new(&doc).household().unwrap();
    for visit in &visits {
        assert!(household.visits.contains_key(visit), "{visit} was kept");
    }
}

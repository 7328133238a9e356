//! What partitions gain when nothing else wants the cores: the hub's sync work, without the
//! store and the sockets, on one partition against two.
//!
//! 400 synthetic households of 30 visits, Anna's, in memory. Before the clock starts, Anna's
//! devices (one per partition, as one socket talks to every partition) hold every household
//! and have recorded one visit in each, so the messages are made and no load generator runs
//! while it is timed. Timed: each partition's engine takes its share of the messages in
//! batches of up to 256 (vetting, applying, the chunk, the digest from the kept outline, the
//! audit rows, the answers) and settles each batch as stored; with two partitions, on two
//! threads. The commit itself is left out: on SQLite it is one writer whatever the partitions
//! (BENCHMARKS.md has the end-to-end figures). Beside them, as the machine's own ceiling for
//! two threads of this work, two whole one-partition hubs side by side, each with every
//! household: their throughput over one hub's is what two cores give here at best.
//!
//! Run with `cargo bench -p lots-server --bench engine`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::Criterion;
use lots_core::automerge::Automerge;
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::*;
use lots_server::store::{IndexRow, Role};
use lots_server::sync::engine::{Delivery, Engine, EngineConfig, Presence, partition_of, route};
use lots_server::sync::policy::Principal;

const HOUSEHOLDS: usize = 400;
const NOW: i64 = 1_725_000_000_000;
const BATCH: usize = 256;

fn now() -> Timestamp {
    Timestamp::from_millis(NOW)
}

/// The stored households, each with its id.
fn households() -> Vec<(DocumentId, Vec<u8>)> {
    (0..HOUSEHOLDS)
        .map(|index| {
            let spec = HouseholdSpec {
                district: DistrictId::new("district-norr").expect("valid"),
                staff: StaffId::new("u-anna").expect("valid"),
                device: DeviceId::new("d-import").expect("valid"),
                opened_on: Date::from_ymd(2024, 1, 8).expect("valid"),
                visits: 30,
                today: Date::from_ymd(2024, 9, 1).expect("valid"),
            };
            let doc = Generator::new(index as u64)
                .household(&spec)
                .expect("generates");
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&(index as u64).to_le_bytes());
            (DocumentId::from_bytes(id), doc.into_automerge().save())
        })
        .collect()
}

/// One partition, ready: its engine synced with Anna's device, and the messages carrying a
/// visit in each of its households, not yet received.
struct Ready {
    engine: Engine,
    messages: Vec<Vec<u8>>,
    stored: HashMap<DocumentId, Vec<u8>>,
}

const CONNECTION: ConnectionId = ConnectionId(1);

/// Every partition, synced with Anna's device over one connection (routed as the hub's handle
/// does), and the device's messages with a visit in every household, routed.
fn ready(partitions: usize, stored: &[(DocumentId, Vec<u8>)]) -> Vec<Ready> {
    let mut parts: Vec<Ready> = (0..partitions)
        .map(|partition| Ready {
            engine: Engine::new(&EngineConfig {
                peer_id: PeerId::new("server").expect("valid"),
                max_message_bytes: 4 << 20,
                skip_vetting: false,
                partition,
                partitions,
                memory_budget: usize::MAX,
            })
            .expect("an engine"),
            messages: Vec::new(),
            stored: HashMap::new(),
        })
        .collect();
    let mut device = SyncPeer::new(PeerConfig::new(
        PeerId::new("d-anna").expect("valid"),
        lots_core::Role::Client,
    ));
    for (document, bytes) in stored {
        let part = &mut parts[partition_of(document, partitions)];
        part.engine.index_row(IndexRow {
            document: *document,
            district: Some("district-norr".into()),
            assigned_staff: Some("u-anna".into()),
            heads: None,
        });
        part.stored.insert(*document, bytes.clone());
        device.insert_document(*document, Automerge::load(bytes).expect("loads"));
    }
    let principal = Principal {
        user_id: "u-anna".into(),
        device_id: "d-anna".into(),
        role: Role::Staff,
        districts: Vec::new(),
    };
    for part in &mut parts {
        part.engine.connect(now(), CONNECTION, principal.clone());
    }
    let connected = Input::Connected {
        connection: CONNECTION,
    };
    let mut outbox = sends(device.handle(now(), connected));
    // Synced: every household in memory on the server, both sides agreeing.
    while !outbox.is_empty() {
        route_all(&mut parts, std::mem::take(&mut outbox));
        for part in &mut parts {
            let messages = std::mem::take(&mut part.messages);
            run(&mut part.engine, &part.stored, messages);
            for delivery in part.engine.take_deliveries() {
                if let Delivery::Send(connection, bytes) = delivery {
                    let received = Input::Received { connection, bytes };
                    outbox.extend(sends(device.handle(now(), received)));
                }
            }
        }
    }
    let signature = Signature::new(
        StaffId::new("u-anna").expect("valid"),
        DeviceId::new("d-anna").expect("valid"),
        now(),
    );
    for (document, _) in stored {
        let doc = device.document_mut(document).expect("held");
        let mut household = HouseholdDoc::new(doc);
        if household.profile().expect("reads").status == CaseStatus::Closed {
            household.reopen_case(&signature).expect("reopens");
        }
        household
            .record_visit(
                &signature,
                &VisitId::new("v-bench").expect("valid"),
                VisitRecord {
                    held_at: now().plus_minutes(-30),
                    staff: StaffId::new("u-anna").expect("valid"),
                    present: Set::new(),
                    interpreter: None,
                    duration_minutes: 30,
                    topics: Set::new(),
                    notes: "Besök".into(),
                },
            )
            .expect("records");
        let change = Input::LocalChange {
            document: *document,
        };
        outbox.extend(sends(device.handle(now(), change)));
    }
    route_all(&mut parts, outbox);
    parts
}

/// Hands each message to the partitions the hub's handle would.
fn route_all(parts: &mut [Ready], messages: Vec<Vec<u8>>) {
    for bytes in messages {
        for partition in route(&bytes, parts.len()) {
            parts[partition].messages.push(bytes.clone());
        }
    }
}

fn sends(outputs: Vec<Output>) -> Vec<Vec<u8>> {
    outputs
        .into_iter()
        .filter_map(|output| match output {
            Output::Send { bytes, .. } => Some(bytes),
            _ => None,
        })
        .collect()
}

/// What a partition's driver does with messages, the commit left out: each batch is settled
/// as stored.
fn run(
    engine: &mut Engine,
    stored: &HashMap<DocumentId, Vec<u8>>,
    messages: Vec<Vec<u8>>,
) -> usize {
    let mut changed = 0;
    let mut messages = messages.into_iter().peekable();
    while messages.peek().is_some() {
        for bytes in messages.by_ref().take(BATCH) {
            if let Some(document) = engine.needs_document(&bytes)
                && engine.presence(&document) == Presence::OnDisk
            {
                engine.load(now(), document, &stored[&document]);
            }
            engine.received(now(), CONNECTION, bytes).expect("no panic");
        }
        let batch = engine.take_batch();
        changed += usize::from(!batch.writes.is_empty());
        engine.settle(now(), batch, Ok(&[]));
    }
    changed
}

/// Times only the partitions taking their messages, `partitions` threads at once.
fn timed(partitions: usize, stored: &[(DocumentId, Vec<u8>)], iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut parts = ready(partitions, stored);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for part in &mut parts {
                scope.spawn(|| {
                    let messages = std::mem::take(&mut part.messages);
                    let batches = run(&mut part.engine, &part.stored, messages);
                    assert!(batches > 0, "the visits were taken");
                });
            }
        });
        total += started.elapsed();
    }
    total
}

/// The machine's own ceiling for this work on two threads: two whole one-partition hubs, each
/// with every household, side by side (twice the work of one).
fn timed_side_by_side(stored: &[(DocumentId, Vec<u8>)], iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let mut parts: Vec<Ready> = (0..2).flat_map(|_| ready(1, stored)).collect();
        let started = Instant::now();
        std::thread::scope(|scope| {
            for part in &mut parts {
                scope.spawn(|| {
                    let messages = std::mem::take(&mut part.messages);
                    assert!(run(&mut part.engine, &part.stored, messages) > 0);
                });
            }
        });
        total += started.elapsed();
    }
    total
}

fn main() {
    let stored = households();
    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let mut group = criterion.benchmark_group("engine");
    group.throughput(criterion::Throughput::Elements(HOUSEHOLDS as u64));
    for partitions in [1, 2] {
        group.bench_function(
            format!("{HOUSEHOLDS}_visits/{partitions}_partitions"),
            |b| b.iter_custom(|iters| timed(partitions, &stored, iters)),
        );
    }
    group.throughput(criterion::Throughput::Elements(2 * HOUSEHOLDS as u64));
    group.bench_function(
        format!("{HOUSEHOLDS}_visits/two_whole_hubs_side_by_side"),
        |b| b.iter_custom(|iters| timed_side_by_side(&stored, iters)),
    );
    group.finish();
    criterion.final_summary();
}

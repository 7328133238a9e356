//! Sync cost after time apart: two phones share a 100-visit household, each records k visits
//! offline (k = 1, 10, 100), then they reconnect (each with the sync state it saved) and sync
//! through the sans-IO peer on the in-memory network.
//!
//! Prints the bytes on the wire (handshake, envelopes and all) beside the gzip size of the
//! new changes themselves, then times the sync with criterion.
//! Run with `cargo bench -p lots-core --bench sync`.

use std::hint::black_box;
use std::io::Write as _;

use criterion::{BatchSize, Criterion};
use lots_core::automerge::{ActorId, Automerge};
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::*;

const DOC: DocumentId = DocumentId::from_bytes([1; 16]);

fn base() -> HouseholdDoc {
    let spec = HouseholdSpec {
        district: DistrictId::new("district-norr").expect("valid"),
        staff: StaffId::new("u-anna").expect("valid"),
        device: DeviceId::new("d-phone").expect("valid"),
        opened_on: Date::from_ymd(2020, 1, 6).expect("valid"),
        visits: 100,
        today: Date::from_ymd(2045, 1, 1).expect("valid"),
    };
    let mut doc = Generator::new(100).household(&spec).expect("valid actions");
    if doc.household().expect("reads").profile.status == CaseStatus::Closed {
        let at = Timestamp::start_of(Date::from_ymd(2030, 1, 1).expect("valid"));
        doc.reopen_case(&Signature::new(spec.staff, spec.device, at))
            .expect("reopens");
    }
    doc
}

/// Records `k` visits on a fork of `base` written as `actor`.
fn offline(base: &HouseholdDoc, actor: ActorId, staff: &str, k: usize, seed: u64) -> HouseholdDoc {
    let mut doc = base.fork(actor);
    let member = doc
        .household()
        .expect("reads")
        .members
        .keys()
        .next()
        .cloned()
        .expect("a member");
    let start = Timestamp::start_of(Date::from_ymd(2031, 3, 2).expect("valid"));
    for index in 0..k {
        let held_at = start.plus_minutes(index as i64 * 24 * 60);
        let signature = Signature::new(
            StaffId::new(staff).expect("valid"),
            DeviceId::new(format!("d-{staff}")).expect("valid"),
            held_at.plus_minutes(90),
        );
        doc.record_visit(
            &signature,
            &VisitId::from_random(seed * 1_000 + index as u64),
            VisitRecord {
                held_at,
                staff: StaffId::new(staff).expect("valid"),
                present: [member.clone()].into_iter().collect(),
                interpreter: Some(Interpreter {
                    language: "so".into(),
                    mode: InterpreterMode::InPerson,
                }),
                duration_minutes: 45,
                topics: [Topic::Budget, Topic::Sfi].into_iter().collect(),
                notes: format!(
                    "Besök {index}: vi gick igenom räkningarna och bokade tid hos Skatteverket. \
                     Familjen tar själv kontakt med SFI-skolan inför nästa termin."
                ),
            },
        )
        .expect("records");
    }
    doc
}

/// Two phones that synced `base` before going offline, with their saved sync states.
fn network(left: &HouseholdDoc, right: &HouseholdDoc, base: &HouseholdDoc) -> MemoryNetwork {
    let mut net = MemoryNetwork::new();
    let server = net.add_peer("phone-b", Role::Server);
    let client = net.add_peer("phone-a", Role::Client);
    // Sync the shared base first so each side's saved state knows what they share.
    net.peers[client].insert_document(DOC, base.as_automerge().clone());
    net.peers[server].insert_document(DOC, base.as_automerge().clone());
    let link = net.connect(client, server);
    net.run_until_quiet();
    net.disconnect(link);
    net.peers[client].insert_document(DOC, left.as_automerge().clone());
    net.peers[server].insert_document(DOC, right.as_automerge().clone());
    net
}

fn gzip_size(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory").len()
}

/// The bytes a WebSocket with permessage-deflate (RFC 7692, context takeover, as browsers
/// negotiate by default) would carry for these messages: one deflate stream per direction,
/// flushed at each message's end.
fn deflated_size(delivered: &[(usize, Direction, Vec<u8>)]) -> usize {
    let mut streams = [
        flate2::Compress::new(flate2::Compression::default(), false),
        flate2::Compress::new(flate2::Compression::default(), false),
    ];
    let mut total = 0;
    for (_, direction, bytes) in delivered {
        let stream = &mut streams[usize::from(*direction == Direction::ToClient)];
        let mut out = Vec::with_capacity(bytes.len() + 64);
        let before = stream.total_out();
        stream
            .compress_vec(bytes, &mut out, flate2::FlushCompress::Sync)
            .expect("compressing in memory");
        while out.len() == out.capacity() {
            out.reserve(1024);
            stream
                .compress_vec(&[], &mut out, flate2::FlushCompress::Sync)
                .expect("compressing");
        }
        // RFC 7692 drops the trailing 00 00 ff ff of each sync flush.
        total += (stream.total_out() - before) as usize - 4;
    }
    total
}

fn new_changes(doc: &Automerge, base: &HouseholdDoc) -> Vec<u8> {
    doc.get_changes(&base.heads())
        .iter()
        .flat_map(|change| change.raw_bytes().to_vec())
        .collect()
}

fn main() {
    let base = base();
    println!(
        "k | protocol bytes | with permessage-deflate | gzip of the new changes | ratio raw | ratio deflate | messages"
    );
    let mut cases = Vec::new();
    for k in [1, 10, 100] {
        let left = offline(&base, ActorId::random(), "u-anna", k, 1);
        let right = offline(&base, ActorId::random(), "u-omar", k, 2);
        let mut net = network(&left, &right, &base);
        let before = net.bytes_delivered;
        net.record_deliveries = true;
        net.reconnect(0);
        let messages = net.run_until_quiet();
        let wire = net.bytes_delivered - before;
        let deflated = deflated_size(&net.delivered);
        let mut all = new_changes(left.as_automerge(), &base);
        all.extend(new_changes(right.as_automerge(), &base));
        let gzip = gzip_size(&all);
        let merged = net.peers[0].document(&DOC).expect("has it").get_heads();
        assert_eq!(
            merged,
            net.peers[1].document(&DOC).expect("has it").get_heads(),
            "phones converged"
        );
        println!(
            "{k} | {wire} | {deflated} | {gzip} | {:.2} | {:.2} | {messages}",
            wire as f64 / gzip as f64,
            deflated as f64 / gzip as f64
        );
        cases.push((k, left, right));
    }

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("sync_after_offline");
    for (k, left, right) in &cases {
        group.bench_function(format!("k={k}"), |b| {
            b.iter_batched(
                || network(left, right, &base),
                |mut net| {
                    net.reconnect(0);
                    black_box(net.run_until_quiet())
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
    criterion.final_summary();
}

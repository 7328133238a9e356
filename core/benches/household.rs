//! Criterion benchmarks of one household document: load, save, incremental save, the commit
//! of a recorded visit, a merge, and reading a caseload line's fields (whole, or caught up
//! after a visit), for households with 10, 100 and 1,000 visits.
//!
//! Run with `cargo bench -p lots-core --bench household`; figures go in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lots_core::automerge::ActorId;
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::*;

fn spec(visits: usize) -> HouseholdSpec {
    HouseholdSpec {
        district: DistrictId::new("district-norr").expect("valid"),
        staff: StaffId::new("u-anna").expect("valid"),
        device: DeviceId::new("d-phone").expect("valid"),
        opened_on: Date::from_ymd(2020, 1, 6).expect("valid"),
        visits,
        today: Date::from_ymd(2045, 1, 1).expect("valid"),
    }
}

/// A household with `visits` visits, all in the past.
pub fn household(visits: usize) -> HouseholdDoc {
    Generator::new(visits as u64)
        .household(&spec(visits))
        .expect("the generator takes valid actions")
}

/// The record of one more visit, on the day after the generated history.
pub fn next_visit(doc: &HouseholdDoc) -> (Signature, VisitRecord) {
    let household = doc.household().expect("reads");
    let last = household
        .visits
        .values()
        .map(|visit| visit.planned_at)
        .max()
        .expect("has visits");
    let held_at = last.plus_minutes(24 * 60);
    let signature = Signature::new(
        StaffId::new("u-anna").expect("valid"),
        DeviceId::new("d-phone").expect("valid"),
        held_at.plus_minutes(90),
    );
    let record = VisitRecord {
        held_at,
        staff: StaffId::new("u-anna").expect("valid"),
        present: household.members.keys().take(2).cloned().collect(),
        interpreter: Some(Interpreter {
            language: "ar".into(),
            mode: InterpreterMode::Phone,
        }),
        duration_minutes: 60,
        topics: [Topic::Budget, Topic::Letters, Topic::HousingSearch]
            .into_iter()
            .collect(),
        notes: "Vi gick igenom brevet från Försäkringskassan och gjorde en budget för månaden. \
                Familjen ska själv ringa hyresvärden om felanmälan; vi följer upp nästa vecka."
            .into(),
    };
    (signature, record)
}

fn reopened(doc: &HouseholdDoc) -> HouseholdDoc {
    // Generated cases may have been closed at the end; benchmark on an open case.
    let mut doc = doc.fork(ActorId::random());
    if doc.household().expect("reads").profile.status == CaseStatus::Closed {
        let (signature, _) = next_visit(&doc);
        doc.reopen_case(&signature).expect("reopens");
    }
    doc
}

fn benches(c: &mut Criterion) {
    for n_visits in [10, 100, 1_000] {
        let doc = reopened(&household(n_visits));
        let bytes = doc.save();
        let mut group = c.benchmark_group(format!("household/{n_visits}_visits"));
        if n_visits == 1_000 {
            group.sample_size(20);
        }
        group.bench_function("load", |b| {
            b.iter(|| HouseholdDoc::load(black_box(&bytes), ActorId::random()).expect("loads"))
        });
        group.bench_function("save", |b| b.iter(|| black_box(&doc).save()));
        let (signature, record) = next_visit(&doc);
        let heads = doc.heads();
        let mut with_visit = doc.fork(ActorId::random());
        with_visit
            .record_visit(&signature, &VisitId::from_random(1), record.clone())
            .expect("records");
        group.bench_function("save_incremental", |b| {
            b.iter(|| with_visit.save_after(black_box(&heads)))
        });
        group.bench_function("record_visit", |b| {
            b.iter_batched(
                || doc.fork(ActorId::random()),
                |mut doc| {
                    doc.record_visit(&signature, &VisitId::from_random(2), record.clone())
                        .expect("records");
                    doc
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("merge_one_visit_each", |b| {
            b.iter_batched(
                || {
                    let mut left = doc.fork(ActorId::random());
                    let mut right = doc.fork(ActorId::random());
                    left.record_visit(&signature, &VisitId::from_random(3), record.clone())
                        .expect("records");
                    right
                        .record_visit(&signature, &VisitId::from_random(4), record.clone())
                        .expect("records");
                    (left, right)
                },
                |(mut left, mut right)| {
                    left.merge(&mut right).expect("merges");
                    left
                },
                BatchSize::LargeInput,
            )
        });
        // The caseload line's fields: read whole (the household, or its outline and a walk
        // for conflicts), or an outline kept from before a recorded visit caught up to it.
        group.bench_function("household_and_conflicts", |b| {
            b.iter(|| {
                let doc = black_box(&with_visit);
                (
                    doc.household().expect("reads"),
                    doc.conflicts().expect("walks"),
                )
            })
        });
        group.bench_function("outline", |b| {
            b.iter(|| black_box(&with_visit).outline().expect("reads"))
        });
        let before = doc.outline().expect("reads");
        group.bench_function("outline_caught_up_after_a_visit", |b| {
            b.iter_batched(
                || before.clone(),
                |mut outline| {
                    with_visit
                        .catch_up_outline(&mut outline)
                        .expect("catches up");
                    outline
                },
                BatchSize::SmallInput,
            )
        });
        group.finish();
        println!(
            "household/{n_visits}_visits: saved size {} bytes",
            bytes.len()
        );
    }
}

criterion_group!(household_benches, benches);
criterion_main!(household_benches);

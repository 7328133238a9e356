//! Criterion benchmarks of the tertial report over a caseload of 500 synthetic households in
//! three districts, each with two years of weekly or fortnightly visits: the report from
//! household values, reading the values from the documents as they stood at the period's end,
//! and writing every table as CSV.
//!
//! Run with `cargo bench -p lots-core --bench report`; figures go in BENCHMARKS.md.

use std::hint::black_box;
use std::rc::Rc;

use criterion::{Criterion, criterion_group, criterion_main};
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::*;

const HOUSEHOLDS: usize = 500;
const DISTRICTS: [&str; 3] = ["norrmalm", "kungsholmen", "ostermalm"];

/// 500 households opened over 2024, each followed for two years.
fn caseload() -> Vec<HouseholdDoc> {
    let mut generator = Generator::new(500);
    let first = Date::from_ymd(2024, 1, 8).expect("valid");
    (0..HOUSEHOLDS)
        .map(|index| {
            let opened_on = first.plus_days((index % 240) as i64);
            let spec = HouseholdSpec {
                district: DistrictId::new(DISTRICTS[index % DISTRICTS.len()]).expect("valid"),
                staff: StaffId::new(format!("u-staff-{}", index % 12)).expect("valid"),
                device: DeviceId::new(format!("d-phone-{}", index % 12)).expect("valid"),
                opened_on,
                // Two years of weekly visits; fortnightly households stop after two years
                // too, since nothing is booked more than four weeks past "today".
                visits: 104,
                today: opened_on.plus_days(730),
            };
            generator
                .household(&spec)
                .expect("the generator takes valid actions")
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let docs = caseload();
    let tertial: Tertial = "2025 T3".parse().expect("valid");
    let period = tertial.period();
    let households = households_at_end(&docs, period).expect("reads");
    let visits: usize = households
        .iter()
        .map(|household| household.visits.len())
        .sum();
    let report = tertial_report(&households, tertial, &Scope::AllDistricts);
    println!(
        "{} households, {visits} visits in all; in {tertial}: {} households supported, {} \
         visits done, {} people supported",
        households.len(),
        report.supported.count,
        report.visits.done.count,
        report.supported.people.total(),
    );

    let mut group = c.benchmark_group(format!("report/{HOUSEHOLDS}_households"));
    group.bench_function("tertial_report, all districts", |b| {
        b.iter(|| {
            tertial_report(
                black_box(&households),
                black_box(tertial),
                &Scope::AllDistricts,
            )
        })
    });
    let norrmalm = Scope::District(DistrictId::new("norrmalm").expect("valid"));
    group.bench_function("tertial_report, one district", |b| {
        b.iter(|| tertial_report(black_box(&households), black_box(tertial), &norrmalm))
    });
    group.bench_function("every table as CSV", |b| {
        b.iter(|| {
            black_box(&report)
                .tables()
                .iter()
                .map(|table| table.to_csv(&MachineKeys).expect("writes").len())
                .sum::<usize>()
        })
    });
    group.sample_size(10);
    group.bench_function("households_at_end (documents to values)", |b| {
        b.iter(|| households_at_end(black_box(&docs), period).expect("reads"))
    });
    // The desk keeps households as at an instant between renders: after the first read,
    // every household is a lookup (and a new change signed after the instant keeps it so).
    let current: Vec<Rc<Household>> = docs
        .iter()
        .map(|doc| Rc::new(doc.household().expect("reads")))
        .collect();
    let ids: Vec<DocumentId> = (0..docs.len() as u64)
        .map(|index| {
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&index.to_le_bytes());
            DocumentId::from_bytes(bytes)
        })
        .collect();
    group.bench_function(
        "Timeline::of every document (first and last signing instants)",
        |b| {
            b.iter(|| {
                docs.iter()
                    .map(|doc| Timeline::of(black_box(doc)))
                    .collect::<Vec<_>>()
            })
        },
    );
    let timelines: Vec<Timeline> = docs.iter().map(Timeline::of).collect();
    let mut cache = AsOfCache::new();
    let end = period.end_instant();
    group.bench_function("AsOfCache: every household as at the end, kept", |b| {
        b.iter(|| {
            docs.iter()
                .zip(&ids)
                .zip(&current)
                .zip(&timelines)
                .filter_map(|(((doc, id), now), timeline)| {
                    cache
                        .household_at(
                            *id,
                            timeline,
                            end,
                            || now.clone(),
                            || doc.household_at(end).map_err(Box::new),
                        )
                        .expect("reads")
                })
                .count()
        })
    });
    group.finish();
}

criterion_group!(report, benches);
criterion_main!(report);

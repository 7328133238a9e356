//! Every released schema version keeps a fixture document in `tests/fixtures/` that must keep
//! loading, and reading as it did when it was written (the JSON beside it).
//!
//! To add the fixture of a new schema version, bump `SCHEMA_VERSION`, then run
//! `cargo run -p lots-core --example write_fixture` once and commit the files: until then
//! this test fails for the version without a fixture.

#![cfg(not(target_arch = "wasm32"))] // The browser's share of these runs in `wasm.rs`.
#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::path::PathBuf;

use lots_core::automerge::ActorId;
use lots_core::*;

fn fixture(version: u64, extension: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/household-v{version}.{extension}"))
}

#[test]
fn every_released_version_still_loads_and_reads_the_same() {
    for version in 1..=SCHEMA_VERSION {
        let bytes = std::fs::read(fixture(version, "automerge"))
            .unwrap_or_else(|error| panic!("schema version {version} has no fixture: {error}"));
        let expected = std::fs::read_to_string(fixture(version, "json")).unwrap();
        let doc = HouseholdDoc::load(&bytes, ActorId::random()).unwrap_or_else(|error| {
            panic!("the version {version} fixture no longer loads: {error}")
        });
        let household = doc.household().unwrap();
        let actual = serde_json::to_string_pretty(&household).unwrap() + "\n";
        assert_eq!(
            actual, expected,
            "the version {version} fixture reads differently"
        );
        assert!(!household.visits.is_empty() && !household.members.is_empty());
    }
}

//! Writes the fixture of the current schema version (`tests/fixtures/household-v<N>.*`):
//! run once after bumping `SCHEMA_VERSION`, then commit the files. `tests/fixtures.rs`
//! checks that every released version's fixture still loads and reads as it did.

use std::path::PathBuf;

use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::*;

fn fixture(version: u64, extension: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/household-v{version}.{extension}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = fixture(SCHEMA_VERSION, "automerge");
    if path.exists() {
        return Err(format!(
            "{} exists: a released version's fixture is never rewritten",
            path.display()
        )
        .into());
    }
    let spec = HouseholdSpec {
        district: DistrictId::new("district-norr")?,
        staff: StaffId::new("u-anna")?,
        device: DeviceId::new("d-fixture")?,
        opened_on: Date::from_ymd(2023, 3, 6).ok_or("a date")?,
        visits: 12,
        today: Date::from_ymd(2023, 6, 30).ok_or("a date")?,
    };
    let doc = Generator::new(2023).household(&spec)?;
    std::fs::write(&path, doc.save())?;
    let json = serde_json::to_string_pretty(&doc.household()?)?;
    std::fs::write(fixture(SCHEMA_VERSION, "json"), json + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}

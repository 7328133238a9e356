//! Tests of `admin.rs`.

use super::*;
use crate::api::StaffCaseload;
use crate::i18n::{Language, set_language};

fn device(id: &str, user: &str, seen: i64, revoked: Option<i64>) -> Device {
    Device {
        id: id.into(),
        user_id: user.into(),
        label: "Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36".into(),
        created_at: 0,
        last_seen_at: seen,
        revoked_at: revoked,
    }
}

/// A staff member with no district (the user forms' tests use it too).
pub(crate) fn person(id: &str, name: &str) -> User {
    User {
        id: id.into(),
        username: id.into(),
        display_name: name.into(),
        role: Role::Staff,
        districts: vec![],
        disabled: false,
    }
}

#[test]
fn the_servers_refusals_read_as_words() {
    set_language(Language::English);
    let taken = ApiError::Server("the username \"anna\" is taken".into());
    assert_eq!(explain(&taken), t("admin-error-username-taken"));
    let weak = ApiError::Server("a password needs at least 12 characters".into());
    assert!(explain(&weak).contains("12"), "{}", explain(&weak));
    let own = ApiError::Refused {
        code: "own_role".into(),
        message: "you cannot change your own role".into(),
    };
    assert_eq!(explain(&own), t("admin-error-own-account"));
    let unknown = ApiError::Server("something new".into());
    assert!(explain(&unknown).contains("something new"));
    set_language(Language::Swedish);
    assert_ne!(explain(&taken), "admin-error-username-taken");
}

#[test]
fn a_suggested_password_is_long_enough() {
    let password = suggested_password(&[7; 16]);
    assert_eq!(password.len(), 19);
    assert!(password.chars().count() >= MIN_PASSWORD_CHARS);
}

#[test]
fn district_ids_are_made_from_names() {
    assert_eq!(district_id("Östermalm"), "district-ostermalm");
    assert_eq!(
        district_id("  Hässelby–Vällingby "),
        "district-hasselby-vallingby"
    );
    assert_eq!(district_id("Skärholmen 2"), "district-skarholmen-2");
}

#[test]
fn devices_in_use_come_first_newest_first() {
    set_language(Language::English);
    let rows = device_rows(
        &[
            device("d-1", "u-anna", 10, Some(11)),
            device("d-2", "u-anna", 5, None),
            device("d-3", "u-omar", 20, None),
        ],
        &[person("u-anna", "Anna Lind")],
    );
    let order: Vec<_> = rows.iter().map(|row| row.device.id.as_str()).collect();
    assert_eq!(order, ["d-3", "d-2", "d-1"]);
    assert_eq!(rows[1].owner, "Anna Lind");
    assert_eq!(
        rows[0].owner, "u-omar",
        "an unknown owner shows as their id"
    );
    assert_eq!(device_name(&rows[0].device.label), "Chrome on Android");
    assert_eq!(device_name("Annas telefon"), "Annas telefon");
}

#[test]
fn the_caseloads_table_counts_per_district_and_names_no_household() {
    set_language(Language::English);
    let person = |id: &str, name: &str, by_district: &[(&str, i64)]| StaffCaseload {
        user_id: id.into(),
        display_name: name.into(),
        role: Role::Staff,
        districts: vec![],
        disabled: false,
        households: by_district.iter().map(|(_, count)| count).sum(),
        households_by_district: by_district
            .iter()
            .map(|(district, count)| ((*district).to_owned(), *count))
            .collect(),
    };
    let district = |id: &str, name: &str, households, unassigned| DistrictCaseload {
        district: id.into(),
        name: name.into(),
        households,
        unassigned,
    };
    let caseloads = Caseloads {
        staff: vec![
            person("u-omar", "Omar Said", &[("district-kungsholmen", 20)]),
            person("u-anna", "Anna Lind", &[("district-norrmalm", 19), ("", 1)]),
        ],
        districts: vec![
            district("", "(no district)", 1, 0),
            district("district-norrmalm", "Norrmalm", 20, 1),
            district("district-kungsholmen", "Kungsholmen", 20, 0),
        ],
    };
    let table = caseload_table(&caseloads);
    let names: Vec<_> = table
        .districts
        .iter()
        .map(|(_, name)| name.as_str())
        .collect();
    assert_eq!(names, ["Kungsholmen", "Norrmalm", "No district"]);
    let people: Vec<_> = table.rows.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(people, ["Anna Lind", "Omar Said"]);
    assert_eq!(table.rows[0].counts, [0, 19, 1]);
    assert_eq!(table.rows[0].total, 20);
    assert_eq!(table.unassigned, [0, 1, 0]);
    assert_eq!(table.totals, [20, 20, 1]);
}

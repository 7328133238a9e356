//! Tests of `desk.rs`.

use lots_core::{Date, Period, Tertial};

use super::is_tertial_end;

#[test]
fn only_a_tertials_last_instant_is_kept_on_the_device() {
    let april = Date::from_ymd(2026, 4, 30).unwrap();
    let tertial = Tertial::containing(april);
    assert!(is_tertial_end(tertial.period().end_instant()));
    let day = Date::from_ymd(2026, 3, 12).unwrap();
    assert!(!is_tertial_end(
        Period::new(day, day).unwrap().end_instant()
    ));
    // A day picked that is a tertial's last is the same instant, and kept.
    assert!(is_tertial_end(
        Period::new(april, april).unwrap().end_instant()
    ));
}

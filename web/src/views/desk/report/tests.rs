//! Tests of `report.rs`.

use super::{kronor, parse_kronor};

#[test]
fn amounts_in_kronor_are_read_to_the_ore_and_nonsense_is_refused() {
    assert_eq!(parse_kronor("2 800 000"), Ok(280_000_000));
    assert_eq!(parse_kronor("12,5"), Ok(1_250));
    assert_eq!(parse_kronor("12.05"), Ok(1_205));
    for bad in ["", "abc", "1,234", "-5", "1,2,3", "99999999999999999999"] {
        assert!(parse_kronor(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn kronor_are_grouped_in_thousands_with_ore_after_a_comma() {
    assert_eq!(kronor(163_333_333), "1\u{a0}633\u{a0}333,33\u{a0}kr");
    assert_eq!(kronor(5), "0,05\u{a0}kr");
    assert_eq!(kronor(100_000), "1\u{a0}000,00\u{a0}kr");
}

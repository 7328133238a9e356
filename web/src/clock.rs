//! The device's clock, set right by the server's: the offset the app signs with.
//!
//! Every change carries the instant it was signed, and the server refuses one signed more
//! than ten minutes ahead of its own clock (core's `MAX_SIGNED_AHEAD_MINUTES`); a phone whose
//! clock is behind would backdate what it records. So the app learns the server's time from
//! `GET /api/me` on each connection and signs with the device's clock plus that offset,
//! offline too (the last offset learned is kept on the device).

/// The most a round trip to the server may take for its time to be used: the estimate is
/// off by at most half of it.
pub const MAX_ROUND_TRIP_MS: f64 = 30_000.0;

/// The server's clock minus the device's, in milliseconds, from one round trip: the server
/// read its clock (`server_time`) somewhere between the device's `sent_at` and
/// `received_at`, most likely halfway. `None` when the round trip went backwards (the
/// device's clock was changed meanwhile) or took too long to say.
pub fn offset_ms(server_time: i64, sent_at: f64, received_at: f64) -> Option<i64> {
    let round_trip = received_at - sent_at;
    if !(0.0..=MAX_ROUND_TRIP_MS).contains(&round_trip) {
        return None;
    }
    let midpoint = sent_at + round_trip / 2.0;
    Some(server_time - midpoint.round() as i64)
}

/// The instant to sign with: the device's clock set right by `offset_ms`.
pub fn corrected(device_ms: f64, offset_ms: i64) -> i64 {
    device_ms.round() as i64 + offset_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_behind_is_set_right_from_the_middle_of_the_round_trip() {
        // The device is an hour behind; the server answered 200 ms after the question.
        let device = 1_700_000_000_000.0;
        let server = 1_700_000_000_000 + 3_600_000 + 100;
        let offset = offset_ms(server, device, device + 200.0).unwrap();
        assert_eq!(offset, 3_600_000);
        assert_eq!(corrected(device + 200.0, offset), 1_700_003_600_200);
    }

    #[test]
    fn a_clock_ahead_gives_a_negative_offset() {
        let device = 1_700_000_000_000.0;
        let server = 1_700_000_000_000 - 15 * 60_000 + 20;
        assert_eq!(offset_ms(server, device, device + 40.0), Some(-15 * 60_000));
    }

    #[test]
    fn a_round_trip_that_cannot_be_trusted_is_not_used() {
        let device = 1_700_000_000_000.0;
        assert_eq!(offset_ms(1, device, device - 1.0), None);
        assert_eq!(offset_ms(1, device, device + 60_000.0), None);
    }
}

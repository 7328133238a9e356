//! Instants and calendar dates, as core sees them.
//!
//! Core never reads the clock (`SystemTime::now()` panics on `wasm32-unknown-unknown`, and a
//! test must be able to choose the time): every action takes a [`Timestamp`] from the caller.
//! Instants are UTC milliseconds; [`Date`] is a civil date with no time zone, as written on a
//! residence permit or a birth certificate. An instant's date is its date in Sweden
//! (Europe/Stockholm): a visit at 00:30 on 1 May belongs to May, in the reports too, and
//! "today" turns at midnight Swedish time, wherever the device's clock is set.

use std::fmt;
use std::str::FromStr;

use autosurgeon::{Hydrate, HydrateError, Reconcile, Reconciler};

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Timestamp(i64);

impl Timestamp {
    /// An instant from milliseconds since the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, as Automerge records change times.
    pub const fn as_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The instant `minutes` later.
    pub const fn plus_minutes(self, minutes: i64) -> Self {
        Self(self.0 + minutes * 60_000)
    }

    /// The calendar date of this instant in Sweden.
    pub fn date(self) -> Date {
        self.plus_minutes(swedish_offset_minutes(self)).utc_date()
    }

    /// The calendar date of this instant in UTC.
    fn utc_date(self) -> Date {
        Date::from_days_since_epoch(self.0.div_euclid(86_400_000))
    }

    /// Minutes past midnight in Sweden.
    pub fn swedish_minutes_of_day(self) -> i64 {
        self.plus_minutes(swedish_offset_minutes(self))
            .0
            .rem_euclid(86_400_000)
            / 60_000
    }

    /// Midnight in Sweden at the start of `date`.
    pub fn start_of(date: Date) -> Self {
        Self::swedish(date, 0)
    }

    /// The instant a Swedish clock shows `minutes` past midnight on `date`. In the hour
    /// that happens twice in October it is the first (summer time); a time in the hour
    /// skipped in March is read as winter time (02:30 becomes 03:30).
    pub fn swedish(date: Date, minutes: i64) -> Self {
        let wall = Self(date.days_since_epoch() * 86_400_000).plus_minutes(minutes);
        [120, 60]
            .into_iter()
            .map(|offset| (offset, wall.plus_minutes(-offset)))
            .find(|(offset, at)| swedish_offset_minutes(*at) == *offset)
            .map_or_else(|| wall.plus_minutes(-60), |(_, at)| at)
    }
}

/// Sweden's offset from UTC at `at`, in minutes: 60 (CET), or 120 (CEST) from 01:00 UTC on
/// the last Sunday of March to 01:00 UTC on the last Sunday of October.
///
/// Written here rather than taken from a time-zone library: the phone's WebAssembly would
/// otherwise carry a time-zone database (or a library sized for every zone) to answer for
/// one zone, whose rule is tzdata's own for Europe/Stockholm since 1996
/// (`CET-1CEST,M3.5.0,M10.5.0/3`). Instants before 1996 — none in Lots — get today's rule.
pub fn swedish_offset_minutes(at: Timestamp) -> i64 {
    let year = at.utc_date().year();
    let summer_starts = last_sunday(year, 3);
    let summer_ends = last_sunday(year, 10);
    let one_am_utc = |date: Date| Timestamp(date.days_since_epoch() * 86_400_000 + 3_600_000);
    if one_am_utc(summer_starts) <= at && at < one_am_utc(summer_ends) {
        120
    } else {
        60
    }
}

/// The last Sunday of a month with 31 days (March, October).
fn last_sunday(year: i32, month: u8) -> Date {
    let last = Date::from_ymd(year, month, 31).unwrap_or(Date(time::Date::MIN));
    last.plus_days(-i64::from(last.0.weekday().number_days_from_sunday()))
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self.utc_date();
        let millis_of_day = self.0.rem_euclid(86_400_000);
        let minutes = millis_of_day / 60_000;
        write!(f, "{date}T{:02}:{:02}Z", minutes / 60, minutes % 60)
    }
}

impl Reconcile for Timestamp {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.timestamp(self.0)
    }
}

impl Hydrate for Timestamp {
    fn hydrate_scalar(
        value: std::borrow::Cow<'_, automerge::ScalarValue>,
    ) -> Result<Self, HydrateError> {
        match value.as_ref() {
            automerge::ScalarValue::Timestamp(millis) | automerge::ScalarValue::Int(millis) => {
                Ok(Self(*millis))
            }
            other => Err(HydrateError::unexpected("a timestamp", other.to_string())),
        }
    }
}

/// Why a string is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a date of the form YYYY-MM-DD")]
pub struct DateError {
    input: String,
}

/// A calendar date (proleptic Gregorian, no time zone), stored in documents as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

impl Date {
    /// A date from year, month (1–12) and day, or `None` when no such day exists.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = time::Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Self)
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The month, 1–12.
    pub fn month(self) -> u8 {
        self.0.month() as u8
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.0.day()
    }

    fn days_since_epoch(self) -> i64 {
        i64::from(self.0.to_julian_day()) - i64::from(UNIX_EPOCH_JULIAN_DAY)
    }

    fn from_days_since_epoch(days: i64) -> Self {
        let julian = days + i64::from(UNIX_EPOCH_JULIAN_DAY);
        let julian = i32::try_from(julian).unwrap_or(if julian < 0 { i32::MIN } else { i32::MAX });
        Self(
            time::Date::from_julian_day(julian).unwrap_or(if julian < 0 {
                time::Date::MIN
            } else {
                time::Date::MAX
            }),
        )
    }

    /// The date `n` days later (earlier when negative).
    pub fn plus_days(self, n: i64) -> Self {
        Self::from_days_since_epoch(self.days_since_epoch() + n)
    }

    /// The same day of the month `n` months later; the last day of the month when that day
    /// does not exist (2024-01-31 plus one month is 2024-02-29), as Swedish authorities count.
    pub fn plus_months(self, n: i32) -> Self {
        let months_total = self.year() * 12 + i32::from(self.month()) - 1 + n;
        let year = months_total.div_euclid(12);
        let month = (months_total.rem_euclid(12) + 1) as u8;
        let mut day = self.day();
        loop {
            if let Some(date) = Self::from_ymd(year, month, day) {
                return date;
            }
            day -= 1;
        }
    }

    /// Whole years from `self` to `later` (an age), zero when `later` is earlier.
    pub fn whole_years_until(self, later: Date) -> u32 {
        if later < self {
            return 0;
        }
        let mut years = later.year() - self.year();
        if (later.month(), later.day()) < (self.month(), self.day()) {
            years -= 1;
        }
        years.max(0) as u32
    }

    /// Days from `self` to `later`, negative when `later` is earlier.
    pub fn days_until(self, later: Date) -> i64 {
        later.days_since_epoch() - self.days_since_epoch()
    }
}

const UNIX_EPOCH_JULIAN_DAY: i32 = 2_440_588;

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

/// Read by hand, not with `time`'s parser: see the workspace's `Cargo.toml` on why its
/// parsing is not enabled.
impl FromStr for Date {
    type Err = DateError;
    fn from_str(input: &str) -> Result<Self, DateError> {
        let error = || DateError {
            input: input.to_owned(),
        };
        let mut parts = input.splitn(3, '-');
        let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(error());
        };
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return Err(error());
        }
        let year = year.parse().map_err(|_| error())?;
        let month = month.parse().map_err(|_| error())?;
        let day = day.parse().map_err(|_| error())?;
        Self::from_ymd(year, month, day).ok_or_else(error)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Reconcile for Date {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
        reconciler.str(self.to_string())
    }
}

impl Hydrate for Date {
    fn hydrate_string(value: &'_ str) -> Result<Self, HydrateError> {
        value
            .parse()
            .map_err(|error: DateError| HydrateError::unexpected("a date", error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(date("2024-02-29").to_string(), "2024-02-29");
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2024-2-1".parse::<Date>().is_err());
        assert!("".parse::<Date>().is_err());
        assert!("2024-01-01-01".parse::<Date>().is_err());
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        assert_eq!(date("2024-01-31").plus_months(1), date("2024-02-29"));
        assert_eq!(date("2021-05-15").plus_months(36), date("2024-05-15"));
        assert_eq!(date("2024-03-31").plus_months(-1), date("2024-02-29"));
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(date("2000-06-15").whole_years_until(date("2018-06-14")), 17);
        assert_eq!(date("2000-06-15").whole_years_until(date("2018-06-15")), 18);
        assert_eq!(date("2000-06-15").whole_years_until(date("1999-01-01")), 0);
    }

    #[test]
    fn timestamps_map_to_swedish_dates() {
        // Winter: midnight in Sweden is 23:00 UTC the day before.
        let midnight = Timestamp::start_of(date("2025-03-01"));
        assert_eq!(midnight.to_string(), "2025-02-28T23:00Z");
        assert_eq!(midnight.date(), date("2025-03-01"));
        assert_eq!(midnight.plus_minutes(-1).date(), date("2025-02-28"));
        assert_eq!(midnight.plus_minutes(90).swedish_minutes_of_day(), 90);
        // Summer: 22:00 UTC. A visit at 00:30 on 1 May is in May.
        let may = Timestamp::start_of(date("2026-05-01"));
        assert_eq!(may.to_string(), "2026-04-30T22:00Z");
        assert_eq!(may.plus_minutes(30).date(), date("2026-05-01"));
        assert_eq!(may.plus_minutes(-30).date(), date("2026-04-30"));
        assert_eq!(Timestamp::from_millis(-1).date(), date("1970-01-01"));
        assert_eq!(
            Timestamp::from_millis(-3_600_001).date(),
            date("1969-12-31")
        );
    }

    #[test]
    fn summer_time_starts_and_ends_on_the_last_sundays_at_one_utc() {
        let at = |text: &str, hour: i64, minute: i64| {
            let utc_midnight = Timestamp(date(text).days_since_epoch() * 86_400_000);
            utc_midnight.plus_minutes(hour * 60 + minute)
        };
        // 2026: 29 March and 25 October.
        assert_eq!(swedish_offset_minutes(at("2026-03-29", 0, 59)), 60);
        assert_eq!(swedish_offset_minutes(at("2026-03-29", 1, 0)), 120);
        assert_eq!(swedish_offset_minutes(at("2026-10-25", 0, 59)), 120);
        assert_eq!(swedish_offset_minutes(at("2026-10-25", 1, 0)), 60);
        // 2027: 28 March and 31 October (a month ending on a Sunday).
        assert_eq!(swedish_offset_minutes(at("2027-03-28", 1, 0)), 120);
        assert_eq!(swedish_offset_minutes(at("2027-10-31", 0, 59)), 120);
        assert_eq!(swedish_offset_minutes(at("2027-10-31", 1, 0)), 60);
        // Local clock: 01:59 CET, then 03:00 CEST.
        assert_eq!(at("2026-03-29", 0, 59).swedish_minutes_of_day(), 119);
        assert_eq!(at("2026-03-29", 1, 0).swedish_minutes_of_day(), 180);
        // Wall-clock times on the days the clock changes.
        assert_eq!(
            Timestamp::swedish(date("2026-03-29"), 10 * 60),
            at("2026-03-29", 8, 0)
        );
        assert_eq!(
            Timestamp::swedish(date("2026-03-29"), 150),
            at("2026-03-29", 1, 30)
        );
        assert_eq!(
            Timestamp::swedish(date("2026-10-25"), 150),
            at("2026-10-25", 0, 30)
        );
        assert_eq!(
            Timestamp::swedish(date("2026-10-25"), 10 * 60),
            at("2026-10-25", 9, 0)
        );
        // Every midnight of two years maps back to its own date.
        let mut day = date("2026-01-01");
        while day < date("2028-01-01") {
            let midnight = Timestamp::start_of(day);
            assert_eq!(midnight.date(), day);
            assert_eq!(midnight.plus_minutes(-1).date(), day.plus_days(-1));
            assert_eq!(midnight.swedish_minutes_of_day(), 0);
            day = day.plus_days(1);
        }
    }
}

//! Reporting periods: the tertial ("2026 T1": January–April, May–August, September–December)
//! and any span of whole days.

use std::fmt;
use std::str::FromStr;

use crate::calendar::{Date, Timestamp};

/// A span of whole calendar days, both ends included. Days are UTC dates, as
/// [`Timestamp::date`] gives them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "RawPeriod")]
pub struct Period {
    start: Date,
    end: Date,
}

/// Why a period cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a period cannot end ({end}) before it starts ({start})")]
pub struct PeriodError {
    /// The first day asked for.
    pub start: Date,
    /// The last day asked for.
    pub end: Date,
}

/// A period as JSON holds it, checked by [`Period::new`] when read.
#[derive(serde::Deserialize)]
struct RawPeriod {
    start: Date,
    end: Date,
}

impl TryFrom<RawPeriod> for Period {
    type Error = PeriodError;

    fn try_from(raw: RawPeriod) -> Result<Self, PeriodError> {
        Period::new(raw.start, raw.end)
    }
}

impl Period {
    /// The days from `start` to `end`, both included.
    pub fn new(start: Date, end: Date) -> Result<Self, PeriodError> {
        if end < start {
            return Err(PeriodError { start, end });
        }
        Ok(Self { start, end })
    }

    /// The first day.
    pub fn start(self) -> Date {
        self.start
    }

    /// The last day.
    pub fn end(self) -> Date {
        self.end
    }

    /// Whether `date` lies in the period.
    pub fn contains(self, date: Date) -> bool {
        (self.start..=self.end).contains(&date)
    }

    /// The last instant of the period: one millisecond before the day after its end. Pass
    /// it to [`HouseholdDoc::household_at`](crate::HouseholdDoc::household_at) to read a
    /// household as it stood when the period closed.
    pub fn end_instant(self) -> Timestamp {
        Timestamp::from_millis(Timestamp::start_of(self.end.plus_days(1)).as_millis() - 1)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.start, self.end)
    }
}

/// One of the year's three reporting periods: part 1 is January–April, part 2 May–August,
/// part 3 September–December. Written "2026 T1".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tertial {
    year: i32,
    part: u8,
    // Both dates are worked out once, in `new`, so that reading them cannot fail.
    start: Date,
    end: Date,
}

/// Why a tertial cannot be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TertialError {
    /// The text is not of the form "2026 T1".
    #[error("{input:?} is not a tertial; write the year and T1, T2 or T3, as in \"2026 T1\"")]
    Format {
        /// The text given.
        input: String,
    },
    /// The part is not 1, 2 or 3.
    #[error("a year has tertials 1, 2 and 3; there is no tertial {part}")]
    Part {
        /// The part asked for.
        part: u8,
    },
    /// The year lies outside the calendar core can hold.
    #[error("year {year} is outside the calendar (years -9999 to 9999)")]
    Year {
        /// The year asked for.
        year: i32,
    },
}

impl Tertial {
    /// Tertial `part` (1, 2 or 3) of `year`.
    pub fn new(year: i32, part: u8) -> Result<Self, TertialError> {
        if !(1..=3).contains(&part) {
            return Err(TertialError::Part { part });
        }
        let first_month = 1 + (part - 1) * 4;
        // The last months are April, August and December: 30, 31 and 31 days.
        let last_day = if part == 1 { 30 } else { 31 };
        match (
            Date::from_ymd(year, first_month, 1),
            Date::from_ymd(year, first_month + 3, last_day),
        ) {
            (Some(start), Some(end)) => Ok(Self {
                year,
                part,
                start,
                end,
            }),
            _ => Err(TertialError::Year { year }),
        }
    }

    /// The tertial that `date` falls in.
    pub fn containing(date: Date) -> Self {
        let part = 1 + (date.month() - 1) / 4;
        Self::new(date.year(), part).unwrap_or_else(|error| {
            unreachable!("the year and month of an existing date make a tertial: {error}")
        })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The part: 1, 2 or 3.
    pub fn part(self) -> u8 {
        self.part
    }

    /// The first day: 1 January, 1 May or 1 September.
    pub fn start(self) -> Date {
        self.start
    }

    /// The last day: 30 April, 31 August or 31 December.
    pub fn end(self) -> Date {
        self.end
    }

    /// The tertial as a span of days.
    pub fn period(self) -> Period {
        Period {
            start: self.start,
            end: self.end,
        }
    }

    /// The tertial after this one; `None` after 9999 T3.
    pub fn next(self) -> Option<Self> {
        match self.part {
            3 => Self::new(self.year.checked_add(1)?, 1).ok(),
            part => Self::new(self.year, part + 1).ok(),
        }
    }

    /// The tertial before this one; `None` before -9999 T1.
    pub fn previous(self) -> Option<Self> {
        match self.part {
            1 => Self::new(self.year.checked_sub(1)?, 3).ok(),
            part => Self::new(self.year, part - 1).ok(),
        }
    }
}

impl From<Tertial> for Period {
    fn from(tertial: Tertial) -> Self {
        tertial.period()
    }
}

impl fmt::Display for Tertial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} T{}", self.year, self.part)
    }
}

impl FromStr for Tertial {
    type Err = TertialError;

    /// Reads "2026 T1". The space may be left out and the T may be lower case ("2026t1"),
    /// as people type it; nothing else is accepted.
    fn from_str(input: &str) -> Result<Self, TertialError> {
        let format = || TertialError::Format {
            input: input.to_owned(),
        };
        let text = input.trim();
        let (year, part) = text.rsplit_once(['T', 't']).ok_or_else(format)?;
        let year = year.trim_end();
        let digits = year.strip_prefix('-').unwrap_or(year);
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format());
        }
        if part.len() != 1 || !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(format());
        }
        // Digits that do not even fit an i32 are no year at all.
        let year: i32 = year.parse().map_err(|_| format())?;
        let part: u8 = part.parse().map_err(|_| format())?;
        Self::new(year, part)
    }
}

impl serde::Serialize for Tertial {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Tertial {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn a_visit_half_an_hour_into_the_first_of_may_counts_in_may() {
        // 22:30 UTC on 30 April: 00:30 in Sweden, summer time.
        let visit = Timestamp::swedish(date("2026-05-01"), 30);
        assert_eq!(visit.to_string(), "2026-04-30T22:30Z");
        assert_eq!(
            Tertial::containing(visit.date()),
            Tertial::new(2026, 2).unwrap()
        );
        let first = Tertial::new(2026, 1).unwrap().period();
        assert!(first.end_instant() < visit);
        assert_eq!(first.end_instant().to_string(), "2026-04-30T21:59Z");
    }

    #[test]
    fn tertials_cover_the_year_in_three_four_month_parts() {
        let expected = [
            (1, "2026-01-01", "2026-04-30"),
            (2, "2026-05-01", "2026-08-31"),
            (3, "2026-09-01", "2026-12-31"),
        ];
        for (part, start, end) in expected {
            let tertial = Tertial::new(2026, part).unwrap();
            assert_eq!(tertial.start(), date(start));
            assert_eq!(tertial.end(), date(end));
            assert_eq!(Tertial::containing(date(start)), tertial);
            assert_eq!(Tertial::containing(date(end)), tertial);
            assert_eq!(
                tertial.period(),
                Period::new(date(start), date(end)).unwrap()
            );
        }
        // A leap year changes nothing: April always has 30 days.
        assert_eq!(
            Tertial::containing(date("2024-02-29")).end(),
            date("2024-04-30")
        );
    }

    #[test]
    fn tertials_step_across_years() {
        let t3: Tertial = "2025 T3".parse().unwrap();
        let t1 = t3.next().unwrap();
        assert_eq!(t1.to_string(), "2026 T1");
        assert_eq!(t1.previous(), Some(t3));
        assert_eq!(t1.next().unwrap().to_string(), "2026 T2");
        assert_eq!(Tertial::new(9999, 3).unwrap().next(), None);
        assert_eq!(Tertial::new(-9999, 1).unwrap().previous(), None);
        assert!(Tertial::new(2025, 3).unwrap() < t1);
    }

    #[test]
    fn tertials_read_as_people_type_them() {
        for text in ["2026 T1", "2026T1", " 2026 t1 ", "2026  T1"] {
            assert_eq!(text.parse::<Tertial>(), Tertial::new(2026, 1), "{text:?}");
        }
        assert_eq!(Tertial::new(2026, 2).unwrap().to_string(), "2026 T2");
        let json = serde_json::to_string(&Tertial::new(2026, 3).unwrap()).unwrap();
        assert_eq!(json, "\"2026 T3\"");
        assert_eq!(
            serde_json::from_str::<Tertial>(&json).unwrap(),
            Tertial::new(2026, 3).unwrap()
        );
    }

    #[test]
    fn bad_tertials_get_clear_errors() {
        for text in [
            "",
            "2026",
            "T1",
            "2026 T",
            "2026 T12",
            "2026 Q1",
            "twenty T1",
            "2026-T1",
        ] {
            assert_eq!(
                text.parse::<Tertial>(),
                Err(TertialError::Format {
                    input: text.to_owned()
                }),
                "{text:?}"
            );
        }
        assert_eq!(
            "2026 T4".parse::<Tertial>(),
            Err(TertialError::Part { part: 4 })
        );
        assert_eq!(
            "2026 T0".parse::<Tertial>(),
            Err(TertialError::Part { part: 0 })
        );
        assert_eq!(
            "10000 T1".parse::<Tertial>(),
            Err(TertialError::Year { year: 10000 })
        );
        assert!(matches!(
            "99999999999 T1".parse::<Tertial>(),
            Err(TertialError::Format { .. })
        ));
        assert_eq!(
            "2026 T4".parse::<Tertial>().unwrap_err().to_string(),
            "a year has tertials 1, 2 and 3; there is no tertial 4"
        );
        assert_eq!(
            "2026 Q1".parse::<Tertial>().unwrap_err().to_string(),
            "\"2026 Q1\" is not a tertial; write the year and T1, T2 or T3, as in \"2026 T1\""
        );
    }

    #[test]
    fn periods_include_both_ends() {
        let period = Period::new(date("2026-01-01"), date("2026-04-30")).unwrap();
        assert!(period.contains(date("2026-01-01")));
        assert!(period.contains(date("2026-04-30")));
        assert!(!period.contains(date("2025-12-31")));
        assert!(!period.contains(date("2026-05-01")));
        assert_eq!(period.end_instant().date(), date("2026-04-30"));
        assert_eq!(
            period.end_instant().as_millis() + 1,
            Timestamp::start_of(date("2026-05-01")).as_millis()
        );
        assert_eq!(period.to_string(), "2026-01-01–2026-04-30");
        assert_eq!(
            Period::new(date("2026-02-01"), date("2026-01-31")),
            Err(PeriodError {
                start: date("2026-02-01"),
                end: date("2026-01-31")
            })
        );
        // A one-day period is fine.
        assert!(Period::new(date("2026-02-01"), date("2026-02-01")).is_ok());
    }
}

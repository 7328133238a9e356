//! Gallring: when a household's file is removed.
//!
//! SoL 12 kap. 2 § has personal files thinned out ("gallras") five years after the last entry
//! was made. Notes on people born on the 5th, 15th or 25th of a month are kept for research
//! (SOSFS 2014:5 and the municipalities' own document management plans), where the
//! municipality applies that exception; it is a setting.
//!
//! Lots keeps one document per household, and Automerge cannot drop a part of a document's
//! history: a household is removed whole or kept whole. A household with one member born
//! on such a day is therefore kept whole, all of its members with it; that is the reading
//! that never destroys what the law says to keep.
//!
//! The last entry is counted by the server's clock when it received the change, never by a
//! device's clock, which its owner can set to anything.

use crate::{Date, Timestamp};

/// Years after the last entry, as SoL has it.
pub const DEFAULT_RETENTION_YEARS: u16 = 5;

/// The days of the month whose people's files are kept for research.
pub const RESEARCH_BIRTH_DAYS: [u8; 3] = [5, 15, 25];

/// The municipality's rule for gallring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetentionRule {
    /// Whole years after the last entry (1 or more).
    pub years: u16,
    /// Whether households with a member born on the 5th, 15th or 25th are kept.
    pub keep_research_birth_days: bool,
}

impl Default for RetentionRule {
    fn default() -> Self {
        Self {
            years: DEFAULT_RETENTION_YEARS,
            keep_research_birth_days: true,
        }
    }
}

/// What the rule says of one household today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Retention {
    /// Not yet: it becomes due on this (Swedish) day.
    NotDue {
        /// The first day it may be removed.
        due_on: Date,
    },
    /// Due for removal.
    Due,
    /// Due by its age, but a member was born on the 5th, 15th or 25th: kept whole.
    KeptForResearch,
}

impl RetentionRule {
    /// The first day a household whose last entry was at `last_entry` may be removed: the
    /// same day of the month, `years` later, in Swedish time (a last entry on 29 February
    /// becomes due on 28 February).
    pub fn due_on(&self, last_entry: Timestamp) -> Date {
        last_entry
            .date()
            .plus_months(i32::from(self.years).saturating_mul(12))
    }

    /// Judges a household: its last entry (the server's receipt time) and its members' dates
    /// of birth, on `today` (a Swedish date).
    pub fn judge(
        &self,
        last_entry: Timestamp,
        today: Date,
        birth_dates: impl IntoIterator<Item = Date>,
    ) -> Retention {
        let due_on = self.due_on(last_entry);
        if today < due_on {
            return Retention::NotDue { due_on };
        }
        if self.keep_research_birth_days
            && birth_dates
                .into_iter()
                .any(|born| RESEARCH_BIRTH_DAYS.contains(&born.day()))
        {
            return Retention::KeptForResearch;
        }
        Retention::Due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date::from_ymd(year, month, day).unwrap_or_else(|| panic!("{year}-{month}-{day}"))
    }

    /// Noon, Swedish time, on a day.
    fn noon(day: Date) -> Timestamp {
        Timestamp::swedish(day, 12 * 60)
    }

    #[test]
    fn a_household_is_due_five_years_to_the_day_after_its_last_entry() {
        let rule = RetentionRule::default();
        let last = noon(date(2026, 3, 10));
        let born = [date(1990, 1, 2)];
        assert_eq!(
            rule.judge(last, date(2031, 3, 9), born),
            Retention::NotDue {
                due_on: date(2031, 3, 10)
            }
        );
        assert_eq!(rule.judge(last, date(2031, 3, 10), born), Retention::Due);
    }

    #[test]
    fn the_last_entry_counts_by_the_swedish_day() {
        // 00:30 on 1 January in Stockholm is still 31 December in UTC.
        let rule = RetentionRule::default();
        let last = Timestamp::swedish(date(2026, 1, 1), 30);
        assert_eq!(rule.due_on(last), date(2031, 1, 1));
    }

    #[test]
    fn a_member_born_on_the_5th_15th_or_25th_keeps_the_whole_household() {
        let rule = RetentionRule::default();
        let last = noon(date(2020, 1, 1));
        let today = date(2026, 1, 1);
        for day in RESEARCH_BIRTH_DAYS {
            let born = [date(1980, 6, 1), date(2001, 2, day)];
            assert_eq!(rule.judge(last, today, born), Retention::KeptForResearch);
        }
        let without = RetentionRule {
            keep_research_birth_days: false,
            ..rule
        };
        assert_eq!(
            without.judge(last, today, [date(2001, 2, 15)]),
            Retention::Due
        );
    }

    #[test]
    fn a_leap_day_entry_is_due_on_the_last_day_of_february() {
        let rule = RetentionRule::default();
        assert_eq!(rule.due_on(noon(date(2028, 2, 29))), date(2033, 2, 28));
    }
}

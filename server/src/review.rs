//! What a reviewer of the access log looks for, flagged on the rows read: households shown on
//! a screen outside working hours (by Swedish time, when the device showed them), many
//! households shown to one person in a short time, and exports. Pure: tested here.

use std::collections::{BTreeMap, BTreeSet};

use lots_core::Timestamp;

use crate::store::AuditEntry;

/// Working hours begin (minutes after Swedish midnight, Monday to Friday).
pub const WORKDAY_BEGINS: i64 = 7 * 60;
/// Working hours end.
pub const WORKDAY_ENDS: i64 = 19 * 60;
/// This many different households shown by one person within [`BURST_WINDOW_MS`] is many.
pub const BURST_HOUSEHOLDS: usize = 20;
/// The window for [`BURST_HOUSEHOLDS`].
pub const BURST_WINDOW_MS: i64 = 10 * 60_000;

/// Why a row is worth a reviewer's look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    /// A household shown on a weekend, or before 07:00 or after 19:00.
    AfterHours,
    /// One of many households shown by one person in a short time.
    ManyHouseholds,
    /// Households exported.
    Export,
}

impl Flag {
    /// The flag's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::AfterHours => "after-hours",
            Flag::ManyHouseholds => "many-households",
            Flag::Export => "export",
        }
    }
}

/// Whether a row is a household shown to a person on a screen. A sync connection opening a
/// document (`open`) is not: a desk syncs its districts' households at start, a phone its
/// caseload in the background.
fn is_read(entry: &AuditEntry) -> bool {
    entry.action == "read" && !entry.document_id.is_empty()
}

/// When a household was shown: the device's time for a read it logged, else the row's.
fn shown_at(entry: &AuditEntry) -> Timestamp {
    let device = entry
        .detail
        .split(' ')
        .find_map(|part| part.strip_prefix("device_at="))
        .and_then(|ms| ms.parse::<i64>().ok());
    Timestamp::from_millis(device.unwrap_or(entry.at))
}

/// Outside working hours: a Saturday or Sunday, or outside 07:00–19:00, in Sweden.
pub fn after_hours(at: Timestamp) -> bool {
    let minutes = at.swedish_minutes_of_day();
    let epoch = Timestamp::from_millis(0).date(); // Thursday 1 January 1970
    let weekday = (epoch.days_until(at.date()) + 3).rem_euclid(7); // 0 is Monday
    weekday >= 5 || !(WORKDAY_BEGINS..WORKDAY_ENDS).contains(&minutes)
}

/// The flags of `entries`, by row (`seq`), each row's in order.
pub fn flags(entries: &[AuditEntry]) -> BTreeMap<i64, BTreeSet<Flag>> {
    let mut flagged: BTreeMap<i64, BTreeSet<Flag>> = BTreeMap::new();
    let mut reads_by_user: BTreeMap<&str, Vec<(Timestamp, &str, i64)>> = BTreeMap::new();
    for entry in entries {
        // A released copy of a person's data leaves Lots as a file or on paper: an export.
        if entry.action == "export" || entry.action == "person-copy-released" {
            flagged.entry(entry.seq).or_default().insert(Flag::Export);
        }
        // A report counts every household of a district at once, whenever it is looked
        // at: that is what a report is, not someone leafing through files.
        if !is_read(entry) || entry.detail.starts_with("shown=report") {
            continue;
        }
        let at = shown_at(entry);
        if after_hours(at) {
            flagged
                .entry(entry.seq)
                .or_default()
                .insert(Flag::AfterHours);
        }
        reads_by_user
            .entry(&entry.user_id)
            .or_default()
            .push((at, &entry.document_id, entry.seq));
    }
    for reads in reads_by_user.values_mut() {
        reads.sort();
        // Each window of BURST_WINDOW_MS from a read on: many different households in it
        // flags every read in it.
        let mut end = 0;
        for start in 0..reads.len() {
            end = end.max(start);
            while end + 1 < reads.len()
                && reads[end + 1].0.as_millis() - reads[start].0.as_millis() <= BURST_WINDOW_MS
            {
                end += 1;
            }
            let households: BTreeSet<&str> = reads[start..=end]
                .iter()
                .map(|(_, household, _)| *household)
                .collect();
            if households.len() >= BURST_HOUSEHOLDS {
                for (_, _, seq) in &reads[start..=end] {
                    flagged
                        .entry(*seq)
                        .or_default()
                        .insert(Flag::ManyHouseholds);
                }
            }
        }
    }
    flagged
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Wednesday, 10:00 in Stockholm (09:00 UTC in winter).
    const WEDNESDAY_10: i64 = 1_706_054_400_000 + 9 * 3_600_000;

    fn row(
        seq: i64,
        user: &str,
        household: &str,
        action: &str,
        at: i64,
        detail: &str,
    ) -> AuditEntry {
        AuditEntry {
            seq,
            at,
            user_id: user.into(),
            device_id: "d-1".into(),
            document_id: household.into(),
            action: action.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn working_hours_are_weekdays_seven_to_seven_swedish_time() {
        let at = |ms: i64| after_hours(Timestamp::from_millis(ms));
        assert!(!at(WEDNESDAY_10));
        // 06:59 and 19:00 Swedish time are outside; 07:00 is inside.
        assert!(at(WEDNESDAY_10 - 3 * 3_600_000 - 60_000));
        assert!(!at(WEDNESDAY_10 - 3 * 3_600_000));
        assert!(at(WEDNESDAY_10 + 9 * 3_600_000));
        // Saturday at ten.
        assert!(at(WEDNESDAY_10 + 3 * 86_400_000));
        // Monday at ten.
        assert!(!at(WEDNESDAY_10 + 5 * 86_400_000));
    }

    #[test]
    fn a_read_is_flagged_by_when_the_device_showed_it_not_when_it_arrived() {
        let late = WEDNESDAY_10 + 12 * 3_600_000; // 22:00
        let entries = [
            // Shown at 22:00 offline, uploaded the next morning.
            row(
                1,
                "u-anna",
                "h1",
                "read",
                WEDNESDAY_10 + 86_400_000,
                &format!("shown=household device_at={late} read=r-1"),
            ),
            // Shown at ten.
            row(
                2,
                "u-anna",
                "h1",
                "read",
                late,
                &format!("shown=household device_at={WEDNESDAY_10} read=r-2"),
            ),
            // A change at 22:00 is not a read.
            row(3, "u-anna", "h1", "change", late, ""),
            row(
                4,
                "u-sara",
                "",
                "export",
                WEDNESDAY_10,
                "what=report households=12",
            ),
            row(
                5,
                "u-sara",
                "h1",
                "person-copy-released",
                WEDNESDAY_10,
                "member=m-1 passages=9 withheld=1",
            ),
        ];
        let flagged = flags(&entries);
        assert_eq!(flagged[&1], BTreeSet::from([Flag::AfterHours]));
        assert_eq!(flagged[&4], BTreeSet::from([Flag::Export]));
        assert_eq!(flagged[&5], BTreeSet::from([Flag::Export]));
        assert_eq!(flagged.len(), 3);
    }

    #[test]
    fn twenty_households_in_ten_minutes_are_many_and_nineteen_are_not() {
        let reads = |user: &str, count: usize, first_seq: i64| -> Vec<AuditEntry> {
            (0..count)
                .map(|n| {
                    let at = WEDNESDAY_10 + n as i64 * 30_000;
                    row(first_seq + n as i64, user, &format!("h{n}"), "read", at, "")
                })
                .collect()
        };
        let mut entries = reads("u-anna", BURST_HOUSEHOLDS, 1);
        entries.extend(reads("u-omar", BURST_HOUSEHOLDS - 1, 100));
        // Omar's twentieth, eleven minutes after his first: outside every window of nineteen.
        entries.push(row(
            200,
            "u-omar",
            "h-late",
            "open",
            WEDNESDAY_10 + 11 * 60_000,
            "",
        ));
        let flagged = flags(&entries);
        for seq in 1..=BURST_HOUSEHOLDS as i64 {
            assert!(flagged[&seq].contains(&Flag::ManyHouseholds), "{seq}");
        }
        assert!(
            flagged.keys().all(|seq| *seq <= BURST_HOUSEHOLDS as i64),
            "{flagged:?}"
        );
        // The same household twenty times is one household.
        let same: Vec<AuditEntry> = (0..30)
            .map(|n| row(n, "u-anna", "h1", "read", WEDNESDAY_10 + n * 1_000, ""))
            .collect();
        assert!(flags(&same).is_empty());
        // A desk syncing its districts' households at night shows nobody anything.
        let synced: Vec<AuditEntry> = (0..30)
            .map(|n| {
                row(
                    n,
                    "u-sara",
                    &format!("h{n}"),
                    "open",
                    WEDNESDAY_10 + 13 * 3_600_000,
                    "",
                )
            })
            .collect();
        assert!(flags(&synced).is_empty());
        // Forty households counted in one report, at ten or at ten in the evening, are not
        // forty files read.
        let late = WEDNESDAY_10 + 12 * 3_600_000;
        let report: Vec<AuditEntry> = (0..80)
            .map(|n| {
                let at = if n < 40 { WEDNESDAY_10 } else { late };
                row(
                    n,
                    "u-sara",
                    &format!("h{}", n % 40),
                    "read",
                    at,
                    &format!("shown=report report=2026-T2 device_at={at} read=r-{n}"),
                )
            })
            .collect();
        assert!(flags(&report).is_empty());
    }
}

//! The supervisor's desk figures besides the tertial report: each staff member's workload,
//! and plan progress per district. Pure functions of household values, like the report.

use std::collections::BTreeMap;

use crate::calendar::Date;
use crate::ids::{DistrictId, StaffId};
use crate::report::period::Period;
use crate::schema::codes::{CaseStatus, GoalStatus, VisitStatus};
use crate::schema::household::Household;

/// One staff member's load (or, with `staff: None`, the households nobody has).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Workload {
    /// Whose; `None` for open cases assigned to nobody.
    pub staff: Option<StaffId>,
    /// Open cases assigned to them.
    pub households: u64,
    /// Visits they make that are booked in the month (planned to start in it), whatever
    /// became of them.
    pub visits_booked: u64,
    /// Of those, held and recorded.
    pub visits_done: u64,
    /// Of those, still marked planned with their start already past `today` (unrecorded).
    pub visits_unrecorded: u64,
    /// Follow-ups not done and due before `today`, in the open cases assigned to them.
    pub overdue_follow_ups: u64,
}

/// Follow-ups of `household` not done and due before `today`.
pub fn overdue_follow_ups(household: &Household, today: Date) -> u64 {
    household
        .visits
        .values()
        .flat_map(|visit| visit.follow_ups.values())
        .filter(|follow_up| follow_up.done_on.is_none() && follow_up.due_on < today)
        .count() as u64
}

/// Every staff member's load in `month` (any period; the desk passes the current month) as
/// of `today`, over `households` as they are now. `staff` lists the people to show even with
/// nothing to do (a new colleague); anyone else who has a case or a visit is added. Rows
/// come in the order of `staff`, then the others by id, then the unassigned households.
pub fn workload<'a>(
    households: impl IntoIterator<Item = &'a Household>,
    staff: &[StaffId],
    month: Period,
    today: Date,
) -> Vec<Workload> {
    let mut rows: BTreeMap<Option<StaffId>, Workload> = BTreeMap::new();
    for household in households {
        let profile = &household.profile;
        if profile.status == CaseStatus::Active {
            let row = rows.entry(profile.assigned_staff.clone()).or_default();
            row.households += 1;
            row.overdue_follow_ups += overdue_follow_ups(household, today);
        }
        for visit in household.visits.values() {
            let day = visit.planned_at.date();
            if !month.contains(day) {
                continue;
            }
            let row = rows.entry(Some(visit.staff.clone())).or_default();
            row.visits_booked += 1;
            match visit.status {
                VisitStatus::Done => row.visits_done += 1,
                VisitStatus::Planned if day < today => row.visits_unrecorded += 1,
                _ => {}
            }
        }
    }
    let mut ordered = Vec::with_capacity(rows.len() + staff.len());
    for member in staff {
        let row = rows.remove(&Some(member.clone())).unwrap_or_default();
        ordered.push(Workload {
            staff: Some(member.clone()),
            ..row
        });
    }
    let unassigned = rows.remove(&None);
    ordered.extend(
        rows.into_iter()
            .map(|(staff, row)| Workload { staff, ..row }),
    );
    if let Some(row) = unassigned {
        ordered.push(Workload { staff: None, ..row });
    }
    ordered
}

/// The goals of one district's open cases by status.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct PlanProgress {
    /// The district.
    pub district: Option<DistrictId>,
    /// Open cases counted.
    pub households: u64,
    /// Goals reached.
    pub reached: u64,
    /// Goals being worked on.
    pub in_progress: u64,
    /// Goals that have stopped moving.
    pub stalled: u64,
    /// Goals set but not begun.
    pub not_started: u64,
    /// Goals given up.
    pub dropped: u64,
}

impl PlanProgress {
    /// Every goal counted.
    pub fn goals(&self) -> u64 {
        self.reached + self.in_progress + self.stalled + self.not_started + self.dropped
    }

    fn add(&mut self, household: &Household) {
        self.households += 1;
        for goal in household.plan.goals.values() {
            match goal.status {
                GoalStatus::Reached => self.reached += 1,
                GoalStatus::InProgress => self.in_progress += 1,
                GoalStatus::Stalled => self.stalled += 1,
                GoalStatus::NotStarted => self.not_started += 1,
                GoalStatus::Dropped => self.dropped += 1,
            }
        }
    }
}

/// Plan progress per district over the open cases among `households` (pass them as they
/// stood at the date asked about), one row per district in `districts`' order (zeros
/// included), then any other district met, then a total row (`district: None`).
pub fn plan_progress<'a>(
    households: impl IntoIterator<Item = &'a Household>,
    districts: &[DistrictId],
) -> Vec<PlanProgress> {
    let mut by_district: BTreeMap<DistrictId, PlanProgress> = BTreeMap::new();
    let mut total = PlanProgress::default();
    for household in households {
        if household.profile.status != CaseStatus::Active {
            continue;
        }
        let district = household.profile.district.clone();
        by_district
            .entry(district.clone())
            .or_insert_with(|| PlanProgress {
                district: Some(district),
                ..PlanProgress::default()
            })
            .add(household);
        total.add(household);
    }
    let mut rows: Vec<PlanProgress> = districts
        .iter()
        .map(|district| {
            by_district
                .remove(district)
                .unwrap_or_else(|| PlanProgress {
                    district: Some(district.clone()),
                    ..PlanProgress::default()
                })
        })
        .collect();
    rows.extend(by_district.into_values());
    rows.push(total);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Timestamp;
    use crate::ids::{DeviceId, DistrictId, StaffId};
    use crate::synthetic::{Generator, HouseholdSpec};

    fn date(year: i32, month: u8, day: u8) -> Date {
        Date::from_ymd(year, month, day).unwrap()
    }

    fn households() -> Vec<Household> {
        let mut generator = Generator::new(3);
        (0..6)
            .map(|index| {
                let spec = HouseholdSpec {
                    district: DistrictId::new(["district-a", "district-b"][index % 2]).unwrap(),
                    staff: StaffId::new(["u-anna", "u-omar", "u-lina"][index % 3]).unwrap(),
                    device: DeviceId::new("d-test").unwrap(),
                    opened_on: date(2025, 1, 6).plus_days(index as i64 * 10),
                    visits: 30,
                    today: date(2025, 6, 15),
                };
                generator.household(&spec).unwrap().household().unwrap()
            })
            .collect()
    }

    #[test]
    fn workload_counts_by_hand() {
        let mut households = households();
        households[5].profile.assigned_staff = None;
        let june = Period::new(date(2025, 6, 1), date(2025, 6, 30)).unwrap();
        let today = date(2025, 6, 15);
        let anna = StaffId::new("u-anna").unwrap();
        let new_colleague = StaffId::new("u-new").unwrap();
        let rows = workload(
            &households,
            &[new_colleague.clone(), anna.clone()],
            june,
            today,
        );
        assert_eq!(
            rows[0],
            Workload {
                staff: Some(new_colleague),
                ..Workload::default()
            }
        );
        assert_eq!(rows[1].staff, Some(anna.clone()));
        assert_eq!(rows.last().unwrap().staff, None);
        assert_eq!(rows.last().unwrap().households, 1);

        // Anna's row, counted again the long way.
        let mine =
            |household: &&Household| household.profile.assigned_staff.as_ref() == Some(&anna);
        let open = households
            .iter()
            .filter(mine)
            .filter(|household| household.profile.status == CaseStatus::Active);
        let june_visits: Vec<_> = households
            .iter()
            .flat_map(|household| household.visits.values())
            .filter(|visit| visit.staff == anna && june.contains(visit.planned_at.date()))
            .collect();
        assert!(!june_visits.is_empty(), "the fixture has visits in June");
        let expected = Workload {
            staff: Some(anna.clone()),
            households: open.clone().count() as u64,
            visits_booked: june_visits.len() as u64,
            visits_done: june_visits
                .iter()
                .filter(|visit| visit.status == VisitStatus::Done)
                .count() as u64,
            visits_unrecorded: june_visits
                .iter()
                .filter(|visit| {
                    visit.status == VisitStatus::Planned
                        && visit.planned_at < Timestamp::start_of(today)
                })
                .count() as u64,
            overdue_follow_ups: open
                .map(|household| overdue_follow_ups(household, today))
                .sum(),
        };
        assert_eq!(rows[1], expected);
        // Every open case is in exactly one row.
        let total: u64 = rows.iter().map(|row| row.households).sum();
        assert_eq!(total, 6);
    }

    #[test]
    fn plan_progress_per_district_adds_up_to_the_total() {
        let mut households = households();
        households[0].profile.status = CaseStatus::Closed;
        let a = DistrictId::new("district-a").unwrap();
        let b = DistrictId::new("district-b").unwrap();
        let empty = DistrictId::new("district-empty").unwrap();
        let rows = plan_progress(&households, &[empty.clone(), a.clone()]);
        assert_eq!(
            rows.iter()
                .map(|row| row.district.clone())
                .collect::<Vec<_>>(),
            vec![Some(empty), Some(a.clone()), Some(b), None]
        );
        assert_eq!(rows[0].goals(), 0);
        assert_eq!(rows[1].households, 2, "the closed case is left out");
        let goals_in_a: u64 = households[1..]
            .iter()
            .filter(|household| household.profile.district == a)
            .map(|household| household.plan.goals.len() as u64)
            .sum();
        assert_eq!(rows[1].goals(), goals_in_a);
        let total = &rows[3];
        assert_eq!(total.households, 5);
        assert_eq!(total.reached, rows[1].reached + rows[2].reached);
        assert_eq!(total.goals(), rows[1].goals() + rows[2].goals());
        assert!(total.goals() > 0, "the fixture has goals");
    }
}

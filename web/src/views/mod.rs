//! The screens, one module each.

pub mod household;
pub mod households;
pub mod shell;
pub mod signin;
pub mod today;
pub mod visit;

use lots_core::{Household, Timestamp, VisitStatus};

/// The next planned visit from `now` on.
pub fn next_visit(household: &Household, now: Timestamp) -> Option<Timestamp> {
    household
        .visits
        .values()
        .filter(|visit| visit.status == VisitStatus::Planned && visit.planned_at >= now)
        .map(|visit| visit.planned_at)
        .min()
}

/// Open follow-ups past their due date.
pub fn overdue_follow_ups(household: &Household, now: Timestamp) -> usize {
    let today = crate::i18n::local_date(now);
    household
        .visits
        .values()
        .flat_map(|visit| visit.follow_ups.values())
        .filter(|follow_up| follow_up.done_on.is_none() && follow_up.due_on < today)
        .count()
}

/// The household's name as staff say it: the members' first names.
pub fn household_name(household: &Household) -> String {
    let names: Vec<&str> = household
        .members
        .values()
        .map(|member| {
            member
                .name
                .split_whitespace()
                .next()
                .unwrap_or(&member.name)
        })
        .collect();
    names.join(", ")
}

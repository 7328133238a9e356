//! The rules of the target group, as pure functions of dates.
//!
//! From the seeds: the target group is people born outside the EU/EEA, in Sweden up to
//! 36 months after their residence permit (beyond that after an individual assessment), and
//! their family members; Stockholm's social support is for those aged 18–64 registered in
//! the district. Quota refugees get practical support for their first three months.
//! A household's members are told apart by [`household_member_exclusions`]: a family member
//! of someone in the target group is in it too.

use crate::calendar::Date;
use crate::schema::codes::ArrivalRoute;
use crate::schema::household::{Member, Profile};

/// The length of the establishment period, in months after the residence permit.
pub const ESTABLISHMENT_PERIOD_MONTHS: i32 = 36;
/// The length of the quota refugees' first support window, in months after arrival.
pub const QUOTA_SUPPORT_MONTHS: i32 = 3;
/// The youngest age social support is for.
pub const MIN_AGE: u32 = 18;
/// The oldest age social support is for.
pub const MAX_AGE: u32 = 64;

/// The last day of the establishment period that starts with a permit granted on `permit`.
pub fn establishment_period_end(permit: Date) -> Date {
    permit
        .plus_months(ESTABLISHMENT_PERIOD_MONTHS)
        .plus_days(-1)
}

/// Age in whole years on a date.
pub fn age_on(birth_date: Date, on: Date) -> u32 {
    birth_date.whole_years_until(on)
}

/// Why a person falls outside the target group on a date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum OutsideReason {
    /// Recorded as born inside the EU/EEA.
    BornInsideEeaOrEu,
    /// No residence-permit date is recorded, so the period cannot be counted.
    NoPermitDate,
    /// The permit lies in the future on that date.
    PermitNotYetGranted {
        /// The permit date.
        permit_on: Date,
    },
    /// More than 36 months have passed since the permit: support needs an individual
    /// assessment.
    EstablishmentPeriodEnded {
        /// The period's last day.
        ended_on: Date,
    },
    /// Younger than 18 or older than 64 on that date.
    Age {
        /// The age.
        age: u32,
    },
    /// Not registered ("folkbokförd") in the district.
    NotRegisteredInDistrict,
}

/// Whether a member is in the target group on `on`, and if not, every reason why not.
pub fn target_group_exclusions(member: &Member, on: Date) -> Vec<OutsideReason> {
    let mut reasons = Vec::new();
    if !member.born_outside_eea {
        reasons.push(OutsideReason::BornInsideEeaOrEu);
    }
    match member.residence_permit_on {
        None => reasons.push(OutsideReason::NoPermitDate),
        Some(permit_on) if permit_on > on => {
            reasons.push(OutsideReason::PermitNotYetGranted { permit_on })
        }
        Some(permit_on) => {
            let ended_on = establishment_period_end(permit_on);
            if on > ended_on {
                reasons.push(OutsideReason::EstablishmentPeriodEnded { ended_on });
            }
        }
    }
    let age = age_on(member.birth_date, on);
    if !(MIN_AGE..=MAX_AGE).contains(&age) {
        reasons.push(OutsideReason::Age { age });
    }
    if !member.registered_in_district {
        reasons.push(OutsideReason::NotRegisteredInDistrict);
    }
    reasons
}

/// Whether a member is in the target group on `on`.
pub fn in_target_group(member: &Member, on: Date) -> bool {
    target_group_exclusions(member, on).is_empty()
}

/// Whether a member belongs to the target group in their own right on `on`: born outside the
/// EU/EEA, within the establishment period, aged 18–64. Registration in the district is left
/// out: it is something to arrange, not a reason the family is outside.
fn qualifies_in_own_right(member: &Member, on: Date) -> bool {
    target_group_exclusions(member, on)
        .iter()
        .all(|reason| *reason == OutsideReason::NotRegisteredInDistrict)
}

/// What a worker must act on for one member of a household on `on`: every reason of
/// [`target_group_exclusions`], except that the family members of someone in the target group
/// in their own right are in it too (children, a partner with a later permit, a parent over
/// 64), so only a missing registration in the district is said of them. `members` is the
/// whole household, the member included.
pub fn household_member_exclusions<'a>(
    member: &Member,
    members: impl IntoIterator<Item = &'a Member>,
    on: Date,
) -> Vec<OutsideReason> {
    let mut reasons = target_group_exclusions(member, on);
    if members
        .into_iter()
        .any(|other| qualifies_in_own_right(other, on))
    {
        reasons.retain(|reason| *reason == OutsideReason::NotRegisteredInDistrict);
    }
    reasons
}

/// The household's establishment-period end: the latest end among its members' permits
/// (a family's support follows its last-arrived member), `None` when no permit is recorded.
pub fn household_establishment_end<'a>(
    members: impl IntoIterator<Item = &'a Member>,
) -> Option<Date> {
    members
        .into_iter()
        .filter_map(|member| member.residence_permit_on)
        .map(establishment_period_end)
        .max()
}

/// The first and last day of a quota-refugee household's three-month support window;
/// `None` for other arrival routes.
pub fn quota_support_window(profile: &Profile) -> Option<(Date, Date)> {
    (profile.arrival_route == ArrivalRoute::QuotaRefugee).then(|| {
        let start = profile.arrived_on;
        (start, start.plus_months(QUOTA_SUPPORT_MONTHS).plus_days(-1))
    })
}

/// Whether `on` lies in the household's quota-refugee support window.
pub fn in_quota_support_window(profile: &Profile, on: Date) -> bool {
    quota_support_window(profile).is_some_and(|(start, end)| (start..=end).contains(&on))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::codes::Gender;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn member(birth: &str, permit: Option<&str>) -> Member {
        Member {
            name: "Test Person".into(),
            birth_date: date(birth),
            gender: Gender::Female,
            residence_permit_on: permit.map(date),
            born_outside_eea: true,
            registered_in_district: true,
            languages: vec!["ar".into()],
            interpreter_language: None,
        }
    }

    #[test]
    fn the_establishment_period_lasts_36_months() {
        assert_eq!(
            establishment_period_end(date("2021-05-15")),
            date("2024-05-14")
        );
        // A permit on the 29th of February ends on the 28th three years later.
        assert_eq!(
            establishment_period_end(date("2024-02-29")),
            date("2027-02-27")
        );
    }

    #[test]
    fn in_the_target_group_up_to_the_last_day() {
        let person = member("1990-01-01", Some("2021-05-15"));
        assert!(in_target_group(&person, date("2024-05-14")));
        assert_eq!(
            target_group_exclusions(&person, date("2024-05-15")),
            vec![OutsideReason::EstablishmentPeriodEnded {
                ended_on: date("2024-05-14")
            }]
        );
    }

    #[test]
    fn ages_18_to_64_only() {
        let child = member("2010-03-01", Some("2023-01-01"));
        assert_eq!(
            target_group_exclusions(&child, date("2024-01-01")),
            vec![OutsideReason::Age { age: 13 }]
        );
        let turns_18 = member("2006-01-10", Some("2023-01-01"));
        assert!(!in_target_group(&turns_18, date("2024-01-09")));
        assert!(in_target_group(&turns_18, date("2024-01-10")));
        let senior = member("1958-06-01", Some("2023-01-01"));
        assert!(in_target_group(&senior, date("2023-05-31")));
        assert!(!in_target_group(&senior, date("2023-06-01")));
    }

    #[test]
    fn every_reason_is_reported() {
        let mut person = member("2015-01-01", None);
        person.born_outside_eea = false;
        person.registered_in_district = false;
        assert_eq!(
            target_group_exclusions(&person, date("2024-01-01")),
            vec![
                OutsideReason::BornInsideEeaOrEu,
                OutsideReason::NoPermitDate,
                OutsideReason::Age { age: 9 },
                OutsideReason::NotRegisteredInDistrict,
            ]
        );
        let early = member("1990-01-01", Some("2024-06-01"));
        assert_eq!(
            target_group_exclusions(&early, date("2024-01-01")),
            vec![OutsideReason::PermitNotYetGranted {
                permit_on: date("2024-06-01")
            }]
        );
    }

    #[test]
    fn family_members_are_in_the_target_group() {
        let on = date("2024-01-01");
        let parent = member("1985-01-01", Some("2023-01-01"));
        let child = member("2015-01-01", Some("2023-01-01"));
        let mut born_here = member("2023-06-01", None);
        born_here.born_outside_eea = false;
        let grandparent = member("1950-01-01", Some("2023-01-01"));
        let mut partner = member("1986-01-01", Some("2024-06-01"));
        partner.registered_in_district = false;
        let family = [&parent, &child, &born_here, &grandparent, &partner];
        for person in [&parent, &child, &born_here, &grandparent] {
            assert_eq!(
                household_member_exclusions(person, family, on),
                vec![],
                "{}",
                person.birth_date
            );
        }
        // Registration is still theirs to arrange.
        assert_eq!(
            household_member_exclusions(&partner, family, on),
            vec![OutsideReason::NotRegisteredInDistrict]
        );
        // A parent not yet registered still brings the family in.
        let mut unregistered = parent.clone();
        unregistered.registered_in_district = false;
        assert_eq!(
            household_member_exclusions(&child, [&unregistered, &child], on),
            vec![]
        );
    }

    #[test]
    fn a_family_with_no_one_in_the_group_is_told_why() {
        let on = date("2025-01-01");
        let parent = member("1985-01-01", Some("2021-01-01"));
        let child = member("2015-01-01", Some("2021-01-01"));
        assert_eq!(
            household_member_exclusions(&parent, [&parent, &child], on),
            vec![OutsideReason::EstablishmentPeriodEnded {
                ended_on: date("2023-12-31")
            }]
        );
        assert_eq!(
            household_member_exclusions(&child, [&parent, &child], on),
            vec![
                OutsideReason::EstablishmentPeriodEnded {
                    ended_on: date("2023-12-31")
                },
                OutsideReason::Age { age: 10 }
            ]
        );
    }

    #[test]
    fn the_household_period_follows_the_last_permit() {
        let members = [
            member("1980-01-01", Some("2021-01-10")),
            member("1985-01-01", Some("2022-03-01")),
        ];
        assert_eq!(
            household_establishment_end(&members),
            Some(date("2025-02-28"))
        );
        assert_eq!(
            household_establishment_end(&[member("1980-01-01", None)]),
            None
        );
    }

    #[test]
    fn quota_refugees_have_a_three_month_window() {
        use crate::ids::DistrictId;
        use crate::schema::codes::{CaseStatus, HousingForm};
        let mut profile = Profile {
            district: DistrictId::new("norrmalm").unwrap(),
            address: "Exempelgatan 1".into(),
            unit: String::new(),
            housing_form: HousingForm::TransitionalHousing,
            arrival_route: ArrivalRoute::QuotaRefugee,
            arrived_on: date("2024-11-30"),
            opened_on: date("2024-11-30"),
            assigned_staff: None,
            status: CaseStatus::Active,
            close_reason: None,
            closed_on: None,
        };
        assert_eq!(
            quota_support_window(&profile),
            Some((date("2024-11-30"), date("2025-02-27")))
        );
        assert!(in_quota_support_window(&profile, date("2025-02-27")));
        assert!(!in_quota_support_window(&profile, date("2025-02-28")));
        profile.arrival_route = ArrivalRoute::FamilyReunification;
        assert_eq!(quota_support_window(&profile), None);
    }
}

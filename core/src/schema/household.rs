//! The household document: one Automerge document per household, holding the household
//! itself, its members, its visits and its individual plan.
//!
//! These structs are the document's schema: autosurgeon maps each field to the Automerge key
//! of the same name (or its `rename`). Collections of things people add on different devices
//! (members, visits, follow-ups, goals, steps) are maps keyed by a random id, never lists, so
//! two phones adding a visit each while offline produce two visits, not an interleaving.
//! Every field that a person sets is a flat scalar, so a concurrent edit is a conflict on
//! one field that `conflicts` can show, not a replaced sub-object.
//!
//! Document layout (schema version 1):
//!
//! ```text
//! { schema_version: 1,
//!   profile: { district, address, unit, housing_form, arrival_route, arrived_on, opened_on,
//!              assigned_staff, status, close_reason, closed_on },
//!   members: { <member id>: Member },
//!   visits:  { <visit id>: Visit { …, notes: Text, follow_ups: { <id>: FollowUp } } },
//!   plan:    { goals: { <goal id>: Goal { …, steps: { <step id>: Step } } }, notes: Text } }
//! ```

use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile};

use crate::calendar::{Date, Timestamp};
use crate::ids::{DistrictId, FollowUpId, GoalId, MemberId, StaffId, StepId, VisitId};
use crate::schema::codes::{
    Agency, ArrivalRoute, CaseStatus, CloseReason, Gender, GoalArea, GoalStatus, HousingForm,
    InterpreterMode, OwnerKind, StepStatus, Topic, VisitStatus,
};
use crate::schema::values::{Note, Set};

/// A household as it stands in its document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Household {
    /// Where the household lives and where its case stands.
    pub profile: Profile,
    /// The people of the household.
    #[autosurgeon(with = "autosurgeon::map_with_parseable_keys")]
    pub members: BTreeMap<MemberId, Member>,
    /// Every visit, planned or held.
    #[autosurgeon(with = "autosurgeon::map_with_parseable_keys")]
    pub visits: BTreeMap<VisitId, Visit>,
    /// The individual plan.
    pub plan: Plan,
}

/// The household's situation and case.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// The district whose resident the household is.
    pub district: DistrictId,
    /// Street address.
    pub address: String,
    /// Flat or unit number; empty when there is none.
    pub unit: String,
    /// The kind of housing.
    pub housing_form: HousingForm,
    /// How the household came to the municipality.
    pub arrival_route: ArrivalRoute,
    /// When the household arrived in the municipality (starts the quota-refugee window).
    pub arrived_on: Date,
    /// When support began.
    pub opened_on: Date,
    /// The staff member whose caseload the household is in.
    pub assigned_staff: Option<StaffId>,
    /// Active or closed.
    pub status: CaseStatus,
    /// Why the case was closed, once it is.
    pub close_reason: Option<CloseReason>,
    /// When the case was closed, once it is.
    pub closed_on: Option<Date>,
}

/// A person in the household.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birth_date: Date,
    /// Gender, for the reports' splits.
    pub gender: Gender,
    /// When the residence permit was granted; starts the 36-month establishment period.
    pub residence_permit_on: Option<Date>,
    /// Born outside the EU/EEA, as recorded.
    pub born_outside_eea: bool,
    /// Registered ("folkbokförd") in the household's district.
    pub registered_in_district: bool,
    /// Languages spoken, the strongest first (ISO 639 codes or names).
    pub languages: Vec<String>,
    /// The language an interpreter is needed for, if any.
    pub interpreter_language: Option<String>,
}

/// A visit to the household, planned or held.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Visit {
    /// When the visit is (or was) planned to start.
    pub planned_at: Timestamp,
    /// Who makes the visit.
    pub staff: StaffId,
    /// Planned, done, cancelled or no-show.
    pub status: VisitStatus,
    /// Members who were present.
    pub present: Set<MemberId>,
    /// The interpreter's language, when one took part.
    pub interpreter_language: Option<String>,
    /// How the interpreter took part.
    pub interpreter_mode: Option<InterpreterMode>,
    /// How long the visit lasted, in minutes.
    pub duration_minutes: Option<u32>,
    /// What the visit dealt with.
    pub topics: Set<Topic>,
    /// Free-text notes; merge character by character.
    pub notes: Note,
    /// Actions agreed at the visit, and referrals to outside agencies.
    #[autosurgeon(with = "autosurgeon::map_with_parseable_keys")]
    pub follow_ups: BTreeMap<FollowUpId, FollowUp>,
}

/// An action agreed at a visit; a referral when aimed at an agency.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct FollowUp {
    /// What is to be done.
    pub description: String,
    /// Who does it.
    pub owner_kind: OwnerKind,
    /// The member or staff member who does it; none when an agency does.
    pub owner: Option<String>,
    /// The agency it is aimed at.
    pub agency: Option<Agency>,
    /// When it is due.
    pub due_on: Date,
    /// When it was done.
    pub done_on: Option<Date>,
}

/// The household's individual plan.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    /// Goals, each for one member.
    #[autosurgeon(with = "autosurgeon::map_with_parseable_keys")]
    pub goals: BTreeMap<GoalId, Goal>,
    /// Plan notes; merge character by character.
    pub notes: Note,
}

/// A goal of the plan for one member.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Goal {
    /// Whose goal.
    pub member: MemberId,
    /// Which area of the plan.
    pub area: GoalArea,
    /// The goal in the household's own words.
    pub description: String,
    /// Where it stands.
    pub status: GoalStatus,
    /// When it was set.
    pub set_on: Date,
    /// When it was reached, once it is.
    pub reached_on: Option<Date>,
    /// The steps towards it.
    #[autosurgeon(with = "autosurgeon::map_with_parseable_keys")]
    pub steps: BTreeMap<StepId, Step>,
}

/// A step towards a goal.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, serde::Serialize, serde::Deserialize)]
pub struct Step {
    /// What is to be done.
    pub description: String,
    /// Who does it.
    pub owner_kind: OwnerKind,
    /// The member or staff member who does it; none when an agency does.
    pub owner: Option<String>,
    /// The agency, when one does it.
    pub agency: Option<Agency>,
    /// When it is due.
    pub due_on: Option<Date>,
    /// Open, done or cancelled.
    pub status: StepStatus,
    /// When it was done.
    pub done_on: Option<Date>,
    /// The order in which steps are shown.
    pub position: u32,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

    use crate::synthetic::Generator;

    /// The web app keeps each household as JSON to show it before its document is loaded.
    #[test]
    fn a_household_survives_json() {
        let mut generator = Generator::new(11);
        for _ in 0..5 {
            let household = generator.household_value();
            let json = serde_json::to_string(&household).unwrap();
            assert_eq!(
                serde_json::from_str::<super::Household>(&json).unwrap(),
                household
            );
        }
    }
}

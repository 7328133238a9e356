//! The closed lists of a household document: housing forms, arrival routes, visit topics,
//! agencies, plan areas and the statuses of cases, visits, goals and steps.
//!
//! Each value is stored as a short snake_case code (the same in Automerge, in JSON and in
//! CSV), never as a Rust identifier, so that renaming a variant can never break a document.
//! Translations of the codes live in the web app's translation files.

use autosurgeon::{Hydrate, Reconcile};

/// Why a code is not one of a list's codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?} is not a known {list}")]
pub struct UnknownCode {
    /// Which list was searched.
    pub list: &'static str,
    /// The code that was not found.
    pub code: String,
}

/// Each list's codes, written once for serde, autosurgeon and the string conversions alike.
/// A derive crate (strum) would give `FromStr`, `Display` and the list of values too, but
/// every variant would then carry its code three times (serde's rename, autosurgeon's and
/// strum's), which is how a stored code and a parsed one drift apart.
macro_rules! code_list {
    (
        $(#[$meta:meta])*
        $name:ident, $list:literal {
            $( $(#[$variant_meta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Reconcile, Hydrate,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                #[autosurgeon(rename = $code)]
                #[serde(rename = $code)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in the order the interface offers them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored code.
            pub const fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownCode;
            fn from_str(code: &str) -> Result<Self, UnknownCode> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(UnknownCode { list: $list, code: code.to_owned() }),
                }
            }
        }
    };
}

code_list! {
    /// Where the household lives.
    HousingForm, "housing form" {
        /// Transitional housing offered by the city ("genomgångsbostad").
        TransitionalHousing = "transitional_housing",
        /// A municipal contract ("kommunkontrakt").
        MunicipalContract = "municipal_contract",
        /// A social contract ("socialt kontrakt").
        SocialContract = "social_contract",
        /// Another kind of contract, such as a sublet.
        OtherContract = "other_contract",
        /// Housing the household arranged itself.
        OwnHousing = "own_housing",
    }
}

code_list! {
    /// How the household came to the municipality.
    ArrivalRoute, "arrival route" {
        /// Assigned by the Migration Agency ("anvisad").
        Assigned = "assigned",
        /// A quota refugee ("kvotflykting"), also assigned; usually needs more support.
        QuotaRefugee = "quota_refugee",
        /// Family reunification ("anknytning").
        FamilyReunification = "family_reunification",
        /// An unaccompanied minor ("ensamkommande").
        UnaccompaniedMinor = "unaccompanied_minor",
        /// The later-arriving family of an unaccompanied minor.
        UnaccompaniedMinorFamily = "unaccompanied_minor_family",
        /// Own housing ("eget boende", EBO).
        OwnHousing = "own_housing",
    }
}

code_list! {
    /// Whether the household is still supported.
    CaseStatus, "case status" {
        /// Supported now.
        Active = "active",
        /// Support has ended; see the close reason.
        Closed = "closed",
    }
}

code_list! {
    /// Why support ended.
    CloseReason, "close reason" {
        /// Own income from work.
        Work = "work",
        /// Moved on to studies.
        Studies = "studies",
        /// Moved out of the district or municipality.
        Moved = "moved",
        /// Any other reason.
        Other = "other",
    }
}

code_list! {
    /// Gender as the reports split it ("kvinnor och män, flickor och pojkar").
    Gender, "gender" {
        /// Woman or girl.
        Female = "female",
        /// Man or boy.
        Male = "male",
        /// Another gender or not stated.
        Other = "other",
    }
}

code_list! {
    /// Where a visit stands.
    VisitStatus, "visit status" {
        /// Booked, not yet held.
        Planned = "planned",
        /// Held and recorded.
        Done = "done",
        /// Called off in advance.
        Cancelled = "cancelled",
        /// The household was not there.
        NoShow = "no_show",
    }
}

code_list! {
    /// How an interpreter took part.
    InterpreterMode, "interpreter mode" {
        /// In the room.
        InPerson = "in_person",
        /// By telephone.
        Phone = "phone",
    }
}

code_list! {
    /// What a visit dealt with: the quick choices of the visit form.
    Topic, "topic" {
        /// Reading and explaining letters.
        Letters = "letters",
        /// Filling in forms and applications.
        Forms = "forms",
        /// Looking for housing.
        HousingSearch = "housing_search",
        /// Making and keeping a budget.
        Budget = "budget",
        /// Paying bills online.
        OnlineBills = "online_bills",
        /// The CSN home-equipment loan ("hemutrustningslån").
        HomeEquipmentLoan = "home_equipment_loan",
        /// Home insurance.
        HomeInsurance = "home_insurance",
        /// Opening a bank account.
        BankAccount = "bank_account",
        /// Rights and duties as a tenant, looking after a flat.
        Tenancy = "tenancy",
        /// How Swedish society works.
        Society = "society",
        /// Finding the right agency and contacting it.
        Agencies = "agencies",
        /// The Migration Agency.
        MigrationAgency = "migration_agency",
        /// The Tax Agency: population registration, identity card.
        TaxAgency = "tax_agency",
        /// The Social Insurance Agency.
        SocialInsurance = "social_insurance",
        /// The Public Employment Service and its establishment programme.
        EmploymentService = "employment_service",
        /// CSN, student finance.
        Csn = "csn",
        /// Swedish for immigrants.
        Sfi = "sfi",
        /// Civic orientation ("samhällsorientering").
        CivicOrientation = "civic_orientation",
        /// Adult education.
        AdultEducation = "adult_education",
        /// School and preschool for the children.
        School = "school",
        /// Health care.
        HealthCare = "health_care",
        /// Leisure and associations ("föreningsliv").
        Leisure = "leisure",
        /// Mentors.
        Mentor = "mentor",
    }
}

code_list! {
    /// An outside body a follow-up or step can be aimed at ("lotsa till rätt instans").
    Agency, "agency" {
        /// Migrationsverket.
        MigrationAgency = "migration_agency",
        /// Skatteverket.
        TaxAgency = "tax_agency",
        /// Försäkringskassan.
        SocialInsurance = "social_insurance",
        /// Arbetsförmedlingen.
        EmploymentService = "employment_service",
        /// CSN.
        Csn = "csn",
        /// The municipality's social services.
        SocialServices = "social_services",
        /// SFI and adult education.
        AdultEducation = "adult_education",
        /// School or preschool.
        School = "school",
        /// Health care.
        HealthCare = "health_care",
        /// The landlord or housing company.
        Landlord = "landlord",
        /// A bank.
        Bank = "bank",
        /// Any other body.
        Other = "other",
    }
}

code_list! {
    /// Who carries out a follow-up or a plan step.
    OwnerKind, "owner kind" {
        /// A member of the household (help to self-help).
        Member = "member",
        /// A staff member.
        Staff = "staff",
        /// An outside agency.
        Agency = "agency",
    }
}

code_list! {
    /// The areas of the individual plan.
    GoalArea, "goal area" {
        /// Own income ("egen försörjning").
        OwnIncome = "own_income",
        /// Work or studies.
        WorkOrStudies = "work_or_studies",
        /// Swedish for immigrants.
        Sfi = "sfi",
        /// A permanent home ("stadigvarande boende").
        PermanentHome = "permanent_home",
        /// Health.
        Health = "health",
        /// Social network and participation.
        SocialParticipation = "social_participation",
        /// Registrations with agencies.
        AgencyRegistrations = "agency_registrations",
    }
}

code_list! {
    /// Where a goal stands.
    GoalStatus, "goal status" {
        /// Agreed, no step taken yet.
        NotStarted = "not_started",
        /// Steps are being taken.
        InProgress = "in_progress",
        /// Stuck: no progress for a while.
        Stalled = "stalled",
        /// Reached.
        Reached = "reached",
        /// No longer pursued.
        Dropped = "dropped",
    }
}

code_list! {
    /// Where a plan step stands.
    StepStatus, "step status" {
        /// Not yet done.
        Open = "open",
        /// Done.
        Done = "done",
        /// No longer needed.
        Cancelled = "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for topic in Topic::ALL {
            assert_eq!(topic.code().parse::<Topic>(), Ok(*topic));
        }
        assert_eq!(
            "basement".parse::<Topic>(),
            Err(UnknownCode {
                list: "topic",
                code: "basement".into()
            })
        );
        assert_eq!(
            serde_json::to_string(&VisitStatus::NoShow).unwrap(),
            "\"no_show\""
        );
    }
}

//! A deterministic, seeded generator of synthetic households: the only data that ever enters
//! the repository, the tests, the benchmarks and the demo.
//!
//! Names are drawn independently (first name, surname) from lists of common names of several
//! language groups, so no generated person is a real one. Every household is built through the
//! public actions, signed and timed like a real caseload's two years of visits, so generated
//! documents have the same shape and history as real ones.

use automerge::ActorId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::actions::{
    ActionError, Interpreter, MemberDetails, NewFollowUp, NewGoal, NewHousehold, NewStep, Owner,
    VisitRecord,
};
use crate::calendar::{Date, Timestamp};
use crate::document::HouseholdDoc;
use crate::ids::{DeviceId, DistrictId, FollowUpId, GoalId, MemberId, StaffId, StepId, VisitId};
use crate::schema::NoteRef;
use crate::schema::codes::{
    Agency, ArrivalRoute, CloseReason, Gender, GoalArea, GoalStatus, HousingForm, InterpreterMode,
    StepStatus, Topic,
};
use crate::schema::household::Household;
use crate::schema::values::Set;
use crate::signature::Signature;

struct LanguageGroup {
    language: &'static str,
    female: &'static [&'static str],
    male: &'static [&'static str],
    surnames: &'static [&'static str],
}

const GROUPS: &[LanguageGroup] = &[
    LanguageGroup {
        language: "ar",
        female: &[
            "Amina", "Fatima", "Layla", "Nour", "Rania", "Salma", "Huda", "Yasmin",
        ],
        male: &[
            "Ahmad", "Omar", "Khaled", "Yusuf", "Hassan", "Karim", "Samir", "Tariq",
        ],
        surnames: &[
            "Haddad", "Khalil", "Nasser", "Saleh", "Mansour", "Darwish", "Aziz",
        ],
    },
    LanguageGroup {
        language: "prs",
        female: &["Mariam", "Zahra", "Parisa", "Shabnam", "Farzana", "Nilofar"],
        male: &["Ali", "Hamid", "Farid", "Jawad", "Mustafa", "Nasir", "Reza"],
        surnames: &["Ahmadi", "Hakimi", "Karimi", "Rahimi", "Noori", "Sultani"],
    },
    LanguageGroup {
        language: "fa",
        female: &["Shirin", "Maryam", "Niloufar", "Roya", "Sara", "Leila"],
        male: &["Amir", "Babak", "Dariush", "Kian", "Mehdi", "Payam"],
        surnames: &[
            "Hosseini", "Moradi", "Rostami", "Jafari", "Tehrani", "Kazemi",
        ],
    },
    LanguageGroup {
        language: "so",
        female: &["Hodan", "Faadumo", "Ayaan", "Sahra", "Hibo", "Ifrah"],
        male: &["Abdi", "Mohamed", "Abdirahman", "Hassan", "Liban", "Said"],
        surnames: &["Warsame", "Farah", "Jama", "Ali", "Osman", "Yusuf"],
    },
    LanguageGroup {
        language: "ti",
        female: &["Selam", "Helen", "Saba", "Rahel", "Yohana", "Senait"],
        male: &["Dawit", "Yonas", "Samuel", "Tesfay", "Filmon", "Amanuel"],
        surnames: &[
            "Tesfamariam",
            "Gebremedhin",
            "Haile",
            "Berhane",
            "Kidane",
            "Tekle",
        ],
    },
    LanguageGroup {
        language: "uk",
        female: &["Olena", "Iryna", "Kateryna", "Oksana", "Nataliia", "Yuliia"],
        male: &["Andrii", "Oleksandr", "Dmytro", "Serhii", "Taras", "Mykola"],
        surnames: &[
            "Kovalenko",
            "Shevchenko",
            "Bondarenko",
            "Melnyk",
            "Tkachenko",
            "Kravchenko",
        ],
    },
];

const STREETS: &[&str] = &[
    "Exempelgatan",
    "Lindvägen",
    "Björkstigen",
    "Solrosgatan",
    "Ekbacken",
    "Kvarngatan",
    "Hamnvägen",
    "Parkgatan",
    "Skolgränd",
    "Granvägen",
];

const NOTE_SENTENCES: &[&str] = &[
    "Vi gick igenom brevet från Försäkringskassan tillsammans.",
    "Familjen har börjat föra en enkel budget för hushållet.",
    "Pratade om hur man betalar räkningar via banken.",
    "Ansökan om hemutrustningslån är inskickad.",
    "Barnen har fått plats i förskolan från nästa månad.",
    "Vi bokade en tid hos Skatteverket för id-kort.",
    "Genomgång av hyreskontraktet och vad som gäller vid flytt.",
    "Informerade om föreningar i området och öppen förskola.",
    "SFI-studierna går bra; nästa kurs börjar efter sommaren.",
    "Vi sökte lediga lägenheter på bostadsförmedlingen.",
    "Hemförsäkringen är tecknad.",
    "Pratade om kontakt med vårdcentralen.",
];

/// A seeded source of synthetic households. The same seed gives the same households.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: ChaCha8Rng,
}

/// What kind of household to generate.
#[derive(Debug, Clone)]
pub struct HouseholdSpec {
    /// The household's district.
    pub district: DistrictId,
    /// The staff member making the visits.
    pub staff: StaffId,
    /// The device the history is written from.
    pub device: DeviceId,
    /// When the case opens.
    pub opened_on: Date,
    /// How many visits to generate at most; visits after `today` stay planned, and none is
    /// booked more than four weeks after it.
    pub visits: usize,
    /// "Today": visits after it are left planned, and nothing is signed after it.
    pub today: Date,
}

impl Generator {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// 64 fresh random bits, for ids.
    pub fn random_u64(&mut self) -> u64 {
        self.rng.random()
    }

    /// A fresh random Automerge actor id.
    pub fn actor(&mut self) -> ActorId {
        ActorId::from(self.rng.random::<[u8; 16]>().as_slice())
    }

    /// A number in `range`.
    pub fn below(&mut self, bound: usize) -> usize {
        self.rng.random_range(0..bound.max(1))
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.rng.random_bool(probability.clamp(0.0, 1.0))
    }

    /// A synthetic full name in the given language group.
    fn name(&mut self, group: &LanguageGroup, gender: Gender, surname: &str) -> String {
        let first = match gender {
            Gender::Female => self.pick(group.female),
            _ => self.pick(group.male),
        };
        format!("{first} {surname}")
    }

    /// A household value (no document), for tests that need a plain well-formed household.
    pub fn household_value(&mut self) -> Household {
        let spec = HouseholdSpec {
            district: DistrictId::new("district-norr")
                .unwrap_or_else(|_| DistrictId::from_random(0)),
            staff: StaffId::from_random(1),
            device: DeviceId::from_random(2),
            opened_on: Date::from_ymd(2024, 1, 15)
                .unwrap_or_else(|| Timestamp::from_millis(0).date()),
            visits: 3,
            today: Date::from_ymd(2024, 6, 1).unwrap_or_else(|| Timestamp::from_millis(0).date()),
        };
        let doc = self.household(&spec).unwrap_or_else(|error| {
            unreachable!("the synthetic generator only takes valid actions: {error}")
        });
        doc.household()
            .unwrap_or_else(|error| unreachable!("a fresh document reads: {error}"))
    }

    /// Generates one household through the public actions.
    pub fn household(&mut self, spec: &HouseholdSpec) -> Result<HouseholdDoc, ActionError> {
        let group = &GROUPS[self.below(GROUPS.len())];
        let opened = Timestamp::start_of(spec.opened_on).plus_minutes(9 * 60);
        let sign = |at: Timestamp| Signature::new(spec.staff.clone(), spec.device.clone(), at);
        let arrival_route = *self.pick(&[
            ArrivalRoute::Assigned,
            ArrivalRoute::Assigned,
            ArrivalRoute::QuotaRefugee,
            ArrivalRoute::FamilyReunification,
            ArrivalRoute::UnaccompaniedMinorFamily,
            ArrivalRoute::OwnHousing,
        ]);
        let housing_form = if arrival_route == ArrivalRoute::OwnHousing {
            HousingForm::OwnHousing
        } else {
            *self.pick(&[
                HousingForm::TransitionalHousing,
                HousingForm::TransitionalHousing,
                HousingForm::MunicipalContract,
                HousingForm::SocialContract,
                HousingForm::OtherContract,
            ])
        };
        let arrived_on = spec.opened_on.plus_days(-(self.below(30) as i64));
        let street = *self.pick(STREETS);
        let mut doc = HouseholdDoc::create(
            self.actor(),
            &sign(opened),
            NewHousehold {
                district: spec.district.clone(),
                address: format!("{street} {}", 1 + self.below(60)),
                unit: format!("lgh {}", 1001 + self.below(300)),
                housing_form,
                arrival_route,
                arrived_on,
                opened_on: spec.opened_on,
                assigned_staff: Some(spec.staff.clone()),
            },
        )?;

        // Members: one or two adults, then children; 1–8 people in all.
        let size = 1 + self.below(8);
        let surname = (*self.pick(group.surnames)).to_owned();
        let permit = arrived_on.plus_days(-(self.below(300) as i64));
        let mut members = Vec::with_capacity(size);
        let mut adults = Vec::new();
        for index in 0..size {
            let gender = if self.chance(0.5) {
                Gender::Female
            } else {
                Gender::Male
            };
            let age_years = if index < 2 {
                20 + self.below(40)
            } else {
                self.below(18)
            };
            let birth_date = spec
                .opened_on
                .plus_months(-(age_years as i32) * 12 - self.below(12) as i32)
                .plus_days(-(self.below(28) as i64));
            let needs_interpreter = index < 2 && self.chance(0.7);
            let mut languages = vec![group.language.to_owned()];
            if self.chance(0.4) {
                languages.push("en".to_owned());
            }
            let member = MemberId::from_random(self.random_u64());
            doc.add_member(
                &sign(opened.plus_minutes(1 + index as i64)),
                &member,
                MemberDetails {
                    name: self.name(group, gender, &surname),
                    birth_date,
                    gender,
                    residence_permit_on: Some(permit.max(birth_date)),
                    born_outside_eea: true,
                    registered_in_district: self.chance(0.95),
                    languages,
                    interpreter_language: needs_interpreter.then(|| group.language.to_owned()),
                },
            )?;
            if age_years >= 18 {
                adults.push((member.clone(), needs_interpreter));
            }
            members.push(member);
        }

        // The plan: two to four goals per adult, each with steps.
        let mut goals = Vec::new();
        for (member, _) in &adults {
            for _ in 0..2 + self.below(3) {
                let goal = GoalId::from_random(self.random_u64());
                let area = *self.pick(GoalArea::ALL);
                doc.add_goal(
                    &sign(opened.plus_minutes(30)),
                    &goal,
                    NewGoal {
                        member: member.clone(),
                        area,
                        description: goal_text(area).to_owned(),
                    },
                )?;
                for position in 0..1 + self.below(3) {
                    let owner = match self.below(3) {
                        0 => Owner::Member(member.clone()),
                        1 => Owner::Staff(spec.staff.clone()),
                        _ => Owner::Agency(*self.pick(Agency::ALL)),
                    };
                    doc.add_step(
                        &sign(opened.plus_minutes(31 + position as i64)),
                        &goal,
                        &StepId::from_random(self.random_u64()),
                        NewStep {
                            description: step_text(position).to_owned(),
                            owner,
                            due_on: Some(spec.opened_on.plus_days(30 + 30 * position as i64)),
                        },
                    )?;
                }
                goals.push(goal);
            }
        }
        doc.splice_note(
            &sign(opened.plus_minutes(40)),
            &NoteRef::Plan,
            0,
            0,
            "Planen togs fram tillsammans med familjen vid första mötet.",
        )?;

        // Visits, weekly or fortnightly.
        let interval_days = if self.chance(0.5) { 7 } else { 14 };
        let now = Timestamp::start_of(spec.today).plus_minutes(17 * 60);
        for index in 0..spec.visits {
            let visit = VisitId::from_random(self.random_u64());
            let day = spec.opened_on.plus_days(1 + (index as i64) * interval_days);
            let at = Timestamp::start_of(day).plus_minutes(9 * 60 + 30 * self.below(14) as i64);
            // Nobody books more than four weeks ahead.
            if at > now.plus_minutes(28 * 24 * 60) {
                break;
            }
            let booked = at
                .plus_minutes(-(interval_days * 24 * 60))
                .max(opened.plus_minutes(50));
            doc.schedule_visit(&sign(booked.min(now)), &visit, at, &spec.staff)?;
            if at > now {
                continue;
            }
            let after = at.plus_minutes(120);
            let roll = self.below(100);
            if roll < 6 {
                doc.cancel_visit(&sign(at.plus_minutes(-120)), &visit)?;
                continue;
            }
            if roll < 10 {
                doc.mark_no_show(&sign(after), &visit)?;
                continue;
            }
            let present: Set<MemberId> = members
                .iter()
                .filter(|_| self.chance(0.6))
                .cloned()
                .chain(members.first().cloned())
                .collect();
            let interpreter = adults.iter().any(|(_, needs)| *needs).then(|| Interpreter {
                language: group.language.to_owned(),
                mode: if self.chance(0.6) {
                    InterpreterMode::InPerson
                } else {
                    InterpreterMode::Phone
                },
            });
            let topics: Set<Topic> = (0..1 + self.below(3))
                .map(|_| *self.pick(Topic::ALL))
                .collect();
            let notes: Vec<&str> = (0..1 + self.below(3))
                .map(|_| *self.pick(NOTE_SENTENCES))
                .collect();
            doc.record_visit(
                &sign(after.min(now)),
                &visit,
                VisitRecord {
                    held_at: at,
                    staff: spec.staff.clone(),
                    present,
                    interpreter,
                    duration_minutes: 30 + 15 * self.below(6) as u32,
                    topics,
                    notes: notes.join(" "),
                },
            )?;
            if self.chance(0.25) {
                let follow_up = FollowUpId::from_random(self.random_u64());
                let agency = self.chance(0.6).then(|| *self.pick(Agency::ALL));
                let owner = match (agency, &adults.first()) {
                    (Some(agency), _) if self.chance(0.5) => Owner::Agency(agency),
                    (_, Some((member, _))) => Owner::Member(member.clone()),
                    _ => Owner::Staff(spec.staff.clone()),
                };
                let due_on = day.plus_days(7 + self.below(21) as i64);
                doc.add_follow_up(
                    &sign(after.min(now)),
                    &visit,
                    &follow_up,
                    NewFollowUp {
                        description: "Följ upp ärendet och ta med svaret till nästa besök."
                            .to_owned(),
                        owner,
                        agency,
                        due_on,
                    },
                )?;
                let done_at = Timestamp::start_of(due_on).plus_minutes(10 * 60);
                if done_at <= now && self.chance(0.8) {
                    doc.complete_follow_up(&sign(done_at), &visit, &follow_up, due_on)?;
                }
            }
            // Now and then a goal moves on.
            if !goals.is_empty() && self.chance(0.08) {
                let goal = goals[self.below(goals.len())].clone();
                let status = *self.pick(&[
                    GoalStatus::InProgress,
                    GoalStatus::Reached,
                    GoalStatus::Stalled,
                ]);
                doc.set_goal_status(&sign(after.min(now)), &goal, status, day)?;
                let steps: Vec<StepId> = doc
                    .household()?
                    .plan
                    .goals
                    .get(&goal)
                    .map(|goal| goal.steps.keys().cloned().collect())
                    .unwrap_or_default();
                if let Some(step) = steps.first() {
                    doc.set_step_status(&sign(after.min(now)), &goal, step, StepStatus::Done, day)?;
                }
            }
        }
        // Some long-running cases end.
        let last_day = spec
            .opened_on
            .plus_days(1 + spec.visits as i64 * interval_days);
        if last_day < spec.today && self.chance(0.3) {
            let reason = *self.pick(CloseReason::ALL);
            let closed = Timestamp::start_of(last_day).plus_minutes(15 * 60);
            doc.close_case(&sign(closed), reason, last_day)?;
        }
        Ok(doc)
    }
}

fn goal_text(area: GoalArea) -> &'static str {
    match area {
        GoalArea::OwnIncome => "Egen försörjning genom arbete",
        GoalArea::WorkOrStudies => "Börja arbeta eller studera",
        GoalArea::Sfi => "Klara SFI kurs C",
        GoalArea::PermanentHome => "Få ett förstahandskontrakt",
        GoalArea::Health => "Regelbunden kontakt med vårdcentralen",
        GoalArea::SocialParticipation => "Delta i en förening",
        GoalArea::AgencyRegistrations => "Vara registrerad hos alla berörda myndigheter",
    }
}

fn step_text(position: usize) -> &'static str {
    const STEPS: [&str; 3] = ["Boka möte", "Fyll i ansökan", "Följ upp beslutet"];
    STEPS[position % STEPS.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(visits: usize) -> HouseholdSpec {
        HouseholdSpec {
            district: DistrictId::new("district-norr").unwrap(),
            staff: StaffId::new("u-anna").unwrap(),
            device: DeviceId::new("d-phone").unwrap(),
            opened_on: Date::from_ymd(2023, 1, 10).unwrap(),
            visits,
            today: Date::from_ymd(2025, 1, 10).unwrap(),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_household() {
        let a = Generator::new(42)
            .household(&spec(20))
            .unwrap()
            .household()
            .unwrap();
        let b = Generator::new(42)
            .household(&spec(20))
            .unwrap()
            .household()
            .unwrap();
        let c = Generator::new(43)
            .household(&spec(20))
            .unwrap()
            .household()
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn households_have_one_to_eight_members_and_the_visits_asked_for() {
        let mut generator = Generator::new(1);
        for _ in 0..20 {
            let household = generator.household(&spec(12)).unwrap().household().unwrap();
            assert!((1..=8).contains(&household.members.len()));
            assert_eq!(household.visits.len(), 12);
        }
    }
}

//! Tests of every figure of the tertial report, on households written out by hand so that
//! each expected number can be read off the fixture (the comments beside each count say
//! which people and visits make it up), and of the report read from real documents as they
//! stood at a period's end.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use automerge::ActorId;

use super::*;
use crate::actions::{Interpreter, MemberDetails, NewHousehold, VisitRecord};
use crate::calendar::{Date, Timestamp};
use crate::document::HouseholdDoc;
use crate::ids::{DeviceId, DistrictId, GoalId, MemberId, StaffId, VisitId};
use crate::schema::codes::{
    ArrivalRoute, CaseStatus, CloseReason, Gender, GoalArea, GoalStatus, HousingForm,
    InterpreterMode, Topic, VisitStatus,
};
use crate::schema::household::{Goal, Household, Member, Visit};
use crate::schema::values::Set;
use crate::signature::Signature;
use crate::synthetic::Generator;

use AgeBand::{
    From18To24 as A18, From25To44 as A25, From45To64 as A45, From65 as A65, Under18 as A0,
};
use Gender::{Female as F, Male as M, Other as O};

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// "2026-01-01 09:30", Swedish time, as an instant.
fn at(text: &str) -> Timestamp {
    let (day, time) = text.split_once(' ').unwrap();
    let (hours, minutes) = time.split_once(':').unwrap();
    let minutes = hours.parse::<i64>().unwrap() * 60 + minutes.parse::<i64>().unwrap();
    Timestamp::start_of(date(day)).plus_minutes(minutes)
}

fn district(name: &str) -> DistrictId {
    DistrictId::new(name).unwrap()
}

fn id(name: &str) -> MemberId {
    MemberId::new(name).unwrap()
}

fn t1() -> Tertial {
    Tertial::new(2026, 1).unwrap()
}

fn split(cells: &[(Gender, AgeBand)]) -> GenderAgeSplit {
    let mut split = GenderAgeSplit::new();
    for (gender, band) in cells {
        split.add(*gender, *band);
    }
    split
}

fn tally(count: u64, people: &[(Gender, AgeBand)]) -> Tally {
    Tally {
        count,
        people: split(people),
    }
}

/// A well-formed household and visit from the generator, for fixtures to start from.
fn template() -> &'static (Household, Visit) {
    static TEMPLATE: OnceLock<(Household, Visit)> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let household = Generator::new(0).household_value();
        let visit = household.visits.values().next().unwrap().clone();
        (household, visit)
    })
}

/// A household written out by hand.
struct Fixture(Household);

impl Fixture {
    /// An open case with no members, visits or goals.
    fn new(district_name: &str, opened_on: &str) -> Self {
        let (mut household, _) = template().clone();
        household.members.clear();
        household.visits.clear();
        household.plan.goals.clear();
        let profile = &mut household.profile;
        profile.district = district(district_name);
        profile.arrived_on = date(opened_on);
        profile.opened_on = date(opened_on);
        profile.status = CaseStatus::Active;
        profile.close_reason = None;
        profile.closed_on = None;
        Self(household)
    }

    fn closed(mut self, on: &str, reason: Option<CloseReason>) -> Self {
        self.0.profile.status = CaseStatus::Closed;
        self.0.profile.closed_on = Some(date(on));
        self.0.profile.close_reason = reason;
        self
    }

    fn member(mut self, name: &str, gender: Gender, birth: &str) -> Self {
        self.0.members.insert(
            id(name),
            Member {
                name: format!("Testperson {name}"),
                birth_date: date(birth),
                gender,
                residence_permit_on: Some(date("2025-06-01")),
                born_outside_eea: true,
                registered_in_district: true,
                languages: vec!["ar".into()],
                interpreter_language: None,
            },
        );
        self
    }

    /// A visit with nobody present, no interpreter, length or topics.
    fn visit(mut self, name: &str, when: &str, status: VisitStatus) -> Self {
        let (_, mut visit) = template().clone();
        visit.planned_at = at(when);
        visit.status = status;
        visit.present = Set::new();
        visit.interpreter_language = None;
        visit.interpreter_mode = None;
        visit.duration_minutes = None;
        visit.topics = Set::new();
        self.0.visits.insert(VisitId::new(name).unwrap(), visit);
        self
    }

    /// A done visit with the people present, its length and topics.
    fn held(
        self,
        name: &str,
        when: &str,
        present: &[&str],
        minutes: Option<u32>,
        topics: &[Topic],
    ) -> Self {
        let mut fixture = self.visit(name, when, VisitStatus::Done);
        let visit = fixture.last_visit(name);
        visit.present = present.iter().map(|member| id(member)).collect();
        visit.duration_minutes = minutes;
        visit.topics = topics.iter().copied().collect();
        fixture
    }

    fn interpreter(
        mut self,
        visit: &str,
        language: Option<&str>,
        mode: Option<InterpreterMode>,
    ) -> Self {
        let visit = self.last_visit(visit);
        visit.interpreter_language = language.map(str::to_owned);
        visit.interpreter_mode = mode;
        self
    }

    fn last_visit(&mut self, name: &str) -> &mut Visit {
        self.0.visits.get_mut(&VisitId::new(name).unwrap()).unwrap()
    }

    fn goal(
        mut self,
        name: &str,
        member: &str,
        area: GoalArea,
        status: GoalStatus,
        reached_on: Option<&str>,
    ) -> Self {
        self.0.plan.goals.insert(
            GoalId::new(name).unwrap(),
            Goal {
                member: id(member),
                area,
                description: "Ett mål".into(),
                status,
                set_on: date("2025-01-01"),
                reached_on: reached_on.map(date),
                steps: BTreeMap::new(),
            },
        );
        self
    }
}

/// The caseload of the report tests. Period: 2026 T1 (2026-01-01 to 2026-04-30). Ages are
/// worked out beside each member: on the period's last day, and where it differs, on the
/// dates of visits and goals.
fn caseload() -> Vec<Household> {
    vec![
        // H1: open since before the period, still open.
        Fixture::new("norrmalm", "2025-09-01")
            .member("a1", F, "1990-05-10") // 35: 25–44 all period
            .member("a2", M, "1985-01-20") // 41: 25–44
            .member("a3", F, "2008-03-15") // turns 18 on 2026-03-15: 0–17 before, 18–24 after
            .member("a4", M, "2015-06-01") // 10: 0–17
            // On the period's first instant: counts; a3 is 17.
            .held(
                "v1",
                "2026-01-01 00:00",
                &["a1", "a3"],
                Some(60),
                &[Topic::Budget, Topic::Letters],
            )
            .interpreter("v1", Some("ar"), Some(InterpreterMode::InPerson))
            // After a3's birthday; the language as typed differently.
            .held(
                "v2",
                "2026-03-20 10:00",
                &["a1", "a2", "a3"],
                Some(45),
                &[Topic::Budget],
            )
            .interpreter("v2", Some(" AR "), Some(InterpreterMode::Phone))
            // On the period's last minute: counts.
            .visit("v3", "2026-04-30 23:59", VisitStatus::Cancelled)
            // One minute before the period and on its day after: neither counts.
            .held("v4", "2025-12-31 23:59", &["a1"], Some(30), &[Topic::Sfi])
            .held("v5", "2026-05-01 00:00", &["a1"], Some(30), &[Topic::Sfi])
            .goal(
                "g1",
                "a1",
                GoalArea::Sfi,
                GoalStatus::Reached,
                Some("2026-02-01"),
            )
            // Reached while a3 was 17.
            .goal(
                "g2",
                "a3",
                GoalArea::WorkOrStudies,
                GoalStatus::Reached,
                Some("2026-03-01"),
            )
            .goal(
                "g3",
                "a2",
                GoalArea::OwnIncome,
                GoalStatus::Reached,
                Some("2025-12-01"),
            )
            .goal("g4", "a2", GoalArea::Health, GoalStatus::InProgress, None)
            .goal(
                "g5",
                "a2",
                GoalArea::PermanentHome,
                GoalStatus::Reached,
                Some("2026-05-01"),
            )
            .0,
        // H2: opened and closed (work) in the period.
        Fixture::new("norrmalm", "2026-02-10")
            .closed("2026-04-20", Some(CloseReason::Work))
            .member("b1", M, "2003-07-01") // 22: 18–24
            .held(
                "v6",
                "2026-02-12 09:00",
                &["b1"],
                Some(30),
                &[Topic::HousingSearch, Topic::Budget],
            )
            .visit("v7", "2026-03-01 09:00", VisitStatus::NoShow)
            .goal(
                "g6",
                "b1",
                GoalArea::OwnIncome,
                GoalStatus::Reached,
                Some("2026-04-15"),
            )
            .0,
        // H3: closed before the period: not supported in it.
        Fixture::new("norrmalm", "2024-05-01")
            .closed("2025-12-15", Some(CloseReason::Moved))
            .member("c1", F, "1970-01-01")
            .0,
        // H4: closed after the period's end (a current value, not one as at the end): it was
        // open throughout, so it is supported and not closed.
        Fixture::new("norrmalm", "2025-01-10")
            .closed("2026-05-15", Some(CloseReason::Studies))
            .member("d1", O, "1960-02-01") // 66: 65+
            .member("d2", F, "1961-06-01") // 64: 45–64
            .visit("v8", "2026-04-10 13:00", VisitStatus::Planned)
            // A language but no mode and no length.
            .held("v9", "2026-02-02 10:00", &["d1", "d2"], None, &[Topic::Sfi])
            .interpreter("v9", Some("so"), None)
            // A phone interpreter with no language.
            .held("v10", "2026-02-03 10:00", &["d2"], Some(20), &[])
            .interpreter("v10", None, Some(InterpreterMode::Phone))
            .0,
        // H5: another district.
        Fixture::new("kungsholmen", "2026-01-15")
            .member("e1", F, "1995-08-01") // 30: 25–44
            .held("v11", "2026-02-01 10:00", &["e1"], Some(90), &[Topic::Sfi])
            .interpreter("v11", Some("ti"), Some(InterpreterMode::InPerson))
            .goal(
                "g7",
                "e1",
                GoalArea::Health,
                GoalStatus::Reached,
                Some("2026-03-03"),
            )
            .0,
        // H6: opened and closed on the period's last day, no reason recorded; a baby born
        // in the period, and one born after it (a current value) who does not count.
        Fixture::new("norrmalm", "2026-04-30")
            .closed("2026-04-30", None)
            .member("f1", M, "2026-03-01") // 0: 0–17
            .member("f2", F, "2026-06-01") // not born by the period's end
            .0,
        // H8: closed on the period's first day: supported, and closed in the period.
        Fixture::new("norrmalm", "2025-06-01")
            .closed("2026-01-01", Some(CloseReason::Other))
            .member("i1", M, "1950-01-01") // 76: 65+
            .0,
        // H7: opened after the period.
        Fixture::new("norrmalm", "2026-05-01")
            .member("h1", F, "1980-01-01")
            .0,
    ]
}

fn norrmalm() -> TertialReport {
    tertial_report(&caseload(), t1(), &Scope::District(district("norrmalm")))
}

#[test]
fn households_and_people_supported() {
    let report = norrmalm();
    assert_eq!(report.period, t1().period());
    // H1, H2, H4, H6 and H8; not H3 (closed before), H5 (other district) or H7 (opened
    // after).
    let people = [
        (F, A25),
        (M, A25),
        (F, A18),
        (M, A0),
        (M, A18),
        (O, A65),
        (F, A45),
        (M, A0),
        (M, A65),
    ];
    assert_eq!(report.supported, tally(5, &people));
    assert_eq!(report.supported.people.gender_total(M), 5);
    assert_eq!(report.supported.people.age_band_total(A0), 2);
}

#[test]
fn new_and_closed_cases() {
    let report = norrmalm();
    // H2 (opened 2026-02-10) and H6 (opened on the last day).
    assert_eq!(report.new_cases, tally(2, &[(M, A18), (M, A0)]));
    // H2 (work), H6 (no reason) and H8 (other, on the first day); H4 closes after the
    // period, H3 before it.
    assert_eq!(report.closed, tally(3, &[(M, A18), (M, A0), (M, A65)]));
    let by_reason: Vec<(Option<CloseReason>, Tally)> = report
        .closed_by_reason
        .iter()
        .map(|closed| (closed.reason, closed.cases))
        .collect();
    assert_eq!(
        by_reason,
        vec![
            (Some(CloseReason::Work), tally(1, &[(M, A18)])),
            (Some(CloseReason::Studies), Tally::default()),
            (Some(CloseReason::Moved), Tally::default()),
            (Some(CloseReason::Other), tally(1, &[(M, A65)])),
            (None, tally(1, &[(M, A0)])),
        ]
    );
}

#[test]
fn visits_by_status() {
    let visits = norrmalm().visits;
    // v1 (a1, a3 at 17), v2 (a1, a2, a3 at 18), v6 (b1), v9 (d1, d2), v10 (d2); not v4, v5.
    assert_eq!(
        visits.done,
        tally(
            5,
            &[
                (F, A25),
                (F, A0),
                (F, A25),
                (M, A25),
                (F, A18),
                (M, A18),
                (O, A65),
                (F, A45),
                (F, A45)
            ]
        )
    );
    // v3, on the last minute: booked for all four of H1.
    assert_eq!(
        visits.cancelled,
        tally(1, &[(F, A25), (M, A25), (F, A18), (M, A0)])
    );
    // v7: booked for b1.
    assert_eq!(visits.no_show, tally(1, &[(M, A18)]));
    // v8 was never recorded: d1 at 66 and d2 at 64 on 2026-04-10.
    assert_eq!(visits.planned, tally(1, &[(O, A65), (F, A45)]));
}

#[test]
fn interpreter_use_by_language() {
    let interpreters = norrmalm().interpreters;
    let languages: Vec<Option<&str>> = interpreters
        .iter()
        .map(|row| row.language.as_deref())
        .collect();
    // "ar" and " AR " are one language; no "ti" (Kungsholmen); the unrecorded one last.
    assert_eq!(languages, vec![Some("ar"), Some("so"), None]);
    let ar = &interpreters[0];
    assert_eq!(
        (
            ar.visits,
            ar.in_person,
            ar.phone,
            ar.minutes,
            ar.visits_without_minutes
        ),
        (2, 1, 1, 60 + 45, 0)
    );
    assert_eq!(
        ar.people,
        split(&[(F, A25), (F, A0), (F, A25), (M, A25), (F, A18)])
    );
    let so = &interpreters[1];
    assert_eq!(
        (
            so.visits,
            so.in_person,
            so.phone,
            so.minutes,
            so.visits_without_minutes
        ),
        (1, 0, 0, 0, 1)
    );
    assert_eq!(so.people, split(&[(O, A65), (F, A45)]));
    let unknown = &interpreters[2];
    assert_eq!(
        (
            unknown.visits,
            unknown.in_person,
            unknown.phone,
            unknown.minutes
        ),
        (1, 0, 1, 20)
    );
    assert_eq!(unknown.people, split(&[(F, A45)]));
}

#[test]
fn topics_covered() {
    let report = norrmalm();
    assert_eq!(report.topics.len(), Topic::ALL.len());
    let topic = |wanted: Topic| {
        report
            .topics
            .iter()
            .find(|row| row.topic == wanted)
            .unwrap()
            .visits
    };
    // v1, v2 and v6.
    assert_eq!(
        topic(Topic::Budget),
        tally(
            3,
            &[(F, A25), (F, A0), (F, A25), (M, A25), (F, A18), (M, A18)]
        )
    );
    assert_eq!(topic(Topic::Letters), tally(1, &[(F, A25), (F, A0)]));
    assert_eq!(topic(Topic::HousingSearch), tally(1, &[(M, A18)]));
    // v9 only: v4 and v5 fall outside, v11 is Kungsholmen's.
    assert_eq!(topic(Topic::Sfi), tally(1, &[(O, A65), (F, A45)]));
    let others: u64 = report.topics.iter().map(|row| row.visits.count).sum();
    assert_eq!(others, 3 + 1 + 1 + 1);
}

#[test]
fn plan_goals_reached() {
    let report = norrmalm();
    let area = |wanted: GoalArea| {
        report
            .goals_reached
            .iter()
            .find(|row| row.area == wanted)
            .unwrap()
            .goals
    };
    assert_eq!(report.goals_reached.len(), GoalArea::ALL.len());
    // g1: a1 at 35.
    assert_eq!(area(GoalArea::Sfi), tally(1, &[(F, A25)]));
    // g2: a3 two weeks before she turned 18.
    assert_eq!(area(GoalArea::WorkOrStudies), tally(1, &[(F, A0)]));
    // g6 (b1); not g3, reached before the period.
    assert_eq!(area(GoalArea::OwnIncome), tally(1, &[(M, A18)]));
    // g4 is in progress; g5 was reached after the period; g7 is Kungsholmen's.
    assert_eq!(area(GoalArea::Health), Tally::default());
    assert_eq!(area(GoalArea::PermanentHome), Tally::default());
    assert_eq!(
        report.goals_reached_total,
        tally(3, &[(F, A25), (F, A0), (M, A18)])
    );
}

#[test]
fn all_districts_add_the_other_district() {
    let all = tertial_report(&caseload(), t1(), &Scope::AllDistricts);
    let one = norrmalm();
    // H5: e1 at 30, opened 2026-01-15, one visit with a Tigrinya interpreter, one goal.
    let mut supported = one.supported;
    supported.count += 1;
    supported.people.add(F, A25);
    assert_eq!(all.supported, supported);
    assert_eq!(all.new_cases.count, 3);
    assert_eq!(all.closed, one.closed);
    assert_eq!(all.visits.done.count, 6);
    let languages: Vec<Option<&str>> = all
        .interpreters
        .iter()
        .map(|row| row.language.as_deref())
        .collect();
    assert_eq!(languages, vec![Some("ar"), Some("so"), Some("ti"), None]);
    assert_eq!(all.interpreters[2].minutes, 90);
    assert_eq!(all.goals_reached_total.count, 4);
    assert_eq!(all.scope, Scope::AllDistricts);
}

#[test]
fn a_district_with_no_households_and_an_empty_period_report_zeros() {
    let empty = tertial_report(&caseload(), t1(), &Scope::District(district("ostermalm")));
    let nothing = tertial_report(&[], t1(), &Scope::AllDistricts);
    // 2026 T1 of a caseload whose every case and visit lies elsewhere in time.
    let elsewhere = tertial_report(
        &caseload(),
        Tertial::new(2023, 2).unwrap(),
        &Scope::AllDistricts,
    );
    for report in [empty, nothing, elsewhere] {
        assert_eq!(report.supported, Tally::default());
        assert_eq!(report.new_cases, Tally::default());
        assert_eq!(report.closed, Tally::default());
        assert_eq!(report.closed_by_reason.len(), CloseReason::ALL.len());
        assert!(
            report
                .closed_by_reason
                .iter()
                .all(|row| row.cases == Tally::default())
        );
        assert_eq!(report.visits, Visits::default());
        assert!(report.interpreters.is_empty());
        assert!(
            report
                .topics
                .iter()
                .all(|row| row.visits == Tally::default())
        );
        assert_eq!(report.goals_reached_total, Tally::default());
        for table in report.tables() {
            assert!(
                table
                    .rows
                    .iter()
                    .all(|row| row.values.iter().all(|value| *value == 0))
            );
        }
    }
}

#[test]
fn tables_carry_the_figures() {
    let report = norrmalm();
    let tables = report.tables();
    let kinds: Vec<&str> = tables.iter().map(|table| table.kind.key()).collect();
    assert_eq!(
        kinds,
        vec!["cases", "visits", "interpreters", "topics", "goals_reached"]
    );
    for table in &tables {
        for row in &table.rows {
            assert_eq!(
                row.values.len() + 1,
                table.columns.len(),
                "{:?}",
                table.kind
            );
        }
    }
    let cases = &tables[0];
    let keys: Vec<String> = cases
        .rows
        .iter()
        .map(|row| row.key.key().into_owned())
        .collect();
    assert_eq!(
        keys,
        vec![
            "supported",
            "new",
            "closed",
            "closed_work",
            "closed_studies",
            "closed_moved",
            "closed_other",
            "closed_not_recorded"
        ]
    );
    assert_eq!(
        cases.column(&Label::Column(Column::Households)),
        Some(vec![5, 2, 3, 1, 0, 0, 1, 1])
    );
    assert_eq!(
        cases.column(&Label::Column(Column::People)),
        Some(vec![9, 2, 3, 1, 0, 0, 1, 1])
    );
    assert_eq!(
        cases.column(&Label::Split(M, A0)),
        Some(vec![2, 1, 1, 0, 0, 0, 0, 1])
    );
    let interpreters = &tables[2];
    assert_eq!(
        interpreters.column(&Label::Column(Column::Minutes)),
        Some(vec![105, 0, 20])
    );
    let goals = &tables[4];
    assert_eq!(goals.rows.last().unwrap().key, Label::Total);
    assert_eq!(
        goals.column(&Label::Column(Column::Goals)).unwrap().last(),
        Some(&3)
    );

    let csv = tables[1].to_csv(&MachineKeys).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("visit_status,visits,people,female_0_17,"));
    // done: 5 visits, 9 people: female 0–17 1, 18–24 1, 25–44 2, 45–64 2; male 18–24 1,
    // 25–44 1; other 65+ 1.
    assert_eq!(
        lines[1],
        "done,5,9,1,1,2,2,0,0,1,1,0,0,0,0,0,0,1,6,2,1,1,2,3,2,1"
    );
    assert_eq!(lines.len(), 5);
}

#[test]
fn the_report_serialises_for_the_web_app() {
    let json = serde_json::to_value(norrmalm()).unwrap();
    assert_eq!(json["period"]["start"], "2026-01-01");
    assert_eq!(json["scope"]["district"], "norrmalm");
    assert_eq!(json["supported"]["count"], 5);
    assert_eq!(json["supported"]["people"]["cells"]["male"]["0_17"], 2);
    assert_eq!(json["closed_by_reason"][0]["reason"], "work");
    assert_eq!(
        json["closed_by_reason"][4]["reason"],
        serde_json::Value::Null
    );
    assert_eq!(json["interpreters"][0]["language"], "ar");
    assert_eq!(json["topics"][0]["topic"], "letters");
    let table = serde_json::to_value(norrmalm().cases_table()).unwrap();
    assert_eq!(table["kind"], "cases");
    assert_eq!(table["columns"][0], "case_figure");
    assert_eq!(table["rows"][3]["key"], "closed_work");
}

#[test]
fn the_report_draws_its_charts() {
    let report = norrmalm();
    let people = report.people_chart("people supported", &MachineKeys);
    assert!(people.contains("<title>people supported</title>"));
    assert!(people.contains("age_0_17: 2 (female 0, male 2, other 0)"));
    let topics = report.topics_chart(&MachineKeys);
    // Only topics dealt with, most visits first.
    assert!(topics.contains("<desc>budget: 3; letters: 1; housing_search: 1; sfi: 1</desc>"));
    let interpreters = report.interpreters_chart(&MachineKeys);
    assert!(interpreters.contains("<desc>ar: 2; so: 1; not_recorded: 1</desc>"));
}

// From documents: the households as they stood at the period's end.

fn sign(when: &str) -> Signature {
    Signature::new(
        StaffId::new("u-anna").unwrap(),
        DeviceId::new("d-phone").unwrap(),
        at(when),
    )
}

fn document(opened_on: &str, signed: &str) -> HouseholdDoc {
    let mut doc = HouseholdDoc::create(
        ActorId::from([7_u8; 16].as_slice()),
        &sign(signed),
        NewHousehold {
            district: district("norrmalm"),
            address: "Exempelgatan 2".into(),
            unit: String::new(),
            housing_form: HousingForm::TransitionalHousing,
            arrival_route: ArrivalRoute::QuotaRefugee,
            arrived_on: date(opened_on),
            opened_on: date(opened_on),
            assigned_staff: None,
        },
    )
    .unwrap();
    doc.add_member(
        &sign(signed),
        &id("m1"),
        MemberDetails {
            name: "Testperson Ett".into(),
            birth_date: date("2008-04-01"),
            gender: F,
            residence_permit_on: Some(date("2025-12-01")),
            born_outside_eea: true,
            registered_in_district: true,
            languages: vec!["ti".into()],
            interpreter_language: Some("ti".into()),
        },
    )
    .unwrap();
    doc
}

#[test]
fn documents_are_read_as_they_stood_at_the_period_end() {
    let mut doc = document("2026-01-10", "2026-01-10 09:00");
    let visit = VisitId::new("v-late").unwrap();
    doc.schedule_visit(
        &sign("2026-04-20 09:00"),
        &visit,
        at("2026-04-29 10:00"),
        &StaffId::new("u-anna").unwrap(),
    )
    .unwrap();
    // Recorded two days after the period: at its end the visit was still planned.
    doc.record_visit(
        &sign("2026-05-02 08:00"),
        &visit,
        VisitRecord {
            held_at: at("2026-04-29 10:00"),
            staff: StaffId::new("u-anna").unwrap(),
            present: [id("m1")].into_iter().collect(),
            interpreter: Some(Interpreter {
                language: "ti".into(),
                mode: InterpreterMode::Phone,
            }),
            duration_minutes: 60,
            topics: [Topic::School].into_iter().collect(),
            notes: String::new(),
        },
    )
    .unwrap();
    // Closed after the period, with a closing date inside it: at the period's end the case
    // was open.
    doc.close_case(
        &sign("2026-05-03 08:00"),
        CloseReason::Studies,
        date("2026-04-28"),
    )
    .unwrap();
    // A household whose document was begun after the period did not exist at its end.
    let later = document("2026-05-04", "2026-05-04 09:00");

    let households = households_at_end([&doc, &later], t1().period()).unwrap();
    assert_eq!(households.len(), 1);
    let report = tertial_report(&households, t1(), &Scope::AllDistricts);
    // m1 turns 18 on 2026-04-01: 18–24 at the period's end, and at the visit.
    assert_eq!(report.supported, tally(1, &[(F, A18)]));
    assert_eq!(report.new_cases, tally(1, &[(F, A18)]));
    assert_eq!(report.closed, Tally::default());
    assert_eq!(report.visits.planned, tally(1, &[(F, A18)]));
    assert_eq!(report.visits.done, Tally::default());
    assert!(report.interpreters.is_empty());

    // Read as it stands now, the same household is closed in the period, the visit done.
    let now = doc.household().unwrap();
    let report = tertial_report([&now], t1(), &Scope::AllDistricts);
    assert_eq!(report.closed, tally(1, &[(F, A18)]));
    assert_eq!(report.closed_by_reason[1].cases.count, 1);
    assert_eq!(report.visits.done, tally(1, &[(F, A18)]));
    assert_eq!(report.interpreters[0].minutes, 60);
    // In the next tertial the case, closed on 2026-04-28, is no longer supported.
    let t2 = t1().next().unwrap();
    let households = households_at_end([&doc], t2.period()).unwrap();
    assert_eq!(
        tertial_report(&households, t2, &Scope::AllDistricts).supported,
        Tally::default()
    );
}

#[test]
fn newcomers_count_by_the_agreements_rules() {
    let period = Period::new(date("2017-01-01"), date("2018-02-28")).unwrap();
    let person = |birth: &str, permit: Option<&str>| Member {
        name: "Testperson".into(),
        birth_date: date(birth),
        gender: F,
        residence_permit_on: permit.map(date),
        born_outside_eea: true,
        registered_in_district: true,
        languages: vec![],
        interpreter_language: None,
    };
    let mut household = Fixture::new("norrmalm", "2017-03-01").0;
    let mut add = |name: &str, member: Member| {
        household.members.insert(id(name), member);
    };
    add("counts", person("1990-01-01", Some("2017-02-01")));
    add("first-day", person("1990-01-01", Some("2017-01-01")));
    add("last-day", person("1990-01-01", Some("2018-02-28")));
    // 18 on the period's last day counts; 17 does not; 64 counts, 65 does not.
    add("just-18", person("2000-02-28", Some("2017-06-01")));
    add("still-17", person("2000-03-01", Some("2017-06-01")));
    add("just-64", person("1953-03-01", Some("2017-06-01")));
    add("already-65", person("1953-02-28", Some("2017-06-01")));
    add("permit-before", person("1990-01-01", Some("2016-12-31")));
    add("permit-after", person("1990-01-01", Some("2018-03-01")));
    add("no-permit", person("1990-01-01", None));
    let mut inside_eea = person("1990-01-01", Some("2017-06-01"));
    inside_eea.born_outside_eea = false;
    add("inside-eea", inside_eea);
    let mut elsewhere = person("1990-01-01", Some("2017-06-01"));
    elsewhere.registered_in_district = false;
    add("registered-elsewhere", elsewhere);
    // A closed case's residents still count: the agreement counts residents.
    let mut kungsholmen = Fixture::new("kungsholmen", "2017-01-05")
        .closed("2017-12-01", Some(CloseReason::Work))
        .0;
    kungsholmen
        .members
        .insert(id("k1"), person("1980-01-01", Some("2017-01-02")));
    let mut solna = Fixture::new("solna", "2017-01-05").0;
    solna
        .members
        .insert(id("s1"), person("1980-01-01", Some("2017-01-02")));

    let districts = [
        district("norrmalm"),
        district("kungsholmen"),
        district("ostermalm"),
    ];
    let counts = count_newcomers([&household, &kungsholmen, &solna], period, &districts);
    assert_eq!(
        counts,
        vec![
            // counts, first-day, last-day, just-18, just-64.
            NewcomerCount {
                district: district("norrmalm"),
                newcomers: 5
            },
            NewcomerCount {
                district: district("kungsholmen"),
                newcomers: 1
            },
            NewcomerCount {
                district: district("ostermalm"),
                newcomers: 0
            },
        ]
    );
    // 1,000 kr over 5 + 1 + 0: 833.33 and 166.67 kr.
    let share = cost_share(&counts, 100_000).unwrap();
    let amounts: Vec<u64> = share.districts.iter().map(|row| row.amount_ore).collect();
    assert_eq!(amounts, vec![83_333, 16_667, 0]);
    // No newcomers in a period with none: a clear error, not a division by zero.
    let before = Period::new(date("2010-01-01"), date("2010-12-31")).unwrap();
    let none = count_newcomers([&household, &kungsholmen], before, &districts);
    assert_eq!(
        cost_share(&none, 100_000),
        Err(CostShareError::NoNewcomers { districts: 3 })
    );
}

/// A filed report is kept as JSON and read back: it must read back as the same report, for
/// one district and for all.
#[test]
fn a_report_reads_back_from_json_as_it_was_written() {
    for report in [
        norrmalm(),
        tertial_report(&caseload(), t1(), &Scope::AllDistricts),
    ] {
        let json = serde_json::to_string(&report).unwrap();
        let read: TertialReport = serde_json::from_str(&json).unwrap();
        assert_eq!(read, report);
    }
    let backwards = r#"{"start":"2026-04-30","end":"2026-01-01"}"#;
    assert!(serde_json::from_str::<Period>(backwards).is_err());
}

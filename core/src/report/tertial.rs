//! The tertial report: what the team did in a period, for one district or all, every figure
//! split by gender and age band.
//!
//! [`tertial_report`] is a pure function of household values and a period. The households
//! must be as they stood at the period's end (read them with [`households_at_end`]), so that
//! a report for a past tertial gives the same figures whenever it is run: a case closed after
//! the period still counts as open, a visit recorded after the period still counts as planned.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use automerge::Automerge;

use crate::calendar::Date;
use crate::document::HouseholdDoc;
use crate::ids::DistrictId;
use crate::report::period::Period;
use crate::report::split::GenderAgeSplit;
use crate::report::table::{CaseRow, Column, Label, Table, TableKind};
use crate::schema::SchemaError;
use crate::schema::codes::{
    CaseStatus, CloseReason, GoalArea, GoalStatus, InterpreterMode, Topic, VisitStatus,
};
use crate::schema::household::{Household, Member, Visit};

/// Whose households a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every district: the steering group's report.
    AllDistricts,
    /// One district: its committee's report on its own residents.
    District(DistrictId),
}

impl Scope {
    /// Whether a household in `district` (as at the period's end) belongs to the report.
    pub fn includes(&self, district: &DistrictId) -> bool {
        match self {
            Scope::AllDistricts => true,
            Scope::District(wanted) => wanted == district,
        }
    }
}

/// A count and the people behind it, by gender and age band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    /// How many households, visits or goals (each figure says which).
    pub count: u64,
    /// The people they concern (each figure says who, and at what date their age is taken).
    pub people: GenderAgeSplit,
}

/// Cases closed in the period for one reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClosedFor {
    /// The reason recorded; `None` for a closed case with no reason.
    pub reason: Option<CloseReason>,
    /// Households and their people, as for [`TertialReport::closed`].
    pub cases: Tally,
}

/// Visits in the period by their status at the period's end.
///
/// A visit is in the period when its planned start ([`Visit::planned_at`], as a UTC date)
/// is. Each [`Tally::count`] is visits; its people are, for a done visit, the members
/// recorded present, aged on the visit's date; a cancelled, missed or still-planned visit
/// had nobody present, so its people are all the household's members (those it was booked
/// for), aged on the visit's date. A person at three visits counts three times.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Visits {
    /// Held and recorded.
    pub done: Tally,
    /// Called off in advance.
    pub cancelled: Tally,
    /// The household was not there.
    pub no_show: Tally,
    /// Still marked planned at the period's end: not yet recorded (a gap in the records).
    pub planned: Tally,
}

/// Interpreter use for one language, over the done visits in the period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InterpreterUse {
    /// The language as recorded, trimmed and in lower case so that `AR` and `ar` count
    /// together; `None` when an interpreter's mode was recorded but no language.
    pub language: Option<String>,
    /// Done visits with an interpreter for this language.
    pub visits: u64,
    /// Of those, with the interpreter in the room.
    pub in_person: u64,
    /// Of those, with the interpreter on the phone. Visits with neither mode recorded are
    /// `visits - in_person - phone`.
    pub phone: u64,
    /// The visits' recorded lengths added up: the interpreter is taken to be there for the
    /// whole visit.
    pub minutes: u64,
    /// Visits with no recorded length, which add nothing to `minutes`.
    pub visits_without_minutes: u64,
    /// The people present at those visits, aged on each visit's date, once per visit.
    pub people: GenderAgeSplit,
}

/// One topic over the done visits in the period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopicCount {
    /// The topic.
    pub topic: Topic,
    /// Done visits that dealt with it; the people present at them, aged on each visit's date.
    pub visits: Tally,
}

/// Plan goals of one area reached in the period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GoalsReached {
    /// The plan area.
    pub area: GoalArea,
    /// Goals reached; the people whose goals they are, aged on the day each was reached.
    pub goals: Tally,
}

/// The tertial report for one period and scope. Build it with [`tertial_report`].
///
/// Every [`Tally`] splits its people by gender and age band. People counted for a case
/// (supported, new, closed) are aged on the period's last day; people at a visit on the
/// visit's date; the person of a reached goal on the day it was reached. So a girl who turns
/// 18 inside the period counts as 18–24 among the people supported, but as 0–17 at a visit
/// before her birthday.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TertialReport {
    /// The period reported on.
    pub period: Period,
    /// Whose households.
    pub scope: Scope,
    /// Households supported in the period: those in scope whose case was open on at least
    /// one day of it, that is opened on or before its last day ([`Profile::opened_on`]) and
    /// not closed before its first day (a case counts as closed only when its status is
    /// closed and [`Profile::closed_on`] is set; a reopened case is open). People are all
    /// the households' members born by the period's end.
    ///
    /// [`Profile::opened_on`]: crate::Profile::opened_on
    /// [`Profile::closed_on`]: crate::Profile::closed_on
    pub supported: Tally,
    /// New cases: supported households whose `opened_on` lies in the period.
    pub new_cases: Tally,
    /// Closed cases: households whose case is closed at the period's end with a `closed_on`
    /// in the period. A case closed after the period's end is open in the household as it
    /// stood then, and does not count.
    pub closed: Tally,
    /// The closed cases by reason: one entry for each [`CloseReason`] in its order, and one
    /// with no reason when any closed case lacks one. They add up to [`TertialReport::closed`].
    pub closed_by_reason: Vec<ClosedFor>,
    /// Visits in the period, by status.
    pub visits: Visits,
    /// Interpreter use by language, over the done visits in the period, in order of
    /// language (no language last). A visit used an interpreter when it records a language
    /// or a mode.
    pub interpreters: Vec<InterpreterUse>,
    /// Every topic (in the order of [`Topic::ALL`], zeros included), over the done visits
    /// in the period. A visit with three topics counts once under each.
    pub topics: Vec<TopicCount>,
    /// Plan goals reached: goals whose status at the period's end is reached and whose
    /// `reached_on` lies in the period. One entry per [`GoalArea`], zeros included.
    pub goals_reached: Vec<GoalsReached>,
    /// All goals reached, every area together.
    pub goals_reached_total: Tally,
}

/// The tertial report over `households`, each as it stood at the end of `period`.
///
/// Households outside `scope` (by their district at the period's end) are left out. Dates
/// are UTC dates, as everywhere in core. Member ids that name no member of the household
/// (which the actions never write) count in the totals of visits and goals but in no
/// gender or age cell, since neither is known.
pub fn tertial_report<'a>(
    households: impl IntoIterator<Item = &'a Household>,
    period: impl Into<Period>,
    scope: &Scope,
) -> TertialReport {
    let period = period.into();
    let mut builder = Builder {
        period,
        supported: Tally::default(),
        new_cases: Tally::default(),
        closed: Tally::default(),
        closed_by_reason: BTreeMap::new(),
        visits: Visits::default(),
        interpreters: BTreeMap::new(),
        topics: BTreeMap::new(),
        goals: BTreeMap::new(),
    };
    for household in households {
        if scope.includes(&household.profile.district) {
            builder.add(household);
        }
    }
    builder.finish(scope.clone())
}

/// Why the households could not be read as they stood at a period's end.
#[derive(Debug, thiserror::Error)]
#[error("household {index} (counting from 0) could not be read: {source}")]
pub struct HouseholdsAtError {
    /// The position of the failing document among those passed.
    pub index: usize,
    /// What went wrong (boxed: a schema error is large, and this one is rare).
    #[source]
    pub source: Box<SchemaError>,
}

/// Each document's household as it stood at the last instant of `period`
/// ([`Period::end_instant`], by the signers' clocks), for [`tertial_report`]. Documents
/// whose first change came after the period are left out: they did not exist yet.
pub fn households_at_end<'a, D: Borrow<Automerge> + 'a>(
    docs: impl IntoIterator<Item = &'a HouseholdDoc<D>>,
    period: Period,
) -> Result<Vec<Household>, HouseholdsAtError> {
    let at = period.end_instant();
    let mut households = Vec::new();
    for (index, doc) in docs.into_iter().enumerate() {
        if let Some(household) = doc.household_at(at).map_err(|source| HouseholdsAtError {
            index,
            source: Box::new(source),
        })? {
            households.push(household);
        }
    }
    Ok(households)
}

#[derive(Default)]
struct InterpreterTally {
    visits: u64,
    in_person: u64,
    phone: u64,
    minutes: u64,
    visits_without_minutes: u64,
    people: GenderAgeSplit,
}

struct Builder {
    period: Period,
    supported: Tally,
    new_cases: Tally,
    closed: Tally,
    closed_by_reason: BTreeMap<Option<CloseReason>, Tally>,
    visits: Visits,
    // `None` sorts first in a map; it is moved last when the report is built.
    interpreters: BTreeMap<Option<String>, InterpreterTally>,
    topics: BTreeMap<Topic, Tally>,
    goals: BTreeMap<GoalArea, Tally>,
}

impl Builder {
    fn add(&mut self, household: &Household) {
        let period = self.period;
        let profile = &household.profile;
        let closed_on = match profile.status {
            CaseStatus::Closed => profile.closed_on,
            CaseStatus::Active => None,
        };
        let supported = profile.opened_on <= period.end()
            && closed_on.is_none_or(|closed_on| closed_on >= period.start());
        if supported {
            let people = split_of(household.members.values(), period.end());
            let mut tallies = vec![&mut self.supported];
            if period.contains(profile.opened_on) {
                tallies.push(&mut self.new_cases);
            }
            if closed_on.is_some_and(|closed_on| period.contains(closed_on)) {
                tallies.push(&mut self.closed);
                tallies.push(
                    self.closed_by_reason
                        .entry(profile.close_reason)
                        .or_default(),
                );
            }
            for tally in tallies {
                count(tally, &people);
            }
        }
        for visit in household.visits.values() {
            let day = visit.planned_at.date();
            if period.contains(day) {
                self.add_visit(household, visit, day);
            }
        }
        for goal in household.plan.goals.values() {
            let Some(reached_on) = goal.reached_on else {
                continue;
            };
            if goal.status == GoalStatus::Reached && period.contains(reached_on) {
                let person = split_of(household.members.get(&goal.member), reached_on);
                count(self.goals.entry(goal.area).or_default(), &person);
            }
        }
    }

    fn add_visit(&mut self, household: &Household, visit: &Visit, day: Date) {
        let tally = match visit.status {
            VisitStatus::Done => return self.add_done_visit(household, visit, day),
            VisitStatus::Cancelled => &mut self.visits.cancelled,
            VisitStatus::NoShow => &mut self.visits.no_show,
            VisitStatus::Planned => &mut self.visits.planned,
        };
        // Nobody was present: count those the visit was booked for.
        count(tally, &split_of(household.members.values(), day));
    }

    fn add_done_visit(&mut self, household: &Household, visit: &Visit, day: Date) {
        let members = &household.members;
        let present = split_of(visit.present.iter().filter_map(|id| members.get(id)), day);
        count(&mut self.visits.done, &present);
        for topic in visit.topics.iter() {
            count(self.topics.entry(*topic).or_default(), &present);
        }
        let language = visit
            .interpreter_language
            .as_deref()
            .map(|language| language.trim().to_lowercase())
            .filter(|language| !language.is_empty());
        if language.is_none() && visit.interpreter_mode.is_none() {
            return;
        }
        let interpreter = self.interpreters.entry(language).or_default();
        interpreter.visits += 1;
        match visit.interpreter_mode {
            Some(InterpreterMode::InPerson) => interpreter.in_person += 1,
            Some(InterpreterMode::Phone) => interpreter.phone += 1,
            None => {}
        }
        match visit.duration_minutes {
            Some(minutes) => interpreter.minutes += u64::from(minutes),
            None => interpreter.visits_without_minutes += 1,
        }
        interpreter.people += &present;
    }

    fn finish(self, scope: Scope) -> TertialReport {
        let mut goals_reached_total = Tally::default();
        for goals in self.goals.values() {
            goals_reached_total.count += goals.count;
            goals_reached_total.people += &goals.people;
        }
        let mut closed_by_reason: Vec<ClosedFor> = CloseReason::ALL
            .iter()
            .map(|reason| ClosedFor {
                reason: Some(*reason),
                cases: self
                    .closed_by_reason
                    .get(&Some(*reason))
                    .copied()
                    .unwrap_or_default(),
            })
            .collect();
        if let Some(cases) = self.closed_by_reason.get(&None) {
            closed_by_reason.push(ClosedFor {
                reason: None,
                cases: *cases,
            });
        }
        let mut interpreters: Vec<InterpreterUse> = self
            .interpreters
            .into_iter()
            .map(|(language, tally)| InterpreterUse {
                language,
                visits: tally.visits,
                in_person: tally.in_person,
                phone: tally.phone,
                minutes: tally.minutes,
                visits_without_minutes: tally.visits_without_minutes,
                people: tally.people,
            })
            .collect();
        // Languages in order, the unrecorded language last.
        interpreters.sort_by_key(|row| (row.language.is_none(), row.language.clone()));
        TertialReport {
            period: self.period,
            scope,
            supported: self.supported,
            new_cases: self.new_cases,
            closed: self.closed,
            closed_by_reason,
            visits: self.visits,
            interpreters,
            topics: every(Topic::ALL, &self.topics, |topic, visits| TopicCount {
                topic,
                visits,
            }),
            goals_reached: every(GoalArea::ALL, &self.goals, |area, goals| GoalsReached {
                area,
                goals,
            }),
            goals_reached_total,
        }
    }
}

/// One entry for each of `keys`, in their order, with its tally or zero.
fn every<K: Ord + Copy, T>(
    keys: &[K],
    tallies: &BTreeMap<K, Tally>,
    entry: impl Fn(K, Tally) -> T,
) -> Vec<T> {
    keys.iter()
        .map(|key| entry(*key, tallies.get(key).copied().unwrap_or_default()))
        .collect()
}

/// The people among `members` by gender and age band on `on`; anyone born after it (a
/// child born after the period) is no one the period counts.
fn split_of<'a>(members: impl IntoIterator<Item = &'a Member>, on: Date) -> GenderAgeSplit {
    let mut split = GenderAgeSplit::new();
    for member in members {
        if member.birth_date <= on {
            split.add_member(member, on);
        }
    }
    split
}

/// Counts one more household, visit or goal, with its people.
fn count(tally: &mut Tally, people: &GenderAgeSplit) {
    tally.count += 1;
    tally.people += people;
}

impl TertialReport {
    /// Every table of the report, in the order to show them: cases, visits, interpreters,
    /// topics, goals reached.
    pub fn tables(&self) -> Vec<Table> {
        vec![
            self.cases_table(),
            self.visits_table(),
            self.interpreters_table(),
            self.topics_table(),
            self.goals_table(),
        ]
    }

    /// Households supported, new and closed, then closed by reason.
    pub fn cases_table(&self) -> Table {
        let cases = [
            (CaseRow::Supported, self.supported),
            (CaseRow::New, self.new_cases),
            (CaseRow::Closed, self.closed),
        ]
        .into_iter()
        .chain(
            self.closed_by_reason
                .iter()
                .map(|closed| (CaseRow::ClosedFor(closed.reason), closed.cases)),
        );
        Table::with_split(
            TableKind::Cases,
            Column::CaseFigure,
            &[Column::Households],
            cases.map(|(row, tally)| (Label::Case(row), vec![tally.count], tally.people)),
        )
    }

    /// Visits done, cancelled, missed and still planned.
    pub fn visits_table(&self) -> Table {
        let visits = &self.visits;
        let rows = [
            (VisitStatus::Done, visits.done),
            (VisitStatus::Cancelled, visits.cancelled),
            (VisitStatus::NoShow, visits.no_show),
            (VisitStatus::Planned, visits.planned),
        ];
        Table::with_split(
            TableKind::Visits,
            Column::VisitStatus,
            &[Column::Visits],
            rows.map(|(status, tally)| {
                (Label::VisitStatus(status), vec![tally.count], tally.people)
            }),
        )
    }

    /// Interpreter use by language.
    pub fn interpreters_table(&self) -> Table {
        Table::with_split(
            TableKind::Interpreters,
            Column::Language,
            &[
                Column::Visits,
                Column::InPerson,
                Column::Phone,
                Column::Minutes,
                Column::VisitsWithoutMinutes,
            ],
            self.interpreters.iter().map(|row| {
                (
                    Label::Language(row.language.clone()),
                    vec![
                        row.visits,
                        row.in_person,
                        row.phone,
                        row.minutes,
                        row.visits_without_minutes,
                    ],
                    row.people,
                )
            }),
        )
    }

    /// Every topic.
    pub fn topics_table(&self) -> Table {
        Table::with_split(
            TableKind::Topics,
            Column::Topic,
            &[Column::Visits],
            self.topics.iter().map(|row| {
                (
                    Label::Topic(row.topic),
                    vec![row.visits.count],
                    row.visits.people,
                )
            }),
        )
    }

    /// Goals reached by area, then the total.
    pub fn goals_table(&self) -> Table {
        let areas = self
            .goals_reached
            .iter()
            .map(|row| (Label::GoalArea(row.area), row.goals));
        let total = std::iter::once((Label::Total, self.goals_reached_total));
        Table::with_split(
            TableKind::GoalsReached,
            Column::GoalArea,
            &[Column::Goals],
            areas
                .chain(total)
                .map(|(label, tally)| (label, vec![tally.count], tally.people)),
        )
    }
}

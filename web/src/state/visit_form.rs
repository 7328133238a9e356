//! The visit form's state: what the person has entered so far, changed one action at a time,
//! and read as core's [`VisitEntry`] when saved. The defaults (a visit's length, a
//! follow-up's due date, who carries it out, an interpreter's mode) are core's.

use std::collections::BTreeSet;
use std::rc::Rc;

use lots_core::{
    Agency, DEFAULT_FOLLOW_UP_DAYS, DEFAULT_VISIT_MINUTES, Date, FollowUpId, Interpreter,
    InterpreterMode, MemberId, NewFollowUp, Owner, OwnerKind, StaffId, Timestamp, Topic,
    VisitEntry, VisitId, VisitRecord,
};
use yew::Reducible;

/// What the form holds until it is saved: the inputs as typed. Kept on the device, sealed,
/// as a draft while it is typed, so that a lock (which reloads the page) loses nothing.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VisitForm {
    /// Members present.
    pub present: BTreeSet<MemberId>,
    /// The interpreter's language code, as typed.
    pub interpreter_language: String,
    /// In person or by phone, if chosen.
    pub interpreter_mode: Option<InterpreterMode>,
    /// Minutes, as typed.
    pub duration: String,
    /// Topics dealt with.
    pub topics: BTreeSet<Topic>,
    /// Notes.
    pub notes: String,
    /// A follow-up's description (none when empty).
    pub follow_up: String,
    /// Who carries it out.
    pub follow_up_owner: OwnerKind,
    /// The agency, for a referral.
    pub follow_up_agency: Option<Agency>,
    /// Its due date, `YYYY-MM-DD` as a date input gives it.
    pub follow_up_due: String,
    /// The next visit, `YYYY-MM-DDTHH:MM` Swedish time as a datetime-local input gives it
    /// (none when empty).
    pub next_visit: String,
}

/// One thing the person does on the form.
#[derive(Debug, Clone, PartialEq)]
pub enum VisitFormAction {
    /// A member was present, or no longer.
    TogglePresent(MemberId),
    /// The interpreter's language.
    InterpreterLanguage(String),
    /// A mode chosen, or chosen again to unchoose it.
    ToggleInterpreterMode(InterpreterMode),
    /// The length, in minutes.
    Duration(String),
    /// A topic, on or off.
    ToggleTopic(Topic),
    /// The notes.
    Notes(String),
    /// The follow-up's description.
    FollowUp(String),
    /// Who carries the follow-up out.
    FollowUpOwner(OwnerKind),
    /// The agency it is aimed at.
    FollowUpAgency(Option<Agency>),
    /// Its due date.
    FollowUpDue(String),
    /// The next visit's time.
    NextVisit(String),
    /// The whole form as a draft kept it (back after a lock).
    Restore(Box<VisitForm>),
}

/// Which input does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormError {
    /// The length is not a whole number of minutes.
    Duration,
    /// The follow-up's due date is not a date.
    FollowUpDue,
    /// The next visit's time is not a time.
    NextVisit,
}

/// The ids one saving of the form writes under, drawn once per form: saving again after a
/// failure writes the same visit, follow-up and booking again instead of second ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Ids {
    /// The visit, when it was not planned.
    pub unplanned: VisitId,
    /// The follow-up, if there is one.
    pub follow_up: FollowUpId,
    /// The next visit, if one is booked.
    pub next_visit: VisitId,
}

impl VisitForm {
    /// An empty form, on `today`.
    pub fn new(today: Date) -> Self {
        Self {
            present: BTreeSet::new(),
            interpreter_language: String::new(),
            interpreter_mode: None,
            duration: DEFAULT_VISIT_MINUTES.to_string(),
            topics: BTreeSet::new(),
            notes: String::new(),
            follow_up: String::new(),
            follow_up_owner: OwnerKind::Member,
            follow_up_agency: None,
            follow_up_due: today.plus_days(DEFAULT_FOLLOW_UP_DAYS).to_string(),
            next_visit: String::new(),
        }
    }

    /// The form as core's entry: the visit held at `held_at` by `staff`.
    pub fn entry(
        &self,
        held_at: Timestamp,
        staff: &StaffId,
        ids: &Ids,
    ) -> Result<VisitEntry, FormError> {
        let duration = self
            .duration
            .trim()
            .parse::<u32>()
            .map_err(|_| FormError::Duration)?;
        let follow_up = match self.follow_up.trim() {
            "" => None,
            description => {
                let due_on: Date = self
                    .follow_up_due
                    .parse()
                    .map_err(|_| FormError::FollowUpDue)?;
                let owner = Owner::at_visit(
                    self.follow_up_owner,
                    &self.present,
                    staff,
                    self.follow_up_agency,
                );
                let new = NewFollowUp {
                    description: description.to_owned(),
                    owner,
                    agency: self.follow_up_agency,
                    due_on,
                };
                Some((ids.follow_up.clone(), new))
            }
        };
        let next_visit = match self.next_visit.trim() {
            "" => None,
            text => {
                let at = parse_local(text).ok_or(FormError::NextVisit)?;
                Some((ids.next_visit.clone(), at))
            }
        };
        let record = VisitRecord {
            held_at,
            staff: staff.clone(),
            present: self.present.iter().cloned().collect(),
            interpreter: Interpreter::named(&self.interpreter_language, self.interpreter_mode),
            duration_minutes: duration,
            topics: self.topics.iter().copied().collect(),
            notes: self.notes.clone(),
        };
        Ok(VisitEntry {
            record,
            follow_up,
            next_visit,
        })
    }
}

impl Reducible for VisitForm {
    type Action = VisitFormAction;

    fn reduce(self: Rc<Self>, action: VisitFormAction) -> Rc<Self> {
        let mut form = (*self).clone();
        match action {
            VisitFormAction::TogglePresent(member) => {
                if !form.present.remove(&member) {
                    form.present.insert(member);
                }
            }
            VisitFormAction::InterpreterLanguage(text) => form.interpreter_language = text,
            VisitFormAction::ToggleInterpreterMode(mode) => {
                form.interpreter_mode = (form.interpreter_mode != Some(mode)).then_some(mode);
            }
            VisitFormAction::Duration(text) => form.duration = text,
            VisitFormAction::ToggleTopic(topic) => {
                if !form.topics.remove(&topic) {
                    form.topics.insert(topic);
                }
            }
            VisitFormAction::Notes(text) => form.notes = text,
            VisitFormAction::FollowUp(text) => form.follow_up = text,
            VisitFormAction::FollowUpOwner(kind) => form.follow_up_owner = kind,
            VisitFormAction::FollowUpAgency(agency) => form.follow_up_agency = agency,
            VisitFormAction::FollowUpDue(text) => form.follow_up_due = text,
            VisitFormAction::NextVisit(text) => form.next_visit = text,
            VisitFormAction::Restore(draft) => form = *draft,
        }
        Rc::new(form)
    }
}

/// `YYYY-MM-DDTHH:MM` (a datetime-local input), Swedish time, to an instant.
fn parse_local(text: &str) -> Option<Timestamp> {
    let (day, clock) = text.split_once('T')?;
    let day: Date = day.parse().ok()?;
    let (hours, minutes) = clock.split_once(':')?;
    let (hours, minutes) = (
        hours.parse::<i64>().ok()?,
        minutes.get(..2)?.parse::<i64>().ok()?,
    );
    if !(0..24).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    Some(Timestamp::swedish(day, hours * 60 + minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_ymd(2026, 3, 2).unwrap()
    }

    fn ids() -> Ids {
        Ids {
            unplanned: VisitId::new("v-1").unwrap(),
            follow_up: FollowUpId::new("f-1").unwrap(),
            next_visit: VisitId::new("v-2").unwrap(),
        }
    }

    fn staff() -> StaffId {
        StaffId::new("u-anna").unwrap()
    }

    fn after(actions: impl IntoIterator<Item = VisitFormAction>) -> VisitForm {
        let form = actions
            .into_iter()
            .fold(Rc::new(VisitForm::new(today())), Reducible::reduce);
        (*form).clone()
    }

    #[test]
    fn an_untouched_form_is_a_plain_visit_of_the_usual_length() {
        let held_at = Timestamp::swedish(today(), 10 * 60);
        let entry = VisitForm::new(today())
            .entry(held_at, &staff(), &ids())
            .unwrap();
        assert_eq!(entry.record.duration_minutes, DEFAULT_VISIT_MINUTES);
        assert_eq!(entry.record.interpreter, None);
        assert_eq!((entry.follow_up, entry.next_visit), (None, None));
    }

    #[test]
    fn a_draft_kept_through_a_lock_comes_back_whole() {
        let typed = after([
            VisitFormAction::Notes("Halvskrivet.".into()),
            VisitFormAction::ToggleTopic(Topic::Budget),
            VisitFormAction::FollowUp("Ring banken".into()),
        ]);
        let kept = serde_json::to_string(&typed).unwrap();
        let back: VisitForm = serde_json::from_str(&kept).unwrap();
        assert_eq!(after([VisitFormAction::Restore(Box::new(back))]), typed);
    }

    #[test]
    fn chips_toggle_and_a_mode_chosen_twice_is_unchosen() {
        let amira = MemberId::new("m-1").unwrap();
        let form = after([
            VisitFormAction::TogglePresent(amira.clone()),
            VisitFormAction::ToggleTopic(Topic::Budget),
            VisitFormAction::ToggleTopic(Topic::Letters),
            VisitFormAction::ToggleTopic(Topic::Budget),
            VisitFormAction::ToggleInterpreterMode(InterpreterMode::Phone),
            VisitFormAction::ToggleInterpreterMode(InterpreterMode::Phone),
        ]);
        assert_eq!(form.present, BTreeSet::from([amira]));
        assert_eq!(form.topics, BTreeSet::from([Topic::Letters]));
        assert_eq!(form.interpreter_mode, None);
    }

    #[test]
    fn a_follow_up_by_a_member_goes_to_one_present_and_is_due_in_two_weeks() {
        let amira = MemberId::new("m-1").unwrap();
        let form = after([
            VisitFormAction::TogglePresent(amira.clone()),
            VisitFormAction::FollowUp("  Ring Försäkringskassan ".into()),
            VisitFormAction::InterpreterLanguage("prs".into()),
            VisitFormAction::NextVisit("2026-03-09T13:30".into()),
        ]);
        let held_at = Timestamp::swedish(today(), 10 * 60);
        let entry = form.entry(held_at, &staff(), &ids()).unwrap();
        let (id, follow_up) = entry.follow_up.unwrap();
        assert_eq!(id, ids().follow_up);
        assert_eq!(follow_up.description, "Ring Försäkringskassan");
        assert_eq!(follow_up.owner, Owner::Member(amira));
        assert_eq!(follow_up.due_on, today().plus_days(DEFAULT_FOLLOW_UP_DAYS));
        let interpreter = entry.record.interpreter.unwrap();
        assert_eq!(interpreter.mode, InterpreterMode::InPerson);
        let (next, at) = entry.next_visit.unwrap();
        assert_eq!(next, ids().next_visit);
        let monday = Date::from_ymd(2026, 3, 9).unwrap();
        assert_eq!(at, Timestamp::swedish(monday, 13 * 60 + 30));
    }

    #[test]
    fn an_input_that_does_not_read_is_named() {
        let held_at = Timestamp::swedish(today(), 10 * 60);
        let entry = |actions: Vec<VisitFormAction>| after(actions).entry(held_at, &staff(), &ids());
        assert_eq!(
            entry(vec![VisitFormAction::Duration("45 min".into())]),
            Err(FormError::Duration)
        );
        let late = vec![
            VisitFormAction::FollowUp("Boka tolk".into()),
            VisitFormAction::FollowUpDue("i morgon".into()),
        ];
        assert_eq!(entry(late), Err(FormError::FollowUpDue));
        for time in ["2026-03-09", "2026-03-09T25:00", "2026-03-09T13:61"] {
            let next = vec![VisitFormAction::NextVisit(time.into())];
            assert_eq!(entry(next), Err(FormError::NextVisit), "{time}");
        }
    }
}

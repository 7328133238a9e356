//! A visit recorded as the person records it — the visit held, perhaps a follow-up agreed
//! there, perhaps the next visit booked — in one action and one signed change. And the visit
//! form's defaults that belong to the domain, not to a screen: who carries out a follow-up
//! "by a member", an interpreter's mode when none is chosen, a visit's usual length, and how
//! long a follow-up is given.

use super::*;

/// How long a visit usually lasts (minutes): what the form offers first.
pub const DEFAULT_VISIT_MINUTES: u32 = 45;

/// How long a follow-up agreed at a visit is given before it is due (days).
pub const DEFAULT_FOLLOW_UP_DAYS: i64 = 14;

/// What a person records at once after a visit.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitEntry {
    /// The visit as held.
    pub record: VisitRecord,
    /// A follow-up agreed at the visit, under an id drawn for it.
    pub follow_up: Option<(FollowUpId, NewFollowUp)>,
    /// The next visit booked, under an id drawn for it, with the same staff member.
    pub next_visit: Option<(VisitId, Timestamp)>,
}

impl<D: BorrowMut<Automerge>> HouseholdDoc<D> {
    /// Records a visit with its follow-up and the next booking: one change, so that the
    /// three arrive, merge and are refused together, and a failed save leaves none of them.
    pub fn record_visit_entry(
        &mut self,
        signature: &Signature,
        visit: &VisitId,
        entry: VisitEntry,
    ) -> Result<(), ActionError> {
        let interpreter = checked_record(signature, &entry.record)?;
        let follow_up = match entry.follow_up {
            Some((id, new)) => {
                let description = required_text("follow-up description", &new.description)?;
                Some((id, new, description))
            }
            None => None,
        };
        let staff = entry.record.staff.clone();
        self.act("record_visit", signature, |tx| {
            record_visit_in(tx, visit, entry.record, interpreter)?;
            if let Some((id, new, description)) = follow_up {
                add_follow_up_in(tx, visit, &id, new, description)?;
            }
            if let Some((next, at)) = entry.next_visit {
                schedule_visit_in(tx, &next, at, &staff)?;
            }
            Ok(())
        })
    }
}

impl Owner {
    /// Who carries out a follow-up agreed at a visit, by the kind the form names: a member
    /// who was present (the first of them; the staff member recording when nobody was), the
    /// staff member, or an agency (`Other` when none is named).
    pub fn at_visit<'a>(
        kind: OwnerKind,
        present: impl IntoIterator<Item = &'a MemberId>,
        staff: &StaffId,
        agency: Option<Agency>,
    ) -> Owner {
        match kind {
            OwnerKind::Member => match present.into_iter().next() {
                Some(member) => Owner::Member(member.clone()),
                None => Owner::Staff(staff.clone()),
            },
            OwnerKind::Staff => Owner::Staff(staff.clone()),
            OwnerKind::Agency => Owner::Agency(agency.unwrap_or(Agency::Other)),
        }
    }
}

impl Interpreter {
    /// The interpreter a form names: none without a language, and in person unless the
    /// form says otherwise.
    pub fn named(language: &str, mode: Option<InterpreterMode>) -> Option<Interpreter> {
        let language = language.trim();
        (!language.is_empty()).then(|| Interpreter {
            language: language.to_owned(),
            mode: mode.unwrap_or(InterpreterMode::InPerson),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::{Generator, HouseholdSpec};

    fn staff() -> StaffId {
        StaffId::new("u-anna").unwrap()
    }

    fn household() -> HouseholdDoc {
        Generator::new(3)
            .household(&HouseholdSpec {
                district: DistrictId::new("norrmalm").unwrap(),
                staff: staff(),
                device: crate::ids::DeviceId::new("d-test").unwrap(),
                opened_on: Date::from_ymd(2025, 9, 1).unwrap(),
                visits: 1,
                today: Date::from_ymd(2026, 3, 1).unwrap(),
            })
            .unwrap()
    }

    fn entry(doc: &HouseholdDoc, at: Timestamp) -> VisitEntry {
        let member = doc
            .household()
            .unwrap()
            .members
            .keys()
            .next()
            .cloned()
            .unwrap();
        VisitEntry {
            record: VisitRecord {
                held_at: at,
                staff: staff(),
                present: [member.clone()].into_iter().collect(),
                interpreter: Interpreter::named(" prs ", None),
                duration_minutes: DEFAULT_VISIT_MINUTES,
                topics: [Topic::Budget].into_iter().collect(),
                notes: "Gick igenom hyran.".into(),
            },
            follow_up: Some((
                FollowUpId::new("f-1").unwrap(),
                NewFollowUp {
                    description: "Ring Försäkringskassan".into(),
                    owner: Owner::at_visit(OwnerKind::Member, [&member], &staff(), None),
                    agency: None,
                    due_on: at.date().plus_days(DEFAULT_FOLLOW_UP_DAYS),
                },
            )),
            next_visit: Some((
                VisitId::new("v-next").unwrap(),
                at.plus_minutes(7 * 24 * 60),
            )),
        }
    }

    #[test]
    fn a_visit_its_follow_up_and_the_next_booking_are_one_change() {
        let mut doc = household();
        let at = Timestamp::start_of(Date::from_ymd(2026, 3, 2).unwrap()).plus_minutes(10 * 60);
        let signature = Signature::new(staff(), crate::ids::DeviceId::new("d-test").unwrap(), at);
        let before = doc.automerge().get_changes(&[]).len();
        let visit = VisitId::new("v-held").unwrap();
        doc.record_visit_entry(&signature, &visit, entry(&doc, at))
            .unwrap();
        assert_eq!(doc.automerge().get_changes(&[]).len(), before + 1);
        let household = doc.household().unwrap();
        let held = &household.visits[&visit];
        assert_eq!(held.status, VisitStatus::Done);
        assert_eq!(held.interpreter_language.as_deref(), Some("prs"));
        assert_eq!(held.interpreter_mode, Some(InterpreterMode::InPerson));
        assert_eq!(held.follow_ups.len(), 1);
        let next = &household.visits[&VisitId::new("v-next").unwrap()];
        assert_eq!((next.status, &next.staff), (VisitStatus::Planned, &staff()));
    }

    #[test]
    fn a_refused_part_leaves_nothing_of_the_entry() {
        let mut doc = household();
        let at = Timestamp::start_of(Date::from_ymd(2026, 3, 2).unwrap()).plus_minutes(10 * 60);
        let signature = Signature::new(staff(), crate::ids::DeviceId::new("d-test").unwrap(), at);
        let before = doc.household().unwrap();
        let mut bad = entry(&doc, at);
        if let Some((_, follow_up)) = &mut bad.follow_up {
            follow_up.due_on = Date::from_ymd(2020, 1, 1).unwrap(); // Before the visit.
        }
        let visit = VisitId::new("v-held").unwrap();
        assert!(doc.record_visit_entry(&signature, &visit, bad).is_err());
        assert_eq!(
            doc.household().unwrap(),
            before,
            "nothing of it was written"
        );
    }

    #[test]
    fn the_forms_defaults_are_the_domains() {
        let (anna, member) = (staff(), MemberId::new("m-1").unwrap());
        assert_eq!(
            Owner::at_visit(OwnerKind::Member, [&member], &anna, None),
            Owner::Member(member.clone())
        );
        assert_eq!(
            Owner::at_visit(OwnerKind::Member, [], &anna, None),
            Owner::Staff(anna.clone())
        );
        assert_eq!(
            Owner::at_visit(OwnerKind::Agency, [&member], &anna, None),
            Owner::Agency(Agency::Other)
        );
        assert_eq!(Interpreter::named("  ", Some(InterpreterMode::Phone)), None);
        assert_eq!(
            Interpreter::named("ti", Some(InterpreterMode::Phone)).map(|i| i.mode),
            Some(InterpreterMode::Phone)
        );
    }
}

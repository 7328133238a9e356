//! Helpers shared by core's integration tests: a small household and signatures.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.
#![allow(dead_code)]

use lots_core::automerge::ActorId;
use lots_core::*;

/// A date from `YYYY-MM-DD`.
pub fn date(text: &str) -> Date {
    text.parse().expect("test dates are valid")
}

/// `hour` o'clock UTC on `day`.
pub fn at(day: &str, hour: i64) -> Timestamp {
    Timestamp::start_of(date(day)).plus_minutes(hour * 60)
}

/// A staff id.
pub fn staff(name: &str) -> StaffId {
    StaffId::new(name).expect("test staff ids are valid")
}

/// A signature of `name` on their own device at `when`.
pub fn sign(name: &str, when: Timestamp) -> Signature {
    Signature::new(
        staff(name),
        DeviceId::new(format!("d-{name}")).expect("valid"),
        when,
    )
}

/// An actor id of sixteen `byte`s.
pub fn actor(byte: u8) -> ActorId {
    ActorId::from([byte; 16].as_slice())
}

/// The adult member of [`household`].
pub fn member() -> MemberId {
    MemberId::new("m-1").expect("valid")
}

/// A household with one adult member, created on 2024-01-10.
pub fn household(actor_byte: u8) -> HouseholdDoc {
    let mut doc = HouseholdDoc::create(
        actor(actor_byte),
        &sign("u-anna", at("2024-01-10", 9)),
        NewHousehold {
            district: DistrictId::new("district-norr").expect("valid"),
            address: "Exempelgatan 3".into(),
            unit: "lgh 1102".into(),
            housing_form: HousingForm::TransitionalHousing,
            arrival_route: ArrivalRoute::Assigned,
            arrived_on: date("2024-01-05"),
            opened_on: date("2024-01-10"),
            assigned_staff: Some(staff("u-anna")),
        },
    )
    .expect("a valid household");
    doc.add_member(
        &sign("u-anna", at("2024-01-10", 10)),
        &member(),
        MemberDetails {
            name: "Selam Haile".into(),
            birth_date: date("1991-02-03"),
            gender: Gender::Female,
            residence_permit_on: Some(date("2023-12-01")),
            born_outside_eea: true,
            registered_in_district: true,
            languages: vec!["ti".into()],
            interpreter_language: Some("ti".into()),
        },
    )
    .expect("a valid member");
    doc
}

/// A record of a 45-minute visit with an interpreter.
pub fn visit_record(held_at: Timestamp, staff_name: &str, notes: &str) -> VisitRecord {
    VisitRecord {
        held_at,
        staff: staff(staff_name),
        present: [member()].into_iter().collect(),
        interpreter: Some(Interpreter {
            language: "ti".into(),
            mode: InterpreterMode::InPerson,
        }),
        duration_minutes: 45,
        topics: [Topic::Sfi].into_iter().collect(),
        notes: notes.into(),
    }
}

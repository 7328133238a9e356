//! The world every target runs in: the fixture household as the server holds it, who writes
//! to it, and the server's tables as the trust boundary asks them.
//!
//! Built once per process and shared: each run of a target starts from the same state, so an
//! input that crashes once crashes again.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use lots_core::automerge::transaction::Transactable as _;
use lots_core::automerge::{ActorId, Automerge, ChangeHash, ROOT};
use lots_core::{
    Date, DeviceId, Directory, DistrictId, DocumentId, HouseholdDoc, StaffId, Timestamp, Writer,
    WriterRole,
};

/// The fixture document of the newest schema version, as `core/tests/fixtures` keeps it:
/// twelve visits recorded by `u-anna` on `d-fixture` in `district-norr`, up to 2023-06-30.
/// (When a schema version is added, point this at its fixture.)
pub const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/household-v1.automerge");

/// The fixture household's document id on the server.
pub const HOUSEHOLD: DocumentId = DocumentId::from_bytes([0x48; 16]);

/// A household the server holds that the connection's user may not read.
pub const FOREIGN: DocumentId = DocumentId::from_bytes([0x46; 16]);

/// A household the phone brings that the server has never seen (in the recorded sessions).
pub const NEW_HOUSEHOLD: DocumentId = DocumentId::from_bytes([0x4e; 16]);

/// The peer id the connection joins with.
pub const PHONE_PEER: &str = "phone-anna";

/// The server's peer id.
pub const SERVER_PEER: &str = "server";

/// An actor bound to someone else's device.
pub const OTHER_DEVICES_ACTOR: [u8; 16] = [0xee; 16];

/// The loaded fixture and what is known of it.
#[derive(Debug)]
pub struct World {
    /// The fixture household, as the server holds it.
    pub household: Automerge,
    /// The actors of the fixture's history, bound to `d-fixture`.
    pub fixture_actors: Vec<ActorId>,
    /// What the server holds as [`FOREIGN`]: only its existence matters, so it is small.
    pub foreign: Automerge,
}

/// The world, loaded on first use.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let doc = HouseholdDoc::load(FIXTURE, ActorId::from([0x5e; 16].as_slice())).unwrap_or_else(
            |error| unreachable!("the fixture loads (core's tests say so): {error}"),
        );
        let household = doc.into_automerge();
        let mut fixture_actors: Vec<ActorId> = household
            .get_changes(&[])
            .iter()
            .map(|change| change.actor_id().clone())
            .collect();
        fixture_actors.sort();
        fixture_actors.dedup();
        let mut foreign = Automerge::new();
        let mut tx = foreign.transaction();
        let _ = tx.put(ROOT, "schema_version", 1);
        tx.commit();
        World {
            household,
            fixture_actors,
            foreign,
        }
    })
}

/// The instant the server vets at: the day after the fixture's last change.
pub fn now() -> Timestamp {
    Timestamp::start_of(date(2023, 7, 1))
}

/// A date the targets use; every one of them is valid.
pub fn date(year: i32, month: u8, day: u8) -> Date {
    Date::from_ymd(year, month, day).unwrap_or_else(|| unreachable!("a valid date"))
}

fn staff(id: &str) -> StaffId {
    StaffId::new(id).unwrap_or_else(|error| unreachable!("a valid staff id: {error}"))
}

fn device(id: &str) -> DeviceId {
    DeviceId::new(id).unwrap_or_else(|error| unreachable!("a valid device id: {error}"))
}

/// The fixture's district.
pub fn norr() -> DistrictId {
    DistrictId::new("district-norr").unwrap_or_else(|error| unreachable!("valid: {error}"))
}

/// Another district.
pub fn syd() -> DistrictId {
    DistrictId::new("district-syd").unwrap_or_else(|error| unreachable!("valid: {error}"))
}

/// The field worker whose caseload the fixture is, on the fixture's device.
pub fn anna() -> Writer {
    Writer {
        staff: staff("u-anna"),
        device: device("d-fixture"),
        role: WriterRole::Staff,
        districts: vec![norr()],
    }
}

/// A supervisor of the fixture's district.
pub fn sara() -> Writer {
    Writer {
        staff: staff("u-sara"),
        device: device("d-desk"),
        role: WriterRole::Supervisor,
        districts: vec![norr()],
    }
}

/// A field worker of another district.
pub fn omar() -> Writer {
    Writer {
        staff: staff("u-omar"),
        device: device("d-omar"),
        role: WriterRole::Staff,
        districts: vec![syd()],
    }
}

/// The server's tables, as core's validation asks them.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// The device each actor is bound to.
    pub actors: HashMap<ActorId, DeviceId>,
    /// Who may hold households of which district.
    pub holders: Vec<(StaffId, DistrictId)>,
    /// Changes held in quarantine.
    pub quarantined: HashSet<ChangeHash>,
}

impl Tables {
    /// The tables of a server that holds the fixture: its actors bound to `d-fixture`,
    /// another actor bound to Omar's device, Anna and Omar each holding their district.
    pub fn for_fixture() -> Self {
        let mut actors: HashMap<ActorId, DeviceId> = world()
            .fixture_actors
            .iter()
            .map(|actor| (actor.clone(), anna().device))
            .collect();
        actors.insert(ActorId::from(OTHER_DEVICES_ACTOR.as_slice()), omar().device);
        Self {
            actors,
            holders: vec![(anna().staff, norr()), (omar().staff, syd())],
            quarantined: HashSet::new(),
        }
    }
}

impl Directory for Tables {
    fn actor_device(&self, actor: &ActorId) -> Option<DeviceId> {
        self.actors.get(actor).cloned()
    }

    fn may_hold(&self, staff: &StaffId, district: &DistrictId) -> bool {
        self.holders
            .iter()
            .any(|(holder, at)| holder == staff && at == district)
    }

    fn is_quarantined(&self, change: &ChangeHash) -> bool {
        self.quarantined.contains(change)
    }
}

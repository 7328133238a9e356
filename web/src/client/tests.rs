//! The client's decisions, natively: a device against a real server peer of core, with the
//! socket, the device's storage and the timers played by the test, so that each scenario
//! (reconnects and their pauses, an ended session, the request window, a refused change, a
//! failed write) runs the same way every time.

use std::collections::VecDeque;

use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{Date, DeviceId, DistrictId, HousingForm, Signature, StaffId};

use super::*;

/// The server's side of the one connection.
const SERVER_SIDE: ConnectionId = ConnectionId(7);

fn document(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

fn staff() -> StaffId {
    StaffId::new("u-anna").unwrap()
}

fn household(seed: u64) -> Automerge {
    let spec = HouseholdSpec {
        district: DistrictId::new("norrmalm").unwrap(),
        staff: staff(),
        device: DeviceId::new("d-test").unwrap(),
        opened_on: Date::from_ymd(2025, 9, 1).unwrap(),
        visits: 2,
        today: Date::from_ymd(2026, 3, 1).unwrap(),
    };
    match Generator::new(seed).household(&spec) {
        Ok(doc) => doc.into_automerge(),
        Err(error) => panic!("the generator failed: {error}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Socket {
    Opening,
    Open,
}

/// One device, its storage, and a server it reaches over a socket the test controls.
struct World {
    device: Client,
    server: SyncPeer,
    now: Timestamp,
    socket: Option<Socket>,
    to_server: VecDeque<Vec<u8>>,
    to_device: VecDeque<Vec<u8>>,
    /// What IndexedDB would hold: each document's chunks, and which wait for the server.
    stored: BTreeMap<DocumentId, Vec<Vec<u8>>>,
    dirty: BTreeSet<DocumentId>,
    fail_writes: bool,
    /// Every effect the world does not carry out itself, in order.
    effects: Vec<Effect>,
}

impl World {
    fn new() -> Self {
        let now = Timestamp::from_millis(1_780_000_000_000);
        let peer = PeerId::new("device").unwrap();
        let server = PeerId::new("server").unwrap();
        Self {
            device: Client::new(peer, now, Startup::default()),
            server: SyncPeer::new(PeerConfig::new(server, Role::Server)),
            now,
            socket: None,
            to_server: VecDeque::new(),
            to_device: VecDeque::new(),
            stored: BTreeMap::new(),
            dirty: BTreeSet::new(),
            fail_writes: false,
            effects: Vec::new(),
        }
    }

    fn event(&mut self, event: Event) {
        let effects = self.device.handle(self.now, event);
        self.carry(effects);
    }

    fn carry(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::OpenSocket => self.socket = Some(Socket::Opening),
                Effect::Send(bytes) => self.to_server.push_back(bytes),
                Effect::CloseSocket(_) | Effect::DropSocket => self.drop_socket(),
                Effect::Persist { document, dirty } => self.persist(document, dirty),
                Effect::MarkClean(document) => {
                    self.dirty.remove(&document);
                }
                other => self.effects.push(other),
            }
        }
    }

    fn persist(&mut self, document: DocumentId, dirty: bool) {
        let Some(write) = self.device.prepare_write(document, dirty) else {
            return;
        };
        if self.fail_writes {
            let error = "the device's storage is full".to_owned();
            return self.event(Event::WriteFailed { dirty, error });
        }
        let chunks = self.stored.entry(document).or_default();
        chunks.push(write.bytes.clone());
        if let Some(full) = &write.full {
            *chunks = vec![full.clone()];
        }
        if dirty {
            self.dirty.insert(document);
        }
        self.event(Event::Written(write));
    }

    /// The device's stored copy of a document, as the next start would load it.
    fn load_stored(&self, document: DocumentId) -> Automerge {
        let bytes: Vec<u8> = self.stored[&document].concat();
        lots_core::load_stored(&bytes).unwrap()
    }

    fn drop_socket(&mut self) {
        if self.socket.take() == Some(Socket::Open) {
            let input = Input::Disconnected {
                connection: SERVER_SIDE,
            };
            self.server.handle(self.now, input);
        }
        self.to_server.clear();
        self.to_device.clear();
    }

    /// The server takes the socket the device is opening.
    fn accept(&mut self) {
        assert_eq!(self.socket, Some(Socket::Opening), "no socket is opening");
        self.socket = Some(Socket::Open);
        let input = Input::Connected {
            connection: SERVER_SIDE,
        };
        self.server_hears(input);
        self.event(Event::SocketOpened);
    }

    /// The server (or the network) closes the socket.
    fn close(&mut self, code: u16, reason: &str) {
        assert!(self.socket.is_some(), "no socket to close");
        self.drop_socket();
        let reason = reason.to_owned();
        self.event(Event::SocketClosed { code, reason });
    }

    fn server_hears(&mut self, input: Input) {
        for output in self.server.handle(self.now, input) {
            if let Output::Send { bytes, .. } = output {
                self.to_device.push_back(bytes);
            }
        }
    }

    /// Delivers one message either way; false when none waits.
    fn step(&mut self) -> bool {
        if let Some(bytes) = self.to_server.pop_front() {
            let input = Input::Received {
                connection: SERVER_SIDE,
                bytes,
            };
            self.server_hears(input);
            true
        } else if let Some(bytes) = self.to_device.pop_front() {
            self.event(Event::SocketMessage(bytes));
            true
        } else {
            false
        }
    }

    /// Delivers messages until both sides are quiet.
    fn settle(&mut self) {
        for _ in 0..100_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the device and the server never went quiet");
    }

    /// Opens a socket the way the app does, and lets the handshake and sync finish.
    fn connect(&mut self) {
        self.event(Event::Connect);
        self.accept();
        self.settle();
    }

    /// Makes a change to a household on the device, as a person's action does.
    fn change(&mut self, document: DocumentId, address: &str) {
        let signature = Signature::new(staff(), DeviceId::new("d-test").unwrap(), self.now);
        let doc = self.device.document_mut(&document).unwrap();
        let result = HouseholdDoc::new(doc).update_housing(
            &signature,
            address,
            "",
            HousingForm::TransitionalHousing,
        );
        if let Err(error) = result {
            panic!("the change failed: {error}");
        }
        self.event(Event::LocalChange(document));
    }

    fn add(&mut self, document: DocumentId, seed: u64) {
        self.device.add(document, household(seed));
        self.event(Event::LocalChange(document));
    }

    /// The pauses the device asked for, in order, forgetting them.
    fn retries(&mut self) -> Vec<u32> {
        let mut retries = Vec::new();
        self.effects.retain(|effect| match effect {
            Effect::Wait(Timer::Retry, delay) => {
                retries.push(*delay);
                false
            }
            _ => true,
        });
        retries
    }

    fn took(&mut self, wanted: &Effect) -> bool {
        let before = self.effects.len();
        self.effects.retain(|effect| effect != wanted);
        self.effects.len() != before
    }

    /// The caseload API answers with `caseload`, asked when the device was as it is now.
    fn caseload_heard(&mut self, caseload: Vec<crate::api::HouseholdSummary>) {
        let settled = self.device.settled();
        self.event(Event::CaseloadHeard { caseload, settled });
    }

    /// The households the device was told to erase for leaving the caseload, forgetting
    /// the effects.
    fn erased_as_left(&mut self) -> Vec<DocumentId> {
        let mut erased = Vec::new();
        self.effects.retain(|effect| match effect {
            Effect::EraseLeft(documents) => {
                erased.extend(documents.iter().copied());
                false
            }
            _ => true,
        });
        erased
    }

    fn heads_on_server(&self, document: DocumentId) -> Option<Vec<ChangeHash>> {
        self.server.document(&document).map(Automerge::get_heads)
    }

    fn heads_on_device(&mut self, document: DocumentId) -> Option<Vec<ChangeHash>> {
        self.device.document(&document).map(Automerge::get_heads)
    }
}

#[test]
fn a_change_made_offline_reaches_the_server_and_its_mark_is_cleared() {
    let mut world = World::new();
    world.add(document(1), 1);
    assert!(
        world.dirty.contains(&document(1)),
        "the change waits on the device"
    );
    assert_eq!(world.device.status().waiting, 1);
    world.connect();
    assert_eq!(
        world.heads_on_server(document(1)),
        world.heads_on_device(document(1))
    );
    assert!(
        world.dirty.is_empty(),
        "the server has it: the mark is cleared"
    );
    let status = world.device.status();
    assert!(status.synced(), "{status:?}");
}

#[test]
fn the_caseload_arrives_at_most_32_households_at_a_time() {
    let mut world = World::new();
    for n in 0..40 {
        world
            .server
            .insert_document(document(n + 10), household(u64::from(n)));
    }
    world.connect();
    assert!(
        world.took(&Effect::FetchCaseload),
        "a connection asks for the caseload"
    );
    let caseload = (0..40)
        .map(|n| crate::api::HouseholdSummary {
            district: "norrmalm".into(),
            ..crate::api::HouseholdSummary::new(document(n + 10))
        })
        .collect();
    world.caseload_heard(caseload);
    assert_eq!(world.device.requested.len(), MAX_REQUESTS_IN_FLIGHT);
    while world.step() {
        assert!(world.device.requested.len() <= MAX_REQUESTS_IN_FLIGHT);
    }
    assert!(!world.device.loading(), "every household arrived");
    world.device.refresh_summaries();
    assert_eq!(world.device.households().len(), 40);
    assert_eq!(
        world.stored.len(),
        40,
        "each arrival is written to the device"
    );
    assert!(
        world.dirty.is_empty(),
        "what came from the server does not wait for it"
    );
}

#[test]
fn a_socket_refused_before_it_opens_asks_about_the_sign_in_and_pauses_longer_each_time() {
    let mut world = World::new();
    world.event(Event::Connect);
    let mut pauses = Vec::new();
    for _ in 0..8 {
        world.close(1006, "");
        assert!(world.took(&Effect::CheckSession { retry: true }));
        world.event(Event::SessionChecked {
            signed_in: Some(true),
            retry: true,
        });
        pauses.extend(world.retries());
        world.event(Event::Timer(Timer::Retry));
        assert_eq!(world.socket, Some(Socket::Opening));
    }
    assert_eq!(
        pauses,
        [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]
    );
}

#[test]
fn a_connection_that_lasted_starts_the_pauses_from_one_second_again() {
    let mut world = World::new();
    world.connect();
    world.close(1006, "");
    world.event(Event::Timer(Timer::Retry));
    world.accept();
    world.settle();
    world.close(1006, "");
    assert_eq!(world.retries(), [1_000, 2_000]);
    world.event(Event::Timer(Timer::Retry));
    world.accept();
    world.settle();
    world.now = world.now.plus_minutes(1);
    world.close(1006, "");
    assert_eq!(world.retries(), [1_000]);
}

#[test]
fn an_ended_session_connects_no_more_until_the_person_signs_in_again() {
    let mut world = World::new();
    world.add(document(1), 1);
    world.event(Event::Connect);
    world.close(1006, "");
    world.event(Event::SessionChecked {
        signed_in: Some(false),
        retry: true,
    });
    assert_eq!(world.device.status().link, Connection::SessionEnded);
    assert!(world.retries().is_empty());
    for event in [Event::Connect, Event::Reconnect, Event::Timer(Timer::Retry)] {
        world.event(event);
        assert_eq!(world.socket, None, "no socket while the session is over");
    }
    assert_eq!(
        world.device.status().waiting,
        1,
        "nothing on the device is touched"
    );
    world.event(Event::Resume);
    world.accept();
    world.settle();
    assert!(world.device.status().synced());
}

#[test]
fn a_refused_change_holds_its_household_back_and_the_others_sync() {
    let mut world = World::new();
    world.add(document(1), 1);
    world.add(document(2), 2);
    world.event(Event::Connect);
    world.accept();
    let reason = format!("refused {} edit_removed_text", document(1));
    world.close(crate::refused::REFUSED_CHANGE, &reason);
    let held = world.device.held_back();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].document, document(1));
    assert!(
        world.took(&Effect::SaveHeldBack(held)),
        "the hold is kept on the device"
    );
    assert_eq!(world.retries(), [crate::refused::REFUSED_RECONNECT_MS]);

    world.event(Event::Timer(Timer::Retry));
    world.accept();
    world.settle();
    assert_eq!(world.heads_on_server(document(1)), None, "held back");
    assert_eq!(
        world.heads_on_server(document(2)),
        world.heads_on_device(document(2))
    );
    let status = world.device.status();
    assert_eq!((status.held_back, status.waiting), (1, 0));
    assert!(!status.synced(), "a household held back is not synced");
    assert!(
        world.took(&Effect::CheckQuarantine),
        "the device asks what became of it"
    );

    // A supervisor accepts the change: the household syncs again, on a fresh connection.
    let accepted: Refused = serde_json::from_value(serde_json::json!({
        "id": 1, "household": document(1).to_string(), "change": "00", "user_id": "u-anna",
        "device_id": "d-test", "reason": "edit_removed_text", "signed_at": null,
        "received_at": 0, "status": "accepted", "decided_by": "u-sara", "decided_at": 1,
    }))
    .unwrap();
    world.event(Event::QuarantineHeard(vec![accepted]));
    assert!(world.device.held_back().is_empty());
    world.accept();
    world.settle();
    assert_eq!(
        world.heads_on_server(document(1)),
        world.heads_on_device(document(1))
    );
    assert!(world.device.status().synced());
}

#[test]
fn a_write_that_fails_is_shown_and_written_with_the_next_change() {
    let mut world = World::new();
    world.fail_writes = true;
    world.add(document(1), 1);
    let status = world.device.status();
    assert_eq!(status.saving, 0);
    assert_eq!(
        status.problem.as_deref(),
        Some("the device's storage is full")
    );
    assert!(world.stored.is_empty());

    world.fail_writes = false;
    world.change(document(1), "Storgatan 2");
    assert_eq!(world.device.status().problem, None);
    let stored = world.load_stored(document(1));
    assert_eq!(
        Some(stored.get_heads()),
        world.heads_on_device(document(1)),
        "both changes are on the device"
    );
}

#[test]
fn a_document_written_again_and_again_is_compacted_into_one_chunk() {
    let mut world = World::new();
    world.add(document(1), 1);
    for n in 0..COMPACT_AFTER_CHUNKS {
        world.change(document(1), &format!("Storgatan {n}"));
    }
    assert!(world.stored[&document(1)].len() < COMPACT_AFTER_CHUNKS);
    let stored = world.load_stored(document(1));
    assert_eq!(Some(stored.get_heads()), world.heads_on_device(document(1)));
}

#[test]
fn what_arrives_from_the_server_is_told_to_the_views_once_per_moment() {
    let mut world = World::new();
    for n in 0..5 {
        world
            .server
            .insert_document(document(n + 10), household(u64::from(n)));
    }
    world.connect();
    let entries = (0..5).map(|n| crate::api::HouseholdSummary::new(document(n + 10)));
    world.caseload_heard(entries.collect());
    world.settle();
    let waits = |world: &World| {
        let notify = Effect::Wait(Timer::Notify, COALESCE_MS);
        world
            .effects
            .iter()
            .filter(|effect| **effect == notify)
            .count()
    };
    assert_eq!(
        waits(&world),
        1,
        "one pause for the connection and five arrivals"
    );
    world.event(Event::Loaded);
    assert_eq!(
        waits(&world),
        1,
        "documents loaded meanwhile join the same pause"
    );
    world.event(Event::Timer(Timer::Notify));
    world.add(document(1), 1);
    assert!(
        world.took(&Effect::Notify),
        "the person's own change is shown at once"
    );
}

#[test]
fn summaries_are_read_when_documents_change_not_when_they_are_shown() {
    let mut world = World::new();
    world.add(document(1), 1);
    assert_eq!(
        world.device.refresh_summaries().len(),
        1,
        "a new summary to store"
    );
    assert!(
        world.device.refresh_summaries().is_empty(),
        "nothing new: nothing to store"
    );
    let before = world.device.households()[&document(1)].clone();
    world.change(document(1), "Storgatan 9");
    assert!(
        Rc::ptr_eq(&before, &world.device.households()[&document(1)]),
        "reading reads only"
    );
    assert_eq!(world.device.refresh_summaries().len(), 1);
    assert_eq!(
        world.device.households()[&document(1)].profile.address,
        "Storgatan 9"
    );
}

#[test]
fn nothing_is_written_or_connected_after_signing_out() {
    let mut world = World::new();
    world.add(document(1), 1);
    world.connect();
    world.event(Event::End);
    assert_eq!(world.socket, None);
    let before = world.stored[&document(1)].len();
    world.change(document(1), "Storgatan 3");
    world.event(Event::Connect);
    assert_eq!(world.socket, None);
    assert_eq!(world.stored[&document(1)].len(), before);
    assert!(world.device.refresh_summaries().is_empty());
}

#[test]
fn a_household_that_left_the_caseload_is_erased_once_the_server_has_all_of_it() {
    let mut world = World::new();
    // (Seed 1's household is open: the person can still change it.)
    for (n, seed) in [(1, 2), (2, 4), (3, 1)] {
        world.add(document(n), seed);
    }
    world.connect();
    let listed = |n: u8| crate::api::HouseholdSummary::new(document(n));
    // Household 2 was reassigned; household 3 too, but the person changed it offline.
    world.event(Event::Offline);
    world.change(document(3), "Storgatan 3");
    world.caseload_heard(vec![listed(1)]);
    assert_eq!(
        world.erased_as_left(),
        vec![document(2)],
        "the one with a change waiting stays"
    );
    // The household 3's change reaches the server; the next caseload lets it go.
    world.connect();
    world.caseload_heard(vec![listed(1)]);
    assert_eq!(world.erased_as_left(), vec![document(2), document(3)]);
    // Once forgotten, nothing of them is on the device, and nothing is asked for again.
    for n in [2, 3] {
        world.device.forget(&document(n));
    }
    world.caseload_heard(vec![listed(1)]);
    assert_eq!(world.erased_as_left(), Vec::<DocumentId>::new());
    assert!(world.device.document(&document(1)).is_some());
}

#[test]
fn a_household_settled_after_the_caseload_was_asked_for_is_not_taken_as_left() {
    let mut world = World::new();
    world.add(document(1), 1);
    // Asked while the new household still waited for the server…
    let settled = world.device.settled();
    assert!(settled.is_empty(), "{settled:?}");
    // …which takes it before the answer arrives: the answer could not list it.
    world.connect();
    assert!(world.device.is_settled(&document(1)));
    world.event(Event::CaseloadHeard {
        caseload: Vec::new(),
        settled,
    });
    assert_eq!(world.erased_as_left(), Vec::<DocumentId>::new());
}

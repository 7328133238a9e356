//! The engine without a socket: each test plays the hub's driver (a real SQLite store in a
//! temporary directory, the commit's outcome chosen by the test) and devices as core's client
//! peers, and reads what the engine lets leave.

use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{Date, DistrictId, PeerConfig, Set, VisitId, VisitRecord};

use super::*;
use crate::store::Store;

const NOW: i64 = 1_725_000_000_000;

/// A device: core's client peer, what it has to send, and how the server closed it.
struct Device {
    peer: SyncPeer,
    connection: ConnectionId,
    principal: Principal,
    outbox: Vec<Vec<u8>>,
    closed: Option<String>,
}

impl Device {
    fn new(user: &str, device: &str, role: Role, districts: &[&str]) -> Self {
        let id = PeerId::new(device).expect("a peer id");
        Self {
            peer: SyncPeer::new(PeerConfig::new(id, PeerRole::Client)),
            connection: ConnectionId(0),
            principal: Principal {
                user_id: user.into(),
                device_id: device.into(),
                role,
                districts: districts.iter().map(|&district| district.into()).collect(),
            },
            outbox: Vec::new(),
            closed: None,
        }
    }

    fn input(&mut self, input: Input) {
        for output in self.peer.handle(Timestamp::from_millis(NOW), input) {
            if let Output::Send { bytes, .. } = output {
                self.outbox.push(bytes);
            }
        }
    }

    /// Records a visit as its user, on the device, unsent.
    fn record_visit(&mut self, document: DocumentId, visit: &str) {
        let now = Timestamp::from_millis(NOW);
        let staff = StaffId::new(self.principal.user_id.clone()).expect("a staff id");
        let device = DeviceId::new(self.principal.device_id.clone()).expect("a device id");
        let doc = self
            .peer
            .document_mut(&document)
            .expect("the household is here");
        let signature = Signature::new(staff.clone(), device, now);
        let mut household = HouseholdDoc::new(doc);
        if household.profile().expect("reads").status == lots_core::CaseStatus::Closed {
            household.reopen_case(&signature).expect("reopens");
        }
        household
            .record_visit(
                &signature,
                &VisitId::new(visit).expect("a visit id"),
                VisitRecord {
                    held_at: now.plus_minutes(-30),
                    staff,
                    present: Set::new(),
                    interpreter: None,
                    duration_minutes: 30,
                    topics: Set::new(),
                    notes: format!("Besök {visit}"),
                },
            )
            .expect("records");
        self.input(Input::LocalChange { document });
    }

    /// Whether its copy of `document` holds the visit.
    fn holds_visit(&self, document: DocumentId, visit: &str) -> bool {
        let visit = VisitId::new(visit).expect("a visit id");
        self.peer.document(&document).is_some_and(|doc| {
            HouseholdDoc::new(doc)
                .household()
                .expect("reads")
                .visits
                .contains_key(&visit)
        })
    }
}

/// The engine with the driver's part played by the test.
struct Rig {
    engine: Engine,
    store: Store,
    next_connection: u64,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn new(memory_budget: usize) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open_sqlite(&dir.path().join("lots.sqlite3"))
            .await
            .expect("opens");
        let engine = Engine::new(&EngineConfig {
            peer_id: PeerId::new("server").expect("a peer id"),
            max_message_bytes: 4 << 20,
            skip_vetting: false,
            partition: 0,
            partitions: 1,
            memory_budget,
        })
        .expect("an engine");
        Self {
            engine,
            store,
            next_connection: 0,
            _dir: dir,
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_millis(NOW)
    }

    /// Stores a synthetic household of Anna's in district-norr, as an import does.
    async fn household(&mut self, seed: u64) -> DocumentId {
        let spec = HouseholdSpec {
            district: DistrictId::new("district-norr").expect("valid"),
            staff: StaffId::new("u-anna").expect("valid"),
            device: DeviceId::new("d-import").expect("valid"),
            opened_on: Date::from_ymd(2024, 1, 8).expect("valid"),
            visits: 6,
            today: Date::from_ymd(2024, 9, 1).expect("valid"),
        };
        let doc = Generator::new(seed)
            .household(&spec)
            .expect("generates")
            .into_automerge();
        let document = DocumentId::from_bytes([u8::try_from(seed).expect("small"); 16]);
        let (writes, index) = insert_writes(document, &doc);
        self.store
            .commit(&writes, self.now())
            .await
            .expect("stores");
        self.engine.inserted(document, index);
        document
    }

    /// A stored household of Anna's (see [`Rig::household`]), synced to her phone.
    async fn anna_holding(&mut self, seed: u64) -> (DocumentId, Device) {
        let document = self.household(seed).await;
        let mut phone = anna_phone();
        self.connect(&mut phone);
        phone.input(Input::Want { document });
        self.settle_down(&mut [&mut phone]).await;
        (document, phone)
    }

    /// Opens a connection for `device` and starts its handshake.
    fn connect(&mut self, device: &mut Device) {
        self.next_connection += 1;
        device.connection = ConnectionId(self.next_connection);
        device.closed = None;
        let now = self.now();
        self.engine
            .connect(now, device.connection, device.principal.clone());
        device.input(Input::Connected {
            connection: device.connection,
        });
    }

    /// Hands the engine what `device` has sent, reading documents from disk as the driver
    /// does.
    async fn send(&mut self, device: &mut Device) {
        let now = self.now();
        for bytes in std::mem::take(&mut device.outbox) {
            if let Some(document) = self.engine.needs_document(&bytes)
                && self.engine.presence(&document) == Presence::OnDisk
            {
                let stored = self.store.document(&document).await.expect("reads");
                self.engine.load(now, document, &stored.expect("stored"));
            }
            self.engine
                .received(now, device.connection, bytes)
                .expect("no panic");
        }
    }

    /// Commits the batch (or fails it) and hands the devices what leaves.
    async fn flush(&mut self, devices: &mut [&mut Device], fail: bool) -> Vec<Delivery> {
        let batch = self.engine.take_batch();
        self.settle(devices, batch, fail).await
    }

    /// Commits a batch taken from the engine (or fails it) and hands the devices what leaves.
    async fn settle(
        &mut self,
        devices: &mut [&mut Device],
        batch: Batch,
        fail: bool,
    ) -> Vec<Delivery> {
        let now = self.now();
        let compact = if fail {
            self.engine.settle(now, batch, Err(()))
        } else {
            let appended = self.store.commit(&batch.writes, now).await.expect("stores");
            self.engine.settle(now, batch, Ok(&appended))
        };
        assert!(compact.is_empty(), "a few chunks need no compaction");
        let deliveries = self.engine.take_deliveries();
        for delivery in &deliveries {
            let (Delivery::Send(connection, _) | Delivery::Close(connection, _)) = delivery;
            let Some(device) = devices
                .iter_mut()
                .find(|device| device.connection == *connection)
            else {
                continue;
            };
            match delivery {
                Delivery::Send(_, bytes) => device.input(Input::Received {
                    connection: *connection,
                    bytes: bytes.clone(),
                }),
                Delivery::Close(_, reason) => {
                    device.closed = Some(reason.clone());
                    device.input(Input::Disconnected {
                        connection: *connection,
                    });
                }
            }
        }
        deliveries
    }

    /// Passes messages both ways, committing every batch, until nobody has anything to say.
    async fn settle_down(&mut self, devices: &mut [&mut Device]) {
        for _ in 0..64 {
            if devices.iter().all(|device| device.outbox.is_empty()) {
                let deliveries = self.flush(devices, false).await;
                if deliveries.is_empty() {
                    return;
                }
                continue;
            }
            for device in devices.iter_mut() {
                self.send(device).await;
            }
            self.flush(devices, false).await;
        }
        panic!("the devices and the engine never fell quiet");
    }
}

/// Commits a plain value at the document's root: a change no validation sees.
fn put_at_root(doc: &mut Automerge, key: &str) {
    doc.transact::<_, _, lots_core::automerge::AutomergeError>(|tx| {
        use lots_core::automerge::transaction::Transactable as _;
        tx.put(lots_core::automerge::ROOT, key, 1_i64)?;
        Ok(())
    })
    .expect("commits");
}

fn anna_phone() -> Device {
    Device::new("u-anna", "d-anna-phone", Role::Staff, &[])
}

fn supervisor_desk() -> Device {
    Device::new(
        "u-sara",
        "d-sara-desk",
        Role::Supervisor,
        &["district-norr"],
    )
}

#[tokio::test]
async fn a_household_syncs_to_its_holder_and_nothing_leaves_before_its_batch_is_stored() {
    let mut rig = Rig::new(usize::MAX).await;
    let document = rig.household(1).await;
    let mut phone = anna_phone();
    rig.connect(&mut phone);
    phone.input(Input::Want { document });
    rig.send(&mut phone).await;
    assert_eq!(
        rig.engine.take_deliveries(),
        vec![],
        "nothing leaves before the commit"
    );
    rig.settle_down(&mut [&mut phone]).await;
    assert!(
        phone.peer.document(&document).is_some(),
        "Anna's household is on her phone"
    );
    assert_eq!(
        rig.engine.in_memory().0,
        1,
        "read from disk as it was asked for"
    );

    // Another staff member's phone is not given it.
    let mut other = Device::new("u-bo", "d-bo-phone", Role::Staff, &[]);
    rig.connect(&mut other);
    other.input(Input::Want { document });
    rig.settle_down(&mut [&mut other]).await;
    assert!(other.peer.document(&document).is_none());
}

#[tokio::test]
async fn nothing_of_a_failed_batch_leaves_and_the_device_sends_it_again() {
    let mut rig = Rig::new(usize::MAX).await;
    let document = rig.household(2).await;
    let mut phone = anna_phone();
    let mut desk = supervisor_desk();
    for device in [&mut phone, &mut desk] {
        rig.connect(device);
        device.input(Input::Want { document });
    }
    rig.settle_down(&mut [&mut phone, &mut desk]).await;
    assert!(
        desk.peer.document(&document).is_some(),
        "the desk follows the household"
    );

    // Anna records a visit; the server takes it, and would pass it to the desk.
    phone.record_visit(document, "v-offline");
    rig.send(&mut phone).await;
    let batch = rig.engine.take_batch();
    assert!(!batch.writes.is_empty(), "the visit is to be stored");
    assert!(batch.messages() > 0, "messages wait for the commit");

    // The commit fails: no message of the batch leaves, both connections are closed, and the
    // household leaves memory, so nothing of the unstored visit can be read from the server.
    let deliveries = rig.settle(&mut [&mut phone, &mut desk], batch, true).await;
    assert!(
        deliveries
            .iter()
            .all(|delivery| matches!(delivery, Delivery::Close(..))),
        "only closes leave: {deliveries:?}"
    );
    let reason = "the server could not store your changes; try again";
    assert_eq!(phone.closed.as_deref(), Some(reason));
    assert_eq!(desk.closed.as_deref(), Some(reason));
    assert!(!desk.holds_visit(document, "v-offline"));
    assert_eq!(
        rig.engine.in_memory(),
        (0, 0),
        "the unstored change left memory"
    );
    assert_eq!(rig.engine.presence(&document), Presence::OnDisk);

    // Both reconnect: the desk, from disk, still lacks the visit; the phone kept it and sends
    // it again, and this time it is stored and reaches the desk.
    rig.connect(&mut desk);
    rig.settle_down(&mut [&mut desk]).await;
    assert!(!desk.holds_visit(document, "v-offline"));
    rig.connect(&mut phone);
    rig.settle_down(&mut [&mut phone, &mut desk]).await;
    assert!(desk.holds_visit(document, "v-offline"), "the visit arrived");
    let stored = rig.store.document(&document).await.unwrap().unwrap();
    let stored = load_caught(&stored).expect("loads");
    assert!(
        HouseholdDoc::new(&stored)
            .household()
            .unwrap()
            .visits
            .contains_key(&VisitId::new("v-offline").unwrap()),
        "and it is on disk"
    );
}

#[tokio::test]
async fn an_unstored_document_is_never_evicted() {
    let mut rig = Rig::new(0).await;
    let (document, mut phone) = rig.anna_holding(3).await;
    phone.record_visit(document, "v-kept");
    rig.send(&mut phone).await;
    assert_eq!(rig.engine.evict(), 0, "its change is not on disk yet");
    rig.flush(&mut [&mut phone], false).await;
    assert_eq!(
        rig.engine.evict(),
        1,
        "stored, it leaves a budget of nothing"
    );
    assert_eq!(rig.engine.in_memory(), (0, 0));
    // Evicted, it is answered from its stored heads, and read again when a change comes.
    phone.record_visit(document, "v-after");
    rig.settle_down(&mut [&mut phone]).await;
    let stored = rig.store.document(&document).await.unwrap().unwrap();
    let stored = load_caught(&stored).expect("loads");
    let visits = HouseholdDoc::new(&stored).household().unwrap().visits;
    assert!(visits.contains_key(&VisitId::new("v-kept").unwrap()));
    assert!(visits.contains_key(&VisitId::new("v-after").unwrap()));
}

#[tokio::test]
async fn a_household_is_compacted_from_memory_only_when_memory_holds_what_is_stored_and_no_more() {
    let mut rig = Rig::new(usize::MAX).await;
    let (document, mut phone) = rig.anna_holding(5).await;
    phone.record_visit(document, "v-staged");
    rig.send(&mut phone).await;
    let stored = rig.store.document(&document).await.unwrap().unwrap();
    assert_eq!(
        rig.engine.compacted(&document, &stored),
        None,
        "the visit in memory is not on disk yet"
    );
    rig.flush(&mut [&mut phone], false).await;
    let stored = rig.store.document(&document).await.unwrap().unwrap();
    let save = rig
        .engine
        .compacted(&document, &stored)
        .expect("memory holds what is stored");
    let saved = load_caught(&save).expect("loads");
    assert_eq!(saved.get_heads(), load_caught(&stored).unwrap().get_heads());

    // A change waiting in memory for a dependency that never came is never written by it.
    let mut ahead = load_caught(&stored).unwrap();
    for key in ["missing", "waiting"] {
        put_at_root(&mut ahead, key);
    }
    let waiting = ahead.get_last_local_change().unwrap().clone();
    let held = rig.engine.peer.document_mut(&document).unwrap();
    held.apply_changes([waiting]).unwrap();
    assert_eq!(
        lots_core::automerge::ReadDoc::get_missing_deps(&*held, &[]).len(),
        1,
        "the change waits"
    );
    assert_eq!(
        rig.engine.compacted(&document, &stored),
        None,
        "a waiting change is not compacted in"
    );

    // Another process stores a change this one has not read.
    let mut elsewhere = load_caught(&stored).unwrap();
    let heads = elsewhere.get_heads();
    put_at_root(&mut elsewhere, "elsewhere");
    rig.store
        .append_chunk(&document, &elsewhere.save_after(&heads), rig.now())
        .await
        .unwrap();
    let stored = rig.store.document(&document).await.unwrap().unwrap();
    assert_eq!(
        rig.engine.compacted(&document, &stored),
        None,
        "a change memory lacks is compacted from the chunks"
    );
    let unknown = DocumentId::from_bytes([77; 16]);
    assert_eq!(rig.engine.compacted(&unknown, &stored), None);
}

#[tokio::test]
async fn a_refused_change_is_not_accepted_before_the_one_it_builds_on() {
    let mut rig = Rig::new(usize::MAX).await;
    let document = rig.household(6).await;
    let stored = rig.store.document(&document).await.unwrap().unwrap();
    assert!(rig.engine.load(rig.now(), document, &stored));
    let mut phone = load_caught(&stored).unwrap();
    let mut changes = Vec::new();
    for key in ["first", "second"] {
        put_at_root(&mut phone, key);
        changes.push(phone.get_last_local_change().unwrap().clone());
    }
    let (first, second) = (changes[0].clone(), changes[1].clone());
    let heads = rig.engine.peer.document(&document).unwrap().get_heads();
    let error = rig
        .engine
        .accept(rig.now(), document, &[(2, second.clone())])
        .unwrap_err();
    assert!(
        matches!(&error, HubError::WaitsFor { change } if *change == first.hash().to_string()),
        "{error}"
    );
    let held = rig.engine.peer.document(&document).unwrap();
    assert_eq!(held.get_heads(), heads, "nothing applied");
    assert!(lots_core::automerge::ReadDoc::get_missing_deps(held, &[]).is_empty());

    rig.engine
        .accept(rig.now(), document, &[(2, second.clone()), (1, first)])
        .unwrap();
    let held = rig.engine.peer.document(&document).unwrap();
    assert_eq!(held.get_heads(), vec![second.hash()]);
}

#[tokio::test]
async fn a_removed_household_closes_its_readers_and_is_never_read_again() {
    let mut rig = Rig::new(usize::MAX).await;
    let document = rig.household(4).await;
    let mut phone = anna_phone();
    let mut other = Device::new("u-bo", "d-bo-phone", Role::Staff, &[]);
    rig.connect(&mut phone);
    rig.connect(&mut other);
    phone.input(Input::Want { document });
    rig.settle_down(&mut [&mut phone, &mut other]).await;
    let now = rig.now();
    rig.engine.forget(now, document);
    let closes = rig.engine.take_deliveries();
    assert_eq!(
        closes,
        vec![Delivery::Close(
            phone.connection,
            format!("{REMOVED_PREFIX}{document}")
        )],
        "only who could read it is closed"
    );
    assert_eq!(rig.engine.presence(&document), Presence::Unknown);
}

#[test]
fn a_message_goes_to_its_document_partition_and_a_handshake_to_every_one_the_first_last() {
    let client = PeerId::new("d-anna-phone").expect("a peer id");
    let document = DocumentId::from_bytes([3; 16]);
    let sync = lots_core::Message::Sync {
        sender: client.clone(),
        target: PeerId::new("server").expect("a peer id"),
        document,
        data: Vec::new(),
    };
    let leave = lots_core::Message::Leave { sender: client };
    for partitions in 1..=4 {
        assert_eq!(
            route(&sync.encode(), partitions),
            vec![partition_of(&document, partitions)]
        );
        let every: Vec<usize> = (1..partitions).chain([0]).collect();
        assert_eq!(route(&leave.encode(), partitions), every);
        assert_eq!(route(b"not a message", partitions), vec![0]);
    }
    assert_eq!(route(&leave.encode(), 3), vec![1, 2, 0]);
}

//! The sans-IO peer on an in-memory network: phones and a server syncing households, going
//! offline, coming back, and refusing what they must refuse.

#![cfg(not(target_arch = "wasm32"))] // The browser's share of these runs in `wasm.rs`.
#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

mod common;

use common::*;
use lots_core::automerge::Automerge;
use lots_core::*;

const DOC: DocumentId = DocumentId::from_bytes([42; 16]);

/// A server and two phones; phone 1 holds the household, both phones linked to the server.
fn network() -> (MemoryNetwork, usize, usize, usize, usize, usize) {
    let mut net = MemoryNetwork::new();
    let server = net.add_peer("server", Role::Server);
    let phone1 = net.add_peer("phone-1", Role::Client);
    let phone2 = net.add_peer("phone-2", Role::Client);
    net.peers[phone1].insert_document(DOC, household(1).into_automerge());
    net.peers[phone1].mark_dirty(DOC);
    let link1 = net.connect(phone1, server);
    let link2 = net.connect(phone2, server);
    net.run_until_quiet();
    (net, server, phone1, phone2, link1, link2)
}

fn read(net: &MemoryNetwork, peer: usize) -> Household {
    HouseholdDoc::new(
        net.peers[peer]
            .document(&DOC)
            .expect("the peer has the document"),
    )
    .household()
    .expect("the household reads")
}

fn edit(
    net: &mut MemoryNetwork,
    peer: usize,
    action: impl FnOnce(&mut HouseholdDoc<&mut Automerge>),
) {
    let doc = net.peers[peer]
        .document_mut(&DOC)
        .expect("the peer has the document");
    action(&mut HouseholdDoc::new(doc));
    net.input(peer, Input::LocalChange { document: DOC });
}

#[test]
fn a_new_household_reaches_the_server_and_another_phone() {
    let (mut net, server, phone1, phone2, _, _) = network();
    assert_eq!(read(&net, server), read(&net, phone1));
    assert!(net.events.iter().any(|(peer, event)| *peer == phone1
        && matches!(event, Output::DocumentSynced { document, .. } if *document == DOC)));
    assert_eq!(net.peers[phone1].status().dirty_documents, 0);

    net.input(phone2, Input::Want { document: DOC });
    net.run_until_quiet();
    assert_eq!(read(&net, phone2), read(&net, phone1));
    assert_eq!(
        net.peers[phone2].document(&DOC).unwrap().get_heads(),
        net.peers[phone1].document(&DOC).unwrap().get_heads()
    );
}

/// Anna, on `phone`, records that the household moved to Ny gatan 1.
fn move_to_ny_gatan(net: &mut MemoryNetwork, phone: usize) {
    edit(net, phone, |doc| {
        doc.update_housing(
            &sign("u-anna", at("2024-02-01", 9)),
            "Ny gatan 1",
            "",
            HousingForm::ALL[0],
        )
        .unwrap()
    });
}

#[test]
fn a_document_evicted_from_the_server_still_reaches_the_phones_that_synced_it() {
    let (mut net, server, phone1, phone2, _, _) = network();
    net.input(phone2, Input::Want { document: DOC });
    net.run_until_quiet();
    assert!(net.peers[server].followed(&DOC));
    let stored = net.peers[server]
        .evict_document(&DOC)
        .expect("nothing holds it");
    assert!(net.peers[server].document(&DOC).is_none());
    assert!(net.peers[server].followed(&DOC), "who synced it is kept");

    move_to_ny_gatan(&mut net, phone1);
    // The driver loads it again as a message for it comes.
    net.peers[server].insert_document(DOC, stored);
    net.run_until_quiet();
    assert_eq!(read(&net, phone2).profile.address, "Ny gatan 1");
    assert_eq!(read(&net, server), read(&net, phone1));
}

#[test]
fn a_phone_that_changed_nothing_is_answered_without_the_server_reading_the_household() {
    let (mut net, server, phone1, phone2, _, link2) = network();
    net.input(phone2, Input::Want { document: DOC });
    net.run_until_quiet();
    net.disconnect(link2);
    // The server keeps only the household's stored heads.
    let stored = net.peers[server]
        .evict_document(&DOC)
        .expect("nothing holds it");
    net.peers[server].set_dormant(DOC, stored.get_heads());

    net.record_deliveries = true;
    net.events.clear();
    net.reconnect(link2);
    net.run_until_quiet();
    let about_doc: Vec<&Vec<u8>> = net
        .delivered
        .iter()
        .filter(|(link, direction, bytes)| {
            *link == link2
                && *direction == Direction::ToServer
                && matches!(Message::decode(bytes), Ok(Message::Sync { document, .. }) if document == DOC)
        })
        .map(|(.., bytes)| bytes)
        .collect();
    assert!(!about_doc.is_empty(), "the phone offered the household");
    for bytes in about_doc {
        assert_eq!(net.peers[server].needs_document(bytes), None);
    }
    assert!(net.peers[server].document(&DOC).is_none(), "never read");
    assert!(
        !net.events.iter().any(|(_, output)| matches!(
            output,
            Output::DocumentUnavailable { .. } | Output::Rejected { .. }
        )),
        "{:?}",
        net.events
    );
    assert!(net.peers[server].followed(&DOC));

    // A change from elsewhere needs the household: the driver reads it, and the phone that was
    // answered without it still gets the change.
    net.peers[server].insert_document(DOC, stored);
    move_to_ny_gatan(&mut net, phone1);
    net.run_until_quiet();
    assert_eq!(read(&net, phone2).profile.address, "Ny gatan 1");
    assert_eq!(read(&net, server), read(&net, phone1));
}

#[test]
fn offline_visits_and_note_edits_on_two_phones_merge() {
    let (mut net, server, phone1, phone2, link1, link2) = network();
    net.input(phone2, Input::Want { document: DOC });
    net.run_until_quiet();
    let visit = VisitId::new("v-shared").unwrap();
    edit(&mut net, phone1, |doc| {
        doc.record_visit(
            &sign("u-anna", at("2024-01-15", 12)),
            &visit,
            visit_record(at("2024-01-15", 10), "u-anna", "Besök hos familjen."),
        )
        .unwrap()
    });
    net.run_until_quiet();

    net.now = at("2024-01-16", 8);
    net.disconnect(link1);
    net.disconnect(link2);
    assert_eq!(
        net.peers[phone1].status().offline_since,
        Some(at("2024-01-16", 8))
    );

    let (own1, own2) = (VisitId::new("v-p1").unwrap(), VisitId::new("v-p2").unwrap());
    edit(&mut net, phone1, |doc| {
        doc.record_visit(
            &sign("u-anna", at("2024-01-16", 12)),
            &own1,
            visit_record(at("2024-01-16", 10), "u-anna", "Telefon ett."),
        )
        .unwrap();
        doc.splice_note(
            &sign("u-anna", at("2024-01-16", 12)),
            &NoteRef::Visit(visit.clone()),
            0,
            0,
            "Ett: ",
        )
        .unwrap();
    });
    edit(&mut net, phone2, |doc| {
        doc.record_visit(
            &sign("u-omar", at("2024-01-16", 13)),
            &own2,
            visit_record(at("2024-01-16", 11), "u-omar", "Telefon två."),
        )
        .unwrap();
        let end = "Besök hos familjen.".chars().count();
        doc.splice_note(
            &sign("u-omar", at("2024-01-16", 13)),
            &NoteRef::Visit(visit.clone()),
            end,
            0,
            " Två.",
        )
        .unwrap();
    });
    assert_eq!(net.peers[phone1].status().dirty_documents, 1);
    assert_eq!(net.peers[phone2].status().dirty_documents, 1);

    net.reconnect(link1);
    net.reconnect(link2);
    net.run_until_quiet();
    for peer in [server, phone1, phone2] {
        let household = read(&net, peer);
        assert!(household.visits.contains_key(&own1) && household.visits.contains_key(&own2));
        assert_eq!(
            household.visits[&visit].notes.as_str(),
            "Ett: Besök hos familjen. Två."
        );
        assert_eq!(net.peers[peer].status().dirty_documents, 0);
    }
    assert_eq!(net.peers[phone1].status().offline_since, None);
}

/// Bytes on the wire when a phone holding a two-year household restarts and reconnects,
/// with or without the sync state it saved.
fn reconnect_bytes(restore_state: bool) -> (usize, usize) {
    let mut generator = synthetic::Generator::new(5);
    let spec = synthetic::HouseholdSpec {
        district: DistrictId::new("district-norr").unwrap(),
        staff: staff("u-anna"),
        device: DeviceId::new("d-phone").unwrap(),
        opened_on: date("2023-01-10"),
        visits: 100,
        today: date("2025-01-10"),
    };
    let doc = generator.household(&spec).unwrap().into_automerge();
    let n_changes = doc.get_changes_meta(&[]).len();
    let mut net = MemoryNetwork::new();
    let server = net.add_peer("server", Role::Server);
    let phone = net.add_peer("phone", Role::Client);
    net.peers[phone].insert_document(DOC, doc);
    let link = net.connect(phone, server);
    net.run_until_quiet();
    let saved = net.peers[phone]
        .export_sync_state(net.peers[server].peer_id(), &DOC)
        .unwrap();
    net.disconnect(link);
    let doc = net.peers[phone].document(&DOC).unwrap().clone();
    net.peers[phone] = SyncPeer::new(PeerConfig::new(PeerId::new("phone").unwrap(), Role::Client));
    net.peers[phone].insert_document(DOC, doc);
    if restore_state {
        net.peers[phone]
            .import_sync_state(PeerId::new("server").unwrap(), DOC, &saved)
            .unwrap();
    }
    let before = net.bytes_delivered;
    net.reconnect(link);
    net.run_until_quiet();
    (net.bytes_delivered - before, n_changes)
}

#[test]
fn a_saved_sync_state_makes_reconnecting_cheap() {
    let ((with_state, n_changes), (without_state, _)) =
        (reconnect_bytes(true), reconnect_bytes(false));
    // Without a saved state each side summarises its whole history in a Bloom filter
    // (about 1.25 bytes per change); with it, only what changed since the last sync.
    assert!(
        with_state + n_changes < without_state,
        "reconnecting a {n_changes}-change household cost {with_state} bytes with the saved \
         state, {without_state} without"
    );
    let mut peer = SyncPeer::new(PeerConfig::new(PeerId::new("phone").unwrap(), Role::Client));
    assert!(
        peer.import_sync_state(PeerId::new("server").unwrap(), DOC, b"\x00junk")
            .is_err()
    );
}

/// A raw connection to a lone server peer, for feeding it hand-made messages.
fn lone_server(max_message_bytes: usize) -> SyncPeer {
    let mut config = PeerConfig::new(PeerId::new("server").unwrap(), Role::Server);
    config.max_message_bytes = max_message_bytes;
    let mut server = SyncPeer::new(config);
    server.insert_document(DOC, household(1).into_automerge());
    server
}

/// A lone server peer that a phone (`phone`) has joined on `connection`.
fn joined_server(max_message_bytes: usize, now: Timestamp, connection: ConnectionId) -> SyncPeer {
    let mut server = lone_server(max_message_bytes);
    server.handle(now, Input::Connected { connection });
    server.handle(
        now,
        Input::Received {
            connection,
            bytes: join("phone"),
        },
    );
    server
}

fn join(name: &str) -> Vec<u8> {
    Message::Join {
        sender: PeerId::new(name).unwrap(),
        metadata: PeerMetadata::default(),
        supported_versions: vec!["1".into()],
    }
    .encode()
}

fn rejected(outputs: &[Output]) -> Option<&SyncError> {
    outputs.iter().find_map(|output| match output {
        Output::Rejected { error, .. } => Some(error),
        _ => None,
    })
}

fn closes(outputs: &[Output]) -> bool {
    outputs
        .iter()
        .any(|output| matches!(output, Output::Close { .. }))
}

#[test]
fn oversized_and_malformed_messages_are_refused_with_a_reason() {
    let now = at("2024-01-10", 9);
    let connection = ConnectionId(1);
    let mut server = lone_server(1024);
    server.handle(now, Input::Connected { connection });
    let outputs = server.handle(
        now,
        Input::Received {
            connection,
            bytes: vec![0; 2000],
        },
    );
    assert_eq!(
        rejected(&outputs),
        Some(&SyncError::TooLarge {
            size: 2000,
            max: 1024
        })
    );
    assert!(closes(&outputs));

    let mut server = lone_server(1024);
    server.handle(now, Input::Connected { connection });
    let outputs = server.handle(
        now,
        Input::Received {
            connection,
            bytes: b"garbage".to_vec(),
        },
    );
    assert!(matches!(
        rejected(&outputs),
        Some(SyncError::Malformed(MessageError::Cbor(_)))
    ));
    assert!(closes(&outputs));

    // A document message before the handshake.
    let mut server = lone_server(1024);
    server.handle(now, Input::Connected { connection });
    let sync = Message::Sync {
        sender: PeerId::new("x").unwrap(),
        target: PeerId::new("server").unwrap(),
        document: DOC,
        data: vec![],
    };
    let outputs = server.handle(
        now,
        Input::Received {
            connection,
            bytes: sync.encode(),
        },
    );
    assert_eq!(
        rejected(&outputs),
        Some(&SyncError::NotJoined { kind: "sync" })
    );

    // A damaged Automerge payload after the handshake.
    let mut server = joined_server(1024, now, connection);
    let bad = Message::Sync {
        sender: PeerId::new("phone").unwrap(),
        target: PeerId::new("server").unwrap(),
        document: DOC,
        data: vec![0x42, 1, 2],
    };
    let outputs = server.handle(
        now,
        Input::Received {
            connection,
            bytes: bad.encode(),
        },
    );
    assert!(matches!(
        rejected(&outputs),
        Some(SyncError::Payload { .. })
    ));
    // The document the server holds is untouched.
    assert_eq!(
        HouseholdDoc::new(server.document(&DOC).unwrap())
            .household()
            .unwrap(),
        household(1).household().unwrap()
    );

    // A Bloom filter asking for four billion probes per change (found by fuzzing: Automerge
    // answered it for 30 s, allocating as it went) is refused before Automerge reads it.
    use lots_core::automerge::sync::{self, SyncDoc as _};
    let mut server = joined_server(1 << 20, now, connection);
    let mut offer = household(2)
        .into_automerge()
        .generate_sync_message(&mut sync::State::new())
        .unwrap();
    let mut filter = Vec::new();
    for value in [1_u64, 10, u64::from(u32::MAX)] {
        leb128::write::unsigned(&mut filter, value).unwrap();
    }
    filter.extend([0xff, 0xff]);
    offer.have[0].bloom = sync::BloomFilter::try_from(filter.as_slice()).unwrap();
    let forged = Message::Sync {
        sender: PeerId::new("phone").unwrap(),
        target: PeerId::new("server").unwrap(),
        document: DOC,
        data: offer.encode(),
    };
    let outputs = server.handle(
        now,
        Input::Received {
            connection,
            bytes: forged.encode(),
        },
    );
    match rejected(&outputs) {
        Some(SyncError::Payload { reason, .. }) => {
            assert!(reason.contains("Bloom filter"), "{reason}")
        }
        other => panic!("not refused as a payload: {other:?}"),
    }
}

#[test]
fn a_sender_must_be_the_peer_that_joined() {
    let now = at("2024-01-10", 9);
    let connection = ConnectionId(1);
    let mut server = lone_server(DEFAULT_MAX_MESSAGE_BYTES);
    server.handle(now, Input::Connected { connection });
    server.handle(
        now,
        Input::Received {
            connection,
            bytes: join("phone"),
        },
    );
    let mut state = lots_core::automerge::sync::State::new();
    use lots_core::automerge::sync::SyncDoc as _;
    let data = Automerge::new()
        .generate_sync_message(&mut state)
        .unwrap()
        .encode();
    let spoofed = Message::Request {
        sender: PeerId::new("someone-else").unwrap(),
        target: PeerId::new("server").unwrap(),
        document: DOC,
        data,
    };
    let outputs = server.handle(
        now,
        Input::Received {
            connection,
            bytes: spoofed.encode(),
        },
    );
    assert!(matches!(
        rejected(&outputs),
        Some(SyncError::Spoofed { .. })
    ));
}

#[test]
fn a_forbidden_document_looks_exactly_like_a_missing_one() {
    struct Nobody;
    impl SharePolicy for Nobody {
        fn may_read(&self, _: &PeerId, _: &DocumentId) -> bool {
            false
        }
        fn may_write(&self, _: &PeerId, _: &DocumentId) -> bool {
            false
        }
        fn may_create(&self, _: &PeerId, _: &DocumentId) -> bool {
            false
        }
    }
    let now = at("2024-01-10", 9);
    let connection = ConnectionId(1);
    let mut server = SyncPeer::with_policy(
        PeerConfig::new(PeerId::new("server").unwrap(), Role::Server),
        Nobody,
    );
    server.insert_document(DOC, household(1).into_automerge());
    server.handle(now, Input::Connected { connection });
    server.handle(
        now,
        Input::Received {
            connection,
            bytes: join("phone"),
        },
    );
    let mut state = lots_core::automerge::sync::State::new();
    use lots_core::automerge::sync::SyncDoc as _;
    let data = Automerge::new()
        .generate_sync_message(&mut state)
        .unwrap()
        .encode();
    let ask = |document| Message::Request {
        sender: PeerId::new("phone").unwrap(),
        target: PeerId::new("server").unwrap(),
        document,
        data: data.clone(),
    };
    let held = server.handle(
        now,
        Input::Received {
            connection,
            bytes: ask(DOC).encode(),
        },
    );
    let missing_id = DocumentId::from_bytes([1; 16]);
    let missing = server.handle(
        now,
        Input::Received {
            connection,
            bytes: ask(missing_id).encode(),
        },
    );
    let reply = |outputs: &[Output]| -> Vec<Message> {
        outputs
            .iter()
            .filter_map(|output| match output {
                Output::Send { bytes, .. } => Some(Message::decode(bytes).unwrap()),
                _ => None,
            })
            .collect()
    };
    let held_reply = reply(&held);
    assert_eq!(held_reply.len(), 1);
    assert!(matches!(&held_reply[0], Message::DocUnavailable { document, .. } if *document == DOC));
    let missing_reply = reply(&missing);
    assert!(
        matches!(&missing_reply[0], Message::DocUnavailable { document, .. } if *document == missing_id)
    );
    assert_eq!(held.len(), missing.len());
}

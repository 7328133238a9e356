//! Tests of `refused.rs`.

use super::*;
use lots_core::{Refusal, ShapeError};

fn document() -> DocumentId {
    DocumentId::from_bytes([7; 16])
}

#[test]
fn a_removed_household_connects_again_at_once_to_learn_what_to_erase() {
    let closed = classify_close(HOUSEHOLD_REMOVED, &format!("removed {}", document()));
    assert_eq!(closed, Closed::Removed);
    let connection = ClosedConnection {
        opened: true,
        lasted: false,
        newly_held: false,
    };
    let (after, backoff) = after_close(&closed, connection, 8_000);
    assert_eq!(
        after,
        AfterClose::Retry {
            delay_ms: REFUSED_RECONNECT_MS
        }
    );
    assert_eq!(backoff, 8_000, "the pause for failures is left as it was");
}

#[test]
fn a_refusal_names_its_document_and_reasons() {
    let document = document();
    let closed = classify_close(4003, &format!("refused {document} clock,depends"));
    assert_eq!(
        closed,
        Closed::Refused {
            document,
            codes: vec!["clock".into(), "depends".into()],
        }
    );
    assert_eq!(
        classify_close(4004, "quarantine-full 23"),
        Closed::QuarantineFull { pending: 23 }
    );
    assert_eq!(classify_close(1013, "busy"), Closed::Busy);
    assert_eq!(
        classify_close(1008, "session"),
        Closed::Policy("session".into())
    );
    // A 4003 that does not read is an ordinary close: nothing is held back by guesswork.
    assert_eq!(
        classify_close(4003, "refused not-an-id clock"),
        Closed::Other("refused not-an-id clock".into())
    );
    assert_eq!(classify_close(1006, ""), Closed::Other(String::new()));
}

#[test]
fn every_code_of_core_reads_back_and_from_its_text() {
    let refusals = [
        Refusal::Unsigned,
        Refusal::SignedByOther {
            staff: "u-omar".into(),
            device: "d-1".into(),
        },
        Refusal::ActorTaken {
            actor: "ab12".into(),
        },
        Refusal::SignedAhead { minutes: 61 },
        Refusal::TooManyOperations { count: 9, max: 1 },
        Refusal::TooLarge { bytes: 9, max: 1 },
        Refusal::Shape(ShapeError::Deletes {
            kind: lots_core::EntryKind::Visit,
            id: "v-1".into(),
        }),
        Refusal::Shape(ShapeError::Replaces {
            what: "the plan".into(),
        }),
        Refusal::Shape(ShapeError::UnknownField {
            place: "a visit".into(),
            key: "x".into(),
        }),
        Refusal::Shape(ShapeError::WrongKind {
            place: "the plan".into(),
            found: "a string".into(),
        }),
        Refusal::Shape(ShapeError::UnknownObject),
        Refusal::Shape(ShapeError::SchemaVersion),
        Refusal::Shape(ShapeError::TooLong {
            field: "notes".into(),
            chars: 9,
            max: 1,
        }),
        Refusal::Shape(ShapeError::TooManyEntries {
            kind: lots_core::EntryKind::Visit,
            count: 9,
            max: 1,
        }),
        Refusal::Shape(ShapeError::Unreadable {
            what: "the profile".into(),
            reason: "no".into(),
        }),
        Refusal::Role("the household's district d-x is not one of yours".into()),
        Refusal::Role("a household you create is assigned to you".into()),
        Refusal::Role("only a supervisor sets a household's district or assigned staff".into()),
        Refusal::Role("u-omar does not work in district d-x".into()),
        Refusal::HeldInQuarantine,
        Refusal::DependsOnRefused {
            change: "ab".into(),
        },
        Refusal::Damaged("truncated".into()),
    ];
    for refusal in refusals {
        let code = refusal.code();
        let reason = Reason::from_code(code).unwrap_or_else(|| panic!("unknown code {code}"));
        assert_eq!(reason.code(), code);
        assert_eq!(
            Reason::from_server_text(&refusal.to_string()),
            reason,
            "{refusal}"
        );
    }
    assert_eq!(Reason::from_code("something-new"), None);
    // The server's words for a message refused unread for its size (`stage_unread`).
    assert_eq!(
        Reason::from_server_text(
            "the message is 52428800 bytes or more, over the limit of 4194304; it was not read, so none of its changes were kept"
        ),
        Reason::TooLarge
    );
}

#[test]
fn a_held_document_is_neither_offered_nor_taken_and_a_decision_releases_it() {
    let document = document();
    let other = DocumentId::from_bytes([8; 16]);
    let server = PeerId::new("lots-server").unwrap();
    let mut policy = HoldBack::default();
    assert!(policy.hold(document, &["clock".into()], 5));
    assert!(!policy.hold(document, &["depends".into()], 6));
    assert!(!policy.may_read(&server, &document));
    assert!(!policy.may_write(&server, &document));
    assert!(policy.may_read(&server, &other));
    assert_eq!(policy.get(&document).unwrap().codes, ["clock", "depends"]);
    assert!(policy.any_waiting());

    // Kept in IndexedDB as JSON, and read back the same.
    let json = serde_json::to_string(&policy.records()).unwrap();
    let again = HoldBack::from_records(serde_json::from_str(&json).unwrap());
    assert_eq!(again, policy);

    assert!(policy.reject(&document));
    assert!(!policy.reject(&document));
    assert!(!policy.any_waiting());
    assert!(policy.release(&document).is_some());
    assert!(policy.may_read(&server, &document));
    assert!(policy.is_empty());
}

fn row(household: &DocumentId, status: &str) -> Refused {
    Refused {
        id: 1,
        household: household.to_string(),
        change: "ab".into(),
        kept: true,
        message_bytes: None,
        user_id: "u-anna".into(),
        device_id: "d-1".into(),
        reason:
            "the change is signed 61 minutes ahead of the server's clock; check the device's time"
                .into(),
        signed_at: Some(1),
        received_at: 1,
        status: status.into(),
        decided_by: None,
        decided_at: None,
    }
}

#[test]
fn the_quarantine_tells_what_became_of_a_document() {
    let document = document();
    let other = DocumentId::from_bytes([8; 16]);
    assert_eq!(
        outcome(&document, &[row(&other, "pending")]),
        Outcome::Unknown
    );
    let waiting = [row(&document, "accepted"), row(&document, "pending")];
    assert_eq!(outcome(&document, &waiting), Outcome::Waiting);
    let accepted = [row(&document, "accepted"), row(&other, "rejected")];
    assert_eq!(outcome(&document, &accepted), Outcome::Accepted);
    let rejected = [row(&document, "accepted"), row(&document, "rejected")];
    assert_eq!(outcome(&document, &rejected), Outcome::Rejected);
    assert_eq!(pending_count(&waiting), 1);
    assert_eq!(Reason::of(&row(&document, "pending")), Reason::Clock);
    assert!(is_pending(&row(&document, "pending")));
    assert!(!is_pending(&row(&document, "rejected")));
}

#[test]
fn a_refusal_reconnects_at_once_and_a_full_quarantine_waits_long() {
    let document = document();
    let opened = ClosedConnection {
        opened: true,
        lasted: false,
        newly_held: true,
    };
    let refused = Closed::Refused {
        document,
        codes: vec!["clock".into()],
    };
    // Not an error for everything: no growing pause, the pause stays where it was.
    assert_eq!(
        after_close(&refused, opened, 8_000),
        (
            AfterClose::Retry {
                delay_ms: REFUSED_RECONNECT_MS
            },
            8_000
        )
    );
    // A refusal of a document held already is the server's mistake: back off.
    let again = ClosedConnection {
        newly_held: false,
        ..opened
    };
    assert_eq!(
        after_close(&refused, again, 8_000),
        (AfterClose::Retry { delay_ms: 8_000 }, 16_000)
    );
    assert_eq!(
        after_close(&Closed::QuarantineFull { pending: 20 }, opened, 1_000),
        (
            AfterClose::Retry {
                delay_ms: QUARANTINE_FULL_BACKOFF_MS
            },
            1_000
        )
    );
    assert_eq!(
        after_close(&Closed::Busy, opened, 1_000),
        (
            AfterClose::Retry {
                delay_ms: BUSY_BACKOFF_MS
            },
            30_000
        )
    );
    assert_eq!(
        after_close(&Closed::Policy("x".into()), opened, 1_000).0,
        AfterClose::CheckSession { retry: false }
    );
    let never_opened = ClosedConnection {
        opened: false,
        ..opened
    };
    assert_eq!(
        after_close(&Closed::Other(String::new()), never_opened, 1_000).0,
        AfterClose::CheckSession { retry: true }
    );
    assert_eq!(
        after_close(&Closed::Other(String::new()), opened, 40_000),
        (AfterClose::Retry { delay_ms: 40_000 }, MAX_BACKOFF_MS)
    );
    let lasted = ClosedConnection {
        lasted: true,
        ..opened
    };
    assert_eq!(
        after_close(&Closed::Other(String::new()), lasted, 40_000),
        (AfterClose::Retry { delay_ms: 1_000 }, 2_000)
    );
}

/// Runs a phone (client, holding back with `HoldBack`) and a server (taking everything)
/// against each other, from the phone's `first` outputs, until neither has anything to
/// send.
fn converse(
    phone: &mut lots_core::SyncPeer<HoldBack>,
    server: &mut lots_core::SyncPeer,
    first: Vec<lots_core::Output>,
) {
    use lots_core::{Input, Output, Timestamp};
    let connection = ConnectionId(1);
    let now = Timestamp::from_millis(1_700_000_000_000);
    let mut to_server: std::collections::VecDeque<Vec<u8>> = Default::default();
    let mut to_phone: std::collections::VecDeque<Vec<u8>> = Default::default();
    let sends = |outputs: Vec<Output>, queue: &mut std::collections::VecDeque<Vec<u8>>| {
        for output in outputs {
            if let Output::Send { bytes, .. } = output {
                queue.push_back(bytes);
            }
        }
    };
    sends(first, &mut to_server);
    for _ in 0..1_000 {
        if let Some(bytes) = to_server.pop_front() {
            sends(
                server.handle(now, Input::Received { connection, bytes }),
                &mut to_phone,
            );
        } else if let Some(bytes) = to_phone.pop_front() {
            sends(
                phone.handle(now, Input::Received { connection, bytes }),
                &mut to_server,
            );
        } else {
            return;
        }
    }
    panic!("the peers never went quiet");
}

fn household(text: &str) -> lots_core::automerge::Automerge {
    use lots_core::automerge::transaction::Transactable as _;
    use lots_core::automerge::{Automerge, AutomergeError, ROOT};
    let mut doc = Automerge::new();
    doc.transact::<_, _, AutomergeError>(|tx| tx.put(ROOT, "note", text))
        .unwrap();
    doc
}

#[test]
fn a_held_back_document_stays_on_the_phone_while_the_others_sync_until_released() {
    use lots_core::{Input, PeerConfig, Role, SyncPeer, Timestamp};
    let now = Timestamp::from_millis(1_700_000_000_000);
    let connection = ConnectionId(1);
    let (held, other) = (document(), DocumentId::from_bytes([8; 16]));
    let mut policy = HoldBack::default();
    policy.hold(held, &["clock".into()], 0);
    let mut phone = SyncPeer::with_policy(
        PeerConfig::new(PeerId::new("phone").unwrap(), Role::Client),
        policy,
    );
    phone.insert_document(held, household("refused"));
    phone.insert_document(other, household("fine"));
    phone.mark_dirty(held);
    phone.mark_dirty(other);
    let mut server = SyncPeer::new(PeerConfig::new(
        PeerId::new("lots-server").unwrap(),
        Role::Server,
    ));
    server.handle(now, Input::Connected { connection });
    let join = phone.handle(now, Input::Connected { connection });
    converse(&mut phone, &mut server, join);
    let has = |server: &SyncPeer, document: &DocumentId| {
        server
            .document(document)
            .is_some_and(|doc| !doc.get_heads().is_empty())
    };
    assert!(has(&server, &other), "the other household synced");
    assert!(
        !has(&server, &held),
        "the held-back household was not offered"
    );
    assert_eq!(
        phone.dirty_documents().copied().collect::<Vec<_>>(),
        [held],
        "only the held-back household still waits"
    );

    // Accepted: released, it is offered on the same connection and syncs.
    phone.policy_mut().release(&held);
    let offer = phone.handle(now, Input::LocalChange { document: held });
    converse(&mut phone, &mut server, offer);
    assert!(has(&server, &held));
    assert_eq!(phone.dirty_documents().count(), 0);
}

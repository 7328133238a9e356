//! The storage suite, run against SQLite and against PostgreSQL alike: each test is an
//! `async fn(Store)`, and [`suite!`] makes one `#[tokio::test]` per database of it.

use super::*;

/// A fresh SQLite store in a temporary directory, kept alive with it.
async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("lots.sqlite3"))
        .await
        .unwrap();
    (store, dir)
}

/// A fresh PostgreSQL database, or `None` where there is no server to test against.
async fn postgres() -> Option<(Store, String)> {
    let admin = test_postgres_url()?;
    let url = create_scratch_database(&admin).await.unwrap();
    Some((Store::open_postgres(&url).await.unwrap(), url))
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let (store, _dir) = super::sqlite().await;
                super::$name(store).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some((store, _url)) = super::postgres().await {
                    super::$name(store).await;
                }
            }
        }
    )*};
}

suite!(
    chunks_concatenate_and_compaction_keeps_the_document,
    compaction_keeps_chunks_the_caller_never_saw,
    sessions_expire_sync_tokens_are_single_use_and_revocation_ends_them,
    the_audit_log_is_append_only_and_chained,
    concurrent_audit_appends_chain_in_one_line,
    users_devices_and_districts_round_trip,
    the_household_index_is_upserted,
    a_batch_commits_whole_or_not_at_all,
    last_seen_is_written_at_most_once_a_minute,
    an_actor_is_bound_to_the_device_that_first_used_it,
    a_commit_using_another_devices_actor_writes_nothing,
    refused_changes_wait_in_quarantine_until_decided,
    a_message_refused_unread_is_on_record_without_a_change,
    former_holders_are_kept_with_their_latest_reassignment,
    idle_sessions_end_and_a_rotated_token_dies_after_its_grace,
    a_temporary_password_ends_sessions_until_changed,
    a_change_of_a_users_reach_is_in_their_log,
    an_identity_at_the_provider_names_one_user,
    audit_rows_are_filed_under_the_districts_they_concern,
    a_removed_household_leaves_a_tombstone_and_nothing_else,
    stored_heads_are_never_older_than_the_chunks,
);

fn at(millis: i64) -> Timestamp {
    Timestamp::from_millis(millis)
}

/// Staff member `u-anna`, signed in on device `d-1`.
async fn anna_on_a_device(store: &Store) {
    let user = User {
        id: "u-anna".into(),
        username: "anna".into(),
        display_name: "Anna".into(),
        role: Role::Staff,
        districts: vec![],
        disabled: false,
    };
    store.add_user(&user, "hash", at(0)).await.unwrap();
    store
        .add_device("d-1", "u-anna", "telefon", at(0))
        .await
        .unwrap();
}

async fn chunks_concatenate_and_compaction_keeps_the_document(store: Store) {
    let id = DocumentId::from_bytes([1; 16]);
    let mut doc = lots_core::automerge::AutoCommit::new();
    use lots_core::automerge::transaction::Transactable as _;
    let mut heads = Vec::new();
    for index in 0..10_i64 {
        doc.put(lots_core::automerge::ROOT, format!("k{index}"), index)
            .unwrap();
        let chunk = doc.save_after(&heads);
        heads = doc.get_heads();
        store.append_chunk(&id, &chunk, at(index)).await.unwrap();
    }
    let loaded = |stored: Vec<(DocumentId, Vec<u8>)>| {
        lots_core::automerge::Automerge::load(&stored[0].1)
            .unwrap()
            .get_heads()
    };
    assert_eq!(loaded(store.documents().await.unwrap()), doc.get_heads());
    assert_eq!(store.chunk_count(&id).await.unwrap(), 10);
    store.compact(&id, at(11), &|_| None).await.unwrap();
    assert_eq!(store.chunk_count(&id).await.unwrap(), 1);
    assert_eq!(loaded(store.documents().await.unwrap()), doc.get_heads());

    // A caller's save from memory, when it gives one, is what is kept.
    doc.put(lots_core::automerge::ROOT, "k10", 10_i64).unwrap();
    store
        .append_chunk(&id, &doc.save_after(&heads), at(12))
        .await
        .unwrap();
    let from_memory = doc.save();
    let shown = std::sync::Mutex::new(Vec::new());
    let offer = |stored: &[u8]| {
        shown.lock().unwrap().extend_from_slice(stored);
        Some(from_memory.clone())
    };
    store.compact(&id, at(13), &offer).await.unwrap();
    assert!(!shown.lock().unwrap().is_empty(), "shown the stored chunks");
    assert_eq!(store.chunk_count(&id).await.unwrap(), 1);
    assert_eq!(store.documents().await.unwrap()[0].1, from_memory);
}

async fn sessions_expire_sync_tokens_are_single_use_and_revocation_ends_them(store: Store) {
    anna_on_a_device(&store).await;
    store
        .add_session(
            "session",
            "u-anna",
            "d-1",
            SessionKind::Session,
            at(0),
            at(1_000),
        )
        .await
        .unwrap();
    store
        .add_session("sync", "u-anna", "d-1", SessionKind::Sync, at(0), at(1_000))
        .await
        .unwrap();
    assert!(
        store
            .session("session", SessionKind::Session, at(10))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session("session", SessionKind::Sync, at(10))
            .await
            .unwrap()
            .is_none(),
        "kinds do not mix"
    );
    assert!(
        store
            .session("session", SessionKind::Session, at(1_000))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        store
            .session("sync", SessionKind::Sync, at(10))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .session("sync", SessionKind::Sync, at(11))
            .await
            .unwrap()
            .is_none(),
        "single use"
    );
    store
        .add_session(
            "again",
            "u-anna",
            "d-1",
            SessionKind::Session,
            at(0),
            at(1_000),
        )
        .await
        .unwrap();
    assert_eq!(
        store.revoke_device("d-1", at(20)).await.unwrap().as_deref(),
        Some("u-anna")
    );
    assert!(
        store
            .session("again", SessionKind::Session, at(21))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .revoke_device("d-unknown", at(20))
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_audit_log_is_append_only_and_chained(store: Store) {
    let id = DocumentId::from_bytes([2; 16]);
    for index in 0..5 {
        store
            .audit(at(index), "u-anna", "d-1", &id, "open", "sync started")
            .await
            .unwrap();
    }
    assert_eq!(store.verify_audit_chain().await.unwrap(), None);
    assert!(
        store
            .execute_unchecked("UPDATE audit_log SET detail = 'x'")
            .await
            .is_err()
    );
    assert!(
        store
            .execute_unchecked("DELETE FROM audit_log")
            .await
            .is_err()
    );
    let entries = store
        .audit_entries(Some(&id.to_string()), None, 3)
        .await
        .unwrap();
    assert_eq!(
        entries.iter().map(|entry| entry.seq).collect::<Vec<_>>(),
        vec![5, 4, 3]
    );
}

async fn compaction_keeps_chunks_the_caller_never_saw(store: Store) {
    use lots_core::automerge::ReadDoc as _;
    use lots_core::automerge::transaction::Transactable as _;
    let id = DocumentId::from_bytes([3; 16]);
    // Two writers of one document, as two server processes would be: neither has the other's
    // changes in memory when the store compacts.
    let mut first = lots_core::automerge::AutoCommit::new();
    first
        .put(lots_core::automerge::ROOT, "first", 1_i64)
        .unwrap();
    let mut second = first
        .fork()
        .with_actor(lots_core::automerge::ActorId::random());
    store.append_chunk(&id, &first.save(), at(1)).await.unwrap();
    second
        .put(lots_core::automerge::ROOT, "second", 2_i64)
        .unwrap();
    store
        .append_chunk(&id, &second.save_after(&first.get_heads()), at(2))
        .await
        .unwrap();
    first
        .put(lots_core::automerge::ROOT, "third", 3_i64)
        .unwrap();
    let seq = store
        .append_chunk(&id, &first.save_after(&second.get_heads()), at(3))
        .await
        .unwrap();
    assert!(store.chunk(&id, seq).await.unwrap().is_some());
    store.compact(&id, at(4), &|_| None).await.unwrap();
    assert_eq!(store.chunk_count(&id).await.unwrap(), 1);
    assert!(
        store.chunk(&id, seq).await.unwrap().is_none(),
        "a compacted chunk is gone"
    );
    let stored = store.document(&id).await.unwrap().unwrap();
    let doc = lots_core::automerge::Automerge::load(&stored).unwrap();
    for key in ["first", "second", "third"] {
        assert!(
            doc.get(lots_core::automerge::ROOT, key).unwrap().is_some(),
            "{key} survived compaction"
        );
    }
    let unknown = DocumentId::from_bytes([9; 16]);
    assert!(store.document(&unknown).await.unwrap().is_none());
}

async fn concurrent_audit_appends_chain_in_one_line(store: Store) {
    let id = DocumentId::from_bytes([4; 16]);
    let appends = (0..40).map(|index| {
        let store = store.clone();
        async move {
            store
                .audit(at(index), "u-anna", "d-1", &id, "change", "concurrent")
                .await
        }
    });
    for result in futures_util::future::join_all(appends).await {
        result.unwrap();
    }
    assert_eq!(store.verify_audit_chain().await.unwrap(), None);
    let entries = store.audit_entries(None, None, 100).await.unwrap();
    assert_eq!(
        entries.iter().map(|entry| entry.seq).collect::<Vec<_>>(),
        (1..=40).rev().collect::<Vec<_>>()
    );
}

async fn users_devices_and_districts_round_trip(store: Store) {
    assert!(!store.has_users().await.unwrap());
    store.add_district("norrmalm", "Norrmalm").await.unwrap();
    store
        .add_district("kungsholmen", "Kungsholmen")
        .await
        .unwrap();
    let sara = User {
        id: "u-sara".into(),
        username: "sara".into(),
        display_name: "Sara".into(),
        role: Role::Supervisor,
        districts: vec!["norrmalm".into(), "kungsholmen".into()],
        disabled: false,
    };
    store.add_user(&sara, "hash", at(0)).await.unwrap();
    assert!(store.has_users().await.unwrap());
    assert!(
        store.add_user(&sara, "hash", at(0)).await.is_err(),
        "usernames are unique"
    );
    let (found, hash) = store.user_by_username("sara").await.unwrap().unwrap();
    assert_eq!(hash, "hash");
    assert_eq!(found.districts, vec!["kungsholmen", "norrmalm"]);
    assert_eq!(found.role, Role::Supervisor);
    let names: Vec<String> = store
        .districts()
        .await
        .unwrap()
        .into_iter()
        .map(|district| district.name)
        .collect();
    assert_eq!(names, vec!["Kungsholmen", "Norrmalm"]);
    store
        .add_device("d-1", "u-sara", "dator", at(5))
        .await
        .unwrap();
    store
        .add_device("d-2", "u-sara", "telefon", at(6))
        .await
        .unwrap();
    assert_eq!(store.devices(Some("u-sara")).await.unwrap().len(), 2);
    assert_eq!(store.devices(Some("u-nobody")).await.unwrap().len(), 0);
    assert_eq!(store.devices(None).await.unwrap()[0].label, "dator");
    assert!(store.set_user_disabled("u-sara", true).await.unwrap());
    assert!(store.user("u-sara").await.unwrap().unwrap().disabled);
    assert!(!store.set_user_disabled("u-nobody", true).await.unwrap());
    assert_eq!(store.users().await.unwrap().len(), 1);
}

async fn the_household_index_is_upserted(store: Store) {
    let id = DocumentId::from_bytes([5; 16]);
    store
        .index_household(&id, Some("norrmalm"), Some("u-anna"), at(1))
        .await
        .unwrap();
    store
        .index_household(&id, Some("norrmalm"), Some("u-omar"), at(2))
        .await
        .unwrap();
    assert_eq!(
        store.household_index().await.unwrap(),
        vec![IndexRow {
            document: id,
            district: Some("norrmalm".into()),
            assigned_staff: Some("u-omar".into()),
            heads: None,
        }]
    );
    assert_eq!(
        store.household(&id).await.unwrap(),
        Some((Some("norrmalm".into()), Some("u-omar".into())))
    );
    let unknown = DocumentId::from_bytes([7; 16]);
    assert_eq!(store.household(&unknown).await.unwrap(), None);
    store.integrity_check().await.unwrap();
}

#[tokio::test]
async fn a_database_url_of_another_kind_is_refused_clearly() {
    let error = Store::open_postgres("mysql://localhost/lots")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("postgres://"), "{error}");
}

/// Two processes on one PostgreSQL: each hears the other's chunks and closes, never its own.
#[tokio::test]
async fn processes_hear_each_others_announcements() {
    let Some((first, url)) = postgres().await else {
        return;
    };
    let second = Store::open_postgres(&url).await.unwrap();
    let mut first_hears = first.listen().await.unwrap().unwrap();
    let mut second_hears = second.listen().await.unwrap().unwrap();
    let id = DocumentId::from_bytes([6; 16]);
    let seq = first.append_chunk(&id, b"bytes", at(1)).await.unwrap();
    let close = Announcement::Close {
        user_id: Some("u-anna".into()),
        device_id: None,
        reason: "your account was disabled".into(),
    };
    second.announce(close.clone()).await.unwrap();
    let within = std::time::Duration::from_secs(5);
    assert_eq!(
        tokio::time::timeout(within, second_hears.next())
            .await
            .unwrap()
            .unwrap(),
        Heard::Announcement(Announcement::Chunk { document: id, seq })
    );
    assert_eq!(
        tokio::time::timeout(within, first_hears.next())
            .await
            .unwrap()
            .unwrap(),
        Heard::Announcement(close),
        "the first process skipped its own chunk announcement and heard the close"
    );
    let (sqlite, _dir) = sqlite().await;
    assert!(sqlite.listen().await.unwrap().is_none());
}

async fn a_batch_commits_whole_or_not_at_all(store: Store) {
    let first = DocumentId::from_bytes([21; 16]);
    let second = DocumentId::from_bytes([22; 16]);
    store.append_chunk(&first, b"zero", at(1)).await.unwrap();
    let mut writes = Writes::default();
    writes.chunk(first, b"one".to_vec());
    writes.chunk(second, b"two".to_vec());
    writes.chunk(first, b"three".to_vec());
    writes.household(first, Some("norrmalm".into()), Some("u-anna".into()));
    for action in ["open", "change", "change"] {
        writes.audit(at(2), "u-anna", "d-1", first, action, "batched");
    }
    let appended = store.commit(&writes, at(2)).await.unwrap();
    let chunks: Vec<(DocumentId, i64)> = appended
        .iter()
        .map(|appended| (appended.document, appended.chunks))
        .collect();
    assert_eq!(chunks, [(first, 3), (second, 1), (first, 3)]);
    assert!(appended.windows(2).all(|pair| pair[0].seq < pair[1].seq));
    assert_eq!(
        store.document(&first).await.unwrap().unwrap(),
        b"zeroonethree"
    );
    assert_eq!(
        store.household(&first).await.unwrap(),
        Some((Some("norrmalm".into()), Some("u-anna".into())))
    );
    let entries = store.audit_entries(None, None, 10).await.unwrap();
    assert_eq!(
        entries.iter().map(|entry| entry.seq).collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(store.verify_audit_chain().await.unwrap(), None);

    // A batch whose last write fails leaves nothing of itself behind.
    store
        .execute_unchecked("DROP TABLE households")
        .await
        .unwrap();
    let mut failing = Writes::default();
    failing.chunk(second, b"lost".to_vec());
    failing.audit(at(3), "u-anna", "d-1", second, "change", "lost");
    failing.household(second, None, Some("u-anna".into()));
    assert!(store.commit(&failing, at(3)).await.is_err());
    assert_eq!(store.document(&second).await.unwrap().unwrap(), b"two");
    assert_eq!(store.audit_entries(None, None, 10).await.unwrap().len(), 3);
    assert!(
        store
            .commit(&Writes::default(), at(4))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn last_seen_is_written_at_most_once_a_minute(store: Store) {
    anna_on_a_device(&store).await;
    store
        .add_session(
            "token",
            "u-anna",
            "d-1",
            SessionKind::Session,
            at(0),
            at(600_000),
        )
        .await
        .unwrap();
    let last_seen = || async { store.devices(Some("u-anna")).await.unwrap()[0].last_seen_at };
    for (now, expected) in [
        (1_000, 1_000),
        (50_000, 1_000),
        (61_000, 61_000),
        (62_000, 61_000),
    ] {
        assert!(
            store
                .session("token", SessionKind::Session, at(now))
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(last_seen().await, expected, "after a request at {now} ms");
    }
}

async fn an_actor_is_bound_to_the_device_that_first_used_it(store: Store) {
    let id = DocumentId::from_bytes([31; 16]);
    let mut writes = Writes::default();
    writes.bind_actor("aa01".into(), "u-anna".into(), "d-1".into());
    writes.chunk(id, b"one".to_vec());
    store.commit(&writes, at(1)).await.unwrap();
    let anna = ActorBinding {
        actor_id: "aa01".into(),
        user_id: "u-anna".into(),
        device_id: "d-1".into(),
    };
    assert_eq!(store.actors().await.unwrap(), std::slice::from_ref(&anna));

    // The same device using its actor again is what happens on every sync.
    let mut again = Writes::default();
    again.bind_actor("aa01".into(), "u-anna".into(), "d-1".into());
    again.bind_actor("bb02".into(), "u-anna".into(), "d-1".into());
    assert!(!again.is_empty());
    store.commit(&again, at(2)).await.unwrap();
    let actors = store.actors().await.unwrap();
    assert_eq!(actors.len(), 2);
    assert_eq!(actors[0], anna, "the first binding stays as it was");
    assert_eq!(actors[1].actor_id, "bb02");
}

async fn a_commit_using_another_devices_actor_writes_nothing(store: Store) {
    let id = DocumentId::from_bytes([32; 16]);
    let mut first = Writes::default();
    first.bind_actor("aa01".into(), "u-anna".into(), "d-1".into());
    first.chunk(id, b"anna".to_vec());
    store.commit(&first, at(1)).await.unwrap();

    let mut taken = Writes::default();
    taken.chunk(id, b"omar".to_vec());
    taken.bind_actor("cc03".into(), "u-omar".into(), "d-2".into());
    taken.bind_actor("aa01".into(), "u-omar".into(), "d-2".into());
    taken.household(id, Some("norrmalm".into()), Some("u-omar".into()));
    taken.quarantine(refused(id, "h-omar", "d-2", at(2)));
    taken.audit(at(2), "u-omar", "d-2", id, "change", "taken");
    match store.commit(&taken, at(2)).await {
        Err(StoreError::ActorTaken { actor_id }) => assert_eq!(actor_id, "aa01"),
        other => panic!("expected ActorTaken, got {other:?}"),
    }
    assert_eq!(store.document(&id).await.unwrap().unwrap(), b"anna");
    assert_eq!(store.chunk_count(&id).await.unwrap(), 1);
    assert_eq!(
        store.actors().await.unwrap(),
        [ActorBinding {
            actor_id: "aa01".into(),
            user_id: "u-anna".into(),
            device_id: "d-1".into(),
        }],
        "not even the free actor of the refused commit was bound"
    );
    assert_eq!(store.household(&id).await.unwrap(), None);
    assert!(store.quarantined(None, None).await.unwrap().is_empty());
    assert!(
        store
            .audit_entries(None, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // One batch binding one new actor to two devices is refused the same way.
    let mut twice = Writes::default();
    twice.bind_actor("dd04".into(), "u-anna".into(), "d-1".into());
    twice.bind_actor("dd04".into(), "u-omar".into(), "d-2".into());
    assert!(matches!(
        store.commit(&twice, at(3)).await,
        Err(StoreError::ActorTaken { .. })
    ));
    assert_eq!(store.actors().await.unwrap().len(), 1);
}

/// A change refused for `device_id` of document `document`, with hash `hash`.
fn refused(
    document: DocumentId,
    hash: &str,
    device_id: &str,
    received_at: Timestamp,
) -> NewQuarantined {
    NewQuarantined {
        document,
        change_hash: hash.into(),
        bytes: format!("change {hash}").into_bytes(),
        user_id: format!("u-of-{device_id}"),
        device_id: device_id.into(),
        reason: "outside the caseload".into(),
        signed_at: Some(Timestamp::from_millis(received_at.as_millis() - 500)),
        received_at,
    }
}

async fn refused_changes_wait_in_quarantine_until_decided(store: Store) {
    let first = DocumentId::from_bytes([33; 16]);
    let second = DocumentId::from_bytes([34; 16]);
    let hashes = |changes: &[QuarantinedChange]| -> Vec<String> {
        changes
            .iter()
            .filter_map(|change| change.change_hash.clone())
            .collect()
    };
    let mut writes = Writes::default();
    writes.quarantine(refused(first, "h1", "d-1", at(10_000)));
    store.commit(&writes, at(10_000)).await.unwrap();
    let mut writes = Writes::default();
    writes.quarantine(refused(second, "h3", "d-2", at(20_000)));
    writes.quarantine(NewQuarantined {
        signed_at: None,
        ..refused(first, "h2", "d-1", at(20_000))
    });
    // Sent again by a device retrying: kept once.
    writes.quarantine(refused(first, "h1", "d-1", at(20_000)));
    store.commit(&writes, at(20_000)).await.unwrap();

    let all = store.quarantined(None, None).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[2].change_hash.as_deref(),
        Some("h1"),
        "newest first: {:?}",
        hashes(&all)
    );
    assert!(all.windows(2).all(|pair| pair[0].id > pair[1].id));
    assert!(
        all.iter()
            .all(|change| change.status == QuarantineStatus::Pending
                && change.decided_by.is_none()
                && change.decided_at.is_none())
    );
    assert_eq!(
        hashes(&store.quarantined(Some(&[second]), None).await.unwrap()),
        ["h3"]
    );
    assert!(store.quarantined(Some(&[]), None).await.unwrap().is_empty());
    assert_eq!(store.pending_quarantine_count("d-1").await.unwrap(), 2);
    assert_eq!(store.pending_quarantine_count("d-2").await.unwrap(), 1);
    assert_eq!(store.pending_quarantine_count("d-9").await.unwrap(), 0);

    let h2 = all
        .iter()
        .find(|change| change.change_hash.as_deref() == Some("h2"))
        .unwrap()
        .id;
    assert!(
        store
            .decide_quarantine(h2, QuarantineStatus::Accepted, "u-sara", at(50))
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_quarantine(h2, QuarantineStatus::Rejected, "u-sara", at(60))
            .await
            .unwrap(),
        "a decided change stays decided"
    );
    let h1 = all[2].id;
    assert!(
        !store
            .decide_quarantine(h1, QuarantineStatus::Pending, "u-sara", at(60))
            .await
            .unwrap()
    );
    assert!(
        !store
            .decide_quarantine(9_999, QuarantineStatus::Rejected, "u-sara", at(60))
            .await
            .unwrap()
    );
    let decided = store.quarantined_change(h2).await.unwrap().unwrap();
    assert_eq!(
        decided,
        QuarantinedChange {
            id: h2,
            document: Some(first),
            change_hash: Some("h2".into()),
            bytes: Some(b"change h2".to_vec()),
            message_bytes: None,
            user_id: "u-of-d-1".into(),
            device_id: "d-1".into(),
            reason: "outside the caseload".into(),
            signed_at: None,
            received_at: at(20_000),
            status: QuarantineStatus::Accepted,
            decided_by: Some("u-sara".into()),
            decided_at: Some(at(50)),
        }
    );
    let pending = store.quarantined_change(h1).await.unwrap().unwrap();
    assert_eq!(pending.signed_at, Some(at(9_500)));
    assert_eq!(
        pending.received_at,
        at(10_000),
        "the first copy is the one kept"
    );
    assert_eq!(pending.status, QuarantineStatus::Pending);
    assert!(store.quarantined_change(9_999).await.unwrap().is_none());

    assert_eq!(store.pending_quarantine_count("d-1").await.unwrap(), 1);
    assert_eq!(
        hashes(&store.pending_quarantine_of(&first).await.unwrap()),
        ["h1"]
    );
    assert!(
        store
            .pending_quarantine_of(&DocumentId::from_bytes([35; 16]))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        hashes(
            &store
                .quarantined(None, Some(QuarantineStatus::Accepted))
                .await
                .unwrap()
        ),
        ["h2"]
    );
    assert_eq!(
        hashes(
            &store
                .quarantined(
                    Some(&[first, second, first]),
                    Some(QuarantineStatus::Pending)
                )
                .await
                .unwrap()
        ),
        ["h3", "h1"]
    );

    // A decided change sent again stays as it was decided.
    let mut again = Writes::default();
    again.quarantine(refused(first, "h2", "d-1", at(70_000)));
    store.commit(&again, at(70_000)).await.unwrap();
    assert_eq!(
        store.quarantined_change(h2).await.unwrap().unwrap(),
        decided
    );
    store.integrity_check().await.unwrap();
}

#[test]
fn quarantine_statuses_round_trip_through_their_stored_names() {
    for status in [
        QuarantineStatus::Pending,
        QuarantineStatus::Accepted,
        QuarantineStatus::Rejected,
    ] {
        assert_eq!(status.as_str().parse::<QuarantineStatus>().unwrap(), status);
    }
    assert!(matches!(
        "maybe".parse::<QuarantineStatus>(),
        Err(StoreError::Damaged(_))
    ));
}

async fn a_message_refused_unread_is_on_record_without_a_change(store: Store) {
    let mut writes = Writes::default();
    for received in [at(1_000), at(2_000)] {
        writes.quarantine_unread(NewUnread {
            document: None,
            user_id: "u-anna".into(),
            device_id: "d-1".into(),
            reason: "message too large".into(),
            message_bytes: 52_428_900,
            received_at: received,
        });
    }
    writes.audit_any(at(2_000), "u-anna", "d-1", None, "refused", "unread");
    store.commit(&writes, at(2_000)).await.unwrap();
    // Two attempts are two rows: without a change there is nothing that makes them one.
    let rows = store.quarantined(None, None).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|row| row.document.is_none()
        && row.change_hash.is_none()
        && row.bytes.is_none()
        && row.message_bytes == Some(52_428_900)
        && row.status == QuarantineStatus::Pending));
    assert_eq!(store.pending_quarantine_count("d-1").await.unwrap(), 2);
    let audit = store.audit_entries(None, Some("u-anna"), 10).await.unwrap();
    assert_eq!(audit[0].document_id, "");
    assert_eq!(store.verify_audit_chain().await.unwrap(), None);
    // The database itself refuses to call such a row accepted.
    let id = rows[0].id;
    let accepted = on_pool!(store, |pool| {
        sqlx::query("UPDATE quarantine SET status = 'accepted' WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    });
    assert!(
        accepted.is_err(),
        "a row without a change cannot be accepted"
    );
    assert!(
        store
            .decide_quarantine(id, QuarantineStatus::Rejected, "u-sara", at(3_000))
            .await
            .unwrap()
    );
    assert_eq!(store.pending_quarantine_count("d-1").await.unwrap(), 1);
}

async fn former_holders_are_kept_with_their_latest_reassignment(store: Store) {
    let first = DocumentId::from_bytes([41; 16]);
    let second = DocumentId::from_bytes([42; 16]);
    let mut writes = Writes::default();
    writes.former_holder(first, "u-anna".into(), at(1_000));
    writes.former_holder(second, "u-omar".into(), at(1_500));
    store.commit(&writes, at(1_500)).await.unwrap();
    let mut writes = Writes::default();
    writes.former_holder(first, "u-anna".into(), at(5_000));
    store.commit(&writes, at(5_000)).await.unwrap();
    let all = store.former_holders(None).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.contains(&(first, "u-anna".to_owned(), at(5_000))));
    assert!(all.contains(&(second, "u-omar".to_owned(), at(1_500))));
    assert_eq!(
        store.former_holders(Some(&second)).await.unwrap(),
        [(second, "u-omar".to_owned(), at(1_500))]
    );
}

async fn idle_sessions_end_and_a_rotated_token_dies_after_its_grace(store: Store) {
    anna_on_a_device(&store).await;
    const MINUTE: i64 = 60_000;
    let rules = SessionRules {
        idle_ms: 60 * MINUTE,
        rotate_after_ms: 15 * MINUTE,
        grace_ms: 2 * MINUTE,
    };
    let lifetime = at(10 * 60 * MINUTE);
    store
        .add_session("t0", "u-anna", "d-1", SessionKind::Session, at(0), lifetime)
        .await
        .unwrap();
    let use_at = |token: &str, minutes: i64, may_rotate: bool| {
        let store = store.clone();
        let token = token.to_owned();
        async move {
            store
                .use_session(&token, at(minutes * MINUTE), rules, may_rotate)
                .await
                .unwrap()
        }
    };
    let live = use_at("t0", 10, true).await.unwrap();
    assert_eq!(live.device_id, "d-1");
    assert!(live.rotated_to.is_none(), "not yet due");
    assert!(
        use_at("t0", 20, false).await.unwrap().rotated_to.is_none(),
        "only where rotating is allowed"
    );
    let rotated = use_at("t0", 20, true).await.unwrap().rotated_to.unwrap();
    assert_ne!(rotated.token, "t0");
    assert_eq!(
        rotated.expires_at, lifetime,
        "rotation never lengthens a session"
    );
    // The answer with the new token was lost: the old one, presented again, gets the same.
    let again = use_at("t0", 21, true).await.unwrap().rotated_to.unwrap();
    assert_eq!(again, rotated);
    // The new token's first use starts the old one's grace period.
    let successor = rotated.token.as_str();
    assert!(
        use_at(successor, 22, true)
            .await
            .unwrap()
            .rotated_to
            .is_none()
    );
    assert!(use_at("t0", 23, true).await.is_some(), "within its grace");
    assert!(use_at("t0", 24, true).await.is_none(), "after its grace");
    assert!(use_at(successor, 25, true).await.is_some());
    // Unused for the idle timeout: refused, and deleted.
    assert!(use_at(successor, 25 + 59, false).await.is_some());
    assert!(use_at(successor, 25 + 59 + 60, false).await.is_none());
    assert_eq!(
        store
            .execute_unchecked("UPDATE sessions SET kind = kind")
            .await
            .unwrap(),
        0,
        "both rows are gone"
    );
    // However often it is used, a session ends with its lifetime.
    store
        .add_session("t2", "u-anna", "d-1", SessionKind::Session, at(0), lifetime)
        .await
        .unwrap();
    for minutes in (50..600).step_by(50) {
        assert!(use_at("t2", minutes, false).await.is_some(), "{minutes}");
    }
    assert!(use_at("t2", 600, false).await.is_none());
    // Ended sessions and spent sync tokens are purged.
    store
        .add_session(
            "idle",
            "u-anna",
            "d-1",
            SessionKind::Session,
            at(0),
            lifetime,
        )
        .await
        .unwrap();
    store
        .add_session(
            "sync",
            "u-anna",
            "d-1",
            SessionKind::Sync,
            at(0),
            at(MINUTE),
        )
        .await
        .unwrap();
    store
        .add_session(
            "fresh",
            "u-anna",
            "d-1",
            SessionKind::Session,
            at(90 * MINUTE),
            lifetime,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .purge_sessions(at(100 * MINUTE), rules.idle_ms)
            .await
            .unwrap(),
        2
    );
    assert!(use_at("fresh", 100, false).await.is_some());
}

async fn a_temporary_password_ends_sessions_until_changed(store: Store) {
    anna_on_a_device(&store).await;
    store
        .add_device("d-2", "u-anna", "dator", at(0))
        .await
        .unwrap();
    let rules = SessionRules {
        idle_ms: 3_600_000,
        rotate_after_ms: 900_000,
        grace_ms: 120_000,
    };
    for (token, device) in [("phone", "d-1"), ("desk", "d-2")] {
        store
            .add_session(
                token,
                "u-anna",
                device,
                SessionKind::Session,
                at(0),
                at(10_000_000),
            )
            .await
            .unwrap();
    }
    assert!(
        store
            .set_temporary_password("u-anna", "temporary")
            .await
            .unwrap()
    );
    assert!(!store.set_temporary_password("u-nobody", "x").await.unwrap());
    assert!(
        store
            .use_session("phone", at(1), rules, true)
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.must_change_password("u-anna").await.unwrap());
    for (token, device) in [("phone", "d-1"), ("desk", "d-2")] {
        store
            .add_session(
                token,
                "u-anna",
                device,
                SessionKind::Session,
                at(2),
                at(10_000_000),
            )
            .await
            .unwrap();
    }
    let live = store
        .use_session("phone", at(3), rules, true)
        .await
        .unwrap()
        .unwrap();
    assert!(live.must_change_password);
    // Changed on the phone: the phone stays signed in, the desk does not.
    assert!(
        store
            .change_own_password("u-anna", "own", "d-1")
            .await
            .unwrap()
    );
    let live = store
        .use_session("phone", at(4), rules, true)
        .await
        .unwrap()
        .unwrap();
    assert!(!live.must_change_password);
    assert!(
        store
            .use_session("desk", at(4), rules, true)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.user_by_username("anna").await.unwrap().unwrap().1,
        "own"
    );
}

async fn a_change_of_a_users_reach_is_in_their_log(store: Store) {
    for (action, detail) in [
        (
            "user-access-changed",
            "u-omar: role staff → supervisor; districts a → a, b",
        ),
        (
            "user-access-changed",
            "u-omarsson: role staff → staff; districts a → b",
        ),
        ("user-disabled", "u-omar"),
    ] {
        store
            .audit_event(at(1), "u-admin", "d-admin", action, detail)
            .await
            .unwrap();
    }
    let omars = store.audit_entries(None, Some("u-omar"), 10).await.unwrap();
    assert_eq!(omars.len(), 1, "{omars:?}");
    assert!(
        omars[0]
            .detail
            .starts_with("u-omar: role staff → supervisor")
    );
    assert_eq!(
        store
            .audit_entries(None, Some("u-admin"), 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn audit_rows_are_filed_under_the_districts_they_concern(store: Store) {
    use crate::store::{AuditFilter, AuditReader};
    store.add_district("norr", "Norr").await.unwrap();
    store.add_district("syd", "Syd").await.unwrap();
    let person = |id: &str, role: Role, districts: &[&str]| User {
        id: id.into(),
        username: id.trim_start_matches("u-").into(),
        display_name: id.into(),
        role,
        districts: districts
            .iter()
            .map(|district| (*district).to_owned())
            .collect(),
        disabled: false,
    };
    for user in [
        person("u-anna", Role::Staff, &["norr"]),
        person("u-omar", Role::Staff, &["syd"]),
        person("u-nils", Role::Supervisor, &["norr"]),
        person("u-sara", Role::Supervisor, &["norr", "syd"]),
    ] {
        store.add_user(&user, "hash", at(0)).await.unwrap();
    }
    let (north, south) = (
        DocumentId::from_bytes([41; 16]),
        DocumentId::from_bytes([42; 16]),
    );
    let mut writes = Writes::default();
    writes.household(north, Some("norr".into()), Some("u-anna".into()));
    writes.household(south, Some("syd".into()), Some("u-omar".into()));
    writes.audit(at(1), "u-anna", "d-1", north, "open", "");
    writes.audit(at(2), "u-omar", "d-2", south, "open", "");
    writes.audit_any(at(3), "u-omar", "d-2", None, "sign-in", "password");
    // Omar moves to Norr: the row concerns both districts.
    writes.audit_in(
        at(4),
        "u-admin",
        "d-admin",
        "user-access-changed",
        "u-omar: role staff → staff; districts syd → norr",
        &["syd".to_owned(), "norr".to_owned()],
    );
    // The household moves to Syd later: its earlier row stays Norr's.
    store.commit(&writes, at(4)).await.unwrap();
    let mut moved = Writes::default();
    moved.household(north, Some("syd".into()), Some("u-omar".into()));
    store.commit(&moved, at(5)).await.unwrap();
    let read = |reader, district| {
        let store = store.clone();
        async move {
            let mut actions: Vec<(String, String)> = store
                .audit_query(&AuditFilter {
                    reader,
                    district,
                    limit: 100,
                    ..AuditFilter::default()
                })
                .await
                .unwrap()
                .into_iter()
                .map(|entry| (entry.user_id, entry.action))
                .collect();
            actions.sort();
            actions
        }
    };
    let row = |user: &str, action: &str| (user.to_owned(), action.to_owned());
    assert_eq!(
        read(
            AuditReader::Districts {
                supervisor: "u-nils"
            },
            None
        )
        .await,
        [row("u-admin", "user-access-changed"), row("u-anna", "open")]
    );
    assert_eq!(
        read(
            AuditReader::Districts {
                supervisor: "u-sara"
            },
            None
        )
        .await
        .len(),
        4
    );
    assert_eq!(
        read(
            AuditReader::Districts {
                supervisor: "u-sara"
            },
            Some("syd")
        )
        .await,
        [
            row("u-admin", "user-access-changed"),
            row("u-omar", "open"),
            row("u-omar", "sign-in")
        ]
    );
    assert_eq!(
        read(AuditReader::Administration, None).await,
        [
            row("u-admin", "user-access-changed"),
            row("u-omar", "sign-in")
        ]
    );
}

async fn an_identity_at_the_provider_names_one_user(store: Store) {
    anna_on_a_device(&store).await;
    let omar = User {
        id: "u-omar".into(),
        username: "omar".into(),
        display_name: "Omar".into(),
        role: Role::Staff,
        districts: vec![],
        disabled: false,
    };
    store.add_user(&omar, "hash", at(0)).await.unwrap();
    let issuer = "https://login.example/tenant/v2.0";
    assert_eq!(
        store
            .link_identity("u-anna", issuer, "s-1", "u-admin", at(1))
            .await
            .unwrap(),
        Linked::Linked
    );
    assert_eq!(
        store
            .link_identity("u-omar", issuer, "s-1", "u-admin", at(2))
            .await
            .unwrap(),
        Linked::TakenBy("u-anna".into())
    );
    assert_eq!(
        store
            .link_identity("u-nobody", issuer, "s-2", "u-admin", at(2))
            .await
            .unwrap(),
        Linked::NoSuchUser
    );
    // The same subject at another issuer is another person.
    assert_eq!(
        store
            .link_identity("u-omar", "https://other.example", "s-1", "setup", at(3))
            .await
            .unwrap(),
        Linked::Linked
    );
    let anna = store
        .user_by_identity(issuer, "s-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anna.id, "u-anna");
    // Linking again replaces; the old identity names nobody.
    store
        .link_identity("u-anna", issuer, "s-3", "u-admin", at(4))
        .await
        .unwrap();
    assert!(
        store
            .user_by_identity(issuer, "s-1")
            .await
            .unwrap()
            .is_none()
    );
    let identity = store.identity_of("u-anna").await.unwrap().unwrap();
    assert_eq!((identity.subject.as_str(), identity.linked_at), ("s-3", 4));
    assert!(store.unlink_identity("u-anna").await.unwrap());
    assert!(!store.unlink_identity("u-anna").await.unwrap());
    assert!(store.identity_of("u-anna").await.unwrap().is_none());
}

async fn a_removed_household_leaves_a_tombstone_and_nothing_else(store: Store) {
    use crate::store::{Removal, RemovalKind};
    store.add_district("norr", "Norr").await.unwrap();
    store.add_district("syd", "Syd").await.unwrap();
    for (id, districts) in [
        ("u-anna", vec!["norr".to_owned()]),
        ("u-omar", vec!["syd".to_owned()]),
    ] {
        let user = User {
            id: id.into(),
            username: id.trim_start_matches("u-").into(),
            display_name: id.into(),
            role: Role::Staff,
            districts,
            disabled: false,
        };
        store.add_user(&user, "hash", at(0)).await.unwrap();
    }
    let (old, fresh) = (
        DocumentId::from_bytes([51; 16]),
        DocumentId::from_bytes([52; 16]),
    );
    // Written at 1,000 and 5,000 by the server's clock; a later chunk moves the last entry.
    for (document, written) in [(old, 1_000), (fresh, 2_000), (fresh, 5_000)] {
        let mut writes = Writes::default();
        writes.chunk(document, lots_core::automerge::Automerge::new().save());
        writes.household(document, Some("norr".into()), Some("u-anna".into()));
        writes.audit(at(written), "u-anna", "d-1", document, "change", "");
        store.commit(&writes, at(written)).await.unwrap();
    }
    let ages = store.household_ages().await.unwrap();
    let last = |document| {
        ages.iter()
            .find(|age| age.document == document)
            .map(|age| age.last_entry_at.as_millis())
    };
    assert_eq!((last(old), last(fresh)), (Some(1_000), Some(5_000)));
    assert_eq!(ages[0].document, old, "oldest first");

    let removal = Removal {
        document: old,
        kind: RemovalKind::Retention,
        decision: "Dnr 2031/17".into(),
        reason: String::new(),
    };
    let mut writes = Writes::default();
    writes.remove(removal.clone(), "u-admin");
    writes.audit_about(
        at(9_000),
        "u-admin",
        "d-admin",
        old,
        "household-removed",
        "kind=retention",
        &["norr".to_owned()],
    );
    store.commit(&writes, at(9_000)).await.unwrap();

    assert_eq!(store.document(&old).await.unwrap(), None);
    assert_eq!(store.household(&old).await.unwrap(), None);
    assert!(store.document(&fresh).await.unwrap().is_some());
    let tombstone = store.removed_household(&old).await.unwrap().unwrap();
    assert_eq!(
        (
            tombstone.district_id.as_deref(),
            tombstone.assigned_staff.as_deref(),
            tombstone.last_entry_at,
            tombstone.removed_at,
            tombstone.removed_by.as_str(),
            tombstone.kind,
            tombstone.decision.as_str(),
        ),
        (
            Some("norr"),
            Some("u-anna"),
            1_000,
            9_000,
            "u-admin",
            RemovalKind::Retention,
            "Dnr 2031/17"
        )
    );
    assert_eq!(store.removed_ids().await.unwrap(), vec![old]);
    // Anna's district and her own: she hears of it; Omar of Syd does not; an administrator does.
    let ids = |rows: Vec<crate::store::RemovedHousehold>| {
        rows.into_iter()
            .map(|row| row.document_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(store.removed_households("u-anna", false).await.unwrap()),
        vec![old]
    );
    assert!(
        store
            .removed_households("u-omar", false)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        ids(store.removed_households("u-admin", true).await.unwrap()),
        vec![old]
    );
    // The removal's row stays Norr's, although the household's index entry is gone.
    let norr: Vec<String> = store
        .audit_query(&crate::store::AuditFilter {
            district: Some("norr"),
            limit: 1_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    assert!(norr.contains(&"household-removed".to_owned()), "{norr:?}");

    // Removed twice: refused whole, nothing written.
    let mut again = Writes::default();
    again.remove(removal, "u-admin");
    again.audit_about(
        at(9_500),
        "u-admin",
        "d-admin",
        old,
        "household-removed",
        "kind=retention",
        &[],
    );
    let before = store.audit_entries(None, None, 1_000).await.unwrap().len();
    assert!(matches!(
        store.commit(&again, at(9_500)).await,
        Err(StoreError::NotStored(document)) if document == old
    ));
    assert_eq!(
        store.audit_entries(None, None, 1_000).await.unwrap().len(),
        before
    );
}

async fn stored_heads_are_never_older_than_the_chunks(store: Store) {
    use lots_core::automerge::{AutoCommit, ROOT, transaction::Transactable as _};
    let id = DocumentId::from_bytes([31; 16]);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "address", "Gatan 1").unwrap();
    let heads = doc.get_heads();
    let mut writes = Writes::default();
    writes.chunk(id, doc.save());
    writes.household(id, Some("norrmalm".into()), Some("u-anna".into()));
    writes.digest(id, "{}".into(), &heads);
    store.commit(&writes, at(1)).await.unwrap();
    let index = store.household_index().await.unwrap();
    assert_eq!(index[0].heads.as_deref(), Some(heads.as_slice()));

    // A chunk written without its heads leaves them unknown, never stale.
    doc.put(ROOT, "address", "Gatan 2").unwrap();
    let mut writes = Writes::default();
    writes.chunk(id, doc.save_incremental());
    store.commit(&writes, at(2)).await.unwrap();
    assert_eq!(store.household_index().await.unwrap()[0].heads, None);

    // Written with them again, they are back; two heads are kept in order.
    let mut other = doc.fork();
    other.put(ROOT, "phone", "070").unwrap();
    doc.put(ROOT, "note", "x").unwrap();
    doc.merge(&mut other).unwrap();
    let mut heads = doc.get_heads();
    assert_eq!(heads.len(), 2);
    heads.reverse();
    let mut writes = Writes::default();
    writes.chunk(id, doc.save_incremental());
    writes.digest(id, "{}".into(), &heads);
    store.commit(&writes, at(3)).await.unwrap();
    heads.sort();
    assert_eq!(store.household_index().await.unwrap()[0].heads, Some(heads));
}

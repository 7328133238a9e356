//! Backup and restore, as an operator does them: `lots-server backup` while the server
//! runs, `lots-server restore` once it is stopped. After a restore to an older backup, what a
//! phone recorded since flows back in at its next sync, and the log records the restore.

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::path::Path;
use std::time::Duration;

use lots_core::{DocumentId, HouseholdDoc, Output, VisitId};
use lots_tests::{Api as _, ServerProcess, SyncClient, server_binary};

/// Runs `lots-server <args>` on `data`; its exit status and what it printed.
fn lots_server(data: &Path, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(server_binary())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), said)
}

/// Waits for the server's first checkpoint (it makes one a second here, once its log has
/// rows; until then there is no checkpoint file), then checks the audit log against the
/// checkpoints with `lots-server verify-audit`.
async fn verified_against_checkpoints(data: &Path) {
    let mut said = String::new();
    for _ in 0..300 {
        let (ok, output) = lots_server(data, &["verify-audit"]);
        if ok && output.contains("matches all") {
            return;
        }
        said = output;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the audit log was not verified against a checkpoint within 30 s: {said}");
}

async fn until_synced(phone: &mut SyncClient, document: DocumentId) {
    phone.events.clear();
    phone
        .pump_until(Duration::from_secs(10), |events| {
            events.iter().any(
                |event| matches!(event, Output::DocumentSynced { document: d, .. } if *d == document),
            )
        })
        .await
        .unwrap();
}

fn has_visit(client: &SyncClient, document: DocumentId, visit: &VisitId) -> bool {
    client.peer.document(&document).is_some_and(|doc| {
        HouseholdDoc::new(doc)
            .household()
            .is_ok_and(|household| household.visits.contains_key(visit))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_the_phones_send_back_what_they_recorded_since_the_backup() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    let backup = data.path().join("backups/monday.sqlite3");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();

    let server =
        ServerProcess::start(&["--data-dir", &data_dir, "--audit-checkpoint-seconds", "1"])
            .await
            .unwrap();
    let (token, document, mut phone) = server
        .phone_with_first_household("anna", "anna-phone")
        .await
        .unwrap();
    let before = VisitId::new("v-before-the-backup").unwrap();
    phone
        .record_visit(document, &before, "u-anna")
        .await
        .unwrap();
    until_synced(&mut phone, document).await;

    // A backup while the server runs; a second one to the same file is refused.
    let (ok, said) = lots_server(data.path(), &["backup", "--to", backup.to_str().unwrap()]);
    assert!(ok, "{said}");
    assert!(said.contains("backed up"), "{said}");
    let (ok, said) = lots_server(data.path(), &["backup", "--to", backup.to_str().unwrap()]);
    assert!(!ok && said.contains("never overwrites"), "{said}");

    // The phone records more after the backup; the server has it.
    let after = VisitId::new("v-after-the-backup").unwrap();
    phone
        .record_visit(document, &after, "u-anna")
        .await
        .unwrap();
    until_synced(&mut phone, document).await;

    // The audit log matches the checkpoints the server signed meanwhile.
    verified_against_checkpoints(data.path()).await;

    // No restore under a running server.
    let (ok, said) = lots_server(
        data.path(),
        &["restore", "--from", backup.to_str().unwrap()],
    );
    assert!(!ok && said.contains("stop it first"), "{said}");
    // Nor from something that is not a backup.
    let not_a_backup = data.path().join("notes.txt");
    std::fs::write(&not_a_backup, "not a database").unwrap();
    // The phone keeps its copy while the server is down, as a phone's storage does.
    let phones_copy = phone.peer.document(&document).unwrap().clone();
    drop(phone);
    server.kill().unwrap();
    let (ok, said) = lots_server(
        data.path(),
        &["restore", "--from", not_a_backup.to_str().unwrap()],
    );
    assert!(!ok && said.contains("not a usable Lots backup"), "{said}");

    let (ok, said) = lots_server(
        data.path(),
        &["restore", "--from", backup.to_str().unwrap()],
    );
    assert!(ok, "{said}");
    assert!(said.contains("kept as"), "{said}");
    let mut kept: Vec<String> = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("before-restore"))
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        kept[0].starts_with("audit-checkpoints.jsonl.before-restore-")
            && kept[1].starts_with("lots.sqlite3.before-restore-"),
        "the replaced database is kept beside it, with its checkpoints: {kept:?}"
    );

    // The restored server is back at the backup: the later visit is not there.
    let server =
        ServerProcess::start(&["--data-dir", &data_dir, "--audit-checkpoint-seconds", "1"])
            .await
            .unwrap();
    let mut tablet = SyncClient::connect_to(&server.address(), &token, "anna-tablet")
        .await
        .unwrap();
    assert!(tablet.fetch(document).await.unwrap());
    assert!(has_visit(&tablet, document, &before));
    assert!(!has_visit(&tablet, document, &after));

    // The phone comes back with its copy (the same session, signed in before the backup)
    // and sends what the server lost; the tablet receives it.
    let mut phone = SyncClient::connect_to(&server.address(), &token, "anna-phone")
        .await
        .unwrap();
    phone.peer.insert_document(document, phones_copy);
    phone
        .input(lots_core::Input::LocalChange { document })
        .await
        .unwrap();
    until_synced(&mut phone, document).await;
    assert!(phone.closed.is_none(), "{:?}", phone.closed);
    while !has_visit(&tablet, document, &after) {
        tablet.events.clear();
        tablet
            .pump_until(Duration::from_secs(10), |events| {
                events.iter().any(|event| {
                    matches!(event, Output::DocumentChanged { document: d } if *d == document)
                })
            })
            .await
            .unwrap_or_else(|error| {
                panic!("the visit recorded after the backup did not come back: {error}")
            });
    }

    // The log says a backup was made and restored from.
    // The restored log has checkpoints of its own; the old ones went aside with the old log.
    verified_against_checkpoints(data.path()).await;

    // Backups and restores are administration: the administrator's part of the log.
    let admin = server.login("admin").await.unwrap();
    let log: serde_json::Value = reqwest::Client::new()
        .get(server.url("/api/audit?limit=5000"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(log["first_broken_row"].is_null(), "{log}");
    let audit = log["entries"].as_array().unwrap();
    let actions: Vec<&str> = audit
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert!(actions.contains(&"backup-made"), "{actions:?}");
    let restored = audit
        .iter()
        .find(|entry| entry["action"] == "restored")
        .unwrap_or_else(|| panic!("no restore in the log: {actions:?}"));
    assert!(
        restored["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("monday.sqlite3")),
        "{restored}"
    );
}

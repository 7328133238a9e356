//! Wire and schema compatibility with the JavaScript automerge-repo (the npm packages, 2.5.x):
//! a Node client creates a whole household and edits every kind of field the way JavaScript
//! writes (strings as Text, numbers as JavaScript numbers, every change signed); the server
//! keeps all of it, core reads every field as the Node client wrote it, and nothing lands in
//! quarantine. Then core's peer records a visit and the Node client sees it. A second test
//! has the Node client edit a household core wrote, with its long history, as it would every
//! day. The Node side is `tests/node/interop.mjs`; its packages are installed by `cargo xtask
//! test` (or `cargo xtask setup`).

#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lots_core::automerge::{Automerge, ChangeHash};
use lots_core::*;
use lots_tests::{Api as _, SyncClient, TestServer};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long a Node client may take to print a line.
const NODE_LINE: Duration = Duration::from_secs(60);
/// How long the server may take to hold what a Node client wrote.
const ARRIVAL: Duration = Duration::from_secs(30);

fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
    assert!(
        dir.join("node_modules/@automerge/automerge-repo").exists(),
        "the Node packages are missing: run `cargo xtask setup` (or `npm ci` in tests/node)"
    );
    dir
}

async fn sync_url(server: &TestServer, token: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(server.url("/api/sync-token"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    format!(
        "ws://{}/sync?token={}",
        server.addr,
        body["token"].as_str().unwrap()
    )
}

/// A Node process whose stdout lines arrive on a channel, so that every wait is bounded.
/// Killed when dropped.
struct Node {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Node {
    fn spawn(script: &str, args: &[&str]) -> Self {
        let mut child = Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(node_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next JSON line it prints.
    async fn line(&mut self) -> serde_json::Value {
        let line = tokio::time::timeout(NODE_LINE, self.lines.recv())
            .await
            .unwrap_or_else(|_| panic!("node printed nothing for {NODE_LINE:?}"))
            .expect("node ended without printing its result");
        serde_json::from_str(&line).unwrap_or_else(|error| panic!("node printed {line:?}: {error}"))
    }

    /// Closes its stdin (which ends `create` and `edit`) and returns its last line.
    async fn finish(&mut self) -> serde_json::Value {
        drop(self.child.stdin.take());
        self.line().await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Refused changes as a supervisor sees them.
async fn quarantine(server: &TestServer, supervisor: &str) -> Vec<serde_json::Value> {
    let response = reqwest::Client::new()
        .get(server.url("/api/quarantine"))
        .bearer_auth(supervisor)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

fn hashes(heads: &serde_json::Value) -> Vec<ChangeHash> {
    heads
        .as_array()
        .unwrap()
        .iter()
        .map(|hash| hash.as_str().unwrap().parse().unwrap())
        .collect()
}

/// Waits until the server holds `document` with every change in `heads`, fetching it afresh
/// with `client` until it does. Fails at once when the household has refused changes, and
/// on timeout; either way with the quarantine and how the server closed `node`'s socket.
async fn wait_for(
    server: &TestServer,
    supervisor: &str,
    client: &mut SyncClient,
    document: DocumentId,
    heads: &[ChangeHash],
    node: &mut Node,
) {
    let deadline = Instant::now() + ARRIVAL;
    loop {
        let held = client.fetch(document).await.unwrap();
        if held {
            let doc = client.peer.document(&document).unwrap();
            if heads
                .iter()
                .all(|hash| doc.get_change_meta_by_hash(hash).is_some())
            {
                return;
            }
        }
        let refused: Vec<serde_json::Value> = quarantine(server, supervisor)
            .await
            .into_iter()
            .filter(|row| row["household"] == document.to_string())
            .collect();
        if !refused.is_empty() || Instant::now() >= deadline {
            panic!(
                "the server does not hold the JavaScript client's changes {heads:?} ({}); \
                 the Node client's sockets ended {}; refused: {refused:#?}",
                if held {
                    "it holds the household without them"
                } else {
                    "it does not hold the household at all"
                },
                node.finish().await["closes"],
            );
        }
        client.peer.remove_document(&document);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a Node run printed: the household as it wrote it, and the ids of what it added.
struct Written {
    household: Household,
    ids: serde_json::Value,
}

/// Runs `interop.mjs` in `mode` and checks that the server took everything it wrote, that
/// core reads the household exactly as JavaScript wrote it, and that the server never closed
/// the Node client's socket. Returns what JavaScript wrote and the document's id.
async fn write_from_javascript(
    server: &TestServer,
    token: &str,
    supervisor: &str,
    phone: &mut SyncClient,
    args: &[&str],
) -> (DocumentId, Written) {
    let url = sync_url(server, token).await;
    let mut command = vec![args[0], url.as_str()];
    command.extend_from_slice(&args[1..]);
    let mut node = Node::spawn("interop.mjs", &command);
    let printed = node.line().await;
    assert_eq!(printed["ok"], true, "{printed}");
    let document: DocumentId = printed["url"].as_str().unwrap().parse().unwrap();
    phone.peer.remove_document(&document);
    wait_for(
        server,
        supervisor,
        phone,
        document,
        &hashes(&printed["heads"]),
        &mut node,
    )
    .await;
    let written: Household = serde_json::from_value(printed["household"].clone()).unwrap();
    let read = HouseholdDoc::new(phone.peer.document(&document).unwrap())
        .household()
        .unwrap();
    assert_eq!(
        read, written,
        "core reads the household as JavaScript wrote it"
    );
    let finished = node.finish().await;
    assert_eq!(
        finished["closes"],
        serde_json::json!([]),
        "the server closed the Node client's socket"
    );
    let ids = printed["ids"].clone();
    (
        document,
        Written {
            household: written,
            ids,
        },
    )
}

/// The fields a person touched in `interop.mjs edit`, spelled out as core reads them.
fn check_edits(household: &Household, ids: &serde_json::Value) {
    let id = |key: &str| ids[key].as_str().unwrap().to_owned();
    let member_id = MemberId::new(id("member")).unwrap();
    assert_eq!(household.profile.unit, "1204");
    let member = &household.members[&member_id];
    assert_eq!(member.name, "Amina Yusuf");
    assert_eq!(member.birth_date.to_string(), "1988-04-02");
    assert_eq!(member.gender, Gender::Female);
    assert_eq!(member.languages, ["so", "ar"]);
    assert_eq!(member.interpreter_language, None);
    assert!(member.born_outside_eea && member.registered_in_district);
    let visit = &household.visits[&VisitId::new(id("visit")).unwrap()];
    assert_eq!(visit.staff.as_str(), "u-anna");
    assert_eq!(visit.status, VisitStatus::Done);
    assert_eq!(visit.duration_minutes, Some(55));
    assert_eq!(visit.interpreter_language.as_deref(), Some("so"));
    assert_eq!(visit.interpreter_mode, Some(InterpreterMode::Phone));
    assert_eq!(visit.present, [member_id.clone()].into_iter().collect());
    assert_eq!(
        visit.topics,
        [Topic::Letters, Topic::Sfi].into_iter().collect()
    );
    assert_eq!(
        visit.notes.as_str(),
        "Gick igenom brev från Försäkringskassan. Tolk per telefon."
    );
    let follow_up = &visit.follow_ups[&FollowUpId::new(id("follow_up")).unwrap()];
    assert_eq!(follow_up.description, "Ansök om hemutrustningslån");
    assert_eq!(follow_up.owner_kind, OwnerKind::Agency);
    assert_eq!(follow_up.agency, Some(Agency::Csn));
    assert!(follow_up.done_on.is_some());
    let goal = &household.plan.goals[&GoalId::new(id("goal")).unwrap()];
    assert_eq!(goal.member, member_id);
    assert_eq!(goal.area, GoalArea::Sfi);
    assert_eq!(goal.status, GoalStatus::InProgress);
    let step = &goal.steps[&StepId::new(id("step")).unwrap()];
    assert_eq!(step.status, StepStatus::Done);
    assert!(step.done_on.is_some());
    assert_eq!(step.position, 1);
    assert_eq!(step.owner.as_deref(), Some(member_id.as_str()));
    assert_eq!(
        household.plan.notes.as_str(),
        "Planen: SFI först, sedan praktik och arbete."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_client_and_core_sync_through_the_server_both_ways() {
    node_dir();
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let device = server.device_of(&token).await.unwrap();
    let mut phone = SyncClient::connect(&server, &token, "core-phone")
        .await
        .unwrap();
    assert_eq!(phone.device, device);

    // JavaScript creates a whole household in one signed change.
    let (document, created) = write_from_javascript(
        &server,
        &token,
        &sara,
        &mut phone,
        &["create", "u-anna", &device, "district-norrmalm"],
    )
    .await;
    let profile = &created.household.profile;
    assert_eq!(profile.district.as_str(), "district-norrmalm");
    assert_eq!(profile.address, "Sveavägen 12");
    assert_eq!(profile.housing_form, HousingForm::TransitionalHousing);
    assert_eq!(profile.arrival_route, ArrivalRoute::QuotaRefugee);
    assert_eq!(profile.assigned_staff.as_ref().unwrap().as_str(), "u-anna");
    assert_eq!(profile.status, CaseStatus::Active);

    // JavaScript edits every kind of field, one signed change per action.
    let (_, edited) = write_from_javascript(
        &server,
        &token,
        &sara,
        &mut phone,
        &["edit", "u-anna", &device, &document.url()],
    )
    .await;
    check_edits(&edited.household, &edited.ids);
    assert_eq!(
        quarantine(&server, &sara).await,
        Vec::<serde_json::Value>::new(),
        "the server refused some of the JavaScript client's changes"
    );

    // Core records a visit on the JavaScript household; the JavaScript client sees it.
    let visit = VisitId::new("v-from-core").unwrap();
    let now = lots_server::sync::hub::now();
    let signature = phone.signature("u-anna").unwrap();
    let doc: &mut Automerge = phone.peer.document_mut(&document).unwrap();
    HouseholdDoc::new(doc)
        .record_visit(
            &signature,
            &visit,
            VisitRecord {
                held_at: now.plus_minutes(-45),
                staff: StaffId::new("u-anna").unwrap(),
                present: Set::new(),
                interpreter: None,
                duration_minutes: 45,
                topics: [Topic::Sfi].into_iter().collect(),
                notes: "Från Rust-kärnan.".into(),
            },
        )
        .unwrap();
    phone.events.clear();
    phone.input(Input::LocalChange { document }).await.unwrap();
    phone
        .pump_until(Duration::from_secs(10), |events| {
            events
                .iter()
                .any(|e| matches!(e, Output::DocumentSynced { document: d, .. } if *d == document))
        })
        .await
        .unwrap();
    let mut find = Node::spawn(
        "interop.mjs",
        &[
            "find",
            &sync_url(&server, &token).await,
            &document.url(),
            visit.as_str(),
        ],
    );
    let found = find.line().await;
    assert_eq!(found["ok"], true, "{found}");
    assert_eq!(found["notes"], "Från Rust-kärnan.");
    assert_eq!(found["status"], "done");
    assert_eq!(
        quarantine(&server, &sara).await,
        Vec::<serde_json::Value>::new(),
        "the server refused core's change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_client_edits_a_household_core_wrote() {
    node_dir();
    let server = TestServer::start(1).await.unwrap();
    let token = server.login("anna").await.unwrap();
    let sara = server.login("sara").await.unwrap();
    let device = server.device_of(&token).await.unwrap();
    let household = server.caseload(&token).await.unwrap()[0];
    let mut phone = SyncClient::connect(&server, &token, "core-phone")
        .await
        .unwrap();
    assert!(phone.fetch(household).await.unwrap());
    let doc = phone.peer.document(&household).unwrap();
    let before = HouseholdDoc::new(doc).household().unwrap();
    // Automerge sends a batch of changes as a whole document when it is more than a third of
    // the history; on a long history it sends the changes themselves, the everyday case.
    let history = doc.get_changes(&[]).len();
    assert!(
        history > 30,
        "the household has {history} changes, not a long history"
    );

    // Every edit, made while the household's long history is there; the changes go out
    // together, as an offline phone's would.
    let (_, edited) = write_from_javascript(
        &server,
        &token,
        &sara,
        &mut phone,
        &["edit", "u-anna", &device, &household.url()],
    )
    .await;
    check_edits(&edited.household, &edited.ids);
    assert_eq!(
        edited.household.visits.len(),
        before.visits.len() + 1,
        "every visit core wrote is still there"
    );
    assert_eq!(
        quarantine(&server, &sara).await,
        Vec::<serde_json::Value>::new(),
        "the server refused some of the JavaScript client's changes"
    );
}

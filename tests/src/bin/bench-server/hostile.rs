//! Hostile clients (`--hostile N`): signed-in staff that, at a fixed rate, send the server
//! changes it must refuse, while the honest pairs of `load.rs` work. Each brings a household
//! of its own during setup (honestly, so that the server holds it), then, from the start of
//! the warm-up to the end of the window, makes one dishonest change to it per tick on a
//! fresh socket — a forged signer, a signing time a day ahead, every visit deleted, the plan
//! retyped as a string, in turn — and waits for the server to close the socket. Each such
//! change is vetted, refused, kept in quarantine and audited. The server runs with a
//! quarantine quota large enough never to turn the hostile devices away
//! (`servers::Server::start_lots`): what is measured is the full cost of refusing, not the
//! cheap refusal of a device whose quarantine is full.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use lots_core::automerge::transaction::Transactable as _;
use lots_core::automerge::{Automerge, ObjType, ROOT, ReadDoc as _, Value};
use lots_core::{DocumentId, Input, Output, Signature, StaffId};
use lots_tests::SyncClient;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::load::Schedule;
use crate::servers::Account;

/// The close code of a refused change (`server/src/sync/socket.rs`).
const REFUSED: u16 = 4003;

/// How long a hostile client waits for the server to close the socket after a change.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// What a hostile client task starts with.
pub struct Start {
    pub url: String,
    pub account: Account,
    pub peer_id: String,
    pub household: (DocumentId, Automerge),
    /// Dishonest changes a second.
    pub rate: f64,
    pub ready: mpsc::UnboundedSender<bool>,
    pub schedule: watch::Receiver<Option<Schedule>>,
    pub setup_deadline: Instant,
}

/// What a hostile client did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Dishonest changes sent.
    pub sent: u64,
    /// Of those, how many the server answered by closing the socket as refused (4003).
    pub refused: u64,
    /// Why the client stopped early, if it did.
    pub failure: Option<String>,
}

/// The kinds of dishonest change, sent in turn.
#[derive(Debug, Clone, Copy)]
enum Kind {
    ForgedSigner,
    AheadOfTheClock,
    DeletesVisits,
    RetypesThePlan,
}

const KINDS: [Kind; 4] = [
    Kind::ForgedSigner,
    Kind::AheadOfTheClock,
    Kind::DeletesVisits,
    Kind::RetypesThePlan,
];

/// One hostile client, from connecting to the end of the window.
pub async fn client(mut start: Start) -> Outcome {
    let mut outcome = Outcome::default();
    let ready = start.ready.clone();
    let result = run(&mut start, &mut outcome).await;
    if let Err(error) = result {
        outcome.failure = Some(format!("{error:#}"));
        let _ = ready.send(false);
    }
    outcome
}

async fn run(start: &mut Start, outcome: &mut Outcome) -> Result<()> {
    let (document, doc) = (start.household.0, start.household.1.clone());
    let token = start.account.token.as_deref();
    // Setup: the household, brought honestly; what the server then holds is the copy every
    // dishonest change starts from.
    let mut sync = tokio::time::timeout_at(
        start.setup_deadline,
        SyncClient::connect_url(&start.url, token, &start.peer_id),
    )
    .await
    .context("connecting timed out")??;
    sync.peer.insert_document(document, doc);
    sync.input(Input::LocalChange { document }).await?;
    let remaining = start
        .setup_deadline
        .saturating_duration_since(Instant::now());
    sync.pump_until(remaining, |events| {
        events
            .iter()
            .any(|event| matches!(event, Output::DocumentSynced { document: synced, .. } if *synced == document))
    })
    .await
    .context("bringing its household to the server")?;
    let stored = sync
        .peer
        .document(&document)
        .context("the household is gone")?
        .clone();
    drop(sync);
    let _ = start.ready.send(true);

    let schedule = loop {
        if let Some(schedule) = *start.schedule.borrow() {
            break schedule;
        }
        start.schedule.changed().await?;
    };
    let every = Duration::from_secs_f64(1.0 / start.rate);
    let mut next = schedule.start;
    let mut turn = 0;
    while next < schedule.measure_until {
        tokio::time::sleep_until(next).await;
        next += every;
        let kind = KINDS[turn % KINDS.len()];
        turn += 1;
        let mut sync = SyncClient::connect_url(&start.url, token, &start.peer_id)
            .await
            .context("connecting for a dishonest change")?;
        let mut doc = stored.clone();
        dishonest_change(&mut doc, kind, &start.account.staff, &sync)?;
        sync.peer.insert_document(document, doc);
        outcome.sent += 1;
        // The server closes the socket as soon as it has refused the change; a server that
        // resets the connection mid-write has answered too.
        let sent = sync.input(Input::LocalChange { document }).await;
        if sent.is_ok() {
            let _ = sync.pump_until(ANSWER_WITHIN, |_| false).await;
        }
        match &sync.closed {
            Some(closed) if closed.code == Some(REFUSED) => outcome.refused += 1,
            Some(_) | None => {}
        }
    }
    Ok(())
}

/// Commits one dishonest change of `kind` to `doc`, as the client's user would sign it (or
/// forged, for [`Kind::ForgedSigner`]).
fn dishonest_change(
    doc: &mut Automerge,
    kind: Kind,
    staff: &StaffId,
    sync: &SyncClient,
) -> Result<()> {
    let mut signature: Signature = sync.signature(staff.as_str())?;
    match kind {
        Kind::ForgedSigner => signature.staff = StaffId::new("u-someone-else")?,
        Kind::AheadOfTheClock => signature.at = signature.at.plus_minutes(24 * 60),
        Kind::DeletesVisits | Kind::RetypesThePlan => {}
    }
    let visits = match doc.get(ROOT, "visits")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => bail!("the household has no visits map"),
    };
    let keys: Vec<String> = doc.keys(&visits).collect();
    let mut tx = doc.transaction();
    match kind {
        Kind::ForgedSigner | Kind::AheadOfTheClock => {
            let profile = match tx.get(ROOT, "profile")? {
                Some((Value::Object(ObjType::Map), id)) => id,
                _ => bail!("the household has no profile"),
            };
            tx.put(&profile, "unit", "lgh 0000")?;
        }
        Kind::DeletesVisits => {
            for key in &keys {
                tx.delete(&visits, key.as_str())?;
            }
        }
        Kind::RetypesThePlan => tx.put(ROOT, "plan", "ingen plan")?,
    }
    tx.commit_with(signature.commit_options("hostile"));
    Ok(())
}

//! The load: pairs of clients, each pair two phones of one staff member sharing a caseload of
//! three to five households. Each client is a tokio task driving core's `SyncPeer` over its
//! own WebSocket, exactly as a phone would.
//!
//! A level runs in phases. *Setup*: every client connects; the first phone of each pair
//! brings its households to the server (the way a phone brings a household it created), the
//! second phone fetches them. *Warm-up*, *measurement* and *drain*: every client records a
//! visit (core's `record_visit`, one signed change) on one of its households at a fixed rate,
//! and watches for its partner's visits. Propagation latency is the time from the writer's
//! local commit to the partner holding the change; the writer hands the change's hash and
//! commit instant to its partner through memory, so no clock crosses the wire. A client
//! writes only while fewer than `max_in_flight` of its changes are still on their way, as a
//! phone's sync queue would hold more back; ticks skipped for that are counted.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use lots_core::automerge::{ActorId, Automerge, Change, ChangeHash};
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{
    DeviceId, DistrictId, DocumentId, HouseholdDoc, Input, Output, Set, Signature, StaffId, Topic,
    VisitId, VisitRecord,
};
use lots_tests::SyncClient;
use rayon::prelude::*;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::servers::{Account, Memory, Server, cpu_time};

/// How a level is run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Visits each client records per second.
    pub rate: f64,
    /// The most changes of one client that may be on their way to its partner at once.
    pub max_in_flight: u32,
    /// Writing before the measurement starts.
    pub warmup: Duration,
    /// The measurement window.
    pub measure: Duration,
    /// Reading after the window, for the window's last changes to arrive.
    pub drain: Duration,
    /// The longest the setup (connect, bring and fetch the caseloads) may take.
    pub setup_timeout: Duration,
    /// How many clients connect at the same moment.
    pub connect_concurrency: usize,
    /// Dishonest changes each hostile client sends a second (`hostile.rs`).
    pub hostile_rate: f64,
    /// Whether each client's visits are recorded before the clock starts, and a tick only
    /// applies the next one (`prerecord`).
    pub prerecorded: bool,
}

/// Saved synthetic households that the pairs' caseloads are copied from: generating a
/// household through every action of its history costs tens of milliseconds, loading one a
/// millisecond or two.
pub struct Templates {
    saved: Vec<Vec<u8>>,
    visits: usize,
}

impl Templates {
    /// `count` households, opened ten weeks ago and visited weekly or fortnightly since.
    pub fn generate(count: usize, visits: usize, seed: u64) -> Result<Self> {
        let mut generator = Generator::new(seed);
        let spec = spec(
            StaffId::new("u-template")?,
            DeviceId::new("d-template")?,
            visits,
        )?;
        let saved = (0..count)
            .map(|_| Ok(generator.household(&spec)?.save()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { saved, visits })
    }

    /// The mean saved size, in bytes.
    pub fn mean_size(&self) -> usize {
        self.saved.iter().map(Vec::len).sum::<usize>() / self.saved.len().max(1)
    }

    /// A household for `account`'s caseload, of the templates' size, recorded on the
    /// account's own device: the server keeps only changes signed by the device that sends
    /// them, so a phone cannot bring in a history someone else signed.
    fn household(&self, generator: &mut Generator, account: &Account) -> Result<Automerge> {
        let spec = spec(account.staff.clone(), account.device.clone(), self.visits)?;
        Ok(generator.household(&spec)?.into_automerge())
    }
}

fn spec(staff: StaffId, device: DeviceId, visits: usize) -> Result<HouseholdSpec> {
    // The history ends yesterday: the generator signs a day's changes through that day, and
    // the server refuses changes signed more than ten minutes ahead of its clock.
    let today = lots_server::sync::hub::now().date().plus_days(-1);
    Ok(HouseholdSpec {
        district: DistrictId::new("district-bench")?,
        staff,
        device,
        opened_on: today.plus_days(-70),
        visits,
        today,
    })
}

/// When the phases of a level begin, the same for every client.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub start: Instant,
    measure_from: Instant,
    pub measure_until: Instant,
    stop: Instant,
}

impl Schedule {
    fn in_window(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.measure_until
    }
}

/// A change on its way from one phone of a pair to the other.
struct Pending {
    hash: ChangeHash,
    committed: Instant,
}

/// What the two phones of a pair share in memory.
#[derive(Default)]
struct Pair {
    /// Each side's changes its partner has not seen yet, by household (0 is the first phone).
    pending: [Mutex<HashMap<DocumentId, Vec<Pending>>>; 2],
    /// How many of each side's changes are on their way.
    in_flight: [AtomicU32; 2],
    /// Whether each side is still syncing.
    alive: [AtomicBool; 2],
}

/// One client's share of the figures.
#[derive(Debug, Default)]
struct Outcome {
    connected: bool,
    ready: bool,
    /// Why it stopped early, if it did.
    failure: Option<String>,
    /// Whether the failure came after the measurement began.
    failed_while_running: bool,
    /// Its own changes committed in the window.
    written: u64,
    /// Its partner's changes that arrived in the window.
    delivered: u64,
    /// Latencies of its partner's changes committed in the window.
    latencies: Vec<Duration>,
    /// Ticks in the window, and those skipped because `max_in_flight` changes were on their
    /// way.
    ticks: u64,
    deferred: u64,
}

/// The figures of one level against one server.
#[derive(Debug)]
pub struct Report {
    /// Clients started.
    pub clients: usize,
    /// Clients whose socket and handshake succeeded.
    pub connected: usize,
    /// Clients that held their caseload when the measurement began.
    pub ready: usize,
    /// Why clients failed, with how many failed so.
    pub failures: Vec<(String, usize)>,
    /// Clients that failed after the load began.
    pub failed_while_running: usize,
    /// From the first connection until every client held its caseload.
    pub setup: Duration,
    /// The measurement window.
    pub window: Duration,
    /// Visits the clients would record in the window if nothing were held back.
    pub offered: f64,
    /// Changes committed in the window.
    pub written: u64,
    /// Changes that reached the partner in the window: the throughput's numerator.
    pub delivered: u64,
    /// Changes committed in the window that had not reached the partner when the drain ended.
    pub undelivered: u64,
    /// Latencies of the changes committed in the window that arrived, sorted.
    pub latencies: Vec<Duration>,
    /// Ticks skipped because a client had `max_in_flight` changes on their way.
    pub deferred: u64,
    /// Ticks in the window.
    pub ticks: u64,
    /// The server's memory when it had started (set by the caller).
    pub memory_at_start: Memory,
    /// The server's memory once every client had signed in (set by the caller).
    pub memory_after_sign_in: Memory,
    /// The server's memory when every caseload was synced.
    pub memory_after_setup: Memory,
    /// The server's memory at the end of the window (its peak is the whole run's).
    pub memory: Memory,
    /// The server's CPU time during the window.
    pub server_cpu: Duration,
    /// The load generator's CPU time during the window.
    pub generator_cpu: Duration,
    /// Hostile clients started beside the honest ones.
    pub hostile: usize,
    /// Dishonest changes they sent.
    pub hostile_sent: u64,
    /// Of those, how many the server refused (closing the socket with 4003).
    pub hostile_refused: u64,
    /// Why hostile clients stopped early, with how many stopped so.
    pub hostile_failures: Vec<(String, usize)>,
}

impl Report {
    /// Changes propagated per second.
    pub fn throughput(&self) -> f64 {
        self.delivered as f64 / self.window.as_secs_f64()
    }

    /// The `q` quantile of the propagation latency of the changes committed in the window,
    /// counting those that never arrived as slower than any that did; `None` when the quantile
    /// falls among those.
    pub fn latency(&self, q: f64) -> Option<Duration> {
        let total = self.latencies.len() as u64 + self.undelivered;
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as usize).clamp(1, total as usize) - 1;
        self.latencies.get(rank).copied()
    }

    /// Whether every client connected, synced its caseload and kept syncing to the end.
    pub fn complete(&self) -> bool {
        self.ready == self.clients && self.failed_while_running == 0
    }
}

/// What a client task starts with.
struct Start {
    url: String,
    account: Account,
    peer_id: String,
    side: usize,
    pair: Arc<Pair>,
    /// The first phone's households, to bring (first phone only).
    households: Vec<(DocumentId, Automerge)>,
    /// First phone: where to tell the partner what it brought. Second phone: where to hear it.
    handover: Handover,
    generator: Generator,
    /// Visits recorded before the clock starts (`--prerecorded`).
    prerecorded: Prerecorded,
    settings: Settings,
    connect_permits: Arc<Semaphore>,
    ready: mpsc::UnboundedSender<bool>,
    schedule: watch::Receiver<Option<Schedule>>,
    setup_deadline: Instant,
}

enum Handover {
    Give(oneshot::Sender<Vec<(DocumentId, Vec<ChangeHash>)>>),
    Take(oneshot::Receiver<Vec<(DocumentId, Vec<ChangeHash>)>>),
}

/// Runs one level against `server`: `accounts.len()` pairs of clients, and a hostile client
/// for each of `hostile` (`hostile.rs`).
pub async fn run(
    server: &mut Server,
    accounts: Vec<[Account; 2]>,
    hostile: Vec<Account>,
    templates: &Templates,
    settings: &Settings,
) -> Result<Report> {
    let clients = accounts.len() * 2;
    let hostile_count = hostile.len();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (schedule_tx, schedule_rx) = watch::channel(None);
    let connect_permits = Arc::new(Semaphore::new(settings.connect_concurrency));
    let mut caseloads = Vec::with_capacity(accounts.len());
    for (index, [first, _]) in accounts.iter().enumerate() {
        // The same seed per pair for both servers: the same caseloads and the same visits.
        let mut generator = Generator::new(1_000 + index as u64);
        let count = 3 + generator.below(3);
        let mut households = Vec::with_capacity(count);
        for _ in 0..count {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&generator.random_u64().to_le_bytes());
            id[8..].copy_from_slice(&generator.random_u64().to_le_bytes());
            households.push((
                DocumentId::from_bytes(id),
                templates.household(&mut generator, first)?,
            ));
        }
        caseloads.push(households);
    }
    let mut prerecorded = if settings.prerecorded {
        prerecord_all(&accounts, &caseloads, settings)?
    } else {
        Vec::new()
    }
    .into_iter();
    let setup_started = Instant::now();
    let setup_deadline = setup_started + settings.setup_timeout;
    let mut pairs = Vec::with_capacity(accounts.len());
    let mut tasks = tokio::task::JoinSet::new();
    for (index, ([first, second], households)) in accounts.into_iter().zip(caseloads).enumerate() {
        let pair = Arc::new(Pair::default());
        pairs.push(pair.clone());
        let (give, take) = oneshot::channel();
        let [first_visits, second_visits] = prerecorded.next().unwrap_or_default();
        for (side, account, handover, households, prerecorded) in [
            (0, first, Handover::Give(give), households, first_visits),
            (1, second, Handover::Take(take), Vec::new(), second_visits),
        ] {
            let start = Start {
                url: server.sync_url.clone(),
                account,
                peer_id: format!("bench-{index}-{}", ["a", "b"][side]),
                side,
                pair: pair.clone(),
                households,
                handover,
                generator: Generator::new(2_000_000 + 2 * index as u64 + side as u64),
                prerecorded,
                settings: settings.clone(),
                connect_permits: connect_permits.clone(),
                ready: ready_tx.clone(),
                schedule: schedule_rx.clone(),
                setup_deadline,
            };
            tasks.spawn(client(start));
        }
    }
    let mut hostile_tasks = tokio::task::JoinSet::new();
    for (index, account) in hostile.into_iter().enumerate() {
        let mut generator = Generator::new(3_000_000 + index as u64);
        let household = {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&generator.random_u64().to_le_bytes());
            id[8..].copy_from_slice(&generator.random_u64().to_le_bytes());
            (
                DocumentId::from_bytes(id),
                templates.household(&mut generator, &account)?,
            )
        };
        hostile_tasks.spawn(crate::hostile::client(crate::hostile::Start {
            url: server.sync_url.clone(),
            account,
            peer_id: format!("hostile-{index}"),
            household,
            rate: settings.hostile_rate,
            ready: ready_tx.clone(),
            schedule: schedule_rx.clone(),
            setup_deadline,
        }));
    }
    drop(ready_tx);

    // Setup: until every client is ready or has failed, or the time is up.
    let mut answered = 0;
    while answered < clients + hostile_count {
        match tokio::time::timeout_at(setup_deadline, ready_rx.recv()).await {
            Ok(Some(_)) => answered += 1,
            Ok(None) | Err(_) => break,
        }
        server.check_running()?;
    }
    let setup = setup_started.elapsed();
    server.check_running()?;
    let memory_after_setup = server.memory()?;

    let start = Instant::now() + Duration::from_millis(500);
    let schedule = Schedule {
        start,
        measure_from: start + settings.warmup,
        measure_until: start + settings.warmup + settings.measure,
        stop: start + settings.warmup + settings.measure + settings.drain,
    };
    // Clients still setting up see the schedule already set and give up.
    let _ = schedule_tx.send(Some(schedule));

    tokio::time::sleep_until(schedule.measure_from).await;
    let server_cpu_from = server.cpu()?;
    let generator_cpu_from = cpu_time("/proc/self/stat")?;
    tokio::time::sleep_until(schedule.measure_until).await;
    let server_cpu = server.cpu()? - server_cpu_from;
    let generator_cpu = cpu_time("/proc/self/stat")? - generator_cpu_from;
    let memory = server.memory()?;

    let mut outcomes = Vec::with_capacity(clients);
    while let Some(outcome) = tasks.join_next().await {
        outcomes.push(outcome.context("a client task panicked")?);
    }
    let mut hostile_outcomes = Vec::with_capacity(hostile_count);
    while let Some(outcome) = hostile_tasks.join_next().await {
        hostile_outcomes.push(outcome.context("a hostile client task panicked")?);
    }
    server.check_running()?;

    let failures = tally(outcomes.iter().map(|outcome| &outcome.failure));
    let hostile_failures = tally(hostile_outcomes.iter().map(|outcome| &outcome.failure));
    let undelivered = pairs
        .iter()
        .flat_map(|pair| pair.pending.iter())
        .map(|pending| {
            pending
                .lock()
                .map(|pending| {
                    pending
                        .values()
                        .flatten()
                        .filter(|change| schedule.in_window(change.committed))
                        .count() as u64
                })
                .unwrap_or(0)
        })
        .sum();
    let mut latencies: Vec<Duration> = outcomes
        .iter()
        .flat_map(|outcome| outcome.latencies.iter().copied())
        .collect();
    latencies.sort_unstable();
    Ok(Report {
        clients,
        connected: outcomes.iter().filter(|outcome| outcome.connected).count(),
        ready: outcomes.iter().filter(|outcome| outcome.ready).count(),
        failures,
        failed_while_running: outcomes
            .iter()
            .filter(|outcome| outcome.failed_while_running)
            .count(),
        setup,
        window: settings.measure,
        offered: clients as f64 * settings.rate * settings.measure.as_secs_f64(),
        written: outcomes.iter().map(|outcome| outcome.written).sum(),
        delivered: outcomes.iter().map(|outcome| outcome.delivered).sum(),
        undelivered,
        latencies,
        deferred: outcomes.iter().map(|outcome| outcome.deferred).sum(),
        ticks: outcomes.iter().map(|outcome| outcome.ticks).sum(),
        memory_at_start: Memory::default(),
        memory_after_sign_in: Memory::default(),
        memory_after_setup,
        memory,
        server_cpu,
        generator_cpu,
        hostile: hostile_count,
        hostile_sent: hostile_outcomes.iter().map(|outcome| outcome.sent).sum(),
        hostile_refused: hostile_outcomes.iter().map(|outcome| outcome.refused).sum(),
        hostile_failures,
    })
}

/// Failures with how many clients failed so, the most common first.
fn tally<'a>(failures: impl Iterator<Item = &'a Option<String>>) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for failure in failures.flatten() {
        *counts.entry(failure.clone()).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    counts
}

/// One client, from connecting to the end of the drain.
async fn client(start: Start) -> Outcome {
    let mut outcome = Outcome::default();
    let ready = start.ready.clone();
    let pair = start.pair.clone();
    let side = start.side;
    let result = Client::run(start, &mut outcome).await;
    pair.alive[side].store(false, Ordering::Relaxed);
    if let Err(error) = result {
        outcome.failure = Some(format!("{error:#}"));
    }
    if !outcome.ready {
        let _ = ready.send(false);
    }
    outcome
}

struct Client {
    sync: SyncClient,
    account: Account,
    side: usize,
    pair: Arc<Pair>,
    households: Vec<DocumentId>,
    generator: Generator,
    visits: u64,
    prerecorded: Prerecorded,
}

impl Client {
    async fn run(mut start: Start, outcome: &mut Outcome) -> Result<()> {
        let sync = {
            let _permit = start.connect_permits.acquire().await?;
            let connect =
                SyncClient::connect_url(&start.url, start.account.token.as_deref(), &start.peer_id);
            tokio::time::timeout_at(start.setup_deadline, connect)
                .await
                .context("connecting timed out")?
                .context("connecting failed")?
        };
        outcome.connected = true;
        start.pair.alive[start.side].store(true, Ordering::Relaxed);
        let mut client = Client {
            sync,
            account: start.account,
            side: start.side,
            pair: start.pair,
            households: Vec::new(),
            generator: start.generator,
            visits: 0,
            prerecorded: std::mem::take(&mut start.prerecorded),
        };
        match start.handover {
            Handover::Give(partner) => {
                let heads = client.bring(start.households, start.setup_deadline).await?;
                let _ = partner.send(heads);
            }
            Handover::Take(from_partner) => {
                client
                    .fetch(from_partner, start.setup_deadline, &mut start.schedule)
                    .await?;
            }
        }
        if start.schedule.borrow().is_some() {
            bail!("the caseload was not synced before the setup time ran out");
        }
        outcome.ready = true;
        let _ = start.ready.send(true);
        let schedule = client.wait_for_schedule(&mut start.schedule).await?;
        let result = client.load(&schedule, &start.settings, outcome).await;
        if result.is_err() && Instant::now() >= schedule.start {
            outcome.failed_while_running = true;
        }
        result
    }

    /// First phone: brings its households to the server and waits until the server has
    /// them all; returns each one's heads for the partner.
    async fn bring(
        &mut self,
        households: Vec<(DocumentId, Automerge)>,
        deadline: Instant,
    ) -> Result<Vec<(DocumentId, Vec<ChangeHash>)>> {
        self.sync.events.clear();
        let mut heads = Vec::with_capacity(households.len());
        for (document, doc) in households {
            heads.push((document, doc.get_heads()));
            self.households.push(document);
            self.sync.peer.insert_document(document, doc);
            self.sync.input(Input::LocalChange { document }).await?;
        }
        let count = heads.len();
        self.pump_until(deadline, |sync| {
            let mut synced: Vec<&DocumentId> = sync
                .events
                .iter()
                .filter_map(|event| match event {
                    Output::DocumentSynced { document, .. } => Some(document),
                    _ => None,
                })
                .collect();
            synced.sort();
            synced.dedup();
            synced.len() >= count
        })
        .await
        .context("bringing the caseload to the server")?;
        self.sync.events.clear();
        Ok(heads)
    }

    /// Second phone: waits for its partner's households (answering the server meanwhile),
    /// then fetches each until it holds the partner's heads.
    async fn fetch(
        &mut self,
        from_partner: oneshot::Receiver<Vec<(DocumentId, Vec<ChangeHash>)>>,
        deadline: Instant,
        schedule: &mut watch::Receiver<Option<Schedule>>,
    ) -> Result<()> {
        tokio::pin!(from_partner);
        let households = loop {
            tokio::select! {
                bytes = self.sync.next_message() => self.receive_during_setup(bytes).await?,
                households = &mut from_partner => {
                    break households.context("the partner phone failed")?;
                }
                _ = tokio::time::sleep_until(deadline) => bail!("the partner phone never synced its caseload"),
                _ = async { schedule.wait_for(Option::is_some).await.map(|_| ()) } => {
                    bail!("the partner phone never synced its caseload")
                }
            }
        };
        for (document, _) in &households {
            self.households.push(*document);
            self.sync
                .input(Input::Want {
                    document: *document,
                })
                .await?;
        }
        self.pump_until(deadline, |sync| {
            households.iter().all(|(document, heads)| {
                sync.peer.document(document).is_some_and(|doc| {
                    heads
                        .iter()
                        .all(|head| doc.get_change_meta_by_hash(head).is_some())
                })
            })
        })
        .await
        .context("fetching the caseload from the server")?;
        self.sync.events.clear();
        Ok(())
    }

    async fn receive_during_setup(&mut self, bytes: Option<Vec<u8>>) -> Result<()> {
        let Some(bytes) = bytes else {
            bail!("the server closed the socket: {:?}", self.sync.closed);
        };
        self.sync.receive(bytes).await?;
        self.sync.events.clear();
        Ok(())
    }

    async fn pump_until(
        &mut self,
        deadline: Instant,
        done: impl Fn(&SyncClient) -> bool,
    ) -> Result<()> {
        while !done(&self.sync) {
            let bytes = tokio::time::timeout_at(deadline, self.sync.next_message())
                .await
                .context("timed out")?;
            let Some(bytes) = bytes else {
                bail!("the server closed the socket: {:?}", self.sync.closed);
            };
            self.sync.receive(bytes).await?;
        }
        Ok(())
    }

    /// Answers the server (its keep-alive pings among them) until the load begins.
    async fn wait_for_schedule(
        &mut self,
        schedule: &mut watch::Receiver<Option<Schedule>>,
    ) -> Result<Schedule> {
        loop {
            tokio::select! {
                bytes = self.sync.next_message() => self.receive_during_setup(bytes).await?,
                value = async { schedule.wait_for(Option::is_some).await.map(|value| *value) } => {
                    return value.context("the bench stopped")?.context("no schedule");
                }
            }
        }
    }

    /// Writes at the rate and measures the partner's changes until the drain ends.
    async fn load(
        &mut self,
        schedule: &Schedule,
        settings: &Settings,
        outcome: &mut Outcome,
    ) -> Result<()> {
        let period = Duration::from_secs_f64(1.0 / settings.rate);
        // Spread the clients' ticks over the period.
        let phase = period.mul_f64(self.generator.below(1_000_000) as f64 / 1_000_000.0);
        let mut ticker = tokio::time::interval_at(schedule.start + phase, period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let stop = tokio::time::sleep_until(schedule.stop);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                bytes = self.sync.next_message() => {
                    let Some(bytes) = bytes else {
                        bail!("the server closed the socket: {:?}", self.sync.closed);
                    };
                    self.sync.receive(bytes).await?;
                    self.note_arrivals(schedule, outcome);
                }
                _ = ticker.tick(), if Instant::now() < schedule.measure_until => {
                    self.tick(schedule, settings, outcome).await?;
                }
                _ = &mut stop => return Ok(()),
            }
        }
    }

    async fn tick(
        &mut self,
        schedule: &Schedule,
        settings: &Settings,
        outcome: &mut Outcome,
    ) -> Result<()> {
        let now = Instant::now();
        let in_window = schedule.in_window(now);
        outcome.ticks += u64::from(in_window);
        let partner = 1 - self.side;
        if !self.pair.alive[partner].load(Ordering::Relaxed) {
            return Ok(());
        }
        if self.pair.in_flight[self.side].load(Ordering::Relaxed) >= settings.max_in_flight {
            outcome.deferred += u64::from(in_window);
            return Ok(());
        }
        let (document, hash) = if settings.prerecorded {
            let (document, change) = self
                .prerecorded
                .pop_front()
                .context("more ticks than visits recorded before the clock started")?;
            let hash = change.hash();
            self.sync
                .peer
                .document_mut(&document)
                .context("a household of the caseload is missing")?
                .apply_changes([change])?;
            (document, hash)
        } else {
            let document = self.households[self.generator.below(self.households.len())];
            (document, self.record_visit(document)?)
        };
        let committed = Instant::now();
        self.pair.pending[self.side]
            .lock()
            .map_err(|_| anyhow::anyhow!("a client panicked"))?
            .entry(document)
            .or_default()
            .push(Pending { hash, committed });
        self.pair.in_flight[self.side].fetch_add(1, Ordering::Relaxed);
        outcome.written += u64::from(schedule.in_window(committed));
        self.sync.input(Input::LocalChange { document }).await
    }

    /// Records a held visit on `document`; returns the change's hash.
    fn record_visit(&mut self, document: DocumentId) -> Result<ChangeHash> {
        self.visits += 1;
        let doc = self
            .sync
            .peer
            .document_mut(&document)
            .context("a household of the caseload is missing")?;
        record(doc, &self.account, self.visits, &mut self.generator)?;
        // A local commit depends on every head before it, so it is now the only head.
        match doc.get_heads().as_slice() {
            [hash] => Ok(*hash),
            heads => bail!(
                "after a local commit the document has {} heads",
                heads.len()
            ),
        }
    }

    /// After a message: which of the partner's changes now arrived.
    fn note_arrivals(&mut self, schedule: &Schedule, outcome: &mut Outcome) {
        let changed: Vec<DocumentId> = self
            .sync
            .events
            .drain(..)
            .filter_map(|event| match event {
                Output::DocumentChanged { document } => Some(document),
                _ => None,
            })
            .collect();
        if changed.is_empty() {
            return;
        }
        let partner = 1 - self.side;
        let Ok(mut pending) = self.pair.pending[partner].lock() else {
            return;
        };
        let now = Instant::now();
        let mut arrived = 0;
        for document in changed {
            let (Some(doc), Some(changes)) = (
                self.sync.peer.document(&document),
                pending.get_mut(&document),
            ) else {
                continue;
            };
            changes.retain(|change| {
                if doc.get_change_meta_by_hash(&change.hash).is_none() {
                    return true;
                }
                arrived += 1;
                if schedule.in_window(change.committed) {
                    outcome.latencies.push(now - change.committed);
                }
                outcome.delivered += u64::from(schedule.in_window(now));
                false
            });
        }
        self.pair.in_flight[partner].fetch_sub(arrived, Ordering::Relaxed);
    }
}

/// Records the `number`th held visit of `account`'s device on `doc`, signed now.
fn record(
    doc: &mut Automerge,
    account: &Account,
    number: u64,
    generator: &mut Generator,
) -> Result<()> {
    let visit = VisitId::new(format!("v-{}-{number}", account.device.as_str()))?;
    let topic = Topic::ALL[generator.below(Topic::ALL.len())];
    let now = lots_server::sync::hub::now();
    HouseholdDoc::new(doc).record_visit(
        &Signature::new(account.staff.clone(), account.device.clone(), now),
        &visit,
        VisitRecord {
            held_at: now.plus_minutes(-45),
            staff: account.staff.clone(),
            present: Set::new(),
            interpreter: None,
            duration_minutes: 45,
            topics: [topic].into_iter().collect(),
            notes: format!(
                "Besök {number}. Vi gick igenom posten och bokade en tid hos Arbetsförmedlingen; \
                 familjen tar med intygen till nästa möte."
            ),
        },
    )?;
    Ok(())
}

/// Every client's visits recorded before the clock starts (`Settings::prerecorded`), pair
/// by pair on every core: as many as its ticks can take, each recorded on its household as
/// the client will hold it then (the caseload as brought, plus its own earlier visits; the
/// partner's are merged when they arrive), with an actor of the client's own.
fn prerecord_all(
    accounts: &[[Account; 2]],
    caseloads: &[Vec<(DocumentId, Automerge)>],
    settings: &Settings,
) -> Result<Vec<[Prerecorded; 2]>> {
    let ticks = (settings.rate * (settings.warmup + settings.measure).as_secs_f64()).ceil();
    let count = ticks as usize + 2;
    let started = std::time::Instant::now();
    let recorded = accounts
        .par_iter()
        .zip(caseloads)
        .enumerate()
        .map(|(index, (pair, households))| {
            let seed = 4_000_000 + 2 * index as u64;
            Ok([
                prerecord(&pair[0], households, count, seed)?,
                prerecord(&pair[1], households, count, seed + 1)?,
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    eprintln!(
        "bench-server: {} visits recorded before the clock in {:.1} s",
        accounts.len() * 2 * count,
        started.elapsed().as_secs_f64()
    );
    Ok(recorded)
}

/// Visits recorded before the clock starts, in the order a client's ticks take them.
type Prerecorded = VecDeque<(DocumentId, Change)>;

/// One client's `count` visits, each on a household picked as a live tick picks one.
fn prerecord(
    account: &Account,
    households: &[(DocumentId, Automerge)],
    count: usize,
    seed: u64,
) -> Result<Prerecorded> {
    let mut generator = Generator::new(seed);
    let mut actor = [0u8; 16];
    actor[..8].copy_from_slice(&generator.random_u64().to_le_bytes());
    actor[8..].copy_from_slice(&generator.random_u64().to_le_bytes());
    let mut copies: Vec<Automerge> = households
        .iter()
        .map(|(_, doc)| doc.fork().with_actor(ActorId::from(actor)))
        .collect();
    (1..=count as u64)
        .map(|number| {
            let pick = generator.below(copies.len());
            let doc = &mut copies[pick];
            record(doc, account, number, &mut generator)?;
            let change = doc
                .get_last_local_change()
                .context("a recorded visit left no change")?
                .clone();
            Ok((households[pick].0, change))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(latencies_ms: &[u64], undelivered: u64) -> Report {
        Report {
            clients: 2,
            connected: 2,
            ready: 2,
            failures: Vec::new(),
            failed_while_running: 0,
            setup: Duration::ZERO,
            window: Duration::from_secs(10),
            offered: 0.0,
            written: latencies_ms.len() as u64 + undelivered,
            delivered: latencies_ms.len() as u64,
            undelivered,
            latencies: latencies_ms
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            deferred: 0,
            ticks: 0,
            memory_at_start: Memory::default(),
            memory_after_sign_in: Memory::default(),
            memory_after_setup: Memory::default(),
            memory: Memory::default(),
            server_cpu: Duration::ZERO,
            generator_cpu: Duration::ZERO,
            hostile: 0,
            hostile_sent: 0,
            hostile_refused: 0,
            hostile_failures: Vec::new(),
        }
    }

    #[test]
    fn prerecorded_visits_apply_in_order_on_the_household_as_brought() {
        let account = Account {
            token: None,
            staff: StaffId::new("u-bench").unwrap(),
            device: DeviceId::new("d-bench-b").unwrap(),
        };
        let templates = Templates::generate(1, 3, 7).unwrap();
        let mut generator = Generator::new(8);
        let households: Vec<(DocumentId, Automerge)> = (0..2_u8)
            .map(|byte| {
                let doc = templates.household(&mut generator, &account).unwrap();
                (DocumentId::from_bytes([byte; 16]), doc)
            })
            .collect();
        let visits = prerecord(&account, &households, 6, 9).unwrap();
        assert_eq!(visits.len(), 6);
        let mut held: HashMap<DocumentId, Automerge> = households.into_iter().collect();
        let before: usize = held.values().map(visit_count).sum();
        for (document, change) in visits {
            let doc = held.get_mut(&document).unwrap();
            assert!(
                change
                    .deps()
                    .iter()
                    .all(|dep| doc.get_change_meta_by_hash(dep).is_some())
            );
            doc.apply_changes([change]).unwrap();
        }
        assert_eq!(held.values().map(visit_count).sum::<usize>(), before + 6);
    }

    fn visit_count(doc: &Automerge) -> usize {
        HouseholdDoc::new(doc).household().unwrap().visits.len()
    }

    #[test]
    fn quantiles_count_changes_that_never_arrived_as_the_slowest() {
        let all: Vec<u64> = (1..=100).collect();
        let delivered = report(&all, 0);
        assert_eq!(delivered.latency(0.5), Some(Duration::from_millis(50)));
        assert_eq!(delivered.latency(0.99), Some(Duration::from_millis(99)));
        assert_eq!(delivered.throughput(), 10.0);

        // Two of a hundred never arrived: the 99th percentile is among them.
        let lost = report(&all[..98], 2);
        assert_eq!(lost.latency(0.5), Some(Duration::from_millis(50)));
        assert_eq!(lost.latency(0.98), Some(Duration::from_millis(98)));
        assert_eq!(lost.latency(0.99), None);
        assert_eq!(report(&[], 0).latency(0.5), None);
    }
}

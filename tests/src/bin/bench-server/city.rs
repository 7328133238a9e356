//! `--city`: one server carrying a city, as `domain.md` sizes a large one.
//!
//! The city is generated once by core's generator into a cached SQLite database (districts,
//! staff, supervisors, households with their chunks, index entries and digests), written
//! through the server's own store. Each run copies it and measures, against the release
//! server: the start-up (process start to the first caseload answer), resident memory idle,
//! a morning storm (every device back from a night offline with a few visits recorded, all
//! reconnecting within a minute, while the supervisors' desks list their caseloads), and a
//! steady load after it (every device recording visits, its partner device timing their
//! arrival). The server's figures come from its own `/metrics`.
//!
//! The devices start from the documents as the cached database holds them, with the sync
//! state a device keeps from its last sync (the heads both sides share), as a phone does
//! after a night: generating each device's copy through the protocol would take the load
//! generator longer than the storm itself.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use lots_core::automerge::{Automerge, ROOT, ReadDoc as _, sync};
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{
    DeviceId, DistrictId, DocumentId, HouseholdDoc, Input, Output, PeerConfig, PeerId, Role,
    Signature, StaffId, SyncPeer, VisitId, VisitRecord,
};
use lots_server::caseload::Digest;
use lots_server::store::{Role as UserRole, Store, User, Writes};
use lots_tests::SyncClient;

use crate::servers::{Kind, Memory, Server, cpu_time, login};

/// How the city is made and loaded.
#[derive(Debug, Clone)]
pub struct City {
    /// Households in the city.
    pub households: usize,
    /// Visits in each household's history.
    pub visits: usize,
    /// Staff members; each has two devices.
    pub staff: usize,
    /// Districts, each with one supervisor's desk.
    pub districts: usize,
    /// Visits each device records offline overnight.
    pub offline_visits: usize,
    /// The window in which every device reconnects.
    pub storm: Duration,
    /// How long the steady load is measured.
    pub steady: Duration,
    /// Seconds between two visits a device records under steady load.
    pub steady_interval: Duration,
    /// The server's `--document-memory-mb`.
    pub document_memory_mb: usize,
    /// Where the generated city is kept between runs.
    pub cache: PathBuf,
    /// A PostgreSQL server (a URL that reaches it) to run two processes on instead of one on
    /// SQLite.
    pub postgres: Option<String>,
}

/// Every city user's password.
const PASSWORD: &str = "city-user-password";
/// The server's peer id, which devices keep their sync states under.
const SERVER_PEER: &str = "lots-city";

fn district(index: usize) -> String {
    format!("district-city-{index}")
}

fn staff_name(index: usize) -> String {
    format!("city-staff-{index}")
}

fn document_id(household: usize) -> DocumentId {
    let mut id = [0x5c; 16];
    id[..8].copy_from_slice(&(household as u64).to_le_bytes());
    DocumentId::from_bytes(id)
}

impl City {
    fn database(&self) -> PathBuf {
        self.cache.join(format!(
            "city-{}x{}-{}staff-{}districts.sqlite3",
            self.households, self.visits, self.staff, self.districts
        ))
    }

    /// The household's staff member (and so its district: staff `s` works in `s % districts`).
    fn holder(&self, household: usize) -> usize {
        household % self.staff
    }

    /// The cached city, generated first when it is missing.
    async fn ensure(&self) -> Result<PathBuf> {
        let path = self.database();
        if path.exists() {
            println!("city: using the cached {}", path.display());
            return Ok(path);
        }
        std::fs::create_dir_all(&self.cache)?;
        let partial = path.with_extension("partial");
        let _ = std::fs::remove_file(&partial);
        let started = Instant::now();
        let store = Store::open_sqlite(&partial).await?;
        let now = lots_server::sync::hub::now();
        self.accounts(&store).await?;
        // Generating a household through every action of its history is the slow part: one
        // thread per core, each its own range of households.
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<Generated>>(256);
        let mut workers = Vec::new();
        for thread in 0..threads {
            let sender = sender.clone();
            let city = self.clone();
            workers.push(std::thread::spawn(move || {
                let mut generator = Generator::new(2026 + thread as u64);
                for household in (thread..city.households).step_by(threads) {
                    if sender
                        .send(city.generate(&mut generator, household))
                        .is_err()
                    {
                        return;
                    }
                }
            }));
        }
        drop(sender);
        let mut writes = Writes::default();
        let mut written = 0;
        for generated in receiver {
            let Generated {
                document,
                bytes,
                district,
                staff,
                digest,
                heads,
            } = generated?;
            writes.chunk(document, bytes);
            writes.household(document, Some(district), Some(staff));
            writes.digest(document, digest, &heads);
            written += 1;
            if written % 250 == 0 {
                store.commit(&std::mem::take(&mut writes), now).await?;
                println!(
                    "city: {written} of {} households generated ({:.0} s)",
                    self.households,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        store.commit(&writes, now).await?;
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a generating thread panicked"))?;
        }
        if written != self.households {
            bail!(
                "only {written} of {} households were generated",
                self.households
            );
        }
        // The file alone must hold the city: it is copied for each run.
        store.checkpoint().await?;
        store.close().await;
        std::fs::rename(&partial, &path)?;
        println!(
            "city: generated {} households of {} visits in {:.0} s on {threads} threads into {} ({} MB)",
            self.households,
            self.visits,
            started.elapsed().as_secs_f64(),
            path.display(),
            std::fs::metadata(&path)?.len() >> 20
        );
        Ok(path)
    }

    /// Copies the cached city into a scratch database on the PostgreSQL server `admin`
    /// reaches, through the server's own store; returns the database's URL.
    async fn copy_to_postgres(&self, sqlite: &Path, admin: &str) -> Result<String> {
        let started = Instant::now();
        let url = lots_server::store::create_scratch_database(admin).await?;
        let from = Store::open_sqlite(sqlite).await?;
        let to = Store::open_postgres(&url).await?;
        self.accounts(&to).await?;
        let districts: Vec<String> = (0..self.districts).map(district).collect();
        let digests: HashMap<DocumentId, String> = from
            .caseload_rows(None, &districts)
            .await?
            .into_iter()
            .filter_map(|row| Some((row.document, row.digest?)))
            .collect();
        let index: HashMap<DocumentId, lots_server::store::IndexRow> = from
            .household_index()
            .await?
            .into_iter()
            .map(|row| (row.document, row))
            .collect();
        let now = lots_server::sync::hub::now();
        let mut writes = Writes::default();
        let mut copied = 0;
        for (document, bytes) in from.documents().await? {
            let row = index.get(&document).context("a household of the city")?;
            writes.chunk(document, bytes);
            writes.household(document, row.district.clone(), row.assigned_staff.clone());
            if let (Some(digest), Some(heads)) = (digests.get(&document), &row.heads) {
                writes.digest(document, digest.clone(), heads);
            }
            copied += 1;
            if copied % 500 == 0 {
                to.commit(&std::mem::take(&mut writes), now).await?;
            }
        }
        to.commit(&writes, now).await?;
        from.close().await;
        to.close().await;
        println!(
            "city: copied {copied} households into PostgreSQL in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        Ok(url)
    }

    /// The city's districts, supervisors and staff, with their passwords.
    async fn accounts(&self, store: &Store) -> Result<()> {
        let now = lots_server::sync::hub::now();
        let hash = lots_server::auth::hash_password(PASSWORD)?;
        for index in 0..self.districts {
            store
                .add_district(&district(index), &format!("Stadsdel {index}"))
                .await?;
            let supervisor = User {
                id: format!("u-city-supervisor-{index}"),
                username: format!("city-supervisor-{index}"),
                display_name: format!("Handledare {index}"),
                role: UserRole::Supervisor,
                districts: vec![district(index)],
                disabled: false,
            };
            store.add_user(&supervisor, &hash, now).await?;
        }
        for index in 0..self.staff {
            let user = User {
                id: format!("u-{}", staff_name(index)),
                username: staff_name(index),
                display_name: format!("Boendestöd {index}"),
                role: UserRole::Staff,
                districts: vec![district(index % self.districts)],
                disabled: false,
            };
            store.add_user(&user, &hash, now).await?;
        }
        Ok(())
    }

    fn generate(&self, generator: &mut Generator, household: usize) -> Result<Generated> {
        let staff = self.holder(household);
        // Histories end yesterday, opened long enough ago to hold their visits.
        let today = lots_server::sync::hub::now().date().plus_days(-1);
        let spec = HouseholdSpec {
            district: DistrictId::new(district(staff % self.districts))?,
            staff: StaffId::new(format!("u-{}", staff_name(staff)))?,
            device: DeviceId::new("d-city-history")?,
            opened_on: today.plus_days(-7 * self.visits as i64 - 14),
            visits: self.visits,
            today,
        };
        let doc = generator.household(&spec)?.into_automerge();
        Ok(Generated {
            document: document_id(household),
            bytes: doc.save(),
            district: district(staff % self.districts),
            staff: format!("u-{}", staff_name(staff)),
            digest: Digest::of(&doc).to_json(),
            heads: doc.get_heads(),
        })
    }
}

struct Generated {
    document: DocumentId,
    bytes: Vec<u8>,
    district: String,
    staff: String,
    digest: String,
    heads: Vec<lots_core::automerge::ChangeHash>,
}

/// One device, back from a night offline.
struct Device {
    peer: SyncPeer,
    token: String,
    /// The visits it must end up holding: its own offline ones and its partner's.
    expected: Vec<(DocumentId, VisitId)>,
}

/// When the steady load runs, told to every device once the storm is over.
#[derive(Debug, Clone, Copy)]
struct Steady {
    from: Instant,
    until: Instant,
    /// How many devices share the interval: each starts at its own share of it.
    devices: usize,
    /// Between two visits of one device.
    interval: Duration,
}

/// What the run measured.
#[derive(Debug, Default)]
struct Figures {
    startup: Duration,
    idle: Memory,
    storm_done: Option<Duration>,
    /// Each device's time from its reconnect to holding every visit it must.
    device_sync: Vec<Duration>,
    storm_peak: u64,
    storm_cpu: Duration,
    storm_wall: Duration,
    caseload_calls: Vec<Duration>,
    steady_latencies: Vec<Duration>,
    steady_sent: usize,
    steady_memory: u64,
    steady_cpu: Duration,
    /// The load generator's own CPU under steady load: it shares the two cores.
    generator_steady_cpu: Duration,
    steady_wall: Duration,
    connected_memory: u64,
    generator_cpu: Duration,
    /// The server's own figures at the end, as its `/metrics` served them.
    server: String,
}

/// Generates (once) and runs the city against `binary`.
/// The server processes of a run: one on SQLite, or two sharing a PostgreSQL database.
struct Fleet {
    servers: Vec<Server>,
    /// Each process's `/metrics` listener.
    metrics: Vec<String>,
    storage: &'static str,
}

impl Fleet {
    /// The process device or desk `index` talks to: pairs of devices are split between them.
    fn of(&self, index: usize) -> &Server {
        &self.servers[index % self.servers.len()]
    }

    fn check_running(&mut self) -> Result<()> {
        self.servers.iter_mut().try_for_each(Server::check_running)
    }

    /// Resident memory of every process together; the peak is the sum of each one's peak.
    fn memory(&self) -> Result<Memory> {
        let mut all = Memory::default();
        for server in &self.servers {
            let memory = server.memory()?;
            all.resident += memory.resident;
            all.peak += memory.peak;
        }
        Ok(all)
    }

    fn cpu(&self) -> Result<Duration> {
        self.servers.iter().map(Server::cpu).sum()
    }
}

/// Generates (once) and runs the city against `binary`.
pub async fn run(city: &City, binary: &Path) -> Result<()> {
    let database = city.ensure().await?;
    let postgres = match &city.postgres {
        Some(admin) => Some(city.copy_to_postgres(&database, admin).await?),
        None => None,
    };
    let generator_cpu_before = cpu_time("/proc/self/stat")?;
    let mut figures = Figures::default();
    let memory = city.document_memory_mb.to_string();
    let processes = if postgres.is_some() { 2 } else { 1 };
    let mut server = Fleet {
        servers: Vec::new(),
        metrics: Vec::new(),
        storage: if postgres.is_some() {
            "PostgreSQL, two processes"
        } else {
            "SQLite, one process"
        },
    };
    let spawned = Instant::now();
    for _ in 0..processes {
        let data = tempfile::tempdir()?;
        let metrics_listen = format!(
            "127.0.0.1:{}",
            std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port()
        );
        let mut args = vec![
            "--peer-id",
            SERVER_PEER,
            "--document-memory-mb",
            &memory,
            "--sockets-per-user",
            "4",
            "--metrics-listen",
            &metrics_listen,
        ];
        match &postgres {
            Some(url) => args.extend(["--database-url", url.as_str()]),
            None => {
                std::fs::copy(&database, data.path().join("lots.sqlite3"))?;
            }
        }
        server
            .servers
            .push(Server::start_lots_on(binary, Kind::Lots, data, &args).await?);
        server.metrics.push(metrics_listen);
    }
    let http = reqwest::Client::new();
    // Start-up: from the process's start to the first caseload answered.
    let (supervisor, _) = login(&http, &server.of(0).http, "city-supervisor-0", PASSWORD).await?;
    let mut first = (Duration::ZERO, 0);
    for process in 0..processes {
        first = caseload(&http, &server.of(process).http, &supervisor).await?;
    }
    figures.startup = spawned.elapsed();
    println!(
        "city: started and answered a caseload of {} households in {:.2} s",
        first.1,
        figures.startup.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    figures.idle = server.memory()?;

    let devices = prepare_devices(city, &database, &server.of(0).http).await?;
    println!("city: {} devices back from a night offline", devices.len());
    let desks = desks(city, &server.of(0).http).await?;

    // The storm: every device reconnects at a random moment of the window, while the desks
    // list their caseloads. The steady load starts once every device has synced (or the storm
    // is called unfinished), so the two phases never overlap.
    let started = Instant::now();
    let cpu_before = server.cpu()?;
    // When each device reconnected, and when it held every visit it must.
    let reconnected = Arc::new(Mutex::new(HashMap::<usize, Instant>::new()));
    let done = Arc::new(Mutex::new(HashMap::<usize, Instant>::new()));
    let stop_desks = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let calls = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let mut desk_tasks = tokio::task::JoinSet::new();
    for (index, token) in desks.into_iter().enumerate() {
        let (http, base, stop, calls) = (
            http.clone(),
            server.of(index).http.clone(),
            stop_desks.clone(),
            calls.clone(),
        );
        desk_tasks.spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (took, _) = caseload(&http, &base, &token).await?;
                calls.lock().expect("not poisoned").push(took);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    let mut device_tasks = tokio::task::JoinSet::new();
    let steady_sent = Arc::new(Mutex::new(HashMap::<VisitId, Instant>::new()));
    let latencies = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let (schedule, steady) = tokio::sync::watch::channel(None::<Steady>);
    let devices_count = devices.len();
    let mut random = Generator::new(7);
    for (index, device) in devices.into_iter().enumerate() {
        let delay = city
            .storm
            .mul_f64(random.random_u64() as f64 / u64::MAX as f64);
        let sync_url = server.of(index).sync_url.clone();
        let (done, sent, latencies) = (done.clone(), steady_sent.clone(), latencies.clone());
        let (steady, reconnected) = (steady.clone(), reconnected.clone());
        device_tasks.spawn(async move {
            tokio::time::sleep(delay).await;
            reconnected
                .lock()
                .expect("not poisoned")
                .insert(index, Instant::now());
            run_device(index, device, &sync_url, steady, done, sent, latencies).await
        });
    }
    let give_up = city.storm + Duration::from_secs(240);
    let mut progress = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.check_running()?;
        if let Some(result) = device_tasks.try_join_next() {
            result??;
        }
        let finished = done.lock().expect("not poisoned").len();
        let all = finished == devices_count;
        if progress.elapsed() >= Duration::from_secs(10) {
            progress = Instant::now();
            println!(
                "city: storm {:.0} s: {finished} of {devices_count} devices synced, {:.0} MB resident",
                started.elapsed().as_secs_f64(),
                server.memory()?.resident as f64 / 1048576.0
            );
        }
        if all || started.elapsed() > give_up {
            figures.storm_wall = started.elapsed();
            figures.storm_cpu = server.cpu()? - cpu_before;
            figures.storm_peak = server.memory()?.peak;
            figures.connected_memory = server.memory()?.resident;
            // A device holds its partner's night visits only once the partner is back too:
            // its sync is timed from the later of the two reconnects.
            let reconnected = reconnected.lock().expect("not poisoned").clone();
            figures.device_sync = done
                .lock()
                .expect("not poisoned")
                .iter()
                .filter_map(|(index, at)| {
                    let back = reconnected.get(index)?.max(reconnected.get(&(index ^ 1))?);
                    Some(at.saturating_duration_since(*back))
                })
                .collect();
            if all {
                figures.storm_done = Some(figures.storm_wall);
                println!(
                    "city: the storm is over: every device synced in {:.1} s",
                    figures.storm_wall.as_secs_f64()
                );
            } else {
                println!(
                    "city: after {:.0} s only {finished} of {devices_count} devices have synced; the storm is called unfinished",
                    figures.storm_wall.as_secs_f64()
                );
            }
            break;
        }
    }
    stop_desks.store(true, std::sync::atomic::Ordering::Relaxed);
    while let Some(result) = desk_tasks.join_next().await {
        result??;
    }
    figures.caseload_calls = std::mem::take(&mut calls.lock().expect("not poisoned"));

    // The steady load: a working day's visits, each timed to its arrival at the partner device.
    let from = Instant::now() + Duration::from_secs(2);
    let plan = Steady {
        from,
        until: from + city.steady,
        interval: city.steady_interval,
        devices: devices_count,
    };
    schedule.send_replace(Some(plan));
    tokio::time::sleep_until(from.into()).await;
    let steady_cpu_before = server.cpu()?;
    let generator_steady_before = cpu_time("/proc/self/stat")?;
    let mut steady_peak = 0;
    let end = plan.until + Duration::from_secs(10);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.check_running()?;
        steady_peak = steady_peak.max(server.memory()?.resident);
    }
    figures.steady_cpu = server.cpu()? - steady_cpu_before;
    figures.generator_steady_cpu = cpu_time("/proc/self/stat")? - generator_steady_before;
    figures.steady_wall = end - from;
    figures.steady_memory = steady_peak;
    device_tasks.abort_all();
    figures.steady_latencies = std::mem::take(&mut latencies.lock().expect("not poisoned"));
    figures.steady_sent = steady_sent.lock().expect("not poisoned").len();
    figures.generator_cpu = cpu_time("/proc/self/stat")? - generator_cpu_before;
    for listen in &server.metrics {
        figures.server += &http
            .get(format!("http://{listen}/metrics"))
            .send()
            .await?
            .text()
            .await?;
    }
    report(city, &figures, &server);
    Ok(())
}

/// One caseload call: how long it took and how many households it listed.
async fn caseload(http: &reqwest::Client, base: &str, token: &str) -> Result<(Duration, usize)> {
    let started = Instant::now();
    let response = http
        .get(format!("{base}/api/caseload"))
        .bearer_auth(token)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("a caseload call failed: {}", response.status());
    }
    let lines: Vec<serde_json::Value> = response.json().await?;
    Ok((started.elapsed(), lines.len()))
}

/// Signs in every supervisor's desk.
async fn desks(city: &City, base: &str) -> Result<Vec<String>> {
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for index in 0..city.districts {
        tokens.push(
            login(&http, base, &format!("city-supervisor-{index}"), PASSWORD)
                .await?
                .0,
        );
    }
    Ok(tokens)
}

/// Every device as it was after yesterday's sync (the documents it held then, and the heads
/// it shares with the server), with the visits it recorded offline since.
async fn prepare_devices(city: &City, database: &Path, base: &str) -> Result<Vec<Device>> {
    let store = Store::open_sqlite(database).await?;
    let stored: HashMap<DocumentId, Vec<u8>> = store.documents().await?.into_iter().collect();
    store.close().await;
    let http = reqwest::Client::new();
    let now = lots_server::sync::hub::now();
    let server = PeerId::new(SERVER_PEER).context("peer id")?;
    // Signing in first (the server hashes each password), then loading every device's copy
    // on every core: loading is what takes the time.
    let mut accounts = Vec::with_capacity(city.staff * 2);
    for staff in 0..city.staff {
        for side in ["a", "b"] {
            let (token, device) = login(&http, base, &staff_name(staff), PASSWORD).await?;
            accounts.push((staff, side, token, device));
        }
    }
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let mut devices: Vec<(usize, Device)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (accounts, stored, server) = (&accounts, &stored, &server);
                scope.spawn(move || {
                    let mut random = Generator::new(11 + thread as u64);
                    accounts
                        .iter()
                        .enumerate()
                        .skip(thread)
                        .step_by(threads)
                        .map(|(index, (staff, side, token, device))| {
                            let caseload: Vec<DocumentId> = (0..city.households)
                                .filter(|household| city.holder(*household) == *staff)
                                .map(document_id)
                                .collect();
                            let peer_id =
                                PeerId::new(format!("city-{staff}-{side}")).context("peer id")?;
                            let mut peer = SyncPeer::new(PeerConfig::new(peer_id, Role::Client));
                            for document in &caseload {
                                let bytes =
                                    stored.get(document).context("a household of the city")?;
                                let doc = Automerge::load(bytes)?;
                                let mut state = sync::State::new();
                                state.shared_heads = doc.get_heads();
                                peer.insert_document(*document, doc);
                                peer.import_sync_state(server.clone(), *document, &state.encode())?;
                            }
                            let mut own = Vec::new();
                            for offline in 0..city.offline_visits {
                                let document =
                                    caseload[random.random_u64() as usize % caseload.len()];
                                let visit =
                                    VisitId::new(format!("v-night-{staff}-{side}-{offline}"))?;
                                record(&mut peer, document, &visit, *staff, device, now)?;
                                own.push((document, visit));
                            }
                            Ok((
                                index,
                                Device {
                                    peer,
                                    token: token.clone(),
                                    expected: own,
                                },
                            ))
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| {
                worker
                    .join()
                    .map_err(|_| anyhow::anyhow!("a preparing thread panicked"))?
            })
            .collect::<Result<Vec<Vec<_>>>>()
            .map(|all| all.into_iter().flatten().collect())
    })?;
    devices.sort_by_key(|(index, _)| *index);
    // Each device must end up with its partner's offline visits too (devices come in pairs).
    let own: Vec<Vec<(DocumentId, VisitId)>> = devices
        .iter()
        .map(|(_, device)| device.expected.clone())
        .collect();
    for (index, device) in &mut devices {
        device.expected.extend(own[*index ^ 1].iter().cloned());
    }
    Ok(devices.into_iter().map(|(_, device)| device).collect())
}

/// Records a held visit on a device's copy, as its staff member on it.
fn record(
    peer: &mut SyncPeer,
    document: DocumentId,
    visit: &VisitId,
    staff: usize,
    device: &DeviceId,
    now: lots_core::Timestamp,
) -> Result<()> {
    let staff = StaffId::new(format!("u-{}", staff_name(staff)))?;
    let doc = peer.document_mut(&document).context("the household")?;
    let mut household = HouseholdDoc::new(doc);
    let signature = Signature::new(staff.clone(), device.clone(), now);
    if household.profile()?.status == lots_core::CaseStatus::Closed {
        household.reopen_case(&signature)?;
    }
    household.record_visit(
        &signature,
        visit,
        VisitRecord {
            held_at: now.plus_minutes(-45),
            staff,
            present: lots_core::Set::new(),
            interpreter: None,
            duration_minutes: 45,
            topics: lots_core::Set::new(),
            notes: format!("Besök {visit}"),
        },
    )?;
    peer.mark_dirty(document);
    Ok(())
}

/// Whether a device's copy of a household holds a visit.
fn holds(peer: &SyncPeer, document: &DocumentId, visit: &VisitId) -> bool {
    let Some(doc) = peer.document(document) else {
        return false;
    };
    let Ok(Some((_, visits))) = doc.get(ROOT, "visits") else {
        return false;
    };
    matches!(doc.get(&visits, visit.as_str()), Ok(Some(_)))
}

/// One device: connects, syncs until it holds every visit it must (the storm), then records
/// visits under steady load once it is told when, and times its partner's as they arrive.
async fn run_device(
    index: usize,
    device: Device,
    sync_url: &str,
    mut steady: tokio::sync::watch::Receiver<Option<Steady>>,
    done: Arc<Mutex<HashMap<usize, Instant>>>,
    sent: Arc<Mutex<HashMap<VisitId, Instant>>>,
    latencies: Arc<Mutex<Vec<Duration>>>,
) -> Result<()> {
    let Device {
        peer,
        token,
        mut expected,
    } = device;
    let mut client = SyncClient::connect_peer(sync_url, Some(&token), peer).await?;
    let device_id = DeviceId::new(client.device.clone())?;
    let staff = index / 2;
    let partner_prefix = format!(
        "v-day-{staff}-{}-",
        if index.is_multiple_of(2) { "b" } else { "a" }
    );
    let mut synced = false;
    let mut plan: Option<Steady> = None;
    let mut next_visit = None;
    let mut counter = 0;
    loop {
        if !synced {
            expected.retain(|(document, visit)| !holds(&client.peer, document, visit));
            if expected.is_empty() {
                synced = true;
                done.lock()
                    .expect("not poisoned")
                    .insert(index, Instant::now());
            }
        }
        if plan.is_none()
            && let Some(told) = *steady.borrow_and_update()
        {
            plan = Some(told);
            // A working day's visits are spread over the interval, not sent in waves.
            next_visit = Some(
                told.from
                    + told
                        .interval
                        .mul_f64(index as f64 / told.devices.max(1) as f64),
            );
        }
        let now = Instant::now();
        if let (Some(plan), Some(at)) = (plan, next_visit.as_mut()) {
            if now >= plan.until + Duration::from_secs(10) {
                return Ok(());
            }
            if now >= *at && now < plan.until {
                let documents: Vec<DocumentId> = client.peer.document_ids().copied().collect();
                let document = documents[counter % documents.len()];
                let visit = VisitId::new(format!(
                    "v-day-{staff}-{}-{counter}",
                    if index.is_multiple_of(2) { "a" } else { "b" }
                ))?;
                record(
                    &mut client.peer,
                    document,
                    &visit,
                    staff,
                    &device_id,
                    lots_server::sync::hub::now(),
                )?;
                sent.lock()
                    .expect("not poisoned")
                    .insert(visit.clone(), Instant::now());
                client.input(Input::LocalChange { document }).await?;
                counter += 1;
                *at += plan.interval;
            }
        }
        // Until the plan comes, wake for it; then for the next visit or the end.
        let wake = match (plan, next_visit) {
            (Some(plan), Some(at)) => at.min(plan.until + Duration::from_secs(10)),
            _ => Instant::now() + Duration::from_secs(3600),
        };
        let wait = tokio::time::sleep_until(wake.into());
        tokio::select! {
            message = client.next_message() => {
                let Some(bytes) = message else {
                    bail!("device {index}'s socket ended: {:?}", client.closed);
                };
                client.events.clear();
                client.receive(bytes).await?;
                let changed: Vec<DocumentId> = client
                    .events
                    .iter()
                    .filter_map(|event| match event {
                        Output::DocumentChanged { document } => Some(*document),
                        _ => None,
                    })
                    .collect();
                if !changed.is_empty() {
                    let arrived = Instant::now();
                    let mut sent = sent.lock().expect("not poisoned");
                    let theirs: Vec<VisitId> = sent
                        .keys()
                        .filter(|visit| visit.as_str().starts_with(&partner_prefix))
                        .cloned()
                        .collect();
                    for visit in theirs {
                        if changed.iter().any(|document| holds(&client.peer, document, &visit))
                            && let Some(at) = sent.remove(&visit)
                        {
                            latencies.lock().expect("not poisoned").push(arrived - at);
                        }
                    }
                }
            }
            () = wait => {}
            _ = steady.changed(), if plan.is_none() => {}
        }
    }
}

fn quantile(values: &[Duration], q: f64) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(index).copied()
}

fn ms(duration: Option<Duration>) -> String {
    duration.map_or("—".into(), |duration| {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    })
}

fn report(city: &City, figures: &Figures, server: &Fleet) {
    let mb = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let cores = |cpu: Duration, wall: Duration| {
        if wall.is_zero() {
            0.0
        } else {
            cpu.as_secs_f64() / wall.as_secs_f64()
        }
    };
    println!();
    println!(
        "## The city: {} households of {} visits, {} staff with two devices each, {} desks ({}, --document-memory-mb {} each)",
        city.households,
        city.visits,
        city.staff,
        city.districts,
        server.storage,
        city.document_memory_mb
    );
    println!();
    println!("| what | measured | goal |");
    println!("|---|---|---|");
    println!(
        "| start-up to the first caseload answer | {:.2} s | ≤ 2 s |",
        figures.startup.as_secs_f64()
    );
    println!(
        "| resident memory, idle | {:.0} MB | — |",
        mb(figures.idle.resident)
    );
    println!(
        "| the storm: every device synced, from the first reconnect | {} | ≤ 60 s |",
        figures
            .storm_done
            .map_or("unfinished".into(), |done| format!(
                "{:.1} s",
                done.as_secs_f64()
            ))
    );
    println!(
        "| one device's sync after its reconnect, p50 / p99 / slowest | {} / {} / {} | — |",
        ms(quantile(&figures.device_sync, 0.5)),
        ms(quantile(&figures.device_sync, 0.99)),
        ms(figures.device_sync.iter().max().copied())
    );
    println!(
        "| resident memory, peak in the storm | {:.0} MB | ≤ 1 GB |",
        mb(figures.storm_peak)
    );
    println!(
        "| resident memory, {} devices connected after the storm | {:.0} MB | ≤ 1 GB |",
        city.staff * 2,
        mb(figures.connected_memory)
    );
    println!(
        "| caseload call during the storm, p50 / p99 ({} calls) | {} / {} | p99 ≤ 100 ms |",
        figures.caseload_calls.len(),
        ms(quantile(&figures.caseload_calls, 0.5)),
        ms(quantile(&figures.caseload_calls, 0.99))
    );
    println!(
        "| server CPU in the storm | {:.3} cores | — |",
        cores(figures.storm_cpu, figures.storm_wall)
    );
    println!(
        "| steady load: visits sent / arrived at the partner | {} / {} | — |",
        figures.steady_sent + figures.steady_latencies.len(),
        figures.steady_latencies.len()
    );
    println!(
        "| steady propagation p50 / p99 | {} / {} | p99 ≤ 1 s |",
        ms(quantile(&figures.steady_latencies, 0.5)),
        ms(quantile(&figures.steady_latencies, 0.99))
    );
    println!(
        "| the load generator's CPU, steady load | {:.3} cores | — |",
        cores(figures.generator_steady_cpu, figures.steady_wall)
    );
    println!(
        "| resident memory, steady load | {:.0} MB | ≤ 1 GB |",
        mb(figures.steady_memory)
    );
    println!(
        "| server CPU, steady load | {:.3} cores | — |",
        cores(figures.steady_cpu, figures.steady_wall)
    );
    println!(
        "| the load generator's CPU, whole run | {:.0} s | — |",
        figures.generator_cpu.as_secs_f64()
    );
    // From the servers' /metrics, every process's and every partition's added up.
    let metric = |name: &str| {
        let values: Vec<f64> = figures
            .server
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix(name)?;
                let value = match rest.strip_prefix('{') {
                    Some(labelled) => labelled.split_once("} ")?.1,
                    None => rest.strip_prefix(' ')?,
                };
                value.trim().parse::<f64>().ok()
            })
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>())
    };
    let show = |value: Option<f64>| value.map_or("—".into(), |value| format!("{value:.0}"));
    println!(
        "| households read from disk / evicted, whole run (`/metrics`) | {} / {} | — |",
        show(metric("lots_documents_loaded_total")),
        show(metric("lots_documents_evicted_total"))
    );
    let per = |sum: &str, count: &str| match (metric(sum), metric(count)) {
        (Some(sum), Some(count)) if count > 0.0 => Some(sum / count),
        _ => None,
    };
    println!(
        "| hub batches, all partitions: count / mean inputs / mean commit (`/metrics`) | {} / {} / {} | — |",
        show(metric("lots_hub_batch_inputs_count")),
        per("lots_hub_batch_inputs_sum", "lots_hub_batch_inputs_count")
            .map_or("—".into(), |mean| format!("{mean:.1}")),
        ms(per(
            "lots_hub_commit_seconds_sum",
            "lots_hub_commit_seconds_count"
        )
        .map(Duration::from_secs_f64))
    );
}

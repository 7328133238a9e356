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
//! In the same run, after Lots and never beside it, the same city against the reference
//! automerge-repo server, as far as it carries it: its storage is written with the city's
//! households before it starts (see `seed_reference`), and the same devices storm and load it.
//! It has no accounts, caseloads or `/metrics`: its devices sign nobody in, no desks call it,
//! its memory and CPU come from `/proc` alone, and its start-up runs to its first answered
//! sync (a household fetched whole). One table reports both, a column each.
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
use lots_core::automerge::{Automerge, ChangeHash, ROOT, ReadDoc as _, sync};
use lots_core::synthetic::{Generator, HouseholdSpec};
use lots_core::{
    DeviceId, DistrictId, DocumentId, HouseholdDoc, Input, Output, PeerConfig, PeerId, Role,
    Signature, StaffId, SyncPeer, VisitId, VisitRecord,
};
use lots_server::caseload::Digest;
use lots_server::store::{Role as UserRole, Store, User, Writes};
use lots_tests::SyncClient;
use rayon::prelude::*;

use crate::servers::{Kind, Memory, REFERENCE_PEER, Server, cpu_time, login};

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

/// A device's peer id: staff member `staff`'s device `side` ("a" or "b").
fn device_peer(staff: usize, side: &str) -> String {
    format!("city-{staff}-{side}")
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
    heads: Vec<ChangeHash>,
}

/// One device, back from a night offline.
struct Device {
    peer: SyncPeer,
    /// Its session token; `None` against the reference server, which signs nobody in.
    token: Option<String>,
    /// The server's peer id, under which the device keeps its sync states: the server must
    /// answer the handshake as this peer, or the device would sync from nothing.
    server_peer: PeerId,
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

/// What one server's run measured, phase by phase. A phase the server did not carry to its
/// end has no figures (`None`), and `failure` says what stopped it.
#[derive(Debug, Default)]
struct Figures {
    /// The server's storage and processes, for the report's heading.
    storage: String,
    /// From the process's start to its first answer: a caseload call for Lots, a household
    /// fetched over sync for the reference server.
    startup: Option<Duration>,
    /// From the reference server's start to it listening (it says so on its first line).
    listening: Option<Duration>,
    idle: Option<Memory>,
    storm: Option<StormFigures>,
    steady: Option<SteadyFigures>,
    /// The load generator's own CPU from the server's start to the end of the steady load.
    generator_cpu: Option<Duration>,
    /// The server's own figures at the end, as its `/metrics` served them (every process's);
    /// the reference server has no `/metrics`.
    metrics: Option<String>,
    /// Why the run stopped before its end.
    failure: Option<String>,
}

/// The morning storm's figures.
#[derive(Debug)]
struct StormFigures {
    /// When every device had synced, from the first reconnect; `None` when the storm was
    /// called unfinished.
    done: Option<Duration>,
    /// Each device's time from its reconnect to holding every visit it must.
    device_sync: Vec<Duration>,
    peak: u64,
    cpu: Duration,
    wall: Duration,
    connected_memory: u64,
    /// The desks' caseload calls; `None` for a server without a caseload API.
    caseload_calls: Option<Vec<Duration>>,
}

/// The steady load's figures.
#[derive(Debug)]
struct SteadyFigures {
    latencies: Vec<Duration>,
    /// Visits sent that never arrived at the partner.
    unarrived: usize,
    memory: u64,
    cpu: Duration,
    /// The load generator's own CPU: it shares the two cores.
    generator_cpu: Duration,
    wall: Duration,
}

/// The server processes of a run: Lots on SQLite (one process) or sharing a PostgreSQL
/// database (two), or the reference server (one).
struct Fleet {
    kind: Kind,
    servers: Vec<Server>,
    /// Each process's `/metrics` listener (none for the reference server).
    metrics: Vec<String>,
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

/// Generates (once) and runs the city against each server of `kinds` in turn, never two at
/// once: Lots (`binary`) first, then the reference automerge-repo server (from `node_dir`) on
/// the same city, with the same devices, storm and steady load, as far as it carries them.
/// Both are reported side by side; a server that fails is reported as far as it got, and the
/// run fails after the report.
pub async fn run(city: &City, kinds: &[Kind], binary: &Path, node_dir: &Path) -> Result<()> {
    if let Some(other) = kinds
        .iter()
        .find(|kind| !matches!(kind, Kind::Lots | Kind::Reference))
    {
        bail!(
            "the city runs against lots and reference, not {}",
            other.name()
        );
    }
    if kinds.is_empty() {
        bail!("the city needs a server to run against: lots, reference or both");
    }
    let database = city.ensure().await?;
    let mut runs = Vec::new();
    for kind in [Kind::Lots, Kind::Reference] {
        if !kinds.contains(&kind) {
            continue;
        }
        println!("city: against the {} server", kind.name());
        let mut figures = Figures::default();
        let result = match kind {
            Kind::Reference => run_reference(city, &database, node_dir, &mut figures).await,
            _ => run_lots(city, &database, binary, &mut figures).await,
        };
        if let Err(error) = result {
            println!("city: the {} server's run failed: {error:#}", kind.name());
            figures.failure = Some(format!("{error:#}"));
        }
        runs.push((kind, figures));
    }
    report(city, &runs);
    let failed: Vec<&str> = runs
        .iter()
        .filter(|(_, figures)| figures.failure.is_some())
        .map(|(kind, _)| kind.name())
        .collect();
    if !failed.is_empty() {
        bail!(
            "the city's run against {} failed (see above)",
            failed.join(" and ")
        );
    }
    Ok(())
}

/// The city against the Lots server: start-up to the first caseload answer, then the load.
async fn run_lots(
    city: &City,
    database: &Path,
    binary: &Path,
    figures: &mut Figures,
) -> Result<()> {
    let postgres = match &city.postgres {
        Some(admin) => Some(city.copy_to_postgres(database, admin).await?),
        None => None,
    };
    let generator_cpu_before = cpu_time("/proc/self/stat")?;
    let memory = city.document_memory_mb.to_string();
    let processes = if postgres.is_some() { 2 } else { 1 };
    let mut server = Fleet {
        kind: Kind::Lots,
        servers: Vec::new(),
        metrics: Vec::new(),
    };
    figures.storage = if postgres.is_some() {
        "PostgreSQL, two processes".into()
    } else {
        "SQLite, one process".into()
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
                std::fs::copy(database, data.path().join("lots.sqlite3"))?;
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
    let startup = spawned.elapsed();
    figures.startup = Some(startup);
    println!(
        "city: started and answered a caseload of {} households in {:.2} s",
        first.1,
        startup.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    figures.idle = Some(server.memory()?);

    let stored = stored_documents(city, database).await?;
    let devices = prepare_devices(city, &stored, &server).await?;
    drop(stored);
    println!("city: {} devices back from a night offline", devices.len());
    let desks = desks(city, &server.of(0).http).await?;
    load(
        city,
        &mut server,
        devices,
        desks,
        figures,
        generator_cpu_before,
    )
    .await?;
    let mut metrics = String::new();
    for listen in &server.metrics {
        metrics += &http
            .get(format!("http://{listen}/metrics"))
            .send()
            .await?
            .text()
            .await?;
    }
    figures.metrics = Some(metrics);
    Ok(())
}

/// The city against the reference server: its storage written with the city's households
/// first (it must hold them before the storm, as Lots does), start-up to the first household
/// fetched over sync, then the same load without the desks (it has no caseload API).
async fn run_reference(
    city: &City,
    database: &Path,
    node_dir: &Path,
    figures: &mut Figures,
) -> Result<()> {
    figures.storage = "automerge-repo 2.5 on Node, files".into();
    let stored = stored_documents(city, database).await?;
    let data = tempfile::tempdir()?;
    let seeding = Instant::now();
    seed_reference(&stored, &crate::servers::reference_storage(data.path()))?;
    println!(
        "city: wrote {} households into the reference server's storage in {:.0} s",
        stored.len(),
        seeding.elapsed().as_secs_f64()
    );
    // The first answered sync fetches one household and checks that it arrives whole.
    let probe = document_id(0);
    let probe_heads = Automerge::load(
        stored
            .get(&probe)
            .context("household 0 of the city is not in the cached database")?,
    )?
    .get_heads();

    let generator_cpu_before = cpu_time("/proc/self/stat")?;
    let spawned = Instant::now();
    let started = Server::start_reference_on(node_dir, data).await?;
    let listening = spawned.elapsed();
    figures.listening = Some(listening);
    let mut server = Fleet {
        kind: Kind::Reference,
        servers: vec![started],
        metrics: Vec::new(),
    };
    first_sync(&server.of(0).sync_url, probe, &probe_heads).await?;
    let startup = spawned.elapsed();
    figures.startup = Some(startup);
    println!(
        "city: the reference server listened after {:.2} s and answered its first sync (household 0, whole) after {:.2} s",
        listening.as_secs_f64(),
        startup.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    figures.idle = Some(server.memory()?);

    let devices = prepare_devices(city, &stored, &server).await?;
    drop(stored);
    println!("city: {} devices back from a night offline", devices.len());
    load(
        city,
        &mut server,
        devices,
        Vec::new(),
        figures,
        generator_cpu_before,
    )
    .await
}

/// Every household of the cached city, its chunks concatenated.
async fn stored_documents(city: &City, database: &Path) -> Result<HashMap<DocumentId, Vec<u8>>> {
    let store = Store::open_sqlite(database).await?;
    let stored: HashMap<DocumentId, Vec<u8>> = store.documents().await?.into_iter().collect();
    store.close().await;
    if stored.len() != city.households {
        bail!(
            "the cached city {} holds {} households, not {}: delete it to have it generated again",
            database.display(),
            stored.len(),
            city.households
        );
    }
    Ok(stored)
}

/// Writes every household into `directory` as the reference server's storage (automerge-repo
/// 2.5's `NodeFSStorageAdapter`) keeps a document, so that it holds the city before the storm
/// as the Lots server holds it in its database.
///
/// The layout, as the installed packages read it: `StorageSubsystem.loadDoc` loads every chunk
/// under the keys `[documentId, "snapshot"]` and then `[documentId, "incremental"]`
/// (`loadRange`), concatenates them and hands them to Automerge's `loadIncremental`. The
/// adapter keeps the key `[documentId, "snapshot", name]` in the file
/// `<directory>/<documentId's first two characters>/<the rest of it>/snapshot/<name>`, and
/// the document id is the bs58check text that `DocumentId` displays. Each household is
/// written as one snapshot: Automerge's `save()` of its stored chunks loaded, which is what
/// automerge-repo writes when it compacts a document (`saveTotal`). The snapshot's name is
/// the one automerge-repo gives it (`headsHash`: the hex SHA-256 of the document's heads, in
/// hex, one after the other), so that its own compaction later treats it as its own.
fn seed_reference(stored: &HashMap<DocumentId, Vec<u8>>, directory: &Path) -> Result<()> {
    // `token_hash` is the hex SHA-256 of a text's UTF-8 bytes, which is what `headsHash`
    // computes; checked against the standard's test vector, since it is the server's function
    // for another purpose and could change under this one.
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    if lots_server::store::token_hash("abc") != ABC_SHA256 {
        bail!(
            "lots_server::store::token_hash is no longer the hex SHA-256 of its text: the reference \
             server's snapshots need another way to be named"
        );
    }
    std::fs::create_dir_all(directory)
        .with_context(|| format!("creating {}", directory.display()))?;
    let documents: Vec<(&DocumentId, &Vec<u8>)> = stored.iter().collect();
    documents.par_iter().try_for_each(|(document, bytes)| {
        let doc =
            Automerge::load(bytes).with_context(|| format!("loading household {document}"))?;
        let heads: String = doc.get_heads().iter().map(ToString::to_string).collect();
        let id = document.to_string();
        let (first, rest) = id.split_at(2);
        let snapshots = directory.join(first).join(rest).join("snapshot");
        std::fs::create_dir_all(&snapshots)
            .with_context(|| format!("creating {}", snapshots.display()))?;
        let file = snapshots.join(lots_server::store::token_hash(&heads));
        std::fs::write(&file, doc.save()).with_context(|| format!("writing {}", file.display()))
    })
}

/// The reference server's first answered sync: a client asks for `document` and waits until
/// it holds it with `heads` (its whole history, as the storage was written).
async fn first_sync(sync_url: &str, document: DocumentId, heads: &[ChangeHash]) -> Result<()> {
    let mut probe = SyncClient::connect_url(sync_url, None, "city-start-up-probe").await?;
    probe.input(Input::Want { document }).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if probe
            .peer
            .document(&document)
            .is_some_and(|doc| doc.get_heads() == heads)
        {
            return Ok(());
        }
        if probe.events.iter().any(
            |event| matches!(event, Output::DocumentUnavailable { document: d } if *d == document),
        ) {
            bail!(
                "the reference server says household {document} is unavailable: it did not \
                 read the storage written for it"
            );
        }
        let message = tokio::time::timeout_at(deadline, probe.next_message())
            .await
            .with_context(|| {
                format!("the reference server did not send household {document} whole within 30 s")
            })?;
        let Some(bytes) = message else {
            bail!(
                "the reference server closed the first sync's socket: {:?}",
                probe.closed
            );
        };
        probe.receive(bytes).await?;
    }
}

/// The morning storm and the steady load against `server`, with `desks` (session tokens)
/// listing their caseloads during the storm; fills the storm's and the steady load's figures
/// as each ends.
async fn load(
    city: &City,
    server: &mut Fleet,
    devices: Vec<Device>,
    desks: Vec<String>,
    figures: &mut Figures,
    generator_cpu_before: Duration,
) -> Result<()> {
    let http = reqwest::Client::new();
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
    let has_caseloads = server.kind != Kind::Reference;
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
            let wall = started.elapsed();
            let cpu = server.cpu()? - cpu_before;
            let memory = server.memory()?;
            // A device holds its partner's night visits only once the partner is back too:
            // its sync is timed from the later of the two reconnects.
            let reconnected = reconnected.lock().expect("not poisoned").clone();
            let device_sync = done
                .lock()
                .expect("not poisoned")
                .iter()
                .filter_map(|(index, at)| {
                    let back = reconnected.get(index)?.max(reconnected.get(&(index ^ 1))?);
                    Some(at.saturating_duration_since(*back))
                })
                .collect();
            if all {
                println!(
                    "city: the storm is over: every device synced in {:.1} s",
                    wall.as_secs_f64()
                );
            } else {
                println!(
                    "city: after {:.0} s only {finished} of {devices_count} devices have synced; the storm is called unfinished",
                    wall.as_secs_f64()
                );
            }
            stop_desks.store(true, std::sync::atomic::Ordering::Relaxed);
            while let Some(result) = desk_tasks.join_next().await {
                result??;
            }
            figures.storm = Some(StormFigures {
                done: all.then_some(wall),
                device_sync,
                peak: memory.peak,
                cpu,
                wall,
                connected_memory: memory.resident,
                caseload_calls: has_caseloads
                    .then(|| std::mem::take(&mut *calls.lock().expect("not poisoned"))),
            });
            break;
        }
    }

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
        if let Some(result) = device_tasks.try_join_next() {
            result??;
        }
        steady_peak = steady_peak.max(server.memory()?.resident);
    }
    let cpu = server.cpu()? - steady_cpu_before;
    let generator_cpu = cpu_time("/proc/self/stat")? - generator_steady_before;
    device_tasks.abort_all();
    figures.steady = Some(SteadyFigures {
        latencies: std::mem::take(&mut latencies.lock().expect("not poisoned")),
        unarrived: steady_sent.lock().expect("not poisoned").len(),
        memory: steady_peak,
        cpu,
        generator_cpu,
        wall: end - from,
    });
    figures.generator_cpu = Some(cpu_time("/proc/self/stat")? - generator_cpu_before);
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

/// Every device as it was after yesterday's sync with `server` (the documents it held then,
/// and the heads it shares with the server), with the visits it recorded offline since.
///
/// A device keeps its sync states under the server's peer id, so a device of the reference
/// server's run keeps them under [`REFERENCE_PEER`] instead of the Lots server's: the same
/// state (the heads it shares, which are the cached city's, as the reference server's storage
/// holds them too), as if yesterday's sync had been with the reference server. The reference
/// server signs nobody in: its devices get no token, and sign their changes with the device
/// id `SyncClient` gives a client without one (`d-` and the peer id).
async fn prepare_devices(
    city: &City,
    stored: &HashMap<DocumentId, Vec<u8>>,
    server: &Fleet,
) -> Result<Vec<Device>> {
    let http = reqwest::Client::new();
    let now = lots_server::sync::hub::now();
    let server_peer = match server.kind {
        Kind::Reference => REFERENCE_PEER,
        _ => SERVER_PEER,
    };
    let server_peer = PeerId::new(server_peer).context("peer id")?;
    // Signing in first (the server hashes each password), then loading every device's copy
    // on every core: loading is what takes the time.
    let mut accounts = Vec::with_capacity(city.staff * 2);
    for staff in 0..city.staff {
        for side in ["a", "b"] {
            let (token, device) = match server.kind {
                Kind::Reference => (
                    None,
                    DeviceId::new(format!("d-{}", device_peer(staff, side)))?,
                ),
                _ => {
                    let (token, device) =
                        login(&http, &server.of(0).http, &staff_name(staff), PASSWORD).await?;
                    (Some(token), device)
                }
            };
            accounts.push((staff, side, token, device));
        }
    }
    let server = &server_peer;
    let mut devices: Vec<(usize, Device)> = accounts
        .par_iter()
        .enumerate()
        .map(|(index, (staff, side, token, device))| {
            let mut random = Generator::new(11 + index as u64);
            let caseload: Vec<DocumentId> = (0..city.households)
                .filter(|household| city.holder(*household) == *staff)
                .map(document_id)
                .collect();
            let peer_id = PeerId::new(device_peer(*staff, side)).context("peer id")?;
            let mut peer = SyncPeer::new(PeerConfig::new(peer_id, Role::Client));
            for document in &caseload {
                let bytes = stored.get(document).context("a household of the city")?;
                let doc = Automerge::load(bytes)?;
                let mut state = sync::State::new();
                state.shared_heads = doc.get_heads();
                peer.insert_document(*document, doc);
                peer.import_sync_state(server.clone(), *document, &state.encode())?;
            }
            let mut own = Vec::new();
            for offline in 0..city.offline_visits {
                let document = caseload[random.random_u64() as usize % caseload.len()];
                let visit = VisitId::new(format!("v-night-{staff}-{side}-{offline}"))?;
                record(&mut peer, document, &visit, *staff, device, now)?;
                own.push((document, visit));
            }
            Ok((
                index,
                Device {
                    peer,
                    token: token.clone(),
                    server_peer: server.clone(),
                    expected: own,
                },
            ))
        })
        .collect::<Result<Vec<_>>>()?;
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
        server_peer,
        mut expected,
    } = device;
    let mut client = SyncClient::connect_peer(sync_url, token.as_deref(), peer).await?;
    let answered = client.events.iter().find_map(|event| match event {
        Output::PeerReady { peer, .. } => Some(peer.clone()),
        _ => None,
    });
    if answered.as_ref() != Some(&server_peer) {
        bail!(
            "device {index} keeps its sync states under the server's peer id {server_peer}, \
             but the server answered as {answered:?}"
        );
    }
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

/// One number of a `/metrics` text, every process's and every partition's added up.
fn metric(text: &str, name: &str) -> Option<f64> {
    let values: Vec<f64> = text
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
}

/// One table, a column for each server: what a server did not get to is "—".
fn report(city: &City, runs: &[(Kind, Figures)]) {
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
        "## The city: {} households of {} visits, {} staff with two devices each, {} desks (Lots with --document-memory-mb {} per process)",
        city.households, city.visits, city.staff, city.districts, city.document_memory_mb
    );
    println!();
    let heads: Vec<String> = runs
        .iter()
        .map(|(kind, figures)| format!("{} ({})", kind.name(), figures.storage))
        .collect();
    println!("| what | {} | goal |", heads.join(" | "));
    println!("|---|{}---|", "---|".repeat(runs.len()));
    let row = |what: &str, goal: &str, cell: &dyn Fn(Kind, &Figures) -> Option<String>| {
        let cells: Vec<String> = runs
            .iter()
            .map(|(kind, figures)| cell(*kind, figures).unwrap_or_else(|| "—".into()))
            .collect();
        println!("| {what} | {} | {goal} |", cells.join(" | "));
    };
    row("carried to the end", "—", &|_, figures| {
        Some(match &figures.failure {
            None => "yes".into(),
            // The first line only (a server's exit adds its log), and no column breaks.
            Some(failure) => format!(
                "**no: {}**",
                failure
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .replace('|', "\\|")
            ),
        })
    });
    row(
        "start-up to the first answer (Lots: a caseload call; reference: a household fetched over sync)",
        "≤ 2 s",
        &|_, figures| {
            let startup = figures.startup?;
            Some(match figures.listening {
                Some(listening) => format!(
                    "{:.2} s (listening after {:.2} s)",
                    startup.as_secs_f64(),
                    listening.as_secs_f64()
                ),
                None => format!("{:.2} s", startup.as_secs_f64()),
            })
        },
    );
    row("resident memory, idle", "—", &|_, figures| {
        Some(format!("{:.0} MB", mb(figures.idle?.resident)))
    });
    row(
        "the storm: every device synced, from the first reconnect",
        "≤ 60 s",
        &|_, figures| {
            Some(
                figures
                    .storm
                    .as_ref()?
                    .done
                    .map_or("unfinished".into(), |done| {
                        format!("{:.1} s", done.as_secs_f64())
                    }),
            )
        },
    );
    row(
        "one device's sync after its reconnect, p50 / p99 / slowest",
        "—",
        &|_, figures| {
            let storm = figures.storm.as_ref()?;
            Some(format!(
                "{} / {} / {}",
                ms(quantile(&storm.device_sync, 0.5)),
                ms(quantile(&storm.device_sync, 0.99)),
                ms(storm.device_sync.iter().max().copied())
            ))
        },
    );
    row(
        "resident memory, peak in the storm",
        "≤ 1 GB",
        &|_, figures| Some(format!("{:.0} MB", mb(figures.storm.as_ref()?.peak))),
    );
    row(
        &format!(
            "resident memory, {} devices connected after the storm",
            city.staff * 2
        ),
        "≤ 1 GB",
        &|_, figures| {
            Some(format!(
                "{:.0} MB",
                mb(figures.storm.as_ref()?.connected_memory)
            ))
        },
    );
    row(
        "caseload call during the storm, p50 / p99 (calls)",
        "p99 ≤ 100 ms",
        &|kind, figures| {
            if kind == Kind::Reference {
                return Some("—, no caseload API".into());
            }
            let calls = figures.storm.as_ref()?.caseload_calls.as_ref()?;
            Some(format!(
                "{} / {} ({} calls)",
                ms(quantile(calls, 0.5)),
                ms(quantile(calls, 0.99)),
                calls.len()
            ))
        },
    );
    row("server CPU in the storm", "—", &|_, figures| {
        let storm = figures.storm.as_ref()?;
        Some(format!("{:.3} cores", cores(storm.cpu, storm.wall)))
    });
    row(
        "steady load: visits sent / arrived at the partner",
        "—",
        &|_, figures| {
            let steady = figures.steady.as_ref()?;
            Some(format!(
                "{} / {}",
                steady.unarrived + steady.latencies.len(),
                steady.latencies.len()
            ))
        },
    );
    row(
        "steady propagation p50 / p99",
        "p99 ≤ 1 s",
        &|_, figures| {
            let steady = figures.steady.as_ref()?;
            Some(format!(
                "{} / {}",
                ms(quantile(&steady.latencies, 0.5)),
                ms(quantile(&steady.latencies, 0.99))
            ))
        },
    );
    row(
        "the load generator's CPU, steady load",
        "—",
        &|_, figures| {
            let steady = figures.steady.as_ref()?;
            Some(format!(
                "{:.3} cores",
                cores(steady.generator_cpu, steady.wall)
            ))
        },
    );
    row("resident memory, steady load", "≤ 1 GB", &|_, figures| {
        Some(format!("{:.0} MB", mb(figures.steady.as_ref()?.memory)))
    });
    row("server CPU, steady load", "—", &|_, figures| {
        let steady = figures.steady.as_ref()?;
        Some(format!("{:.3} cores", cores(steady.cpu, steady.wall)))
    });
    row(
        "the load generator's CPU, whole run",
        "—",
        &|_, figures| Some(format!("{:.0} s", figures.generator_cpu?.as_secs_f64())),
    );
    // From the servers' /metrics; the reference server has none.
    let no_metrics = |kind: Kind| -> Option<String> {
        (kind == Kind::Reference).then(|| "—, no `/metrics`".into())
    };
    let show = |value: Option<f64>| value.map_or("—".into(), |value| format!("{value:.0}"));
    row(
        "households read from disk / evicted, whole run (`/metrics`)",
        "—",
        &|kind, figures| {
            let Some(text) = &figures.metrics else {
                return no_metrics(kind);
            };
            Some(format!(
                "{} / {}",
                show(metric(text, "lots_documents_loaded_total")),
                show(metric(text, "lots_documents_evicted_total"))
            ))
        },
    );
    row(
        "hub batches, all partitions: count / mean inputs / mean commit (`/metrics`)",
        "—",
        &|kind, figures| {
            let Some(text) = &figures.metrics else {
                return no_metrics(kind);
            };
            let per = |sum: &str, count: &str| match (metric(text, sum), metric(text, count)) {
                (Some(sum), Some(count)) if count > 0.0 => Some(sum / count),
                _ => None,
            };
            Some(format!(
                "{} / {} / {}",
                show(metric(text, "lots_hub_batch_inputs_count")),
                per("lots_hub_batch_inputs_sum", "lots_hub_batch_inputs_count")
                    .map_or("—".into(), |mean| format!("{mean:.1}")),
                ms(per(
                    "lots_hub_commit_seconds_sum",
                    "lots_hub_commit_seconds_count"
                )
                .map(Duration::from_secs_f64))
            ))
        },
    );
}

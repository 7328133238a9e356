//! The two servers under test, each a child process on 127.0.0.1 with a throwaway data
//! directory: the Lots server (release binary, SQLite) and the reference automerge-repo server
//! (Node, `tests/node/reference-server.mjs`). Also the accounts the clients sign in with, and
//! the process's memory and CPU time as Linux reports them in `/proc`.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use lots_core::{DeviceId, StaffId};
use lots_server::store::{Role, Store, User};

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `lots-server`.
    Lots,
    /// `lots-server` storing changes without vetting them (`--unvetted-for-benchmark`), to
    /// measure what vetting costs.
    LotsUnvetted,
    /// `lots-server` with a hub partition per core (`--partitions N`; on SQLite, as the
    /// benchmark runs it, the default is one), to measure what partitions give.
    LotsPartitioned,
    /// automerge-repo 2.5 on Node.
    Reference,
}

impl Kind {
    /// The name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Lots => "lots",
            Kind::LotsUnvetted => "lots-unvetted",
            Kind::LotsPartitioned => "lots-partitioned",
            Kind::Reference => "reference",
        }
    }
}

/// The district every bench user works in.
const DISTRICT: &str = "district-bench";
/// The bench's administrator; the database is thrown away after each level.
const ADMIN: (&str, &str) = ("bench-admin", "bench-admin-password");
/// Every bench user's password (at least 12 characters, as the API requires).
const PASSWORD: &str = "bench-user-password";

/// The reference server's peer id, as `reference-server.mjs` gives it to its `Repo`: clients
/// keep their sync states with it under this id.
pub const REFERENCE_PEER: &str = "reference-server";

/// Where the reference server started on the data directory `data` keeps its documents (the
/// `NodeFSStorageAdapter`'s base directory).
pub fn reference_storage(data: &Path) -> PathBuf {
    data.join("repo")
}

/// A running server; killed when dropped.
pub struct Server {
    /// Which one.
    pub kind: Kind,
    child: Child,
    /// `http://127.0.0.1:port`.
    pub http: String,
    /// The sync endpoint, `ws://127.0.0.1:port/sync`.
    pub sync_url: String,
    /// Its data directory and log, deleted on drop.
    data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn log_file(data: &tempfile::TempDir) -> Result<(std::fs::File, std::fs::File)> {
    let log = std::fs::File::create(data.path().join("server.log"))?;
    Ok((log.try_clone()?, log))
}

impl Server {
    /// Starts `lots-server` on a fresh database that holds one district and an administrator
    /// (created through the server's own store, as an installation's first setup would).
    pub async fn start_lots(binary: &Path, kind: Kind) -> Result<Self> {
        let data = tempfile::tempdir()?;
        let store = Store::open_sqlite(&data.path().join("lots.sqlite3")).await?;
        store.add_district(DISTRICT, "Bench").await?;
        let admin = User {
            id: format!("u-{}", ADMIN.0),
            username: ADMIN.0.into(),
            display_name: "Bench Admin".into(),
            role: Role::Admin,
            districts: Vec::new(),
            disabled: false,
        };
        store
            .add_user(
                &admin,
                &lots_server::auth::hash_password(ADMIN.1)?,
                lots_server::sync::hub::now(),
            )
            .await?;
        drop(store);
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let args: Vec<String> = match kind {
            Kind::LotsUnvetted => vec!["--unvetted-for-benchmark".into()],
            Kind::LotsPartitioned => vec!["--partitions".into(), cores.to_string()],
            _ => Vec::new(),
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::start_lots_on(binary, kind, data, &args).await
    }

    /// Starts `lots-server` on the database in `data` (`lots.sqlite3`), with `args` besides
    /// the benchmark's own.
    pub async fn start_lots_on(
        binary: &Path,
        kind: Kind,
        data: tempfile::TempDir,
        args: &[&str],
    ) -> Result<Self> {
        let port = free_port()?;
        let (stdout, stderr) = log_file(&data)?;
        let child = Command::new(binary)
            .arg("--data-dir")
            .arg(data.path())
            .arg("--dist")
            .arg(data.path().join("no-dist"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-origin", &format!("http://127.0.0.1:{port}")])
            // Hostile clients are refused over and over; the benchmark measures that load,
            // not a quarantine that fills up.
            .args(["--quarantine-quota", "1000000000"])
            .args(args)
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = Self {
            kind,
            child,
            http: format!("http://127.0.0.1:{port}"),
            sync_url: format!("ws://127.0.0.1:{port}/sync"),
            data,
        };
        server.wait_until_listening(port).await?;
        Ok(server)
    }

    /// Starts the reference server with Node from `node_dir` (where its packages are).
    pub async fn start_reference(node_dir: &Path) -> Result<Self> {
        Self::start_reference_on(node_dir, tempfile::tempdir()?).await
    }

    /// Starts the reference server on the data directory `data`, whose storage
    /// ([`reference_storage`]) may hold documents already, in the layout of automerge-repo's
    /// `NodeFSStorageAdapter`.
    pub async fn start_reference_on(node_dir: &Path, data: tempfile::TempDir) -> Result<Self> {
        if !node_dir
            .join("node_modules/@automerge/automerge-repo-storage-nodefs")
            .exists()
        {
            bail!(
                "the reference server's npm packages are missing in {}: run `cargo xtask setup`",
                node_dir.display()
            );
        }
        let (mut stdout_log, stderr) = log_file(&data)?;
        let mut child = Command::new("node")
            .arg("reference-server.mjs")
            .arg("0")
            .arg(reference_storage(data.path()))
            .current_dir(node_dir)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("starting node; is Node.js installed?")?;
        // The first line says where it listens; the rest goes to the log, so that the pipe
        // stays open for as long as Node may write to it.
        let stdout = child.stdout.take().context("node's stdout")?;
        let (first_line, first_line_read) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            let mut line = String::new();
            let _ = first_line.send(stdout.read_line(&mut line).map(|_| line));
            let _ = std::io::copy(&mut stdout, &mut stdout_log);
        });
        let line = tokio::task::spawn_blocking(move || {
            first_line_read.recv_timeout(Duration::from_secs(30))
        })
        .await?;
        let Ok(line) = line else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the reference server did not start within 30 s");
        };
        let line = line?;
        let answer: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("the reference server printed {line:?}"))?;
        let port = answer["listening"]
            .as_u64()
            .with_context(|| format!("the reference server printed {line:?}"))?;
        Ok(Self {
            kind: Kind::Reference,
            child,
            http: format!("http://127.0.0.1:{port}"),
            sync_url: format!("ws://127.0.0.1:{port}/sync"),
            data,
        })
    }

    async fn wait_until_listening(&mut self, port: u16) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            self.check_running()?;
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "{} did not listen on port {port} within 30 s",
            self.kind.name()
        )
    }

    /// Fails when the process has exited, with the end of its log.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            let log =
                std::fs::read_to_string(self.data.path().join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "the {} server exited ({status}); its log ends:\n{}",
                self.kind.name(),
                tail.join("\n")
            );
        }
        Ok(())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's memory now.
    pub fn memory(&self) -> Result<Memory> {
        Memory::of(self.pid())
    }

    /// The process's CPU time so far (user and system).
    pub fn cpu(&self) -> Result<Duration> {
        cpu_time(&format!("/proc/{}/stat", self.pid()))
    }

    /// The accounts of `pairs` pairs of clients: for Lots a staff user per pair, created by
    /// the administrator through the API, and a sign-in per device; the reference server
    /// asks for none.
    pub async fn accounts(&self, pairs: usize) -> Result<Vec<[Account; 2]>> {
        match self.kind {
            Kind::Reference => (0..pairs)
                .map(|pair| {
                    let staff = StaffId::new(format!("u-bench-{pair}"))?;
                    let device = |side: &str| DeviceId::new(format!("d-bench-{pair}-{side}"));
                    Ok([
                        Account {
                            token: None,
                            staff: staff.clone(),
                            device: device("a")?,
                        },
                        Account {
                            token: None,
                            staff,
                            device: device("b")?,
                        },
                    ])
                })
                .collect(),
            Kind::Lots | Kind::LotsUnvetted | Kind::LotsPartitioned => {
                self.lots_accounts(pairs).await
            }
        }
    }

    async fn lots_accounts(&self, pairs: usize) -> Result<Vec<[Account; 2]>> {
        let http = reqwest::Client::new();
        let admin = login(&http, &self.http, ADMIN.0, ADMIN.1).await?.0;
        // Password hashing takes tens of milliseconds: a few requests at a time keep both
        // cores busy without queueing hundreds of requests in the server.
        let permits = Arc::new(tokio::sync::Semaphore::new(4));
        let mut tasks = tokio::task::JoinSet::new();
        for pair in 0..pairs {
            let (http, base, admin, permits) = (
                http.clone(),
                self.http.clone(),
                admin.clone(),
                permits.clone(),
            );
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await?;
                let username = format!("bench-{pair}");
                let response = http
                    .post(format!("{base}/api/users"))
                    .bearer_auth(&admin)
                    .json(&serde_json::json!({
                        "username": username,
                        "display_name": format!("Bench User {pair}"),
                        "password": PASSWORD,
                        "role": "staff",
                        "districts": [DISTRICT],
                    }))
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!(
                        "creating {username} failed: {} {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    );
                }
                let user: serde_json::Value = response.json().await?;
                let staff = StaffId::new(user["id"].as_str().context("the user's id")?)?;
                let (token_a, device_a) = login(&http, &base, &username, PASSWORD).await?;
                let (token_b, device_b) = login(&http, &base, &username, PASSWORD).await?;
                Ok::<_, anyhow::Error>((
                    pair,
                    [
                        Account {
                            token: Some(token_a),
                            staff: staff.clone(),
                            device: device_a,
                        },
                        Account {
                            token: Some(token_b),
                            staff,
                            device: device_b,
                        },
                    ],
                ))
            });
        }
        let mut accounts = Vec::with_capacity(pairs);
        while let Some(result) = tasks.join_next().await {
            accounts.push(result??);
        }
        accounts.sort_by_key(|(pair, _)| *pair);
        Ok(accounts.into_iter().map(|(_, accounts)| accounts).collect())
    }
}

pub async fn login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> Result<(String, DeviceId)> {
    let response = http
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({
            "username": username,
            "password": password,
            "device_label": "bench phone",
        }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("signing in {username} failed: {}", response.status());
    }
    let body: serde_json::Value = response.json().await?;
    Ok((
        body["token"].as_str().context("no token")?.to_owned(),
        DeviceId::new(body["device_id"].as_str().context("no device id")?)?,
    ))
}

/// Who a client is: its session token (Lots only), its staff id and its device id, which
/// sign the changes it makes.
#[derive(Debug, Clone)]
pub struct Account {
    /// The bearer token of `/sync`.
    pub token: Option<String>,
    /// The staff member.
    pub staff: StaffId,
    /// The device.
    pub device: DeviceId,
}

/// A process's resident memory, in bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// Resident now (`VmRSS`).
    pub resident: u64,
    /// The most it was ever resident (`VmHWM`).
    pub peak: u64,
}

impl Memory {
    /// Reads `/proc/<pid>/status`.
    pub fn of(pid: u32) -> Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading the memory of process {pid}"))?;
        let field = |name: &str| -> Result<u64> {
            let line = status
                .lines()
                .find(|line| line.starts_with(name))
                .with_context(|| format!("/proc/{pid}/status has no {name}"))?;
            let kilobytes: u64 = line
                .split_whitespace()
                .nth(1)
                .context("a number")?
                .parse()?;
            Ok(kilobytes * 1024)
        };
        Ok(Self {
            resident: field("VmRSS:")?,
            peak: field("VmHWM:")?,
        })
    }
}

/// User plus system CPU time from a `/proc/…/stat` file.
pub fn cpu_time(stat_path: &str) -> Result<Duration> {
    let stat =
        std::fs::read_to_string(stat_path).with_context(|| format!("reading {stat_path}"))?;
    // The command name (field 2) may hold spaces; the fields after its ')' are plain.
    let rest = &stat[stat.rfind(')').context("a stat line")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |index: usize| -> Result<u64> {
        Ok(fields
            .get(index)
            .context("a short stat line")?
            .parse::<u64>()?)
    };
    // utime and stime are fields 14 and 15, i.e. 12 and 13 after the state field (3).
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(
        total as f64 / clock_ticks_per_second(),
    ))
}

/// `getconf CLK_TCK`, read once; 100 where it cannot be asked.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|output| String::from_utf8(output.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The open-file limit of this process (soft), from `/proc/self/limits`.
pub fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Where the Node packages are, relative to this crate.
pub fn default_node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

//! Helpers of the cross-crate tests in `tests/tests/`: a real server on a free loopback port
//! with a throwaway data directory, and a WebSocket sync client that drives core's sans-IO
//! peer — the same peer the web app runs — against it.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use lots_core::{
    ConnectionId, DocumentId, Input, Output, PeerConfig, PeerId, Role, SyncPeer, Timestamp,
};
use lots_server::config::Config;
use lots_server::{AppState, app, demo};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// A throwaway directory, deleted when dropped.
pub use tempfile::TempDir;

/// A server running on 127.0.0.1 for one test; it stops when the test's runtime ends.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, to reach storage directly.
    pub state: AppState,
    /// Its data directory (kept alive while the server is).
    pub data: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with demo data: `households` per staff member.
    pub async fn start(households: usize) -> Result<Self> {
        let data = tempfile::tempdir()?;
        Self::start_in(data, households).await
    }

    /// Starts a server on an existing data directory (to test restarts).
    pub async fn start_in(data: tempfile::TempDir, households: usize) -> Result<Self> {
        Self::start_with(data, households, 100_000).await
    }

    /// Starts a server that closes connections sending more than `messages_per_second`.
    pub async fn start_with(
        data: tempfile::TempDir,
        households: usize,
        messages_per_second: u32,
    ) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // Through the command line's parser, so every option not named here has its default.
        let config = <Config as lots_server::reexports::clap::Parser>::try_parse_from([
            "lots-server".to_owned(),
            format!("--listen={addr}"),
            format!("--data-dir={}", data.path().display()),
            format!("--dist={}", data.path().join("no-dist").display()),
            format!("--public-origin=http://{addr}"),
            format!("--max-message-bytes={}", 1024 * 1024),
            format!("--messages-per-second={messages_per_second}"),
            // Two hub partitions whatever the machine's cores, so every test crosses them.
            "--partitions=2".to_owned(),
            "--demo".to_owned(),
            format!(
                "--demo-households={}",
                u16::try_from(households).unwrap_or(u16::MAX)
            ),
        ])?;
        let state = AppState::open(config).await?;
        demo::seed_if_empty(
            &state.store,
            &state.hub,
            demo::DemoSize::households(households),
        )
        .await?;
        let router = app(state.clone());
        tokio::spawn(async move { axum_serve(listener, router).await });
        Ok(Self { addr, state, data })
    }
}

/// A JSON request to `server` with a bearer token: its status and body (`null` when it has
/// none).
pub async fn call(
    server: &impl Api,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|error| panic!("{path}: {error}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// A server as its own operating-system process (the built `lots-server` binary), for
/// tests that kill it or run several: it binds 127.0.0.1 only and is killed when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    /// The loopback port it listens on.
    pub port: u16,
    /// Its data directory when the test named none (a PostgreSQL server still keeps its
    /// audit signing key and checkpoints there), removed with it.
    _scratch: Option<tempfile::TempDir>,
}

/// The debug build of the server, built first when it is missing.
pub fn server_binary() -> std::path::PathBuf {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let binary = target.join("debug/lots-server");
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "lots-server"])
            .current_dir(&root)
            .status();
        assert!(
            status.is_ok_and(|status| status.success()),
            "building the server failed"
        );
    }
    binary
}

impl ServerProcess {
    /// Starts the server binary with demo data and `args` (its storage: `--data-dir` or
    /// `--database-url`), and waits until it accepts connections.
    pub async fn start(args: &[&str]) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::env::var("LOTS_TEST_SERVER_LOG").ok();
        let scratch = if args.contains(&"--data-dir") {
            None
        } else {
            Some(tempfile::tempdir()?)
        };
        let child = std::process::Command::new(server_binary())
            .arg("--demo")
            .args(args)
            .args(
                scratch
                    .iter()
                    .flat_map(|dir| [std::ffi::OsStr::new("--data-dir"), dir.path().as_os_str()]),
            )
            .args(["--dist", "/nonexistent"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-origin", &format!("http://127.0.0.1:{port}")])
            .args(["--messages-per-second", "100000"])
            // Two hub partitions whatever the machine's cores, unless the test asks otherwise.
            .env("LOTS_PARTITIONS", "2")
            // `LOTS_TEST_SERVER_LOG=lots_server=debug` shows what the server did (its log
            // goes to standard output); otherwise only its warnings and errors.
            .env("RUST_LOG", log.as_deref().unwrap_or("warn"))
            .stdout(if log.is_some() {
                std::process::Stdio::inherit()
            } else {
                std::process::Stdio::null()
            })
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("starting the server binary")?;
        let mut server = Self {
            child,
            port,
            _scratch: scratch,
        };
        for _ in 0..600 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited before listening: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not start listening within 30 s")
    }

    /// `host:port`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kills it with SIGKILL: no shutdown code runs.
    pub fn kill(mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A demo user's password.
pub fn demo_password(username: &str) -> Option<&'static str> {
    demo::DEMO_LOGINS
        .iter()
        .find(|login| login.username == username)
        .map(|login| login.password)
}

/// The JSON API of a running server, in-process or not.
pub trait Api {
    /// `http://host:port/path`.
    fn url(&self, path: &str) -> String;

    /// Signs in a demo user; returns the session token.
    fn login(&self, username: &str) -> impl Future<Output = Result<String>> {
        let password = demo::DEMO_LOGINS
            .iter()
            .find(|login| login.username == username)
            .map(|login| login.password);
        async move {
            let password = password.context("not a demo user")?;
            self.login_with(username, password).await
        }
    }

    /// Signs in with a username and password; returns the session token.
    fn login_with(&self, username: &str, password: &str) -> impl Future<Output = Result<String>> {
        let url = self.url("/api/login");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .json(&serde_json::json!({ "username": username, "password": password, "device_label": "test" }))
                .send()
                .await?;
            if !response.status().is_success() {
                bail!("login failed: {}", response.status());
            }
            let body: serde_json::Value = response.json().await?;
            Ok(body["token"].as_str().context("no token")?.to_owned())
        }
    }

    /// The caseload's document ids, as the API lists them for this token.
    fn caseload(&self, token: &str) -> impl Future<Output = Result<Vec<DocumentId>>> {
        let request = reqwest::Client::new()
            .get(self.url("/api/caseload"))
            .bearer_auth(token);
        async move {
            let body: serde_json::Value = request.send().await?.json().await?;
            body.as_array()
                .context("caseload is a list")?
                .iter()
                .map(|entry| Ok(entry["document_id"].as_str().context("id")?.parse()?))
                .collect()
        }
    }

    /// The device a session token was issued to.
    fn device_of(&self, token: &str) -> impl Future<Output = Result<String>> {
        let request = reqwest::Client::new()
            .get(self.url("/api/me"))
            .bearer_auth(token);
        async move {
            let me: serde_json::Value = request.send().await?.json().await?;
            Ok(me["device_id"].as_str().context("no device id")?.to_owned())
        }
    }

    /// Signs `username` in and connects their phone (`peer_id`), holding the first
    /// household of their caseload: the token, the household and the phone.
    fn phone_with_first_household(
        &self,
        username: &str,
        peer_id: &str,
    ) -> impl Future<Output = Result<(String, DocumentId, SyncClient)>> {
        let sync = self.url("/sync").replacen("http://", "ws://", 1);
        async move {
            let token = self.login(username).await?;
            let document = *self
                .caseload(&token)
                .await?
                .first()
                .context("the caseload is empty")?;
            let mut phone = SyncClient::connect_url(&sync, Some(&token), peer_id).await?;
            anyhow::ensure!(phone.fetch(document).await?, "the household did not arrive");
            Ok((token, document, phone))
        }
    }

    /// Revokes a device with an administrator's token; returns the response status.
    fn revoke(&self, admin_token: &str, device: &str) -> impl Future<Output = Result<u16>> {
        let request = reqwest::Client::new()
            .post(self.url(&format!("/api/devices/{device}/revoke")))
            .bearer_auth(admin_token);
        async move { Ok(request.send().await?.status().as_u16()) }
    }
}

impl Api for TestServer {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Api for ServerProcess {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    router: lots_server::reexports::axum::Router,
) {
    // As `lots-server` serves: with the client's address (sign-in throttling by address).
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let _ = lots_server::reexports::axum::serve(listener, service).await;
}

/// How a sync socket ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The close code, if the server sent a close frame.
    pub code: Option<u16>,
    /// Its reason.
    pub reason: String,
}

impl Closed {
    /// How a close frame (or its absence) ended the socket.
    fn by(frame: Option<tokio_tungstenite::tungstenite::protocol::CloseFrame>) -> Self {
        Self {
            code: frame.as_ref().map(|frame| u16::from(frame.code)),
            reason: frame
                .map(|frame| frame.reason.to_string())
                .unwrap_or_default(),
        }
    }
}

/// A sync client: core's peer in the client role over a real WebSocket.
pub struct SyncClient {
    /// The peer.
    pub peer: SyncPeer,
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    /// Everything the peer reported other than sends.
    pub events: Vec<Output>,
    /// Set once the server closed the socket.
    pub closed: Option<Closed>,
    /// The device the session was issued to: an honest client signs its changes with it.
    pub device: String,
}

const CONNECTION: ConnectionId = ConnectionId(1);

fn now() -> Timestamp {
    lots_server::sync::hub::now()
}

impl SyncClient {
    /// Opens `/sync` with a bearer token and completes the handshake.
    pub async fn connect(server: &TestServer, token: &str, peer_id: &str) -> Result<Self> {
        Self::connect_to(&server.addr.to_string(), token, peer_id).await
    }

    /// Like [`SyncClient::connect`], to a server at `host:port`.
    pub async fn connect_to(address: &str, token: &str, peer_id: &str) -> Result<Self> {
        Self::connect_url(&format!("ws://{address}/sync"), Some(token), peer_id).await
    }

    /// Opens the sync WebSocket at `url` — with a bearer token when one is given, without
    /// for servers that ask for none — and completes the handshake.
    pub async fn connect_url(url: &str, token: Option<&str>, peer_id: &str) -> Result<Self> {
        let peer_id = PeerId::new(peer_id).context("peer id")?;
        Self::connect_peer(
            url,
            token,
            SyncPeer::new(PeerConfig::new(peer_id, Role::Client)),
        )
        .await
    }

    /// Like [`SyncClient::connect_url`] with a peer that holds documents already (a device
    /// back from a night offline): it offers them all once the handshake is done.
    pub async fn connect_peer(url: &str, token: Option<&str>, peer: SyncPeer) -> Result<Self> {
        let peer_id = peer.peer_id().as_str().to_owned();
        let mut request = url.into_client_request()?;
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
        }
        let device = match token {
            Some(token) => {
                let me = url
                    .replacen("ws://", "http://", 1)
                    .replacen("/sync", "/api/me", 1);
                let me: serde_json::Value = reqwest::Client::new()
                    .get(me)
                    .bearer_auth(token)
                    .send()
                    .await?
                    .json()
                    .await?;
                me["device_id"].as_str().context("no device id")?.to_owned()
            }
            None => format!("d-{peer_id}"),
        };
        // Each message is sent as it is made, as a phone's browser does (no Nagle delay).
        let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
        let mut client = Self {
            peer,
            socket,
            events: Vec::new(),
            closed: None,
            device,
        };
        let outputs = client.peer.handle(
            now(),
            Input::Connected {
                connection: CONNECTION,
            },
        );
        client.carry_out(outputs).await?;
        // A phone waits this long for a busy server's answer (a city's morning) too.
        client
            .pump_until(Duration::from_secs(30), |events| {
                events.iter().any(|e| matches!(e, Output::PeerReady { .. }))
            })
            .await?;
        Ok(client)
    }

    /// Records a held visit on `document` as staff member `staff` and sends the change; the
    /// caller waits for whatever answer it needs.
    pub async fn record_visit(
        &mut self,
        document: DocumentId,
        visit: &lots_core::VisitId,
        staff: &str,
    ) -> Result<()> {
        let now = now();
        let staff = lots_core::StaffId::new(staff)?;
        let device = lots_core::DeviceId::new(self.device.clone())?;
        let doc = self
            .peer
            .document_mut(&document)
            .context("the household is not here")?;
        let mut household = lots_core::HouseholdDoc::new(doc);
        let signature = lots_core::Signature::new(staff.clone(), device, now);
        if household.profile()?.status == lots_core::CaseStatus::Closed {
            household.reopen_case(&signature)?;
        }
        household.record_visit(
            &signature,
            visit,
            lots_core::VisitRecord {
                held_at: now.plus_minutes(-30),
                staff,
                present: lots_core::Set::new(),
                interpreter: None,
                duration_minutes: 30,
                topics: lots_core::Set::new(),
                notes: format!("Besök {visit}"),
            },
        )?;
        self.input(Input::LocalChange { document }).await
    }

    /// A signature as this client's user on its device, now.
    pub fn signature(&self, staff: &str) -> Result<lots_core::Signature> {
        Ok(lots_core::Signature::new(
            lots_core::StaffId::new(staff)?,
            lots_core::DeviceId::new(self.device.clone())?,
            now(),
        ))
    }

    /// Sends raw bytes, bypassing the peer (for hostile tests).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.socket.send(Message::Binary(bytes.into())).await?;
        Ok(())
    }

    /// Feeds an input to the peer and sends what it says.
    pub async fn input(&mut self, input: Input) -> Result<()> {
        let outputs = self.peer.handle(now(), input);
        self.carry_out(outputs).await
    }

    async fn carry_out(&mut self, outputs: Vec<Output>) -> Result<()> {
        for output in outputs {
            match output {
                Output::Send { bytes, .. } => {
                    self.socket.send(Message::Binary(bytes.into())).await?
                }
                other => self.events.push(other),
            }
        }
        Ok(())
    }

    /// Waits for the server's next protocol message and returns its bytes, to pass to
    /// [`SyncClient::receive`]; `None` once the socket has ended ([`SyncClient::closed`] says
    /// how). Cancel-safe: it only reads, so it can race a timer in `tokio::select!` and a
    /// message is never lost when the timer wins.
    pub async fn next_message(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.socket.next().await {
                Some(Ok(Message::Binary(bytes))) => return Some(bytes.to_vec()),
                Some(Ok(Message::Close(frame))) => {
                    self.closed = Some(Closed::by(frame));
                    return None;
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    self.closed.get_or_insert(Closed {
                        code: None,
                        reason: format!("socket error: {error}"),
                    });
                    return None;
                }
                None => {
                    self.closed.get_or_insert(Closed {
                        code: None,
                        reason: "the socket ended".into(),
                    });
                    return None;
                }
            }
        }
    }

    /// Hands a message from [`SyncClient::next_message`] to the peer and sends its answers.
    pub async fn receive(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.input(Input::Received {
            connection: CONNECTION,
            bytes,
        })
        .await
    }

    /// Receives and handles messages until `done(events)` holds or `timeout` passes.
    pub async fn pump_until(
        &mut self,
        timeout: Duration,
        done: impl Fn(&[Output]) -> bool,
    ) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.events) {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .context("timed out waiting for the server")?;
            match next {
                Some(Ok(Message::Binary(bytes))) => {
                    self.input(Input::Received {
                        connection: CONNECTION,
                        bytes: bytes.to_vec(),
                    })
                    .await?;
                }
                Some(Ok(Message::Close(frame))) => {
                    self.closed = Some(Closed::by(frame));
                    bail!("the server closed the socket: {:?}", self.closed);
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => bail!("socket error: {error}"),
                None => bail!("the socket ended"),
            }
        }
        Ok(())
    }

    /// Receives until the server goes quiet for `quiet`.
    pub async fn settle(&mut self, quiet: Duration) -> Result<()> {
        loop {
            match tokio::time::timeout(quiet, self.socket.next()).await {
                Err(_) => return Ok(()),
                Ok(Some(Ok(Message::Binary(bytes)))) => {
                    self.input(Input::Received {
                        connection: CONNECTION,
                        bytes: bytes.to_vec(),
                    })
                    .await?;
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    self.closed = Some(Closed::by(frame));
                    return Ok(());
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => {
                    self.closed.get_or_insert(Closed {
                        code: None,
                        reason: String::new(),
                    });
                    return Ok(());
                }
            }
        }
    }

    /// One probe as fast as the round trip allows: sends `input` and waits for the server to
    /// either deliver `document` (returns true) or call it unavailable (returns false).
    pub async fn probe(&mut self, document: DocumentId, input: Input) -> Result<bool> {
        self.events.clear();
        self.input(input).await?;
        self.pump_until(Duration::from_secs(10), |events| {
            events.iter().any(|event| match event {
                Output::DocumentUnavailable { document: d }
                | Output::DocumentChanged { document: d } => *d == document,
                _ => false,
            })
        })
        .await?;
        Ok(self.events.iter().any(
            |event| matches!(event, Output::DocumentChanged { document: d } if *d == document),
        ))
    }

    /// Asks for a document and waits for it, or for the answer that it is unavailable.
    pub async fn fetch(&mut self, document: DocumentId) -> Result<bool> {
        self.input(Input::Want { document }).await?;
        self.pump_until(Duration::from_secs(10), |events| {
            events.iter().any(|event| match event {
                Output::DocumentUnavailable { document: d } => *d == document,
                Output::DocumentChanged { document: d } => *d == document,
                _ => false,
            })
        })
        .await?;
        self.settle(Duration::from_millis(100)).await?;
        Ok(self
            .peer
            .document(&document)
            .is_some_and(|doc| !doc.get_heads().is_empty()))
    }
}

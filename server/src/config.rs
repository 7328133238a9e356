//! Configuration, by flag or environment variable; `--help` documents every option.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The Lots sync server.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    version,
    about = "The Lots sync server: automerge-repo over WebSocket, the JSON API and the web app"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LOTS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the embedded SQLite database (`lots.sqlite3`).
    #[arg(long, env = "LOTS_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Directory of the built web app to serve.
    #[arg(long, env = "LOTS_DIST", default_value = "dist")]
    pub dist: PathBuf,

    /// The origin browsers reach the server at; WebSocket requests from other origins are
    /// refused, and cookies are marked Secure when it is https.
    #[arg(
        long,
        env = "LOTS_PUBLIC_ORIGIN",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_origin: String,

    /// The largest sync message accepted, in bytes; a larger one closes its connection.
    #[arg(long, env = "LOTS_MAX_MESSAGE_BYTES", default_value_t = lots_core::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,

    /// The most sync messages one connection may send per second.
    #[arg(long, env = "LOTS_MESSAGES_PER_SECOND", default_value_t = 500)]
    pub messages_per_second: u32,

    /// On first start (no users yet), create synthetic demo data and demo logins.
    #[arg(long, env = "LOTS_DEMO")]
    pub demo: bool,

    /// The server's peer id in the sync protocol.
    #[arg(long, env = "LOTS_PEER_ID", default_value = "lots-server")]
    pub peer_id: String,
}

impl Config {
    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("lots.sqlite3")
    }
}

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
    /// What to do; serving when no command is given.
    #[command(subcommand)]
    pub command: Option<crate::setup::Command>,

    /// Address to listen on.
    #[arg(long, env = "LOTS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the embedded SQLite database (`lots.sqlite3`).
    #[arg(long, env = "LOTS_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// A PostgreSQL database to use instead of the embedded SQLite
    /// (`postgres://user:password@host/database`); several server processes may share one.
    #[arg(long, env = "LOTS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

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

    /// With --demo: households per field worker (benchmarks use larger caseloads).
    #[arg(long, env = "LOTS_DEMO_HOUSEHOLDS", default_value_t = 20,
          value_parser = clap::value_parser!(u16).range(1..=5_000))]
    pub demo_households: u16,

    /// With --demo: give every household exactly this many weekly visits (by default each
    /// has had a visit a week or so since its case opened, within the last two years).
    #[arg(long, env = "LOTS_DEMO_VISITS", value_parser = clap::value_parser!(u16).range(1..=1_000))]
    pub demo_visits: Option<u16>,

    /// Refused changes a device may have waiting for a supervisor's decision; past this its
    /// sync connections are refused until a supervisor has decided.
    #[arg(long, env = "LOTS_QUARANTINE_QUOTA", default_value_t = 20)]
    pub quarantine_quota: i64,

    /// The most sync connections one user may have open at once.
    #[arg(long, env = "LOTS_SOCKETS_PER_USER", default_value_t = 8)]
    pub sockets_per_user: usize,

    /// Messages waiting to be sent to one socket; a client that lets more pile up (it does
    /// not read) is dropped.
    #[arg(long, env = "LOTS_SOCKET_QUEUE", default_value_t = 1024)]
    pub socket_queue: usize,

    /// A sync connection that has sent nothing (not even a pong to the server's pings) for
    /// this many seconds is closed.
    #[arg(long, env = "LOTS_IDLE_SECONDS", default_value_t = 90)]
    pub idle_seconds: u64,

    /// A session unused for this many minutes ends (signing in again keeps the device and
    /// what it recorded). The default, 36 hours, is a working day offline and the night
    /// after: a phone that synced last as the day's visits began, in basements and
    /// stairwells without coverage, still syncs the next morning without a sign-in; one left
    /// over a weekend signs in again on Monday.
    #[arg(long, env = "LOTS_SESSION_IDLE_MINUTES", default_value_t = 36 * 60)]
    pub session_idle_minutes: u32,

    /// A session ends this many days after its sign-in, however much it is used.
    #[arg(long, env = "LOTS_SESSION_LIFETIME_DAYS", default_value_t = 30)]
    pub session_lifetime_days: u32,

    /// A session token older than this many minutes is replaced by a new one on its next
    /// use (bearer clients get it in the `Lots-Session-Token` header, browsers a new cookie).
    #[arg(long, env = "LOTS_SESSION_ROTATE_MINUTES", default_value_t = 15)]
    pub session_rotate_minutes: u32,

    /// A replaced session token stays valid for this many seconds after its successor's
    /// first use, so that requests already under way with it do not fail.
    #[arg(long, env = "LOTS_SESSION_GRACE_SECONDS", default_value_t = 120)]
    pub session_grace_seconds: u32,

    /// For `cargo xtask bench-server` only: store changes without vetting them, to measure
    /// what vetting costs. Refused with an https origin.
    #[arg(long, hide = true)]
    pub unvetted_for_benchmark: bool,

    /// The server's peer id in the sync protocol.
    #[arg(long, env = "LOTS_PEER_ID", default_value = "lots-server")]
    pub peer_id: String,
}

impl Config {
    /// Checks what clap cannot: the origin's form and the limits' ranges.
    pub fn validate(&self) -> anyhow::Result<()> {
        let origin = &self.public_origin;
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or_else(|| {
                anyhow::anyhow!("--public-origin {origin:?} must start with http:// or https://")
            })?;
        if rest.is_empty() || rest.contains('/') {
            anyhow::bail!(
                "--public-origin {origin:?} must be scheme://host[:port], with no path or trailing slash"
            );
        }
        if self.max_message_bytes < 1024 {
            anyhow::bail!(
                "--max-message-bytes {} is too small to hold one sync message",
                self.max_message_bytes
            );
        }
        if self.messages_per_second == 0 {
            anyhow::bail!("--messages-per-second must be at least 1");
        }
        if self.sockets_per_user == 0 || self.socket_queue < 16 || self.idle_seconds < 5 {
            anyhow::bail!(
                "--sockets-per-user must be at least 1, --socket-queue at least 16 and --idle-seconds at least 5"
            );
        }
        if self.session_idle_minutes == 0
            || self.session_lifetime_days == 0
            || self.session_rotate_minutes == 0
            || self.session_grace_seconds == 0
        {
            anyhow::bail!(
                "--session-idle-minutes, --session-lifetime-days, --session-rotate-minutes and --session-grace-seconds must each be at least 1"
            );
        }
        if i64::from(self.session_idle_minutes) > i64::from(self.session_lifetime_days) * 24 * 60 {
            anyhow::bail!(
                "--session-idle-minutes {} is longer than the session lifetime ({} days)",
                self.session_idle_minutes,
                self.session_lifetime_days
            );
        }
        if self.demo && origin.starts_with("https://") {
            anyhow::bail!(
                "--demo creates logins whose passwords are public; it is refused behind https (create an administrator with `lots-server create-admin`)"
            );
        }
        if self.unvetted_for_benchmark && origin.starts_with("https://") {
            anyhow::bail!(
                "--unvetted-for-benchmark turns off the checks of every change; it is refused behind https"
            );
        }
        Ok(())
    }

    /// How long sessions live, in the store's terms.
    pub fn session_rules(&self) -> crate::store::SessionRules {
        crate::store::SessionRules {
            idle_ms: i64::from(self.session_idle_minutes) * 60_000,
            rotate_after_ms: i64::from(self.session_rotate_minutes) * 60_000,
            grace_ms: i64::from(self.session_grace_seconds) * 1000,
        }
    }

    /// A session's absolute lifetime, in milliseconds.
    pub fn session_lifetime_ms(&self) -> i64 {
        i64::from(self.session_lifetime_days) * 86_400_000
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("lots.sqlite3")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn origins_and_limits_are_checked() {
        let parse = |args: &[&str]| {
            Config::try_parse_from(std::iter::once("lots-server").chain(args.iter().copied()))
        };
        assert!(parse(&[]).unwrap().validate().is_ok());
        let error = parse(&["--public-origin", "lots.example/"])
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("must start with http"));
        let error = parse(&["--public-origin", "https://lots.example/"])
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(error.to_string().contains("no path"));
        assert!(
            parse(&["--messages-per-second", "0"])
                .unwrap()
                .validate()
                .is_err()
        );
        assert!(parse(&["--listen", "not an address"]).is_err());
        let idle = parse(&["--session-idle-minutes", "0"])
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(idle.to_string().contains("at least 1"), "{idle}");
        let idle = parse(&[
            "--session-idle-minutes",
            "2000",
            "--session-lifetime-days",
            "1",
        ])
        .unwrap()
        .validate()
        .unwrap_err();
        assert!(
            idle.to_string()
                .contains("longer than the session lifetime")
        );
        let demo = parse(&["--demo", "--public-origin", "https://lots.example"])
            .unwrap()
            .validate()
            .unwrap_err();
        assert!(demo.to_string().contains("refused behind https"));
        let setup = parse(&[
            "--data-dir",
            "x",
            "add-district",
            "--id",
            "district-a",
            "--name",
            "A",
        ])
        .unwrap();
        assert!(matches!(
            setup.command,
            Some(crate::setup::Command::AddDistrict { .. })
        ));
    }
}

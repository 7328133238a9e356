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

    /// The Ed25519 key that signs the audit log's checkpoints, kept outside the database
    /// (made on first start when missing); by default `audit-signing.key` in the data
    /// directory. Keep a copy of its public key (in the server's log at first start) off the host.
    #[arg(long, env = "LOTS_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,

    /// Where signed checkpoints of the audit log are appended, one JSON line each, to be
    /// shipped off the host; by default `audit-checkpoints.jsonl` in the data directory.
    #[arg(long, env = "LOTS_AUDIT_CHECKPOINTS")]
    pub audit_checkpoints: Option<PathBuf>,

    /// How often a checkpoint is made, in seconds (at most a minute).
    #[arg(long, env = "LOTS_AUDIT_CHECKPOINT_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub audit_checkpoint_seconds: u64,

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

    /// Gallring: whole years after a household's last entry (by the server's clock) before
    /// it may be removed; SoL has five.
    #[arg(long, env = "LOTS_RETENTION_YEARS", default_value_t = lots_core::DEFAULT_RETENTION_YEARS,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    pub retention_years: u16,

    /// Gallring: keep households with a member born on the 5th, 15th or 25th of a month (for
    /// research), as most municipalities' document management plans have it.
    #[arg(long, env = "LOTS_RETENTION_KEEP_RESEARCH_BIRTH_DAYS", default_value_t = true, action = clap::ArgAction::Set)]
    pub retention_keep_research_birth_days: bool,

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

    /// How much memory, in megabytes, the households kept in memory may take (estimated from
    /// their stored size). Past it the least recently used leave memory, to be read from disk
    /// again when next used; a household with changes not yet on disk always stays.
    #[arg(long, env = "LOTS_DOCUMENT_MEMORY_MB", default_value_t = 256)]
    pub document_memory_mb: usize,

    /// How many hub tasks share the households' sync work, each owning its share of them
    /// and committing on its own. By default one per core on PostgreSQL, and one on SQLite,
    /// which takes one writer at a time. The memory budget is split between them.
    #[arg(long, env = "LOTS_PARTITIONS")]
    pub partitions: Option<usize>,

    /// Where to serve Prometheus metrics (`GET /metrics`), on a listener of its own; off
    /// unless given. Bind it to loopback or an internal network: never the internet.
    #[arg(long, env = "LOTS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

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

    /// Sign-in with the organisation's identity provider (OpenID Connect): its issuer URL
    /// (`https://login.microsoftonline.com/<tenant>/v2.0`). The provider redirects back to
    /// `<public origin>/auth/oidc/callback`.
    #[arg(long, env = "LOTS_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret_file"])]
    pub oidc_issuer: Option<String>,

    /// With --oidc-issuer: Lots' client id at the provider.
    #[arg(long, env = "LOTS_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,

    /// With --oidc-issuer: a file whose first line is Lots' client secret at the provider
    /// (a file, never the command line, where `ps` and shell history would keep it).
    #[arg(long, env = "LOTS_OIDC_CLIENT_SECRET_FILE", requires = "oidc_issuer")]
    pub oidc_client_secret_file: Option<PathBuf>,

    /// With --oidc-issuer: the provider's name on the sign-in button ("Sign in with
    /// Stockholms stad").
    #[arg(long, env = "LOTS_OIDC_NAME", default_value = "your organisation")]
    pub oidc_name: String,

    /// Whether people may sign in with a username and password; `--password-sign-in=false`
    /// leaves only the identity provider (it needs --oidc-issuer).
    #[arg(long, env = "LOTS_PASSWORD_SIGN_IN", default_value_t = true, action = clap::ArgAction::Set)]
    pub password_sign_in: bool,
}

impl Config {
    /// How many hub partitions to run: as asked; by default one per core on PostgreSQL and
    /// one on SQLite. SQLite commits one transaction at a time, so a second partition's
    /// commits wait for the first's: in the city benchmark two partitions on SQLite doubled
    /// the caseload call's p99 during the morning storm (BENCHMARKS.md).
    pub fn partitions(&self) -> usize {
        self.partitions.unwrap_or_else(|| match self.database_url {
            Some(_) => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            None => 1,
        })
    }

    /// The rule gallring follows.
    pub fn retention_rule(&self) -> lots_core::RetentionRule {
        lots_core::RetentionRule {
            years: self.retention_years,
            keep_research_birth_days: self.retention_keep_research_birth_days,
        }
    }

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
        if self.document_memory_mb == 0 {
            anyhow::bail!("--document-memory-mb must be at least 1");
        }
        if self
            .partitions
            .is_some_and(|partitions| !(1..=64).contains(&partitions))
        {
            anyhow::bail!("--partitions must be from 1 to 64");
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
        if !self.password_sign_in && self.oidc_issuer.is_none() {
            anyhow::bail!(
                "--password-sign-in=false leaves no way to sign in without --oidc-issuer"
            );
        }
        if let Some(issuer) = &self.oidc_issuer {
            crate::oidc::check_issuer(issuer)?;
            let name = self.oidc_name.trim();
            if name.is_empty() || name.chars().count() > 60 {
                anyhow::bail!("--oidc-name must be 1–60 characters");
            }
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

    /// Where the audit log's checkpoints are signed and written.
    pub fn checkpointing(&self) -> crate::checkpoint::Checkpointing {
        crate::checkpoint::Checkpointing {
            key_file: self
                .audit_key_file
                .clone()
                .unwrap_or_else(|| self.data_dir.join("audit-signing.key")),
            file: self
                .audit_checkpoints
                .clone()
                .unwrap_or_else(|| self.data_dir.join("audit-checkpoints.jsonl")),
            every: std::time::Duration::from_secs(self.audit_checkpoint_seconds),
        }
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

    #[test]
    fn the_identity_provider_is_configured_whole() {
        let parse = |args: &[&str]| {
            Config::try_parse_from(std::iter::once("lots-server").chain(args.iter().copied()))
        };
        let whole = [
            "--oidc-issuer",
            "https://login.example/tenant/v2.0",
            "--oidc-client-id",
            "lots",
            "--oidc-client-secret-file",
            "/run/secrets/oidc",
        ];
        let config = parse(&whole).unwrap();
        assert!(config.validate().is_ok());
        assert!(config.password_sign_in);
        // Half a configuration is refused by clap.
        assert!(parse(&whole[..4]).is_err());
        assert!(parse(&["--oidc-client-id", "lots"]).is_err());
        // The secret is never a flag of its own.
        assert!(parse(&[&whole[..], &["--oidc-client-secret", "s"]].concat()).is_err());
        let off = parse(&[&whole[..], &["--password-sign-in=false"]].concat()).unwrap();
        assert!(!off.password_sign_in);
        assert!(off.validate().is_ok());
        let nobody = parse(&["--password-sign-in=false"]).unwrap().validate();
        assert!(
            nobody
                .unwrap_err()
                .to_string()
                .contains("no way to sign in")
        );
        let plain = parse(&[
            "--oidc-issuer",
            "http://login.example",
            "--oidc-client-id",
            "x",
            "--oidc-client-secret-file",
            "f",
        ])
        .unwrap()
        .validate()
        .unwrap_err();
        assert!(plain.to_string().contains("https"), "{plain}");
    }
}

//! A throwaway PostgreSQL for the server's tests: the storage suite and the scale-out test
//! run against it as well as against SQLite.
//!
//! `LOTS_TEST_POSTGRES_URL` names a server to use instead (an existing one on 127.0.0.1, say,
//! given as `postgres://user:password@127.0.0.1:5432/postgres`: each test creates a database
//! of its own there). Otherwise Debian's `postgresql` is installed when missing, and a new
//! cluster is made in a temporary directory, started on a free loopback port, and stopped and
//! deleted when the tests end — however they end.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::tools::{apt_install, is_root};

/// The database server the tests use; a cluster this started stops when it is dropped.
pub struct TestPostgres {
    /// The URL of its `postgres` database, for creating test databases.
    pub url: String,
    cluster: Option<Cluster>,
}

struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
}

impl TestPostgres {
    /// Finds or starts the server.
    pub fn start(sh: &Shell) -> Result<Self> {
        if let Ok(url) = std::env::var("LOTS_TEST_POSTGRES_URL")
            && !url.is_empty()
        {
            crate::tools::step("using the PostgreSQL at LOTS_TEST_POSTGRES_URL");
            return Ok(Self { url, cluster: None });
        }
        let bin = match installed_bin() {
            Some(bin) => bin,
            None => {
                crate::tools::step("installing Debian's postgresql for the server's tests");
                apt_install(sh, &["postgresql"])
                    .context("installing postgresql; or set LOTS_TEST_POSTGRES_URL")?;
                installed_bin().context("postgresql was installed but initdb is not found")?
            }
        };
        // initdb refuses to run as root; Debian's package made the `postgres` user for it.
        let as_postgres = is_root(sh);
        let dir = std::env::temp_dir().join(format!("lots-test-postgres-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let cluster = Cluster {
            bin,
            dir,
            as_postgres,
        };
        if as_postgres {
            let dir = &cluster.dir;
            cmd!(sh, "chown postgres: {dir}").quiet().run()?;
        }
        let port = free_port()?;
        let data = cluster.dir.join("data");
        let log = cluster.dir.join("log");
        cluster
            .run(
                sh,
                "initdb",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-U".as_ref(),
                    "lots".as_ref(),
                    "--auth=trust".as_ref(),
                    "-E".as_ref(),
                    "UTF8".as_ref(),
                    "--no-sync".as_ref(),
                ],
            )
            .context("initdb failed")?;
        let options = format!(
            "-h 127.0.0.1 -p {port} -k {} -c max_connections=400",
            cluster.dir.display()
        );
        crate::tools::step(&format!(
            "starting a throwaway PostgreSQL on 127.0.0.1:{port}"
        ));
        let started = cluster.run(
            sh,
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        );
        if let Err(error) = started {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("PostgreSQL did not start: {error}\n{log}");
        }
        Ok(Self {
            url: format!("postgres://lots@127.0.0.1:{port}/postgres"),
            cluster: Some(cluster),
        })
    }
}

impl Cluster {
    fn run(&self, sh: &Shell, program: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
        let program = self.bin.join(program);
        if self.as_postgres {
            cmd!(sh, "runuser -u postgres -- {program} {args...}")
                .quiet()
                .run()?;
        } else {
            cmd!(sh, "{program} {args...}").quiet().run()?;
        }
        Ok(())
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let Some(cluster) = &self.cluster else { return };
        let data = cluster.dir.join("data");
        if let Ok(sh) = Shell::new() {
            let _ = cluster.run(
                &sh,
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "stop".as_ref(),
                ],
            );
        }
        let _ = std::fs::remove_dir_all(&cluster.dir);
    }
}

/// The newest installed PostgreSQL's program directory (Debian keeps one per version).
fn installed_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

//! `bench-server`: the sync server under load, against the reference automerge-repo server
//! in the same run. `cargo xtask bench-server` builds it and runs it; see BENCHMARKS.md.
//!
//! For each level (a number of clients) and each server, it starts the server as a child
//! process on a fresh data directory, signs the clients in, lets every pair of phones sync its
//! caseload, then has every client record visits at a fixed rate and measures how many changes
//! reach the partner phone per second, how long each takes, and the server's memory and CPU.

mod city;
mod hostile;
mod load;
mod servers;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use load::{Report, Settings, Templates};
use servers::{Kind, Server};

const HELP: &str = "\
bench-server: the Lots sync server under load, against the reference automerge-repo server

Options:
  --clients LIST        client counts, comma-separated (default 100,500,1000)
  --seconds N           measurement window per level and server (default 20)
  --warmup N            seconds of load before the window (default 5)
  --drain N             seconds after the window for its last changes to arrive (default 15)
  --rate R              visits each client records per second (default 1)
  --max-in-flight N     changes a client may have on their way before it holds back (default 2)
  --history-visits N    visits in each household's history before the load (default 12)
  --prerecorded         each client's visits are recorded before the clock starts (the same
                        signed changes, each on its household as the client holds it then)
                        and a tick applies the next one: the load generator's CPU goes to
                        syncing, not to recording, and leaves more of the machine's cores
                        to the server
  --servers LIST        lots,lots-unvetted,lots-partitioned,reference (default lots,reference;
                        lots-partitioned is lots with a partition per core; lots-unvetted
                        stores changes without vetting them, to measure what vetting costs);
                        with --city, lots, reference or both
  --hostile LIST        hostile clients beside the honest ones, comma-separated counts, each
                        run as its own level (default 0); Lots servers only
  --hostile-rate R      dishonest changes each hostile client sends a second (default 1)
  --server-binary PATH  lots-server (default: next to this binary)
  --node-dir PATH       where reference-server.mjs and its packages are (default tests/node)
  --setup-timeout N     seconds the clients may take to connect and sync (default 300)

  --city                instead of the levels: one server carrying a city (city.rs): a
                        cached generated city, start-up, memory, a morning storm of every
                        device reconnecting, caseload calls and steady load; then the
                        same city against the reference server, as far as it carries it
                        (without caseload calls: it has none), one table for both
  --city-households N   households in the city (default 10000)
  --city-visits N       visits in each household's history (default 100)
  --city-staff N        staff members, two devices each (default 300)
  --document-memory-mb N  the server's memory budget for households (default 512)
  --city-cache PATH     where the generated city is kept (default target/bench-city)
  --city-postgres URL   instead of one process on SQLite: two server processes on a
                        scratch database made on the PostgreSQL server URL reaches (the
                        cached city copied in), each device of a pair on its own process;
                        `cargo xtask bench-server` takes `throwaway` for a PostgreSQL of
                        its own, as the tests start one
";

struct Options {
    city: Option<city::City>,
    clients: Vec<usize>,
    hostile: Vec<usize>,
    servers: Vec<Kind>,
    settings: Settings,
    history_visits: usize,
    server_binary: PathBuf,
    node_dir: PathBuf,
}

fn parse_options() -> Result<Options> {
    let mut options = Options {
        city: None,
        clients: vec![100, 500, 1000],
        hostile: vec![0],
        servers: vec![Kind::Lots, Kind::Reference],
        settings: Settings {
            rate: 1.0,
            max_in_flight: 2,
            warmup: Duration::from_secs(5),
            measure: Duration::from_secs(20),
            drain: Duration::from_secs(15),
            setup_timeout: Duration::from_secs(300),
            connect_concurrency: 32,
            hostile_rate: 1.0,
            prerecorded: false,
        },
        history_visits: 12,
        server_binary: std::env::current_exe()?
            .parent()
            .context("the binary's directory")?
            .join("lots-server"),
        node_dir: servers::default_node_dir(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            print!("{HELP}");
            std::process::exit(0);
        }
        if flag == "--prerecorded" {
            options.settings.prerecorded = true;
            continue;
        }
        if flag == "--city" {
            options.city = Some(city::City {
                households: 10_000,
                visits: 100,
                staff: 300,
                districts: 10,
                offline_visits: 3,
                storm: Duration::from_secs(60),
                steady: Duration::from_secs(60),
                steady_interval: Duration::from_secs(30),
                document_memory_mb: 512,
                cache: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-city"),
                postgres: None,
            });
            continue;
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value\n\n{HELP}"))?;
        let seconds = |value: &str| -> Result<Duration> {
            Ok(Duration::from_secs_f64(value.parse().with_context(
                || format!("{flag} takes seconds, not {value:?}"),
            )?))
        };
        match flag.as_str() {
            "--clients" => {
                options.clients = value
                    .split(',')
                    .map(|count| count.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .with_context(|| format!("--clients takes numbers, not {value:?}"))?;
                if options
                    .clients
                    .iter()
                    .any(|count| *count < 2 || count % 2 == 1)
                {
                    bail!("clients come in pairs: give even counts of at least 2");
                }
            }
            "--seconds" => options.settings.measure = seconds(&value)?,
            "--warmup" => options.settings.warmup = seconds(&value)?,
            "--drain" => options.settings.drain = seconds(&value)?,
            "--setup-timeout" => options.settings.setup_timeout = seconds(&value)?,
            "--rate" => {
                options.settings.rate = value.parse()?;
                if options.settings.rate <= 0.0 {
                    bail!("--rate must be above 0");
                }
            }
            "--hostile" => {
                options.hostile = value
                    .split(',')
                    .map(|count| count.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .with_context(|| format!("--hostile takes numbers, not {value:?}"))?;
            }
            "--hostile-rate" => {
                options.settings.hostile_rate = value.parse()?;
                if options.settings.hostile_rate <= 0.0 {
                    bail!("--hostile-rate must be above 0");
                }
            }
            "--max-in-flight" => options.settings.max_in_flight = value.parse()?,
            "--history-visits" => options.history_visits = value.parse()?,
            "--servers" => {
                options.servers = value
                    .split(',')
                    .map(|name| match name.trim() {
                        "lots" => Ok(Kind::Lots),
                        "lots-unvetted" => Ok(Kind::LotsUnvetted),
                        "lots-partitioned" => Ok(Kind::LotsPartitioned),
                        "reference" => Ok(Kind::Reference),
                        other => bail!(
                            "no server {other:?}: lots, lots-unvetted, lots-partitioned or reference"
                        ),
                    })
                    .collect::<Result<_>>()?;
            }
            "--server-binary" => options.server_binary = value.into(),
            "--node-dir" => options.node_dir = value.into(),
            "--city-households"
            | "--city-visits"
            | "--city-staff"
            | "--document-memory-mb"
            | "--city-cache"
            | "--city-postgres" => {
                let city = options
                    .city
                    .as_mut()
                    .with_context(|| format!("{flag} goes after --city"))?;
                let number = || {
                    value
                        .parse::<usize>()
                        .with_context(|| format!("{flag} takes a number, not {value:?}"))
                };
                match flag.as_str() {
                    "--city-households" => city.households = number()?,
                    "--city-visits" => city.visits = number()?,
                    "--city-staff" => city.staff = number()?,
                    "--document-memory-mb" => city.document_memory_mb = number()?,
                    "--city-postgres" => city.postgres = Some(value),
                    _ => city.cache = value.into(),
                }
            }
            other => bail!("unknown option {other}\n\n{HELP}"),
        }
    }
    Ok(options)
}

/// One row of the results.
struct Row {
    clients: usize,
    hostile: usize,
    kind: Kind,
    report: Result<Report>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = parse_options()?;
    if let Some(city) = &options.city {
        if city.staff < city.districts || city.households < city.staff {
            bail!("a city needs at least as many staff as districts and households as staff");
        }
        return city::run(
            city,
            &options.servers,
            &options.server_binary,
            &options.node_dir,
        )
        .await;
    }
    let most = options.clients.iter().copied().max().unwrap_or(0) as u64;
    // Each client holds a socket here and the server holds its other end; the servers are
    // separate processes that inherit this limit.
    if let Some(limit) = servers::open_file_limit()
        && limit < most + 256
    {
        bail!(
            "the open-file limit is {limit}, too low for {most} clients; raise it \
             (`ulimit -n {}`) — `cargo xtask bench-server` does",
            most + 1024
        );
    }
    eprintln!(
        "bench-server: generating {} template households of {} visits",
        16, options.history_visits
    );
    let templates = Templates::generate(16, options.history_visits, 2026)?;
    eprintln!(
        "bench-server: households are {} bytes saved on average",
        templates.mean_size()
    );
    let mut rows = Vec::new();
    for &clients in &options.clients {
        for &hostile in &options.hostile {
            for &kind in &options.servers {
                // The reference server signs nobody in and vets nothing.
                if hostile > 0 && kind == Kind::Reference {
                    continue;
                }
                eprintln!(
                    "bench-server: {clients} clients and {hostile} hostile ones against {}",
                    kind.name()
                );
                let report = level(&options, kind, clients, hostile, &templates).await;
                match &report {
                    Ok(report) => eprintln!("{}", describe(report, options.settings.drain)),
                    Err(error) => eprintln!("bench-server: failed: {error:#}"),
                }
                rows.push(Row {
                    clients,
                    hostile,
                    kind,
                    report,
                });
            }
        }
    }
    print_tables(&rows, &options);
    if rows.iter().any(|row| row.report.is_err()) {
        bail!("some levels failed (see above)");
    }
    Ok(())
}

async fn level(
    options: &Options,
    kind: Kind,
    clients: usize,
    hostile: usize,
    templates: &Templates,
) -> Result<Report> {
    let mut server = match kind {
        Kind::Lots | Kind::LotsUnvetted | Kind::LotsPartitioned => {
            Server::start_lots(&options.server_binary, kind).await?
        }
        Kind::Reference => Server::start_reference(&options.node_dir).await?,
    };
    let memory_at_start = server.memory()?;
    let started = tokio::time::Instant::now();
    let mut accounts = server.accounts(clients / 2 + hostile).await?;
    // Each hostile client is a staff member of its own, on one device.
    let hostile = accounts
        .split_off(clients / 2)
        .into_iter()
        .map(|[first, _]| first)
        .collect();
    if kind != Kind::Reference {
        eprintln!(
            "bench-server: {} users and {clients} sign-ins in {:.1} s",
            clients / 2,
            started.elapsed().as_secs_f64()
        );
    }
    let memory_after_sign_in = server.memory()?;
    let mut report =
        load::run(&mut server, accounts, hostile, templates, &options.settings).await?;
    report.memory_at_start = memory_at_start;
    report.memory_after_sign_in = memory_after_sign_in;
    Ok(report)
}

/// Milliseconds; a quantile that fell among the changes that never arrived is only known to
/// be longer than the drain.
fn ms(duration: Option<Duration>, drain: Duration) -> String {
    match duration {
        Some(duration) => format!("{:.0}", duration.as_secs_f64() * 1000.0),
        None => format!("> {:.0} s", drain.as_secs_f64()),
    }
}

/// [`ms`] for prose: "12 ms", or "> 15 s" as it is.
fn with_unit(text: String) -> String {
    if text.starts_with('>') {
        text
    } else {
        format!("{text} ms")
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn percent(part: Duration, whole: Duration) -> f64 {
    100.0 * part.as_secs_f64() / whole.as_secs_f64()
}

fn describe(report: &Report, drain: Duration) -> String {
    let mut text = format!(
        "  connected {}/{}, synced {}/{} in {:.1} s; offered {:.0}, written {}, delivered {} \
         ({:.0}/s), undelivered {}, held back {} of {} ticks; p50 {}, p99 {}; \
         RSS {:.0} MB at start, {:.0} MB after sign-in, {:.0} MB after setup, {:.0} MB at \
         end, peak {:.0} MB; server CPU {:.0}%, load generator CPU {:.0}%",
        report.connected,
        report.clients,
        report.ready,
        report.clients,
        report.setup.as_secs_f64(),
        report.offered,
        report.written,
        report.delivered,
        report.throughput(),
        report.undelivered,
        report.deferred,
        report.ticks,
        with_unit(ms(report.latency(0.5), drain)),
        with_unit(ms(report.latency(0.99), drain)),
        mb(report.memory_at_start.resident),
        mb(report.memory_after_sign_in.resident),
        mb(report.memory_after_setup.resident),
        mb(report.memory.resident),
        mb(report.memory.peak),
        percent(report.server_cpu, report.window),
        percent(report.generator_cpu, report.window),
    );
    for (failure, count) in report.failures.iter().take(5) {
        text.push_str(&format!("\n  {count} clients failed: {failure}"));
    }
    if report.hostile > 0 {
        text.push_str(&format!(
            "\n  {} hostile clients sent {} dishonest changes; {} refused",
            report.hostile, report.hostile_sent, report.hostile_refused
        ));
    }
    for (failure, count) in report.hostile_failures.iter().take(5) {
        text.push_str(&format!("\n  {count} hostile clients failed: {failure}"));
    }
    text
}

fn print_tables(rows: &[Row], options: &Options) {
    let settings = &options.settings;
    let drain = settings.drain;
    println!(
        "\nEach client records {} visit(s) a second{} and holds back while {} of its changes are \
         on their way; {:.0} s warm-up, {:.0} s window, {:.0} s drain.\n",
        settings.rate,
        if settings.prerecorded {
            " (recorded before the clock starts, applied at each tick)"
        } else {
            ""
        },
        settings.max_in_flight,
        settings.warmup.as_secs_f64(),
        settings.measure.as_secs_f64(),
        drain.as_secs_f64(),
    );
    println!(
        "| clients | hostile | server | all connected and synced | changes/s | p50 ms | p99 ms | peak RSS MB | RSS under load MB | server CPU | load generator CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        match &row.report {
            Ok(report) => println!(
                "| {} | {} | {} | {} | {:.0} | {} | {} | {:.0} | {:.0} | {:.0}% | {:.0}% |",
                row.clients,
                row.hostile,
                row.kind.name(),
                if report.complete() {
                    "yes".to_owned()
                } else {
                    format!(
                        "**no: {} connected, {} synced, {} failed while running**",
                        report.connected, report.ready, report.failed_while_running
                    )
                },
                report.throughput(),
                ms(report.latency(0.5), drain),
                ms(report.latency(0.99), drain),
                mb(report.memory.peak),
                mb(report.memory.resident),
                percent(report.server_cpu, report.window),
                percent(report.generator_cpu, report.window),
            ),
            Err(error) => println!(
                "| {} | {} | {} | **failed: {error:#}** | | | | | | | |",
                row.clients,
                row.hostile,
                row.kind.name()
            ),
        }
    }

    println!(
        "\n| clients | hostile | server | offered changes/s | committed in window | arrived in window | never arrived | ticks held back | setup s | RSS MB: start / signed in / synced |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let Ok(report) = &row.report else { continue };
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {:.0}% | {:.0} | {:.0} / {:.0} / {:.0} |",
            row.clients,
            row.hostile,
            row.kind.name(),
            report.offered / report.window.as_secs_f64(),
            report.written,
            report.delivered,
            report.undelivered,
            100.0 * report.deferred as f64 / report.ticks.max(1) as f64,
            report.setup.as_secs_f64(),
            mb(report.memory_at_start.resident),
            mb(report.memory_after_sign_in.resident),
            mb(report.memory_after_setup.resident),
        );
    }

    println!(
        "\n| clients | throughput lots/reference | p99 lots/reference | peak RSS lots/reference | RSS under load lots/reference |"
    );
    println!("|---|---|---|---|---|");
    for &clients in &options.clients {
        let find = |kind: Kind| {
            rows.iter()
                .find(|row| row.clients == clients && row.hostile == 0 && row.kind == kind)
                .and_then(|row| row.report.as_ref().ok())
        };
        let (Some(lots), Some(reference)) = (find(Kind::Lots), find(Kind::Reference)) else {
            continue;
        };
        let p99 = match (lots.latency(0.99), reference.latency(0.99)) {
            (Some(ours), Some(theirs)) => {
                format!("{:.2}", ours.as_secs_f64() / theirs.as_secs_f64())
            }
            (Some(_), None) => "lower (the reference's p99 never arrived)".into(),
            _ => "n/a".into(),
        };
        println!(
            "| {clients} | {:.2} | {p99} | {:.2} | {:.2} |",
            lots.throughput() / reference.throughput().max(f64::MIN_POSITIVE),
            lots.memory.peak as f64 / reference.memory.peak.max(1) as f64,
            lots.memory.resident as f64 / reference.memory.resident.max(1) as f64,
        );
    }
    // What vetting every change costs, and what partitions give, when both were run.
    print_ratios(
        rows,
        options,
        Kind::Lots,
        Kind::LotsUnvetted,
        "vetted/unvetted",
    );
    print_ratios(
        rows,
        options,
        Kind::LotsPartitioned,
        Kind::Lots,
        "partitioned/one partition",
    );
    print_hostile_ratios(rows, options);
}

/// Throughput and p99 of one Lots server against another, level by level, when both ran.
fn print_ratios(rows: &[Row], options: &Options, ours: Kind, theirs: Kind, title: &str) {
    let mut header = false;
    for &clients in &options.clients {
        let find = |kind: Kind| {
            rows.iter()
                .find(|row| row.clients == clients && row.hostile == 0 && row.kind == kind)
                .and_then(|row| row.report.as_ref().ok())
        };
        let (Some(ours), Some(theirs)) = (find(ours), find(theirs)) else {
            continue;
        };
        if !header {
            println!("\n| clients | throughput {title} | p99 {title} |");
            println!("|---|---|---|");
            header = true;
        }
        let p99 = match (ours.latency(0.99), theirs.latency(0.99)) {
            (Some(ours), Some(theirs)) => {
                format!("{:.2}", ours.as_secs_f64() / theirs.as_secs_f64())
            }
            _ => "n/a".into(),
        };
        println!(
            "| {clients} | {:.2} | {p99} |",
            ours.throughput() / theirs.throughput().max(f64::MIN_POSITIVE),
        );
    }
}

/// What hostile clients do to the honest ones' figures, against Lots with vetting: each
/// level with hostile clients against the same level without.
fn print_hostile_ratios(rows: &[Row], options: &Options) {
    let mut header = false;
    for &clients in &options.clients {
        let find = |hostile: usize| {
            rows.iter()
                .find(|row| {
                    row.clients == clients && row.hostile == hostile && row.kind == Kind::Lots
                })
                .and_then(|row| row.report.as_ref().ok())
        };
        let Some(quiet) = find(0) else { continue };
        for &hostile in options.hostile.iter().filter(|hostile| **hostile > 0) {
            let Some(attacked) = find(hostile) else {
                continue;
            };
            if !header {
                println!(
                    "\n| honest clients | hostile clients | dishonest changes sent / refused | honest throughput with/without | honest p99 with/without |"
                );
                println!("|---|---|---|---|---|");
                header = true;
            }
            let p99 = match (attacked.latency(0.99), quiet.latency(0.99)) {
                (Some(with), Some(without)) => {
                    format!("{:.2}", with.as_secs_f64() / without.as_secs_f64())
                }
                _ => "n/a".into(),
            };
            println!(
                "| {clients} | {hostile} | {} / {} | {:.2} | {p99} |",
                attacked.hostile_sent,
                attacked.hostile_refused,
                attacked.throughput() / quiet.throughput().max(f64::MIN_POSITIVE),
            );
        }
    }
}

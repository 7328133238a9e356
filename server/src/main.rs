//! `lots-server`: parses the configuration, then either runs a set-up command
//! (`lots-server --help` lists them) or opens storage, seeds demo data when asked, and serves
//! until Ctrl-C.

use axum::serve::ListenerExt as _;
use clap::Parser as _;
use lots_server::config::Config;
use lots_server::{AppState, app, demo};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let process_started = std::time::Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let mut config = Config::parse();
    match config.command.take() {
        None | Some(lots_server::setup::Command::Serve) => {}
        Some(lots_server::setup::Command::Restore { from }) => {
            config.validate()?;
            println!("{}", lots_server::backup::restore(&config, &from).await?);
            return Ok(());
        }
        Some(command) => {
            config.validate()?;
            let store = match &config.database_url {
                Some(url) => lots_server::store::Store::open_postgres(url).await?,
                None => lots_server::store::Store::open_sqlite(&config.database_path()).await?,
            };
            if let lots_server::setup::Command::VerifyAudit {
                checkpoints,
                public_key,
            } = &command
            {
                let checkpointing = config.checkpointing();
                let said = lots_server::checkpoint::verify_command(
                    &store,
                    checkpoints.as_deref().unwrap_or(&checkpointing.file),
                    public_key.as_deref(),
                    &checkpointing.key_file,
                )
                .await?;
                println!("{said}");
                return Ok(());
            }
            println!("{}", lots_server::setup::run(&store, command).await?);
            return Ok(());
        }
    }
    // No restore swaps the database under a serving process.
    let _data_dir_lock = match config.database_url {
        None => Some(lots_server::backup::DataDirLock::take(&config.data_dir)?),
        Some(_) => None,
    };
    let listen = config.listen;
    let metrics_listen = config.metrics_listen;
    let origin = config.public_origin.clone();
    let seed_demo = config.demo;
    let demo_size = demo::DemoSize {
        households_per_staff: config.demo_households.into(),
        visits: config.demo_visits.map(usize::from),
    };
    let checkpointing = config.checkpointing();
    let signing_key = lots_server::checkpoint::load_or_create_key(&checkpointing.key_file)?;
    let state = AppState::open(config).await?;
    tokio::spawn(lots_server::checkpoint::run(
        state.store.clone(),
        signing_key,
        checkpointing,
    ));
    if seed_demo && demo::seed_if_empty(&state.store, &state.hub, demo_size).await? {
        println!("\nDemo data created (synthetic). Demo logins:");
        for login in demo::DEMO_LOGINS {
            println!(
                "  {:<6} {:<16} {}",
                login.username, login.password, login.description
            );
        }
    }
    // The metrics' listener first: whoever sees the app's port open finds it there too.
    if let Some(address) = metrics_listen {
        let metrics = lots_server::metrics::router(state.metrics.clone(), state.store.clone());
        let metrics_listener = tokio::net::TcpListener::bind(address).await?;
        println!("Metrics for Prometheus at http://{address}/metrics");
        tokio::spawn(async move {
            if let Err(error) = axum::serve(metrics_listener, metrics).await {
                tracing::error!(%error, "the metrics listener stopped");
            }
        });
    }
    state
        .metrics
        .startup_seconds
        .set(process_started.elapsed().as_secs_f64());
    // Sync messages are small and each is awaited: without TCP_NODELAY, Nagle's algorithm
    // holds one back until the previous is acknowledged, which a delayed ACK puts off by up
    // to 40 ms per hop.
    let listener = tokio::net::TcpListener::bind(listen)
        .await?
        .tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
            }
        });
    println!("\nLots is running at {origin} (listening on {listen}); Ctrl-C stops it.\n");
    // The client's address reaches the handlers (sign-in throttling by address).
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping");
        })
        .await?;
    Ok(())
}

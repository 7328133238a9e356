//! `lots-server`: parses the configuration, opens storage, seeds demo data when asked, and
//! serves until Ctrl-C.

use clap::Parser as _;
use lots_server::config::Config;
use lots_server::{AppState, app, demo};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::parse();
    let listen = config.listen;
    let origin = config.public_origin.clone();
    let seed_demo = config.demo;
    let demo_households = usize::from(config.demo_households);
    let state = AppState::open(config).await?;
    if seed_demo && demo::seed_if_empty(&state.store, &state.hub, demo_households).await? {
        println!("\nDemo data created (synthetic). Demo logins:");
        for login in demo::DEMO_LOGINS {
            println!(
                "  {:<6} {:<16} {}",
                login.username, login.password, login.description
            );
        }
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("\nLots is running at {origin} (listening on {listen}); Ctrl-C stops it.\n");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("stopping");
        })
        .await?;
    Ok(())
}

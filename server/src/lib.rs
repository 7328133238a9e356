//! The Lots sync server: the automerge-repo protocol over WebSocket for every phone and
//! desktop, the JSON API, and the built web app, with SQLite storage and access by caseload.
//!
//! [`app`] builds the whole router from an [`AppState`], so tests drive it without a socket.

pub mod api;
pub mod auth;
pub mod backup;
pub mod caseload;
pub mod checkpoint;
pub mod config;
pub mod demo;
pub mod error;
pub mod metrics;
pub mod oidc;
pub mod review;
pub mod setup;
pub mod store;
pub mod sync;
pub mod throttle;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, patch, post};

use config::Config;
use store::Store;
use sync::hub::HubHandle;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Storage.
    pub store: Store,
    /// The sync hub.
    pub hub: HubHandle,
    /// The configuration.
    pub config: Arc<Config>,
    /// A password hash to verify against when a username does not exist, so that a failed
    /// sign-in takes as long whether or not the user exists.
    pub dummy_hash: Arc<String>,
    /// Password hashing, on threads of its own.
    pub hashing: auth::Hashing,
    /// Failed sign-ins, by username and by address.
    pub throttle: Arc<throttle::SignInThrottle>,
    /// The clock sessions are judged by (tests move it on).
    pub clock: auth::Clock,
    /// The organisation's identity provider, when sign-in with it is configured.
    pub oidc: Option<Arc<oidc::Oidc>>,
    /// What an operator watches (served on its own listener: `metrics.rs`).
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// Opens storage and starts the hub.
    pub async fn open(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let store = match &config.database_url {
            Some(url) => Store::open_postgres(url).await?,
            None => Store::open_sqlite(&config.database_path()).await?,
        };
        let peer_id = lots_core::PeerId::new(config.peer_id.clone())
            .ok_or_else(|| anyhow::anyhow!("the peer id must be 1–256 characters"))?;
        let metrics = Arc::new(metrics::Metrics::default());
        let hub = sync::hub::start(
            store.clone(),
            sync::hub::HubConfig {
                peer_id,
                max_message_bytes: config.max_message_bytes,
                sockets_per_user: config.sockets_per_user,
                partitions: config.partitions(),
                skip_vetting: config.unvetted_for_benchmark,
                metrics: metrics.clone(),
                document_memory: config.document_memory_mb.saturating_mul(1 << 20),
            },
        )
        .await?;
        tokio::spawn(hub.clone().follow_other_processes(store.clone()));
        // Discovered in the background: a provider that is down does not keep Lots down.
        let oidc = oidc::Oidc::from_config(&config)?.map(Arc::new);
        if let Some(oidc) = &oidc {
            tokio::spawn(oidc.clone().discover_in_background());
        }
        Ok(Self {
            store,
            hub,
            config: Arc::new(config),
            dummy_hash: Arc::new(auth::hash_password("not a password")?),
            hashing: auth::Hashing::per_core()?,
            throttle: Arc::default(),
            clock: auth::Clock::default(),
            oidc,
            metrics,
        })
    }
}

impl AppState {
    /// Closes every socket of a user or device, on this process and (through the database)
    /// on every other server process sharing it.
    pub async fn close_everywhere(
        &self,
        user_id: Option<String>,
        device_id: Option<String>,
        reason: &str,
    ) {
        self.hub
            .close_for(user_id.clone(), device_id.clone(), reason);
        let announcement = store::Announcement::Close {
            user_id,
            device_id,
            reason: reason.to_owned(),
        };
        if let Err(error) = self.store.announce(announcement).await {
            tracing::error!(%error, "cannot tell other server processes to close sockets");
        }
    }
}

/// The whole server as a router.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/login", post(api::login))
        .route("/logout", post(api::logout))
        .route("/wiped", post(api::wiped))
        .route("/wiped/waiting/{id}", post(api::handed_in::waiting))
        .route("/me", get(api::me))
        .route("/me/password", post(api::admin::change_own_password))
        .route("/sync-token", post(api::sync_token))
        .route("/caseload", get(api::caseload))
        .route("/districts", get(api::districts).post(api::create_district))
        .route("/districts/{id}", patch(api::rename_district))
        .route("/users", get(api::users).post(api::create_user))
        .route("/users/{id}", patch(api::admin::update_user))
        .route(
            "/users/{id}/reset-password",
            post(api::admin::reset_password),
        )
        .route("/admin/caseloads", get(api::admin::caseloads))
        .route(
            "/admin/device-lock",
            get(api::admin::device_lock).put(api::admin::set_device_lock),
        )
        .route(
            "/admin/retention",
            get(api::retention::dry_run).post(api::retention::run),
        )
        .route("/households/{id}/remove", post(api::retention::remove_one))
        .route("/removed", get(api::retention::removed))
        .route("/reports", get(api::reports::list).post(api::reports::file))
        .route("/reports/{id}", get(api::reports::one))
        .route(
            "/households/{id}/members/{member}/copy",
            get(api::person_copy::make),
        )
        .route(
            "/households/{id}/members/{member}/copy/release",
            post(api::person_copy::release),
        )
        .route(
            "/users/{id}/identity",
            get(api::oidc::identity)
                .put(api::oidc::link_identity)
                .delete(api::oidc::unlink_identity),
        )
        .route("/sign-in-options", get(api::oidc::sign_in_options))
        .route("/devices", get(api::devices))
        .route("/devices/{id}/revoke", post(api::revoke_device))
        .route("/assignments", post(api::assign))
        .route("/audit", get(api::audit))
        .route("/reads", post(api::reads::log_reads))
        .route("/exports", post(api::reads::log_export))
        .route(
            "/audit/reviews",
            get(api::reviews::list).post(api::reviews::add),
        )
        .route("/quarantine", get(api::quarantine::list))
        .route("/quarantine/mine", get(api::quarantine::mine))
        .route("/quarantine/{id}/accept", post(api::quarantine::accept))
        .route("/quarantine/{id}/reject", post(api::quarantine::reject))
        .route("/openapi.json", get(api::openapi))
        .fallback(api::not_found)
        // Sessions are looked up (and rotated) inside the cross-site check: a request it
        // refuses rotates nothing.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::track_sessions,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::same_site_only,
        ));
    // Behind https, browsers are told to come back only over https.
    let hsts = state.config.public_origin.starts_with("https://").then(|| {
        tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        )
    });
    Router::new()
        .nest("/api", api)
        .route("/sync", get(sync::socket::upgrade))
        .merge(api::oidc::routes())
        .merge(web::routes(&state.config.dist))
        .layer(axum::middleware::from_fn(web::headers))
        .layer(tower::util::option_layer(hsts))
        .with_state(state)
}

/// Dependencies the cross-crate tests drive the server with, at the server's own versions.
pub mod reexports {
    pub use axum;
    pub use clap;
    pub use sqlx;
}

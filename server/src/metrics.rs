//! What an operator watches, in the OpenMetrics text format Prometheus reads: documents in
//! memory, the hub's batches (inputs per batch, commit time), open sockets by role, changes
//! waiting in quarantine, and how long the server took to start.
//!
//! The figures are served on a listener of their own (`--metrics-listen`), off unless the
//! operator names one, and never on the app's port: they describe the installation's load,
//! which is nobody's business on the internet. Bind it to loopback or an internal network
//! that the monitoring system reaches.
//!
//! Counted with `prometheus-client`, the Prometheus project's own Rust library.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::Store;

/// Which hub partition a figure is of (one today: every document is in partition 0).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Partition {
    /// The partition's number.
    pub partition: u32,
}

/// Whose sockets a figure counts.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ByRole {
    /// `staff`, `supervisor` or `admin`.
    pub role: &'static str,
}

/// Every figure the server keeps, and the registry they are encoded from.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Documents the hub holds in memory.
    pub documents_in_memory: Gauge,
    /// The estimated memory those documents take, in bytes.
    pub document_memory_bytes: Gauge,
    /// Documents read from disk into memory.
    pub documents_loaded: Counter,
    /// Documents evicted from memory, least recently used first, under the memory budget.
    pub documents_evicted: Counter,
    /// Inputs (messages, connections, commands) per batch, by partition.
    pub batch_inputs: Family<Partition, Histogram>,
    /// How long a batch's commit took, in seconds, by partition.
    pub commit_seconds: Family<Partition, Histogram>,
    /// Sync sockets open now, by role.
    pub sockets: Family<ByRole, Gauge>,
    /// Refused changes waiting for a supervisor's decision (read from the database when
    /// the figures are asked for, so every process of a scale-out says the same).
    pub quarantined_pending: Gauge,
    /// From the process starting to its first accepted connection being possible, in
    /// seconds.
    pub startup_seconds: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("lots");
        let documents_in_memory = Gauge::default();
        registry.register(
            "documents_in_memory",
            "Documents the sync hub holds in memory",
            documents_in_memory.clone(),
        );
        let document_memory_bytes = Gauge::default();
        registry.register(
            "document_memory_bytes",
            "Estimated memory the documents in memory take (what the budget counts)",
            document_memory_bytes.clone(),
        );
        let documents_loaded = Counter::default();
        registry.register(
            "documents_loaded",
            "Documents read from disk into memory",
            documents_loaded.clone(),
        );
        let documents_evicted = Counter::default();
        registry.register(
            "documents_evicted",
            "Documents evicted from memory under the memory budget",
            documents_evicted.clone(),
        );
        let batch_inputs = Family::<Partition, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(1.0, 2.0, 12))
        });
        registry.register(
            "hub_batch_inputs",
            "Inputs the sync hub took in one batch",
            batch_inputs.clone(),
        );
        let commit_seconds = Family::<Partition, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_1, 2.0, 16))
        });
        registry.register(
            "hub_commit_seconds",
            "How long one batch's commit to the database took",
            commit_seconds.clone(),
        );
        let sockets = Family::<ByRole, Gauge>::default();
        registry.register("sockets", "Sync sockets open now", sockets.clone());
        let quarantined_pending = Gauge::default();
        registry.register(
            "quarantined_changes_pending",
            "Refused changes waiting for a supervisor's decision",
            quarantined_pending.clone(),
        );
        let startup_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "startup_seconds",
            "From the process starting to serving",
            startup_seconds.clone(),
        );
        Self {
            registry,
            documents_in_memory,
            document_memory_bytes,
            documents_loaded,
            documents_evicted,
            batch_inputs,
            commit_seconds,
            sockets,
            quarantined_pending,
            startup_seconds,
        }
    }
}

impl Metrics {
    /// Every figure in Prometheus' text format, with those read from the database read now.
    pub async fn render(&self, store: &Store) -> Result<String, crate::store::StoreError> {
        self.quarantined_pending
            .set(store.pending_quarantine_total().await?);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(|error| crate::store::StoreError::Damaged(error.to_string()))?;
        Ok(text)
    }

    /// Counts a sync socket of `role` open until the returned guard is dropped.
    pub fn socket_opened(self: &std::sync::Arc<Self>, role: &'static str) -> SocketOpen {
        self.sockets.get_or_create(&ByRole { role }).inc();
        SocketOpen {
            metrics: self.clone(),
            role,
        }
    }
}

/// An open socket, counted in [`Metrics::sockets`] until dropped.
#[derive(Debug)]
pub struct SocketOpen {
    metrics: std::sync::Arc<Metrics>,
    role: &'static str,
}

impl Drop for SocketOpen {
    fn drop(&mut self) {
        self.metrics
            .sockets
            .get_or_create(&ByRole { role: self.role })
            .dec();
    }
}

/// The metrics listener's router: `GET /metrics` and nothing else.
pub fn router(metrics: std::sync::Arc<Metrics>, store: Store) -> axum::Router {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse as _;
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (metrics, store) = (metrics.clone(), store.clone());
            async move {
                match metrics.render(&store).await {
                    Ok(text) => (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        text,
                    )
                        .into_response(),
                    Err(error) => {
                        tracing::error!(%error, "the metrics could not be read");
                        (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response()
                    }
                }
            }
        }),
    )
}

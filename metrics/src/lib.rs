//! Metrics of one Basalt process in Prometheus' format: one [`Metrics`] registry per process, owned
//! by the role's context and handed down explicitly (no global or static state), scraped at
//! `GET /metrics` ([`Metrics::routes`]).
//!
//! - Counters and histograms are updated where events happen (the handles are cheap clones of
//!   atomics); values a role already keeps (queue lengths, Raft indexes) are read at scrape time by a
//!   [`Readings`] collector instead of being copied into gauges.
//! - [`rpc`]: request counts and latency histograms per gRPC method, a tower layer for tonic servers.
//! - [`process`]: CPU seconds, resident memory, open files and threads from `/proc/self`.
//!
//! Every metric is named `basalt_...`; counters get OpenMetrics' `_total` suffix on the wire.

pub mod process;
pub mod readings;
pub mod rpc;

pub use prometheus_client::metrics::counter::Counter;
pub use prometheus_client::metrics::family::Family;
pub use prometheus_client::metrics::gauge::Gauge;
pub use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
pub use readings::{Readings, Readout};

use prometheus_client::registry::{Metric, Registry};
use std::sync::{Arc, RwLock};

/// The content type of [`Metrics::encode`]'s text (OpenMetrics 1.0; Prometheus scrapes it).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One process's registry. Clones share it.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Arc<RwLock<Registry>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty registry whose metrics are named `basalt_...`, with the process metrics registered.
    pub fn new() -> Self {
        let metrics = Metrics {
            registry: Arc::new(RwLock::new(Registry::with_prefix("basalt"))),
        };
        metrics.collect(process::Process);
        metrics
    }

    /// Registers `metric` as `basalt_<name>` (a counter's wire name gains `_total`).
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.write().register(name, help, metric);
    }

    /// Registers values read at every scrape.
    pub fn collect(&self, readings: impl Readings) {
        self.write().register_collector(Box::new(readings::Collect(readings)));
    }

    /// The text exposition of every metric (OpenMetrics, see [`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        // Writing into a String fails only if a collector fails; what was written is still served.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    /// `GET /metrics` for a role's HTTP router (any state type).
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        let metrics = self.clone();
        axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move {
                    let body = metrics.encode();
                    ([(http::header::CONTENT_TYPE, CONTENT_TYPE)], body)
                }
            }),
        )
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_readings_appear_in_the_text() {
        let m = Metrics::new();
        let c = Counter::<u64>::default();
        m.register("things", "Things done.", c.clone());
        c.inc_by(3);
        #[derive(Debug)]
        struct Queue;
        impl Readings for Queue {
            fn read(&self, out: &mut Readout) {
                out.gauge("queue_length", "Queued.", &[("queue", "replication")], 7.0);
                out.counter("events", "Events.", &[], 2.0);
            }
        }
        m.collect(Queue);
        let text = m.encode();
        assert!(text.contains("basalt_things_total 3\n"), "{text}");
        assert!(text.contains("basalt_queue_length{queue=\"replication\"} 7"), "{text}");
        assert!(text.contains("basalt_events_total 2"), "{text}");
        assert!(text.contains("basalt_process_resident_memory_bytes "), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}

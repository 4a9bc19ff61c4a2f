//! [`Context`]: what every service and background loop of one datanode shares.

use crate::nn_link::{LinkInfo, Reports, run_link};
use crate::store::BlockStore;
use crate::tables::schema_view::SchemaView;
use basalt_common::DatanodeId;
use basalt_proto::link::Connector;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Shared state of a running datanode.
#[derive(Debug)]
pub(crate) struct Context {
    pub id: DatanodeId,
    pub host_id: String,
    pub store: BlockStore,
    /// Incremental block reports, fanned out to every namenode link.
    pub reports: Reports,
    /// Chunk size used when a writer does not name one.
    pub default_chunk_size: u32,
    /// Deadline of a downstream pipeline node's acknowledgements.
    pub ack_timeout: std::time::Duration,
    /// Opens this node's outgoing channels (namenode links, downstream datanodes).
    pub connector: Connector,
    /// The catalog and ring as this node knows them.
    pub schema: Arc<SchemaView>,
    transfers: AtomicU32,
    /// This datanode's metrics registry (`/metrics`).
    pub metrics: crate::metrics::DatanodeMetrics,
    /// The namenode links: who they tell about this node, and the running ones by address.
    links: Mutex<Links>,
}

#[derive(Debug, Default)]
struct Links {
    seed: Option<(Arc<LinkInfo>, watch::Receiver<bool>)>,
    running: Vec<(String, JoinHandle<()>)>,
}

impl Context {
    pub fn new(
        id: DatanodeId,
        host_id: String,
        store: BlockStore,
        reports: Reports,
        chunk_size: u32,
        ack_timeout: std::time::Duration,
        connector: Connector,
    ) -> Arc<Self> {
        Arc::new(Context {
            id,
            host_id,
            store,
            reports,
            default_chunk_size: chunk_size,
            ack_timeout,
            schema: SchemaView::new(connector.clone()),
            connector,
            transfers: AtomicU32::new(0),
            metrics: crate::metrics::DatanodeMetrics::new(),
            links: Mutex::new(Links::default()),
        })
    }

    /// Starts the links to the configured namenodes; later ones start through [`Self::ensure_link`].
    pub fn start_links(self: &Arc<Self>, info: Arc<LinkInfo>, shutdown: watch::Receiver<bool>, addrs: &[String]) {
        self.links.lock().unwrap_or_else(|e| e.into_inner()).seed = Some((info, shutdown));
        for a in addrs {
            self.ensure_link(a);
        }
    }

    /// Opens a link to the metadata member at `addr` unless one runs already.
    pub fn ensure_link(self: &Arc<Self>, addr: &str) {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        if links.running.iter().any(|(a, _)| a == addr) {
            return;
        }
        self.schema.add_member(addr);
        let Some((info, shutdown)) = links.seed.clone() else {
            return;
        };
        let queue = self.reports.add();
        let handle = tokio::spawn(run_link(self.clone(), addr.to_string(), queue, info, shutdown));
        links.running.push((addr.to_string(), handle));
        tracing::info!(namenode = addr, "namenode link started");
    }

    /// The running links, for shutdown to await.
    pub fn take_links(&self) -> Vec<JoinHandle<()>> {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        links.seed = None;
        links.running.drain(..).map(|(_, h)| h).collect()
    }

    /// Number of block reads and writes in progress (reported in heartbeats).
    pub fn active_transfers(&self) -> u32 {
        self.transfers.load(Ordering::Relaxed)
    }

    /// Counts a transfer until the guard is dropped.
    pub fn transfer_guard(self: &Arc<Self>) -> TransferGuard {
        self.transfers.fetch_add(1, Ordering::Relaxed);
        TransferGuard(self.clone())
    }
}

/// Decrements the active transfer count on drop.
pub(crate) struct TransferGuard(Arc<Context>);

impl Drop for TransferGuard {
    fn drop(&mut self) {
        self.0.transfers.fetch_sub(1, Ordering::Relaxed);
    }
}

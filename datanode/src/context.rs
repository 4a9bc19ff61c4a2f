//! [`Context`]: what every service and background loop of one datanode shares.

use crate::nn_link::Reports;
use crate::store::BlockStore;
use basalt_common::DatanodeId;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

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
    transfers: AtomicU32,
}

impl Context {
    pub fn new(id: DatanodeId, host_id: String, store: BlockStore, reports: Reports, chunk_size: u32) -> Arc<Self> {
        Arc::new(Context {
            id,
            host_id,
            store,
            reports,
            default_chunk_size: chunk_size,
            transfers: AtomicU32::new(0),
        })
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

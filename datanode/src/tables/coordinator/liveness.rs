//! Which replicas a coordinator believes alive: a node is down from a call to it failing in transport
//! (refused, reset, timed out) until a call to it succeeds again. The hint replayer probes down nodes
//! (`Replicas::probe`) so that a returning node is seen without waiting for client traffic.

use basalt_common::DatanodeId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Liveness {
    down: Mutex<HashMap<DatanodeId, Instant>>,
}

impl Liveness {
    pub fn is_alive(&self, node: DatanodeId) -> bool {
        !self.lock().contains_key(&node)
    }

    /// How long the node has been seen down, if it is.
    pub fn down_for(&self, node: DatanodeId) -> Option<Duration> {
        self.lock().get(&node).map(|since| since.elapsed())
    }

    pub fn down_nodes(&self) -> Vec<DatanodeId> {
        self.lock().keys().copied().collect()
    }

    /// A call to `node` failed in transport.
    pub fn failed(&self, node: DatanodeId) {
        if let std::collections::hash_map::Entry::Vacant(e) = self.lock().entry(node) {
            tracing::warn!(datanode = %node, "replica marked down");
            e.insert(Instant::now());
        }
    }

    /// A call to `node` succeeded.
    pub fn succeeded(&self, node: DatanodeId) {
        if self.lock().remove(&node).is_some() {
            tracing::info!(datanode = %node, "replica back up");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DatanodeId, Instant>> {
        self.down.lock().unwrap_or_else(|e| e.into_inner())
    }
}

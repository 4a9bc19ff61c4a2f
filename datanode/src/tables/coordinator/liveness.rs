//! Which replicas a coordinator believes alive: a node is down from a call to it failing in transport
//! (refused, reset, timed out) until a call to it succeeds again. The hint replayer probes down nodes
//! (`Replicas::probe`) so that a returning node is seen without waiting for client traffic.

use basalt_common::DatanodeId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Liveness {
    down: Mutex<HashMap<DatanodeId, Instant>>,
    /// Bumped at each change of the down set (the CQL server's STATUS_CHANGE events follow it).
    changes: tokio::sync::watch::Sender<u64>,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            down: Mutex::default(),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Liveness {
    /// A receiver that sees each change of the down set.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

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
            self.changed();
        }
    }

    /// A call to `node` succeeded.
    pub fn succeeded(&self, node: DatanodeId) {
        let removed = self.lock().remove(&node).is_some();
        if removed {
            tracing::info!(datanode = %node, "replica back up");
            self.changed();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DatanodeId, Instant>> {
        self.down.lock().unwrap_or_else(|e| e.into_inner())
    }
}

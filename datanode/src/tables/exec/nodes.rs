//! [`CqlNodes`]: where each datanode serves the CQL native protocol and which catalog version it
//! has (for `system.local` and `system.peers`, which drivers read to find the other nodes and to
//! wait for schema agreement), and this node's request counters (`system.basalt_requests`), which
//! show whether clients route statements to replicas.
//!
//! A node learns its own CQL address when its server binds; the other nodes are asked over the
//! `TableReplica` service (`NodeInfo`) each time, and what one told last is kept for when it does
//! not answer (a node that never answered is left out).

use super::engine::Engine;
use basalt_common::DatanodeId;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long a peer is given to answer.
const ASK_TIMEOUT: Duration = Duration::from_millis(500);

/// Counters of the statements this node coordinated.
#[derive(Default, Debug)]
pub struct RequestCounters {
    /// CQL native protocol requests (QUERY, PREPARE, EXECUTE, BATCH).
    pub cql_requests: AtomicU64,
    /// Single-partition reads and writes this node coordinated while being one of its replicas.
    pub replica_coordinated: AtomicU64,
    /// ... while not being one of its replicas (a client that does not route by token).
    pub non_replica_coordinated: AtomicU64,
}

impl RequestCounters {
    /// Counts one single-partition operation.
    pub fn partition(&self, is_replica: bool) {
        let c = if is_replica {
            &self.replica_coordinated
        } else {
            &self.non_replica_coordinated
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// `(name, value)` of every counter.
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        [
            ("cql_requests", self.cql_requests.load(Ordering::Relaxed)),
            ("replica_coordinated", self.replica_coordinated.load(Ordering::Relaxed)),
            (
                "non_replica_coordinated",
                self.non_replica_coordinated.load(Ordering::Relaxed),
            ),
        ]
    }
}

/// What a peer told of itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerInfo {
    pub cql: SocketAddr,
    pub catalog_version: u64,
}

#[derive(Default)]
pub struct CqlNodes {
    own: OnceLock<SocketAddr>,
    peers: Mutex<HashMap<DatanodeId, PeerInfo>>,
    pub counters: RequestCounters,
}

impl CqlNodes {
    /// Records this node's CQL address (once, when its server binds).
    pub fn set_own(&self, addr: SocketAddr) {
        let _ = self.own.set(addr);
    }

    /// This node's CQL address, when it serves CQL.
    pub fn own(&self) -> Option<SocketAddr> {
        self.own.get().copied()
    }

    /// What `nodes` (other than this one) that serve CQL tell now, or told last.
    pub async fn peers(
        &self,
        engine: &Engine,
        nodes: impl IntoIterator<Item = DatanodeId>,
    ) -> HashMap<DatanodeId, PeerInfo> {
        let nodes: Vec<DatanodeId> = nodes.into_iter().filter(|n| *n != engine.me).collect();
        let asks = nodes.iter().map(|&n| {
            let call = engine.replicas.node_info(n);
            async move { (n, tokio::time::timeout(ASK_TIMEOUT, call).await) }
        });
        let answers = futures::future::join_all(asks).await;
        let mut known = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        for (n, answer) in answers {
            let Ok(Ok(info)) = answer else { continue };
            match info.cql_address.parse::<SocketAddr>() {
                Ok(cql) => {
                    known.insert(
                        n,
                        PeerInfo {
                            cql,
                            catalog_version: info.catalog_version,
                        },
                    );
                }
                Err(_) => {
                    known.remove(&n);
                }
            }
        }
        nodes.iter().filter_map(|n| known.get(n).map(|a| (*n, *a))).collect()
    }
}

//! [`SchemaView`]: this datanode's view of the catalog and the token ring.
//!
//! Reads are lock-free snapshots ([`SchemaView::catalog`], [`SchemaView::ring`]: an `Arc` each, taken
//! from a `watch` channel), so any number of tasks read them. Updates, in phases:
//! 1. every heartbeat reply names the catalog and ring versions the answering member has applied;
//!    [`SchemaView::observe`] compares them with the view's;
//! 2. a newer version starts one background fetch (GetCatalog / GetRing) from that member — it has
//!    applied at least that version, so its answer is at least as new; one fetch of each kind runs at a
//!    time, and a fetch that finds nothing newer changes nothing;
//! 3. the fetched snapshot replaces the view's only if it is newer (versions never go back).
//!
//! [`SchemaView::refresh_at_least`] is the coordinator's path: it asks every known member until one has
//! the version, waiting on updates in between, up to a deadline.

use crate::error::DatanodeError;
use basalt_common::{DatanodeId, ErrorKind};
use basalt_proto::RemoteError;
use basalt_proto::link::Connector;
use basalt_proto::pb;
use basalt_proto::pb::client_protocol_client::ClientProtocolClient;
use basalt_table::catalog::{self, CatalogSnapshot, CatalogView, SchemaChange, SchemaChangeOutput};
use basalt_table::ring::{RingNode, RingView};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

const RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`SchemaView::refresh_at_least`] waits between rounds of asking the members.
const ROUND_WAIT: Duration = Duration::from_millis(200);
/// How long a schema change keeps looking for the metadata group's leader.
const SCHEMA_CHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// The catalog and ring as this datanode knows them.
#[derive(Debug)]
pub struct SchemaView {
    catalog: watch::Sender<Arc<CatalogView>>,
    ring: watch::Sender<Arc<RingView>>,
    connector: Connector,
    /// Metadata members to fetch from (the namenode links' addresses).
    members: Mutex<Vec<String>>,
    catalog_fetching: AtomicBool,
    ring_fetching: AtomicBool,
    /// The name schema changes are deduplicated under (with a request id each).
    client_name: String,
}

impl SchemaView {
    pub fn new(connector: Connector) -> Arc<SchemaView> {
        Arc::new(SchemaView {
            catalog: watch::Sender::new(Arc::new(CatalogView::default())),
            ring: watch::Sender::new(Arc::new(RingView::default())),
            connector,
            members: Mutex::new(Vec::new()),
            catalog_fetching: AtomicBool::new(false),
            ring_fetching: AtomicBool::new(false),
            client_name: format!("datanode-coordinator-{:016x}", fastrand::u64(..)),
        })
    }

    /// The current catalog (indexed by name).
    pub fn catalog(&self) -> Arc<CatalogView> {
        self.catalog.borrow().clone()
    }

    /// The current ring.
    pub fn ring(&self) -> Arc<RingView> {
        self.ring.borrow().clone()
    }

    /// Notified on every catalog change.
    pub fn subscribe_catalog(&self) -> watch::Receiver<Arc<CatalogView>> {
        self.catalog.subscribe()
    }

    /// Notified on every ring change.
    pub fn subscribe_ring(&self) -> watch::Receiver<Arc<RingView>> {
        self.ring.subscribe()
    }

    /// A metadata member to fetch from.
    pub fn add_member(&self, addr: &str) {
        let mut m = self.members.lock().unwrap_or_else(|e| e.into_inner());
        if !m.iter().any(|a| a == addr) {
            m.push(addr.to_string());
        }
    }

    /// Installs a catalog if it is newer than the current one; whether it was.
    pub fn install_catalog(&self, c: CatalogSnapshot) -> bool {
        self.catalog.send_if_modified(|cur| {
            let newer = c.version > cur.version();
            if newer {
                tracing::info!(version = c.version, tables = c.tables.len(), "catalog updated");
                *cur = Arc::new(CatalogView::new(c));
            }
            newer
        })
    }

    /// Installs a ring if it is newer than the current one; whether it was.
    pub fn install_ring(&self, r: RingView) -> bool {
        self.ring.send_if_modified(|cur| {
            let newer = r.ring.version() > cur.ring.version() || (cur.ring.is_empty() && !r.ring.is_empty());
            if newer {
                tracing::info!(
                    version = r.ring.version(),
                    vnodes = r.ring.tokens().len(),
                    "ring updated"
                );
                *cur = Arc::new(r);
            }
            newer
        })
    }

    /// A heartbeat reply from `addr` named these versions: fetch what is newer, in the background.
    pub fn observe(self: &Arc<Self>, addr: &str, catalog_version: u64, ring_version: u64) {
        if catalog_version > self.catalog.borrow().version() && !self.catalog_fetching.swap(true, Ordering::AcqRel) {
            let (view, addr) = (self.clone(), addr.to_string());
            tokio::spawn(async move {
                if let Err(e) = view.fetch_catalog(&addr).await {
                    tracing::warn!(namenode = %addr, error = %e, "catalog refresh failed");
                }
                view.catalog_fetching.store(false, Ordering::Release);
            });
        }
        if ring_version > self.ring.borrow().ring.version() && !self.ring_fetching.swap(true, Ordering::AcqRel) {
            let (view, addr) = (self.clone(), addr.to_string());
            tokio::spawn(async move {
                if let Err(e) = view.fetch_ring(&addr).await {
                    tracing::warn!(namenode = %addr, error = %e, "ring refresh failed");
                }
                view.ring_fetching.store(false, Ordering::Release);
            });
        }
    }

    /// Waits until the view holds catalog version `version` or newer, asking the metadata members;
    /// fails after `timeout` with [`DatanodeError::CatalogBehind`].
    pub async fn refresh_at_least(&self, version: u64, timeout: Duration) -> Result<Arc<CatalogView>, DatanodeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.catalog.subscribe();
        loop {
            let cur = self.catalog();
            if cur.version() >= version {
                return Ok(cur);
            }
            let members = self.members.lock().unwrap_or_else(|e| e.into_inner()).clone();
            for addr in &members {
                match self.fetch_catalog(addr).await {
                    Ok(v) if v >= version => return Ok(self.catalog()),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(namenode = %addr, error = %e, "catalog fetch failed"),
                }
            }
            let have = self.catalog().version();
            let wait = deadline.min(tokio::time::Instant::now() + ROUND_WAIT);
            if tokio::time::Instant::now() >= deadline {
                return Err(DatanodeError::CatalogBehind { wanted: version, have });
            }
            // An update from a heartbeat's fetch ends the wait early.
            let _ = tokio::time::timeout_at(wait, rx.wait_for(|c| c.version() >= version)).await;
        }
    }

    /// Applies a schema change through the metadata group's leader (found from any member, following
    /// its leader hint), retried with the same request id so that a retry after a lost answer returns
    /// the first result instead of applying twice.
    pub async fn schema_change(&self, change: &SchemaChange) -> Result<SchemaChangeOutput, RemoteError> {
        let req = pb::SchemaChangeRequest {
            change: catalog::encode(change),
            client_name: self.client_name.clone(),
            request_id: fastrand::u64(1..),
        };
        let deadline = tokio::time::Instant::now() + SCHEMA_CHANGE_TIMEOUT;
        let mut target: Option<String> = None;
        let mut last = RemoteError {
            kind: ErrorKind::Unavailable,
            message: "no metadata member known".into(),
            leader: None,
            transport: true,
        };
        loop {
            let members = self.members.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let order: Vec<String> = target.take().into_iter().chain(members).collect();
            for addr in order {
                let mut client = match self.client(&addr).await {
                    Ok(c) => c,
                    Err(e) => {
                        last.message = e.to_string();
                        continue;
                    }
                };
                match client.schema_change(req.clone()).await {
                    Ok(r) => {
                        return catalog::decode(&r.into_inner().output).map_err(|e| RemoteError {
                            kind: ErrorKind::Corrupt,
                            message: format!("malformed schema change output from {addr}: {e}"),
                            leader: None,
                            transport: false,
                        });
                    }
                    Err(s) => {
                        let e = RemoteError::from(s);
                        match e.kind {
                            ErrorKind::NotLeader | ErrorKind::Unavailable => {
                                if let Some(l) = &e.leader {
                                    target = Some(l.clone());
                                }
                                last = e;
                                if target.is_some() {
                                    break;
                                }
                            }
                            _ => return Err(e),
                        }
                    }
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(last);
            }
            if target.is_none() {
                tokio::time::sleep(ROUND_WAIT).await;
            }
        }
    }

    async fn client(&self, addr: &str) -> Result<ClientProtocolClient<basalt_proto::link::Channel>, DatanodeError> {
        let channel = crate::nn_link::namenode_channel(&self.connector, addr, RPC_TIMEOUT).await?;
        Ok(ClientProtocolClient::new(channel).max_decoding_message_size(basalt_common::MAX_RPC_MESSAGE))
    }

    /// Fetches the catalog from `addr` (its applied state) and installs it if newer; the version the
    /// view then holds.
    pub async fn fetch_catalog(&self, addr: &str) -> Result<u64, DatanodeError> {
        let known = self.catalog.borrow().version();
        let req = pb::GetCatalogRequest {
            known_version: known,
            linearizable: false,
        };
        let resp = self
            .client(addr)
            .await?
            .get_catalog(req)
            .await
            .map_err(|s| namenode_error(addr, s))?
            .into_inner();
        if !resp.catalog.is_empty() {
            let c: CatalogSnapshot = catalog::decode(&resp.catalog).map_err(|e| DatanodeError::MalformedCatalog {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
            self.install_catalog(c);
        }
        Ok(self.catalog.borrow().version())
    }

    /// Fetches the catalog once from the first member that answers (installing it if newer), without
    /// waiting for any particular version: the freshest view at hand, for a statement that names
    /// something this node may not have seen yet.
    pub async fn refresh_latest(&self) -> Arc<CatalogView> {
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for addr in &members {
            match self.fetch_catalog(addr).await {
                Ok(_) => break,
                Err(e) => tracing::debug!(namenode = %addr, error = %e, "catalog fetch failed"),
            }
        }
        self.catalog()
    }

    /// Fetches the ring from the first member that answers, when this view has none yet (a datanode
    /// that just started coordinates with the whole ring, not a refusal).
    pub async fn ensure_ring(&self) {
        if !self.ring().ring.is_empty() {
            return;
        }
        let members = self.members.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for addr in &members {
            match self.fetch_ring(addr).await {
                Ok(_) if !self.ring().ring.is_empty() => return,
                Ok(_) => {}
                Err(e) => tracing::debug!(namenode = %addr, error = %e, "ring fetch failed"),
            }
        }
    }

    /// Fetches the ring from `addr` and installs it if newer.
    pub async fn fetch_ring(&self, addr: &str) -> Result<u64, DatanodeError> {
        let resp = self
            .client(addr)
            .await?
            .get_ring(pb::GetRingRequest { linearizable: false })
            .await
            .map_err(|s| namenode_error(addr, s))?
            .into_inner();
        let entries = resp.entries.into_iter().map(|e| {
            let node = RingNode {
                id: DatanodeId(e.datanode_id),
                addr: e.addr,
                host: e.host,
                rack: e.rack,
            };
            (e.token, node)
        });
        let view = RingView::new(resp.version, entries).map_err(|e| DatanodeError::MalformedCatalog {
            addr: addr.to_string(),
            reason: e.to_string(),
        })?;
        self.install_ring(view);
        Ok(self.ring.borrow().ring.version())
    }
}

fn namenode_error(addr: &str, s: tonic::Status) -> DatanodeError {
    DatanodeError::Namenode {
        addr: addr.to_string(),
        source: RemoteError::from(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_table::ring::RingNode;

    fn ring(version: u64, tokens: &[i64]) -> RingView {
        let node = RingNode {
            id: DatanodeId(1),
            addr: "a:1".into(),
            host: "a".into(),
            rack: "/r".into(),
        };
        RingView::new(version, tokens.iter().map(|t| (*t, node.clone()))).unwrap()
    }

    #[tokio::test]
    async fn versions_never_go_back() {
        let view = SchemaView::new(Connector::default());
        let rx = view.subscribe_catalog();
        let snap = |version| CatalogSnapshot {
            version,
            ..Default::default()
        };
        assert!(view.install_catalog(snap(3)));
        assert!(rx.has_changed().unwrap());
        assert!(!view.install_catalog(snap(2)));
        assert!(!view.install_catalog(snap(3)));
        assert_eq!(view.catalog().version(), 3);
        assert!(view.install_ring(ring(2, &[5, 9])));
        assert!(!view.install_ring(ring(1, &[7])));
        assert_eq!(view.ring().ring.tokens().len(), 2);
        // Already there: no fetch, no wait.
        let got = view.refresh_at_least(3, Duration::from_secs(1)).await.unwrap();
        assert_eq!(got.version(), 3);
    }

    #[tokio::test]
    async fn refresh_at_least_fails_typed_without_members() {
        let view = SchemaView::new(Connector::default());
        let err = view.refresh_at_least(1, Duration::ZERO).await.unwrap_err();
        assert!(matches!(err, DatanodeError::CatalogBehind { wanted: 1, have: 0 }));
        assert_eq!(err.kind(), ErrorKind::Unavailable);
    }
}

//! The datanode's metrics (`GET /metrics` on its HTTP port): one [`basalt_metrics::Metrics`] registry
//! per datanode, held by the [`Context`].
//!
//! Counted where they happen: gRPC requests (the layer on the server), block bytes read and written
//! by path ([`crate::transfer`]): `local` (a client on this host, over TCP), `remote` (another host),
//! `short_circuit` (a client on this host reading the files itself: the bytes of the replicas whose
//! paths it was given). Read at scrape time ([`DatanodeReadings`]): transfers in flight and the table
//! store's WAL syncs.

use crate::context::Context;
use crate::tables::store::TableStore;
use basalt_metrics::rpc::RpcMetrics;
use basalt_metrics::{Counter, Family, Metrics, Readings, Readout};
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

/// Where block bytes went to or came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BytePath {
    Local,
    Remote,
    ShortCircuit,
}

impl BytePath {
    /// `local` when the peer is on this host (its address is this connection's own, or loopback).
    pub fn of(peer: Option<SocketAddr>, own: Option<SocketAddr>) -> BytePath {
        match (peer, own) {
            (Some(p), _) if p.ip().is_loopback() => BytePath::Local,
            (Some(p), Some(o)) if p.ip() == o.ip() => BytePath::Local,
            _ => BytePath::Remote,
        }
    }

    fn name(self) -> &'static str {
        match self {
            BytePath::Local => "local",
            BytePath::Remote => "remote",
            BytePath::ShortCircuit => "short_circuit",
        }
    }
}

type ByteLabels = [(&'static str, String); 2];

/// The registry of one datanode and the metrics counted where events happen.
#[derive(Debug, Clone)]
pub struct DatanodeMetrics {
    pub registry: Metrics,
    pub rpc: RpcMetrics,
    bytes: Family<ByteLabels, Counter>,
}

impl Default for DatanodeMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl DatanodeMetrics {
    pub fn new() -> Self {
        let registry = Metrics::new();
        let rpc = RpcMetrics::register(&registry);
        let bytes = Family::<ByteLabels, Counter>::default();
        registry.register(
            "block_bytes",
            "Block bytes read and written by this datanode, by direction (op) and path (local, remote, short_circuit).",
            bytes.clone(),
        );
        DatanodeMetrics { registry, rpc, bytes }
    }

    /// The counter of bytes read over `path`.
    pub fn read_bytes(&self, path: BytePath) -> Counter {
        self.bytes_counter("read", path)
    }

    /// The counter of bytes written over `path`.
    pub fn written_bytes(&self, path: BytePath) -> Counter {
        self.bytes_counter("write", path)
    }

    fn bytes_counter(&self, op: &'static str, path: BytePath) -> Counter {
        self.bytes
            .get_or_create(&[("op", op.to_string()), ("path", path.name().to_string())])
            .clone()
    }

    /// Registers the values read at every scrape from `ctx` and the table store.
    pub(crate) fn watch(&self, ctx: &Arc<Context>, tables: TableStore) {
        self.registry.collect(DatanodeReadings {
            ctx: Arc::downgrade(ctx),
            tables,
        });
    }
}

struct DatanodeReadings {
    ctx: Weak<Context>,
    tables: TableStore,
}

impl std::fmt::Debug for DatanodeReadings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatanodeReadings")
    }
}

impl Readings for DatanodeReadings {
    fn read(&self, out: &mut Readout) {
        if let Some(ctx) = self.ctx.upgrade() {
            out.gauge(
                "active_transfers",
                "Block reads and writes in progress on this datanode.",
                &[],
                f64::from(ctx.active_transfers()),
            );
        }
        out.counter(
            "table_wal_syncs",
            "WAL syncs (fsync) of the table store: one per write in batch durability, one per period with writes in periodic.",
            &[],
            self.tables.wal_syncs() as f64,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_on_this_host_is_local() {
        let a = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        assert_eq!(BytePath::of(a("127.0.0.1:1"), a("10.0.0.1:2")), BytePath::Local);
        assert_eq!(BytePath::of(a("10.0.0.1:1"), a("10.0.0.1:2")), BytePath::Local);
        assert_eq!(BytePath::of(a("10.0.0.2:1"), a("10.0.0.1:2")), BytePath::Remote);
        assert_eq!(BytePath::of(None, None), BytePath::Remote);
    }

    #[test]
    fn bytes_are_counted_by_op_and_path() {
        let m = DatanodeMetrics::new();
        m.written_bytes(BytePath::Remote).inc_by(10);
        m.written_bytes(BytePath::Remote).inc_by(5);
        m.read_bytes(BytePath::ShortCircuit).inc_by(7);
        let text = m.registry.encode();
        assert!(
            text.contains(r#"basalt_block_bytes_total{op="write",path="remote"} 15"#),
            "{text}"
        );
        assert!(
            text.contains(r#"basalt_block_bytes_total{op="read",path="short_circuit"} 7"#),
            "{text}"
        );
    }
}

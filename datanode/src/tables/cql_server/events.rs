//! Server-pushed events (REGISTER): SCHEMA_CHANGE when this node's catalog changes (whoever made
//! the change, through whichever node), TOPOLOGY_CHANGE when a datanode joins or leaves the ring.
//!
//! [`schema_changes`] is the pure part: the changes between two catalog snapshots, as Cassandra
//! reports them (a keyspace created, updated or dropped; a table likewise). [`watch`] is the shell:
//! it follows the catalog and the ring and sends each event to every registered connection over a
//! bounded broadcast channel (a connection too slow to keep up skips events; the driver refreshes
//! its metadata on the next one).

use crate::tables::exec::Engine;
use basalt_common::DatanodeId;
use basalt_table::catalog::CatalogSnapshot;
use cassandra_protocol::frame::events::{
    SchemaChange, SchemaChangeOptions, SchemaChangeTarget, SchemaChangeType, ServerEvent, TopologyChange,
    TopologyChangeType,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Events kept for slow connections before they skip.
pub const EVENT_BACKLOG: usize = 256;

fn change(change_type: SchemaChangeType, target: SchemaChangeTarget, options: SchemaChangeOptions) -> SchemaChange {
    SchemaChange {
        change_type,
        target,
        options,
    }
}

/// The schema changes from `old` to `new`: keyspaces first (created, updated, dropped), then tables.
pub fn schema_changes(old: &CatalogSnapshot, new: &CatalogSnapshot) -> Vec<SchemaChange> {
    use SchemaChangeType::{Created, Dropped, Updated};
    let mut out = Vec::new();
    for (name, k) in &new.keyspaces {
        match old.keyspaces.get(name) {
            None => out.push(change(
                Created,
                SchemaChangeTarget::Keyspace,
                SchemaChangeOptions::Keyspace(name.clone()),
            )),
            Some(o) if o != k => out.push(change(
                Updated,
                SchemaChangeTarget::Keyspace,
                SchemaChangeOptions::Keyspace(name.clone()),
            )),
            Some(_) => {}
        }
    }
    let tables = |c: &CatalogSnapshot| -> BTreeMap<(String, String), _> {
        c.tables
            .values()
            .map(|t| ((t.keyspace.clone(), t.name.clone()), t.clone()))
            .collect()
    };
    let (before, after) = (tables(old), tables(new));
    let table = |ty, (ks, name): &(String, String)| {
        change(
            ty,
            SchemaChangeTarget::Table,
            SchemaChangeOptions::TableType(ks.clone(), name.clone()),
        )
    };
    for (key, t) in &after {
        match before.get(key) {
            None => out.push(table(Created, key)),
            Some(o) if o != t => out.push(table(Updated, key)),
            Some(_) => {}
        }
    }
    for key in before.keys().filter(|k| !after.contains_key(*k)) {
        // A table of a dropped keyspace goes with its keyspace's event.
        if new.keyspaces.contains_key(&key.0) {
            out.push(table(Dropped, key));
        }
    }
    for name in old.keyspaces.keys().filter(|k| !new.keyspaces.contains_key(*k)) {
        out.push(change(
            Dropped,
            SchemaChangeTarget::Keyspace,
            SchemaChangeOptions::Keyspace(name.clone()),
        ));
    }
    out
}

/// Follows the catalog and the ring until `shutdown`, sending their changes to `events`.
pub async fn watch(
    engine: Arc<Engine>,
    events: broadcast::Sender<Arc<ServerEvent>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut catalog = engine.schema.subscribe_catalog();
    let mut ring = engine.schema.subscribe_ring();
    let mut last_catalog = catalog.borrow_and_update().snapshot().clone();
    let mut members: BTreeSet<DatanodeId> = ring.borrow_and_update().nodes.keys().copied().collect();
    let mut addrs: HashMap<DatanodeId, SocketAddr> = HashMap::new();
    loop {
        // The shutdown branch's answer borrows the channel: decide first, act after the select.
        let ring_changed = tokio::select! {
            r = catalog.changed() => match r { Ok(()) => false, Err(_) => return },
            r = ring.changed() => match r { Ok(()) => true, Err(_) => return },
            _ = shutdown.wait_for(|s| *s) => return,
        };
        if !ring_changed {
            let now = catalog.borrow_and_update().snapshot().clone();
            for c in schema_changes(&last_catalog, &now) {
                let _ = events.send(Arc::new(ServerEvent::SchemaChange(c)));
            }
            last_catalog = now;
            continue;
        }
        let now: BTreeSet<DatanodeId> = ring.borrow_and_update().nodes.keys().copied().collect();
        addrs.extend(
            engine
                .cql
                .peers(&engine, now.iter().copied())
                .await
                .into_iter()
                .map(|(n, p)| (n, p.cql)),
        );
        let topology = |change_type, n: &DatanodeId| {
            addrs
                .get(n)
                .map(|&addr| Arc::new(ServerEvent::TopologyChange(TopologyChange { change_type, addr })))
        };
        let joined = now
            .difference(&members)
            .filter_map(|n| topology(TopologyChangeType::NewNode, n));
        let left = members
            .difference(&now)
            .filter_map(|n| topology(TopologyChangeType::RemovedNode, n));
        for e in joined.chain(left) {
            let _ = events.send(e);
        }
        members = now;
    }
}

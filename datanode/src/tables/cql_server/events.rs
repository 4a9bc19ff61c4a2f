//! Server-pushed events (REGISTER): SCHEMA_CHANGE when this node's catalog changes (whoever made
//! the change, through whichever node), TOPOLOGY_CHANGE when a datanode joins or leaves the ring,
//! STATUS_CHANGE when this node, as a coordinator, sees another one go down or come back.
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
    SchemaChange, SchemaChangeOptions, SchemaChangeTarget, SchemaChangeType, ServerEvent, StatusChange,
    StatusChangeType, TopologyChange, TopologyChangeType,
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
            // Dropped and created again under its name: a new table.
            Some(o) if o.id != t.id => {
                out.push(table(Dropped, key));
                out.push(table(Created, key));
            }
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Changed {
    Catalog,
    Ring,
    Liveness,
}

/// Follows the catalog, the ring and this coordinator's view of liveness until `shutdown`, sending their changes to `events`.
pub async fn watch(
    engine: Arc<Engine>,
    events: broadcast::Sender<Arc<ServerEvent>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut catalog = engine.schema.subscribe_catalog();
    let mut ring = engine.schema.subscribe_ring();
    let mut last_catalog = catalog.borrow_and_update().snapshot().clone();
    let mut members: BTreeSet<DatanodeId> = ring.borrow_and_update().nodes.keys().copied().collect();
    let mut addrs: HashMap<DatanodeId, SocketAddr> = engine
        .cql
        .peers(&engine, members.iter().copied())
        .await
        .into_iter()
        .map(|(n, p)| (n, p.cql))
        .collect();
    let mut liveness = engine.liveness.subscribe();
    let mut down: BTreeSet<DatanodeId> = engine.liveness.down_nodes().into_iter().collect();
    loop {
        // The shutdown branch's answer borrows the channel: decide first, act after the select.
        let what = tokio::select! {
            r = catalog.changed() => match r { Ok(()) => Changed::Catalog, Err(_) => return },
            r = ring.changed() => match r { Ok(()) => Changed::Ring, Err(_) => return },
            r = liveness.changed() => match r { Ok(()) => Changed::Liveness, Err(_) => return },
            _ = shutdown.wait_for(|s| *s) => return,
        };
        if what == Changed::Liveness {
            let now: BTreeSet<DatanodeId> = engine.liveness.down_nodes().into_iter().collect();
            let status = |change_type, n: &DatanodeId| {
                addrs
                    .get(n)
                    .map(|&addr| Arc::new(ServerEvent::StatusChange(StatusChange { change_type, addr })))
            };
            let went = now.difference(&down).filter_map(|n| status(StatusChangeType::Down, n));
            let came = down.difference(&now).filter_map(|n| status(StatusChangeType::Up, n));
            for e in went.chain(came) {
                let _ = events.send(e);
            }
            down = now;
            continue;
        }
        if what == Changed::Catalog {
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

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_common::{ColumnId, TableId};
    use basalt_table::schema::{ColumnDef, ColumnKind, KeyspaceDef, Replication, TableDef, TableOptions};
    use basalt_table::{CqlType, NativeType};

    fn keyspace(name: &str, factor: u32) -> (String, KeyspaceDef) {
        let k = KeyspaceDef {
            name: name.into(),
            replication: Replication::Simple { factor },
            durable_writes: true,
        };
        (name.to_string(), k)
    }

    fn table(id: u64, ks: &str, name: &str, columns: usize) -> (TableId, TableDef) {
        let columns = (0..columns)
            .map(|i| ColumnDef {
                id: ColumnId(i as u64),
                name: format!("c{i}"),
                ty: CqlType::Native(NativeType::Int),
                kind: if i == 0 {
                    ColumnKind::PartitionKey { position: 0 }
                } else {
                    ColumnKind::Regular
                },
            })
            .collect();
        let t = TableDef {
            id: TableId(id),
            keyspace: ks.into(),
            name: name.into(),
            columns,
            options: TableOptions::default(),
            dropped: Default::default(),
            next_column: 4,
        };
        (TableId(id), t)
    }

    fn catalog(keyspaces: Vec<(String, KeyspaceDef)>, tables: Vec<(TableId, TableDef)>) -> CatalogSnapshot {
        CatalogSnapshot {
            version: 1,
            keyspaces: keyspaces.into_iter().collect(),
            tables: tables.into_iter().collect(),
        }
    }

    fn described(changes: Vec<SchemaChange>) -> Vec<String> {
        changes
            .into_iter()
            .map(|c| {
                let what = match c.options {
                    SchemaChangeOptions::Keyspace(k) => k,
                    SchemaChangeOptions::TableType(k, t) => format!("{k}.{t}"),
                    other => format!("{other:?}"),
                };
                format!("{:?} {:?} {what}", c.change_type, c.target)
            })
            .collect()
    }

    #[test]
    fn created_updated_and_dropped_keyspaces_and_tables() {
        let old = catalog(
            vec![keyspace("a", 1), keyspace("b", 3), keyspace("gone", 1)],
            vec![
                table(1, "a", "kept", 2),
                table(2, "a", "altered", 2),
                table(3, "a", "dropped", 2),
                table(4, "gone", "with_it", 2),
            ],
        );
        let new = catalog(
            vec![keyspace("a", 1), keyspace("b", 2), keyspace("c", 1)],
            vec![
                table(1, "a", "kept", 2),
                table(2, "a", "altered", 3),
                table(5, "c", "fresh", 1),
            ],
        );
        assert_eq!(
            described(schema_changes(&old, &new)),
            [
                "Updated Keyspace b",
                "Created Keyspace c",
                "Updated Table a.altered",
                "Created Table c.fresh",
                "Dropped Table a.dropped",
                "Dropped Keyspace gone",
            ]
        );
        assert!(schema_changes(&new, &new).is_empty());
    }

    #[test]
    fn a_table_dropped_and_created_again_under_its_name_is_dropped_then_created() {
        let old = catalog(vec![keyspace("a", 1)], vec![table(1, "a", "t", 2)]);
        let new = catalog(vec![keyspace("a", 1)], vec![table(9, "a", "t", 2)]);
        assert_eq!(
            described(schema_changes(&old, &new)),
            ["Dropped Table a.t", "Created Table a.t"]
        );
    }
}

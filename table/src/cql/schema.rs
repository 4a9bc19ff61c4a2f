//! `CREATE TABLE` and `CREATE KEYSPACE` to the catalog's definitions, validated as Cassandra does, and
//! `ALTER TABLE` applied to a definition.
//!
//! A table's columns get ids from 0 in definition order; `next_column` is one past the last.
//! Options Basalt keeps are `default_time_to_live`, `gc_grace_seconds` and `comment`; Cassandra's other
//! table options (`compaction`, `caching`, ...) are accepted and ignored, so that the output of
//! Cassandra's `DESCRIBE` can be replayed; unknown options are refused.

use super::ast::{
    AlterKeyspace, AlterTableAction, ColumnSpec, CreateKeyspace, CreateTable, PropertyValue, TableProperties,
};
use super::error::{CqlError, ReplicationError, TableDefError};
use crate::schema::{ClusteringOrder, ColumnDef, ColumnKind, KeyspaceDef, Replication, TableDef, TableOptions};
use basalt_common::{ColumnId, TableId};
use std::collections::{BTreeMap, BTreeSet};

/// Table options of Cassandra 4 that Basalt accepts and ignores.
const IGNORED_OPTIONS: &[&str] = &[
    "additional_write_policy",
    "allow_auto_snapshot",
    "bloom_filter_fp_chance",
    "caching",
    "cdc",
    "compaction",
    "compression",
    "crc_check_chance",
    "dclocal_read_repair_chance",
    "extensions",
    "incremental_backups",
    "max_index_interval",
    "memtable",
    "memtable_flush_period_in_ms",
    "min_index_interval",
    "read_repair",
    "read_repair_chance",
    "speculative_retry",
];

/// The definition of the table that `stmt` creates in `keyspace` (the statement's own keyspace, if it
/// names one, is the caller's to resolve), with id `id`.
pub fn table_def(stmt: &CreateTable, keyspace: &str, id: TableId) -> Result<TableDef, CqlError> {
    check_name("table", &stmt.table.name, 222)?;
    check_name("keyspace", keyspace, 48)?;
    let table = stmt.table.name.clone();
    let mut seen = BTreeSet::new();
    for c in &stmt.columns {
        if !seen.insert(c.name.as_str()) {
            return Err(TableDefError::DuplicateColumn {
                column: c.name.clone(),
                table,
            }
            .into());
        }
    }
    let inline: Vec<&ColumnSpec> = stmt.columns.iter().filter(|c| c.primary_key).collect();
    let key = match (&stmt.primary_key, inline.as_slice()) {
        (Some(pk), []) => pk.clone(),
        (None, [c]) => super::ast::PrimaryKey {
            partition: vec![c.name.clone()],
            clustering: Vec::new(),
        },
        (None, []) => return Err(TableDefError::MissingPrimaryKey { table }.into()),
        _ => return Err(TableDefError::MultiplePrimaryKeys { table }.into()),
    };
    let mut in_key = BTreeSet::new();
    for name in key.partition.iter().chain(&key.clustering) {
        let Some(col) = stmt.columns.iter().find(|c| &c.name == name) else {
            return Err(TableDefError::UnknownKeyColumn { column: name.clone() }.into());
        };
        if !in_key.insert(name.as_str()) {
            return Err(TableDefError::RepeatedKeyColumn { column: name.clone() }.into());
        }
        if col.ty.is_collection() {
            return Err(TableDefError::CollectionInPrimaryKey { column: name.clone() }.into());
        }
        if col.is_static {
            return Err(TableDefError::StaticInPrimaryKey { column: name.clone() }.into());
        }
    }
    if key.clustering.is_empty() && stmt.columns.iter().any(|c| c.is_static) {
        return Err(TableDefError::StaticWithoutClustering.into());
    }
    let orders = clustering_orders(&stmt.properties, &key.clustering)?;
    let columns = stmt
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let kind = if let Some(p) = key.partition.iter().position(|n| n == &c.name) {
                ColumnKind::PartitionKey { position: p as u32 }
            } else if let Some(p) = key.clustering.iter().position(|n| n == &c.name) {
                ColumnKind::Clustering {
                    position: p as u32,
                    order: orders[p],
                }
            } else if c.is_static {
                ColumnKind::Static
            } else {
                ColumnKind::Regular
            };
            ColumnDef {
                id: ColumnId(i as u64),
                name: c.name.clone(),
                ty: c.ty,
                kind,
            }
        })
        .collect::<Vec<_>>();
    let mut options = TableOptions::default();
    apply_options(&stmt.properties, &mut options)?;
    Ok(TableDef {
        id,
        keyspace: keyspace.to_string(),
        name: stmt.table.name.clone(),
        next_column: columns.len() as u64,
        columns,
        options,
        dropped: BTreeMap::new(),
    })
}

/// The order of each clustering column from `CLUSTERING ORDER BY`, which must name the clustering
/// columns in order (a prefix is allowed only if it is complete, as in Cassandra: all or none).
fn clustering_orders(props: &TableProperties, clustering: &[String]) -> Result<Vec<ClusteringOrder>, CqlError> {
    let given = &props.clustering_order;
    if given.is_empty() {
        return Ok(vec![ClusteringOrder::Asc; clustering.len()]);
    }
    for (i, (name, _)) in given.iter().enumerate() {
        match clustering.iter().position(|c| c == name) {
            None => return Err(TableDefError::ClusteringOrderNotClustering { column: name.clone() }.into()),
            Some(p) if p != i => {
                return Err(TableDefError::ClusteringOrderMisordered {
                    column: clustering[i.min(p)].clone(),
                    next: name.clone(),
                }
                .into());
            }
            Some(_) => {}
        }
    }
    if given.len() < clustering.len() {
        return Err(TableDefError::ClusteringOrderMissing {
            column: clustering[given.len()].clone(),
        }
        .into());
    }
    Ok(given.iter().map(|(_, o)| *o).collect())
}

/// Applies `name = value` options onto `options`, refusing unknown, repeated and ill-typed ones.
fn apply_options(props: &TableProperties, options: &mut TableOptions) -> Result<(), CqlError> {
    let mut seen = BTreeSet::new();
    for p in &props.properties {
        if !seen.insert(p.name.as_str()) {
            return Err(TableDefError::RepeatedOption { name: p.name.clone() }.into());
        }
        let seconds = || -> Result<u32, CqlError> {
            match &p.value {
                PropertyValue::Number(n) => n.parse::<u32>().ok(),
                PropertyValue::String(s) => s.parse::<u32>().ok(),
                _ => None,
            }
            .filter(|v| i32::try_from(*v).is_ok())
            .ok_or_else(|| {
                TableDefError::InvalidOption {
                    name: p.name.clone(),
                    reason: "a non-negative integer of seconds is expected".into(),
                }
                .into()
            })
        };
        match p.name.as_str() {
            "default_time_to_live" => options.default_ttl = seconds()?,
            "gc_grace_seconds" => options.gc_grace_seconds = seconds()?,
            "comment" => match &p.value {
                PropertyValue::String(s) => options.comment = s.clone(),
                _ => {
                    return Err(TableDefError::InvalidOption {
                        name: p.name.clone(),
                        reason: "a string is expected".into(),
                    }
                    .into());
                }
            },
            name if IGNORED_OPTIONS.contains(&name) => {}
            _ => return Err(TableDefError::UnknownOption { name: p.name.clone() }.into()),
        }
    }
    Ok(())
}

/// `def` altered by `action`: columns added (with fresh ids, as regular or static columns) or dropped
/// (recorded in `dropped` at `now_micros`), or options changed. The caller checks the table exists.
pub fn alter_table(def: &TableDef, action: &AlterTableAction, now_micros: i64) -> Result<TableDef, CqlError> {
    let mut out = def.clone();
    match action {
        AlterTableAction::Add(specs) => {
            for s in specs {
                if out.column(&s.name).is_some() {
                    return Err(TableDefError::ColumnExists { column: s.name.clone() }.into());
                }
                if s.primary_key {
                    return Err(TableDefError::MultiplePrimaryKeys {
                        table: def.name.clone(),
                    }
                    .into());
                }
                if s.is_static && out.clustering().is_empty() {
                    return Err(TableDefError::StaticWithoutClustering.into());
                }
                out.columns.push(ColumnDef {
                    id: ColumnId(out.next_column),
                    name: s.name.clone(),
                    ty: s.ty,
                    kind: if s.is_static {
                        ColumnKind::Static
                    } else {
                        ColumnKind::Regular
                    },
                });
                out.next_column += 1;
            }
        }
        AlterTableAction::Drop(names) => {
            for n in names {
                let Some(c) = out.column(n) else {
                    return Err(TableDefError::UnknownColumn {
                        column: n.clone(),
                        table: def.name.clone(),
                    }
                    .into());
                };
                if c.kind.is_primary_key() {
                    return Err(TableDefError::DropKeyColumn { column: n.clone() }.into());
                }
                out.columns.retain(|c| &c.name != n);
                out.dropped.insert(n.clone(), now_micros);
            }
        }
        AlterTableAction::With(props) => {
            if let Some((name, _)) = props.clustering_order.first() {
                return Err(TableDefError::UnknownOption {
                    name: format!("CLUSTERING ORDER ({name})"),
                }
                .into());
            }
            apply_options(props, &mut out.options)?;
        }
    }
    Ok(out)
}

/// Keyspace and table names are `[A-Za-z0-9_]+` of at most `max` characters, as in Cassandra.
fn check_name(what: &'static str, name: &str, max: usize) -> Result<(), CqlError> {
    let ok = !name.is_empty() && name.len() <= max && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CqlError::InvalidName {
            what,
            name: name.to_string(),
            max,
        })
    }
}

/// The keyspace that `stmt` creates.
pub fn keyspace_def(stmt: &CreateKeyspace) -> Result<KeyspaceDef, CqlError> {
    check_name("keyspace", &stmt.name, 48)?;
    Ok(KeyspaceDef {
        name: stmt.name.clone(),
        replication: replication(&stmt.replication)?,
        durable_writes: stmt.durable_writes.unwrap_or(true),
    })
}

/// `def` altered by `stmt` (the replication, durable writes or both).
pub fn alter_keyspace(def: &KeyspaceDef, stmt: &AlterKeyspace) -> Result<KeyspaceDef, CqlError> {
    let mut out = def.clone();
    if let Some(r) = &stmt.replication {
        out.replication = replication(r)?;
    }
    if let Some(d) = stmt.durable_writes {
        out.durable_writes = d;
    }
    Ok(out)
}

/// A replication strategy from the `replication` map of `CREATE`/`ALTER KEYSPACE`.
pub fn replication(options: &[(String, String)]) -> Result<Replication, CqlError> {
    let class = options
        .iter()
        .find(|(k, _)| k == "class")
        .map(|(_, v)| v.as_str())
        .ok_or(ReplicationError::MissingClass)?;
    let short = class.strip_prefix("org.apache.cassandra.locator.").unwrap_or(class);
    let factor = |v: &str| -> Result<u32, ReplicationError> {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|f| i32::try_from(*f).is_ok())
            .ok_or_else(|| ReplicationError::InvalidFactor { value: v.to_string() })
    };
    let others = options.iter().filter(|(k, _)| k != "class");
    match short {
        "SimpleStrategy" => {
            let mut rf = None;
            for (k, v) in others {
                if k == "replication_factor" {
                    rf = Some(factor(v)?);
                } else {
                    return Err(ReplicationError::UnknownOption {
                        option: k.clone(),
                        class: "SimpleStrategy".into(),
                    }
                    .into());
                }
            }
            Ok(Replication::Simple {
                factor: rf.ok_or(ReplicationError::MissingFactor)?,
            })
        }
        "NetworkTopologyStrategy" => {
            let mut datacenters = BTreeMap::new();
            for (k, v) in others {
                let f = factor(v)?;
                // `replication_factor` in NetworkTopologyStrategy means "this factor in every DC".
                if k == "replication_factor" || k == Replication::DATACENTER {
                    datacenters.insert(Replication::DATACENTER.to_string(), f);
                } else {
                    return Err(ReplicationError::UnknownDatacenter { datacenter: k.clone() }.into());
                }
            }
            Ok(Replication::NetworkTopology { datacenters })
        }
        _ => Err(ReplicationError::UnknownClass {
            class: class.to_string(),
        }
        .into()),
    }
}

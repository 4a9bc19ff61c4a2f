//! The system keyspaces drivers read at connect and after a schema change, made from this node's
//! catalog and ring (nothing is stored):
//!
//! - `system.local`: this node (release version of the Cassandra 4 line, Murmur3Partitioner, its
//!   tokens, host id, data center `datacenter1`, rack, schema version of the catalog);
//! - `system.peers`: the other datanodes of the ring that serve CQL, with their tokens (token-aware
//!   routing) and their CQL port (`native_port`: several datanodes of one host differ by port);
//! - `system.basalt_requests`: this node's request counters ([`super::nodes::RequestCounters`]);
//! - `system_schema.{keyspaces,tables,columns,...}`: the catalog with the columns the drivers'
//!   schema parsers read (the python driver's `SchemaParserV4`); types, functions, aggregates,
//!   triggers, indexes and views are empty.
//!
//! `system.peers_v2` and any other table of a system keyspace are Invalid (drivers fall back to
//! `system.peers`, and expect Invalid for `system_virtual_schema`). A SELECT here supports `*` or
//! column names, and `WHERE col = 'text'` / `IN (...)` on text columns (what drivers send); other
//! restrictions are ignored.

use super::engine::{Engine, Rows};
use super::error::ExecError;
use super::nodes::PeerInfo;
use basalt_common::DatanodeId;
use basalt_common::{ColumnId, TableId};
use basalt_table::TableDef;
use basalt_table::cql::ast::{Literal, Operator, RelationLhs, RelationRhs, Select, SelectorExpr, Term};
use basalt_table::ring::RingView;
use basalt_table::schema::{ClusteringOrder, ColumnDef, ColumnKind, Replication, TableOptions};
use basalt_table::value::Uuid;
use basalt_table::{CqlType, NativeType, Value};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The Cassandra release drivers are told this is (they pick their schema parser by it).
pub const RELEASE_VERSION: &str = "4.1.5";
/// The CQL language version.
pub const CQL_VERSION: &str = "3.4.6";
/// `system.local.cluster_name`.
pub const CLUSTER_NAME: &str = "Basalt";

const SYSTEM_KEYSPACES: [&str; 6] = [
    "system",
    "system_schema",
    "system_auth",
    "system_distributed",
    "system_traces",
    "system_virtual_schema",
];

/// Whether `keyspace` is one of the system keyspaces.
pub fn is_system(keyspace: &str) -> bool {
    SYSTEM_KEYSPACES.contains(&keyspace)
}

use NativeType::{Blob, Boolean, Double, Inet, Int, Text, Uuid as UuidT};

fn t(n: NativeType) -> CqlType {
    CqlType::Native(n)
}

/// The columns of a system table (in Cassandra's order: key columns, then the others by name).
fn columns_of(keyspace: &str, table: &str) -> Option<Vec<(&'static str, CqlType)>> {
    let text_map = CqlType::Map(Text, Text);
    let text_list = CqlType::List(Text);
    Some(match (keyspace, table) {
        ("system", "local") => vec![
            ("key", t(Text)),
            ("bootstrapped", t(Text)),
            ("broadcast_address", t(Inet)),
            ("cluster_name", t(Text)),
            ("cql_version", t(Text)),
            ("data_center", t(Text)),
            ("host_id", t(UuidT)),
            ("listen_address", t(Inet)),
            ("native_protocol_version", t(Text)),
            ("partitioner", t(Text)),
            ("rack", t(Text)),
            ("release_version", t(Text)),
            ("rpc_address", t(Inet)),
            ("schema_version", t(UuidT)),
            ("tokens", CqlType::Set(Text)),
        ],
        ("system", "peers") => vec![
            ("peer", t(Inet)),
            ("data_center", t(Text)),
            ("host_id", t(UuidT)),
            ("preferred_ip", t(Inet)),
            ("rack", t(Text)),
            ("release_version", t(Text)),
            ("rpc_address", t(Inet)),
            ("schema_version", t(UuidT)),
            ("tokens", CqlType::Set(Text)),
            // Not a Cassandra column (its port is in `peers_v2`, which this server does not have):
            // each datanode's own CQL port, which the python driver reads from any peers row.
            ("native_port", t(Int)),
        ],
        ("system", "basalt_requests") => vec![("name", t(Text)), ("value", t(NativeType::BigInt))],
        ("system_schema", "keyspaces") => vec![
            ("keyspace_name", t(Text)),
            ("durable_writes", t(Boolean)),
            ("replication", text_map),
        ],
        ("system_schema", "tables") => vec![
            ("keyspace_name", t(Text)),
            ("table_name", t(Text)),
            ("additional_write_policy", t(Text)),
            ("bloom_filter_fp_chance", t(Double)),
            ("caching", text_map),
            ("cdc", t(Boolean)),
            ("comment", t(Text)),
            ("compaction", text_map),
            ("compression", text_map),
            ("crc_check_chance", t(Double)),
            ("default_time_to_live", t(Int)),
            ("extensions", CqlType::Map(Text, Blob)),
            ("flags", CqlType::Set(Text)),
            ("gc_grace_seconds", t(Int)),
            ("id", t(UuidT)),
            ("max_index_interval", t(Int)),
            ("memtable_flush_period_in_ms", t(Int)),
            ("min_index_interval", t(Int)),
            ("read_repair", t(Text)),
            ("speculative_retry", t(Text)),
        ],
        ("system_schema", "columns") => vec![
            ("keyspace_name", t(Text)),
            ("table_name", t(Text)),
            ("column_name", t(Text)),
            ("clustering_order", t(Text)),
            ("column_name_bytes", t(Blob)),
            ("kind", t(Text)),
            ("position", t(Int)),
            ("type", t(Text)),
        ],
        ("system_schema", "types") => vec![
            ("keyspace_name", t(Text)),
            ("type_name", t(Text)),
            ("field_names", text_list),
            ("field_types", CqlType::List(Text)),
        ],
        ("system_schema", "functions") => vec![
            ("keyspace_name", t(Text)),
            ("function_name", t(Text)),
            ("argument_types", text_list),
            ("argument_names", CqlType::List(Text)),
            ("body", t(Text)),
            ("called_on_null_input", t(Boolean)),
            ("language", t(Text)),
            ("return_type", t(Text)),
        ],
        ("system_schema", "aggregates") => vec![
            ("keyspace_name", t(Text)),
            ("aggregate_name", t(Text)),
            ("argument_types", text_list),
            ("final_func", t(Text)),
            ("initcond", t(Text)),
            ("return_type", t(Text)),
            ("state_func", t(Text)),
            ("state_type", t(Text)),
        ],
        ("system_schema", "triggers") => vec![
            ("keyspace_name", t(Text)),
            ("table_name", t(Text)),
            ("trigger_name", t(Text)),
            ("options", text_map),
        ],
        ("system_schema", "indexes") => vec![
            ("keyspace_name", t(Text)),
            ("table_name", t(Text)),
            ("index_name", t(Text)),
            ("kind", t(Text)),
            ("options", text_map),
        ],
        ("system_schema", "dropped_columns") => vec![
            ("keyspace_name", t(Text)),
            ("table_name", t(Text)),
            ("column_name", t(Text)),
            ("dropped_time", t(NativeType::Timestamp)),
            ("kind", t(Text)),
            ("type", t(Text)),
        ],
        ("system_schema", "views") => vec![
            ("keyspace_name", t(Text)),
            ("view_name", t(Text)),
            ("base_table_id", t(UuidT)),
            ("base_table_name", t(Text)),
            ("include_all_columns", t(Boolean)),
            ("where_clause", t(Text)),
        ],
        _ => return None,
    })
}

/// The tables of the system keyspaces that exist here, with their key columns (partition key
/// first, then clustering): what `system_schema` describes of them (cqlsh looks them up there).
const SYSTEM_TABLES: [(&str, &str, &[&str]); 13] = [
    ("system", "local", &["key"]),
    ("system", "peers", &["peer"]),
    ("system", "basalt_requests", &["name"]),
    ("system_schema", "keyspaces", &["keyspace_name"]),
    ("system_schema", "tables", &["keyspace_name", "table_name"]),
    (
        "system_schema",
        "columns",
        &["keyspace_name", "table_name", "column_name"],
    ),
    ("system_schema", "types", &["keyspace_name", "type_name"]),
    ("system_schema", "functions", &["keyspace_name", "function_name"]),
    ("system_schema", "aggregates", &["keyspace_name", "aggregate_name"]),
    (
        "system_schema",
        "triggers",
        &["keyspace_name", "table_name", "trigger_name"],
    ),
    (
        "system_schema",
        "indexes",
        &["keyspace_name", "table_name", "index_name"],
    ),
    ("system_schema", "views", &["keyspace_name", "view_name"]),
    // Listed so that a client that reads it finds it empty rather than unknown.
    (
        "system_schema",
        "dropped_columns",
        &["keyspace_name", "table_name", "column_name"],
    ),
];

/// The system tables as table definitions (ids above any the catalog hands out).
fn system_table_defs() -> Vec<TableDef> {
    SYSTEM_TABLES
        .iter()
        .enumerate()
        .filter_map(|(i, (ks, name, key))| {
            let columns = columns_of(ks, name)?
                .into_iter()
                .enumerate()
                .map(|(c, (col, ty))| ColumnDef {
                    id: ColumnId(c as u64),
                    name: col.to_string(),
                    ty,
                    kind: match key.iter().position(|k| *k == col) {
                        Some(0) => ColumnKind::PartitionKey { position: 0 },
                        Some(p) => ColumnKind::Clustering {
                            position: (p - 1) as u32,
                            order: ClusteringOrder::Asc,
                        },
                        None => ColumnKind::Regular,
                    },
                })
                .collect::<Vec<_>>();
            Some(TableDef {
                id: TableId(u64::MAX - i as u64),
                keyspace: ks.to_string(),
                name: name.to_string(),
                next_column: columns.len() as u64,
                columns,
                options: TableOptions::default(),
                dropped: Default::default(),
            })
        })
        .collect()
}

/// The host id of a datanode: a UUID made from its id (the same on every node).
pub fn host_id(node: DatanodeId) -> Uuid {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(b"basaltdn");
    b[8..].copy_from_slice(&node.0.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x80; // version 8 (vendor-specific)
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
    Uuid(b)
}

fn text(s: impl Into<String>) -> Option<Value> {
    Some(Value::Text(s.into()))
}

fn text_map<'a>(entries: impl IntoIterator<Item = (&'a str, String)>) -> Option<Value> {
    let mut v: Vec<(Value, Value)> = entries
        .into_iter()
        .map(|(k, v)| (Value::Text(k.into()), Value::Text(v)))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Some(Value::Map(v))
}

fn tokens(ring: &RingView, node: DatanodeId) -> Option<Value> {
    let mut v: Vec<String> = ring.ring.tokens_of(node).into_iter().map(|t| t.to_string()).collect();
    v.sort();
    v.dedup();
    Some(Value::Set(v.into_iter().map(Value::Text).collect()))
}

fn host_ip(ring: &RingView, node: DatanodeId) -> IpAddr {
    ring.nodes
        .get(&node)
        .and_then(|n| n.host.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The rack drivers are told of a node without one.
pub const DEFAULT_RACK: &str = "rack1";

/// The address clients reach a CQL server at: its own, or its host's when bound to every interface.
fn rpc_ip(ring: &RingView, node: DatanodeId, cql: Option<SocketAddr>) -> IpAddr {
    match cql {
        Some(a) if !a.ip().is_unspecified() => a.ip(),
        _ => host_ip(ring, node),
    }
}

/// The rows of a system table, by column name.
fn rows_of(
    engine: &Engine,
    keyspace: &str,
    table: &str,
    peers: &HashMap<DatanodeId, PeerInfo>,
) -> Vec<Vec<(&'static str, Option<Value>)>> {
    let catalog = engine.schema.catalog();
    let ring = engine.schema.ring();
    let system_tables = system_table_defs();
    let schema_version = Some(Value::Uuid(catalog.schema_version()));
    let rack = |n: DatanodeId| {
        let r = ring.nodes.get(&n).map(|r| r.rack.as_str()).unwrap_or_default();
        text(if r.is_empty() { DEFAULT_RACK } else { r })
    };
    match (keyspace, table) {
        ("system", "basalt_requests") => engine
            .cql
            .counters
            .snapshot()
            .into_iter()
            .map(|(name, value)| vec![("name", text(name)), ("value", Some(Value::BigInt(value as i64)))])
            .collect(),
        ("system", "local") => {
            let me = engine.me;
            let ip = Some(Value::Inet(host_ip(&ring, me)));
            let rpc = Some(Value::Inet(rpc_ip(&ring, me, engine.cql.own())));
            vec![vec![
                ("key", text("local")),
                ("bootstrapped", text("COMPLETED")),
                ("broadcast_address", ip.clone()),
                ("cluster_name", text(CLUSTER_NAME)),
                ("cql_version", text(CQL_VERSION)),
                ("data_center", text(Replication::DATACENTER)),
                ("host_id", Some(Value::Uuid(host_id(me)))),
                ("listen_address", ip.clone()),
                ("native_protocol_version", text("4")),
                ("partitioner", text("org.apache.cassandra.dht.Murmur3Partitioner")),
                ("rack", rack(me)),
                ("release_version", text(RELEASE_VERSION)),
                ("rpc_address", rpc),
                ("schema_version", schema_version),
                ("tokens", tokens(&ring, me)),
            ]]
        }
        ("system", "peers") => ring
            .nodes
            .keys()
            .filter_map(|n| peers.get(n).map(|a| (*n, *a)))
            .map(|(n, peer)| {
                let ip = Some(Value::Inet(host_ip(&ring, n)));
                let rpc = Some(Value::Inet(rpc_ip(&ring, n, Some(peer.cql))));
                vec![
                    ("peer", ip.clone()),
                    ("data_center", text(Replication::DATACENTER)),
                    ("host_id", Some(Value::Uuid(host_id(n)))),
                    ("preferred_ip", None),
                    ("rack", rack(n)),
                    ("release_version", text(RELEASE_VERSION)),
                    ("rpc_address", rpc),
                    (
                        "schema_version",
                        Some(Value::Uuid(basalt_table::catalog::schema_version(peer.catalog_version))),
                    ),
                    ("tokens", tokens(&ring, n)),
                    ("native_port", Some(Value::Int(i32::from(peer.cql.port())))),
                ]
            })
            .collect(),
        ("system_schema", "keyspaces") => ["system", "system_schema"]
            .into_iter()
            .map(|name| {
                vec![
                    ("keyspace_name", text(name)),
                    ("durable_writes", Some(Value::Boolean(true))),
                    (
                        "replication",
                        text_map([("class", "org.apache.cassandra.locator.LocalStrategy".to_string())]),
                    ),
                ]
            })
            .chain(catalog.keyspaces().map(|k| {
                let replication = match &k.replication {
                    Replication::Simple { factor } => text_map([
                        ("class", "org.apache.cassandra.locator.SimpleStrategy".to_string()),
                        ("replication_factor", factor.to_string()),
                    ]),
                    Replication::NetworkTopology { datacenters } => text_map(
                        std::iter::once((
                            "class",
                            "org.apache.cassandra.locator.NetworkTopologyStrategy".to_string(),
                        ))
                        .chain(datacenters.iter().map(|(dc, f)| (dc.as_str(), f.to_string()))),
                    ),
                };
                vec![
                    ("keyspace_name", text(&k.name)),
                    ("durable_writes", Some(Value::Boolean(k.durable_writes))),
                    ("replication", replication),
                ]
            }))
            .collect(),
        ("system_schema", "tables") => system_tables
            .iter()
            .chain(catalog.keyspaces().flat_map(|k| catalog.tables_of(&k.name)))
            .map(|tdef| {
                let mut id = [0u8; 16];
                id[8..].copy_from_slice(&tdef.id.0.to_be_bytes());
                id[6] = 0x80;
                id[8] = (id[8] & 0x3f) | 0x80;
                vec![
                    ("keyspace_name", text(&tdef.keyspace)),
                    ("table_name", text(&tdef.name)),
                    ("additional_write_policy", text("99p")),
                    ("bloom_filter_fp_chance", Some(Value::Double(0.01))),
                    (
                        "caching",
                        text_map([("keys", "ALL".to_string()), ("rows_per_partition", "NONE".to_string())]),
                    ),
                    ("cdc", Some(Value::Boolean(false))),
                    ("comment", text(&tdef.options.comment)),
                    (
                        "compaction",
                        text_map([
                            (
                                "class",
                                "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy".to_string(),
                            ),
                            ("max_threshold", "32".to_string()),
                            ("min_threshold", "4".to_string()),
                        ]),
                    ),
                    (
                        "compression",
                        text_map([
                            ("chunk_length_in_kb", "16".to_string()),
                            ("class", "org.apache.cassandra.io.compress.LZ4Compressor".to_string()),
                        ]),
                    ),
                    ("crc_check_chance", Some(Value::Double(1.0))),
                    (
                        "default_time_to_live",
                        Some(Value::Int(tdef.options.default_ttl as i32)),
                    ),
                    ("extensions", Some(Value::Map(Vec::new()))),
                    ("flags", Some(Value::Set(vec![Value::Text("compound".into())]))),
                    (
                        "gc_grace_seconds",
                        Some(Value::Int(tdef.options.gc_grace_seconds as i32)),
                    ),
                    ("id", Some(Value::Uuid(Uuid(id)))),
                    ("max_index_interval", Some(Value::Int(2048))),
                    ("memtable_flush_period_in_ms", Some(Value::Int(0))),
                    ("min_index_interval", Some(Value::Int(128))),
                    ("read_repair", text("BLOCKING")),
                    ("speculative_retry", text("99p")),
                ]
            })
            .collect(),
        ("system_schema", "columns") => system_tables
            .iter()
            .chain(catalog.keyspaces().flat_map(|k| catalog.tables_of(&k.name)))
            .flat_map(|tdef| {
                tdef.columns.iter().map(|c| {
                    let (kind, position, order) = match c.kind {
                        ColumnKind::PartitionKey { position } => ("partition_key", position as i32, "none"),
                        ColumnKind::Clustering { position, order } => (
                            "clustering",
                            position as i32,
                            if order == ClusteringOrder::Desc { "desc" } else { "asc" },
                        ),
                        ColumnKind::Static => ("static", -1, "none"),
                        ColumnKind::Regular => ("regular", -1, "none"),
                    };
                    vec![
                        ("keyspace_name", text(&tdef.keyspace)),
                        ("table_name", text(&tdef.name)),
                        ("column_name", text(&c.name)),
                        ("clustering_order", text(order)),
                        ("column_name_bytes", Some(Value::Blob(c.name.as_bytes().to_vec()))),
                        ("kind", text(kind)),
                        ("position", Some(Value::Int(position))),
                        ("type", text(c.ty.to_string())),
                    ]
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A literal text of a `WHERE` value.
fn literal_text(term: &Term) -> Option<&str> {
    match term {
        Term::Literal(Literal::String(s)) => Some(s),
        _ => None,
    }
}

/// Answers a SELECT on a system keyspace; `None` for any other keyspace.
pub async fn select(engine: &Engine, s: &Select, session: Option<&str>) -> Result<Option<Rows>, ExecError> {
    let Some(ks) = s.table.keyspace.as_deref().or(session) else {
        return Ok(None);
    };
    if !is_system(ks) {
        return Ok(None);
    }
    let table = s.table.name.as_str();
    let Some(columns) = columns_of(ks, table) else {
        return Err(ExecError::UnknownTable {
            table: format!("{ks}.{table}"),
        });
    };
    let mut peers = HashMap::new();
    if ks == "system" && table == "peers" {
        engine.schema.ensure_ring().await;
        let nodes: Vec<DatanodeId> = engine.schema.ring().nodes.keys().copied().collect();
        peers = engine.cql.peers(engine, nodes).await;
    }
    // Projection: `*` or column names (aliases rename).
    let outputs: Vec<(String, &'static str, CqlType)> = if s.selectors.is_empty() {
        columns.iter().map(|(n, ty)| (n.to_string(), *n, *ty)).collect()
    } else {
        let mut out = Vec::new();
        for sel in &s.selectors {
            let SelectorExpr::Column(name) = &sel.expr else {
                return Err(ExecError::Unsupported {
                    what: format!("This selector on {ks}.{table}"),
                });
            };
            let Some((n, ty)) = columns.iter().find(|(n, _)| n == name) else {
                return Err(ExecError::UnknownColumn {
                    table: format!("{ks}.{table}"),
                    column: name.clone(),
                });
            };
            out.push((sel.alias.clone().unwrap_or_else(|| n.to_string()), *n, *ty));
        }
        out
    };
    // Filters: `text column = 'x'` and `IN ('x', 'y')`.
    let mut filters: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in &s.where_clause {
        let RelationLhs::Column(col) = &r.lhs else { continue };
        let wanted: Vec<&str> = match (&r.op, &r.rhs) {
            (Operator::Eq, RelationRhs::Term(term)) => literal_text(term).into_iter().collect(),
            (Operator::In, RelationRhs::List(terms)) => terms.iter().filter_map(literal_text).collect(),
            _ => continue,
        };
        filters.push((col.as_str(), wanted));
    }
    let mut rows = Vec::new();
    for row in rows_of(engine, ks, table, &peers) {
        let keep = filters.iter().all(|(col, wanted)| {
            row.iter().find(|(n, _)| n == col).is_none_or(|(_, v)| match v {
                Some(Value::Text(t)) => wanted.contains(&t.as_str()),
                _ => false,
            })
        });
        if !keep {
            continue;
        }
        rows.push(
            outputs
                .iter()
                .map(|(_, n, _)| row.iter().find(|(c, _)| c == n).and_then(|(_, v)| v.clone()))
                .collect(),
        );
    }
    Ok(Some(Rows {
        columns: outputs.into_iter().map(|(alias, _, ty)| (alias, ty)).collect(),
        keyspace: ks.to_string(),
        table: table.to_string(),
        rows,
        paging_state: None,
    }))
}

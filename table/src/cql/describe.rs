//! The `CREATE` statements that `DESCRIBE` prints, in the layout of Cassandra 4's server-side
//! `DESCRIBE` (which cqlsh 4 shows as is):
//!
//! ```text
//! CREATE KEYSPACE ks WITH replication = {'class': 'org.apache.cassandra.locator.SimpleStrategy', 'replication_factor': '3'}  AND durable_writes = true;
//!
//! CREATE TABLE ks.t (
//!     a int,
//!     b text,
//!     s int static,
//!     v list<int>,
//!     PRIMARY KEY ((a, b), c)
//! ) WITH CLUSTERING ORDER BY (c DESC)
//!     AND comment = ''
//!     AND default_time_to_live = 0
//!     AND gc_grace_seconds = 864000;
//! ```
//!
//! A table with a one-column partition key and no clustering writes `a int PRIMARY KEY`; with clustering
//! columns `PRIMARY KEY (a, c)`. Columns come in the catalog's order (Cassandra sorts the regular ones
//! by name), so that replaying the output gives the same column ids. Only the options Basalt keeps are
//! printed. Names are quoted when
//! CQL needs it (not lowercase `[a-z][a-z0-9_]*`, or a reserved word).

use super::parser::is_reserved;
use crate::schema::{ClusteringOrder, ColumnKind, KeyspaceDef, Replication, TableDef};
use std::fmt::Write;

/// A name as CQL must write it: as is, or `"quoted"` with `""` for a quote.
pub fn quote_name(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_reserved(name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// A string literal: `'it''s'`.
pub fn quote_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `CREATE KEYSPACE ...;` for `def`.
pub fn create_keyspace_cql(def: &KeyspaceDef) -> String {
    let mut map = Vec::new();
    match &def.replication {
        Replication::Simple { factor } => {
            map.push((
                "class".to_string(),
                "org.apache.cassandra.locator.SimpleStrategy".to_string(),
            ));
            map.push(("replication_factor".to_string(), factor.to_string()));
        }
        Replication::NetworkTopology { datacenters } => {
            map.push((
                "class".to_string(),
                "org.apache.cassandra.locator.NetworkTopologyStrategy".to_string(),
            ));
            map.extend(datacenters.iter().map(|(dc, f)| (dc.clone(), f.to_string())));
        }
    }
    let entries: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}: {}", quote_string(k), quote_string(v)))
        .collect();
    format!(
        "CREATE KEYSPACE {} WITH replication = {{{}}}  AND durable_writes = {};",
        quote_name(&def.name),
        entries.join(", "),
        def.durable_writes
    )
}

/// `CREATE TABLE ...;` for `def`.
pub fn create_table_cql(def: &TableDef) -> String {
    let partition: Vec<String> = def.partition_key().iter().map(|c| quote_name(&c.name)).collect();
    let clustering = def.clustering();
    let inline_key = partition.len() == 1 && clustering.is_empty();
    let mut out = format!(
        "CREATE TABLE {}.{} (\n",
        quote_name(&def.keyspace),
        quote_name(&def.name)
    );
    // In the catalog's order (definition order), so that replaying the statement gives the same ids.
    for c in &def.columns {
        let _ = write!(out, "    {} {}", quote_name(&c.name), c.ty);
        if c.kind == ColumnKind::Static {
            out.push_str(" static");
        }
        if inline_key && c.kind.is_primary_key() {
            out.push_str(" PRIMARY KEY");
        }
        out.push_str(",\n");
    }
    if inline_key {
        out.truncate(out.len() - 2);
        out.push('\n');
    } else {
        let part = if partition.len() == 1 {
            partition[0].clone()
        } else {
            format!("({})", partition.join(", "))
        };
        let mut key = vec![part];
        key.extend(clustering.iter().map(|c| quote_name(&c.name)));
        let _ = writeln!(out, "    PRIMARY KEY ({})", key.join(", "));
    }
    out.push_str(") WITH ");
    if !clustering.is_empty() {
        let orders: Vec<String> = clustering
            .iter()
            .map(|c| {
                let order = match c.kind {
                    ColumnKind::Clustering {
                        order: ClusteringOrder::Desc,
                        ..
                    } => "DESC",
                    _ => "ASC",
                };
                format!("{} {order}", quote_name(&c.name))
            })
            .collect();
        let _ = write!(out, "CLUSTERING ORDER BY ({})\n    AND ", orders.join(", "));
    }
    let _ = write!(
        out,
        "comment = {}\n    AND default_time_to_live = {}\n    AND gc_grace_seconds = {};",
        quote_string(&def.options.comment),
        def.options.default_ttl,
        def.options.gc_grace_seconds
    );
    out
}

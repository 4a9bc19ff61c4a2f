//! The checks a keyspace or table definition passes before the catalog takes it. They hold for every
//! definition in the catalog (the property test checks so), whatever a client sends.

use super::CatalogError;
use basalt_table::{ColumnKind, KeyspaceDef, Replication, TableDef};
use std::collections::BTreeSet;

/// Cassandra's limit on keyspace and table names.
pub const MAX_NAME_LEN: usize = 48;
/// The largest replication factor accepted.
pub const MAX_REPLICATION_FACTOR: u32 = 64;

pub(super) fn invalid(def: &TableDef, reason: impl Into<String>) -> CatalogError {
    CatalogError::InvalidDefinition {
        object: format!("table {}.{}", def.keyspace, def.name),
        reason: reason.into(),
    }
}

/// Keyspace and table names: 1 to 48 letters, digits and underscores (as Cassandra, quoted or not).
fn name(kind: &str, object: &str, n: &str) -> Result<(), CatalogError> {
    let ok = !n.is_empty() && n.len() <= MAX_NAME_LEN && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::InvalidDefinition {
            object: object.to_string(),
            reason: format!("{kind} name {n:?} must be 1 to {MAX_NAME_LEN} letters, digits or underscores"),
        })
    }
}

pub(super) fn keyspace(def: &KeyspaceDef) -> Result<(), CatalogError> {
    let object = format!("keyspace {}", def.name);
    name("keyspace", &object, &def.name)?;
    let bad = |reason: String| CatalogError::InvalidDefinition {
        object: object.clone(),
        reason,
    };
    match &def.replication {
        Replication::Simple { factor } => {
            if *factor == 0 || *factor > MAX_REPLICATION_FACTOR {
                return Err(bad(format!(
                    "replication_factor {factor} is not between 1 and {MAX_REPLICATION_FACTOR}"
                )));
            }
        }
        Replication::NetworkTopology { datacenters } => {
            if let Some(dc) = datacenters.keys().find(|dc| *dc != Replication::DATACENTER) {
                return Err(bad(format!(
                    "unknown data center {dc:?} (Basalt has one, {:?})",
                    Replication::DATACENTER
                )));
            }
            let factor = def.replication.factor();
            if factor == 0 || factor > MAX_REPLICATION_FACTOR {
                return Err(bad(format!(
                    "replication factor {factor} of {} is not between 1 and {MAX_REPLICATION_FACTOR}",
                    Replication::DATACENTER
                )));
            }
        }
    }
    Ok(())
}

/// A table as the catalog holds it (ids assigned).
pub(super) fn table(def: &TableDef) -> Result<(), CatalogError> {
    let object = format!("table {}.{}", def.keyspace, def.name);
    name("table", &object, &def.name)?;
    if def.columns.is_empty() {
        return Err(invalid(def, "a table needs columns"));
    }
    let mut names = BTreeSet::new();
    let mut ids = BTreeSet::new();
    let (mut partition, mut clustering, mut has_static) = (Vec::new(), Vec::new(), false);
    for c in &def.columns {
        if c.name.is_empty() {
            return Err(invalid(def, "a column has an empty name"));
        }
        if !names.insert(c.name.as_str()) {
            return Err(invalid(def, format!("column {} is defined twice", c.name)));
        }
        if !ids.insert(c.id) || c.id.0 >= def.next_column {
            return Err(invalid(def, format!("column {} has a bad id {}", c.name, c.id)));
        }
        match c.kind {
            ColumnKind::PartitionKey { position } => partition.push(position),
            ColumnKind::Clustering { position, .. } => clustering.push(position),
            ColumnKind::Static => has_static = true,
            ColumnKind::Regular => {}
        }
        if c.kind.is_primary_key() && c.ty.is_collection() {
            return Err(invalid(
                def,
                format!("primary key column {} cannot have the collection type {}", c.name, c.ty),
            ));
        }
    }
    if partition.is_empty() {
        return Err(invalid(def, "a table needs a partition key"));
    }
    for (what, mut positions) in [("partition key", partition), ("clustering", clustering.clone())] {
        positions.sort_unstable();
        if positions.iter().enumerate().any(|(i, p)| *p as usize != i) {
            return Err(invalid(def, format!("{what} positions are not 0, 1, 2, ...")));
        }
    }
    if has_static && clustering.is_empty() {
        return Err(invalid(def, "static columns need clustering columns"));
    }
    Ok(())
}

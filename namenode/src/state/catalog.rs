//! The catalog sub-machine: keyspaces, tables and the catalog version (the tables feature).
//!
//! Commands are the schema changes of `basalt_table::catalog` ([`CatalogCommand`] is
//! [`SchemaChange`]): clients, coordinators and this state machine share one type. Every command is
//! validated here before anything changes (module `validate`): a buggy client's command is refused with a
//! typed error and leaves the state as it was. Table ids and column ids are assigned here, from
//! counters in the state, so every member assigns the same ones.
//!
//! Every change bumps [`Catalog::version`]; a command that changes nothing (`IF NOT EXISTS` on an
//! existing keyspace) keeps it. [`Catalog::schema_version`] is CQL's UUID-shaped form of it.
//!
//! Evolution: the state's fields are `#[serde(default)]` (a format-3 snapshot written before the
//! catalog had fields reads as an empty catalog); new command variants go at the end of
//! `SchemaChange`; catalog commands need state version 4 (`Command::version`).

mod validate;

#[cfg(test)]
mod tests;

use basalt_common::{ColumnId, ErrorKind, TableId};
use basalt_table::catalog::{CatalogSnapshot, Effect, NewColumn, SchemaChange, SchemaChangeOutput, TableChange};
use basalt_table::value::Uuid;
use basalt_table::{ColumnDef, ColumnKind, KeyspaceDef, TableDef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use basalt_table::catalog::SchemaChange as CatalogCommand;

/// The replicated catalog state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(default)]
    keyspaces: BTreeMap<String, KeyspaceDef>,
    /// Table ids by keyspace, then table name.
    #[serde(default)]
    names: BTreeMap<String, BTreeMap<String, TableId>>,
    #[serde(default)]
    tables: BTreeMap<TableId, TableDef>,
    /// The next table id to hand out (ids start at 1 and are never reused).
    #[serde(default)]
    next_table: u64,
    #[serde(default)]
    version: u64,
}

/// What a successfully applied catalog command returns.
pub type CatalogOutput = SchemaChangeOutput;

/// Why a schema change was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum CatalogError {
    #[error("keyspace {keyspace} already exists")]
    KeyspaceExists { keyspace: String },
    #[error("table {keyspace}.{table} already exists")]
    TableExists { keyspace: String, table: String },
    #[error("keyspace {keyspace} does not exist")]
    KeyspaceNotFound { keyspace: String },
    #[error("table {keyspace}.{table} does not exist")]
    TableNotFound { keyspace: String, table: String },
    #[error("column {column} already exists in {keyspace}.{table}")]
    ColumnExists {
        keyspace: String,
        table: String,
        column: String,
    },
    #[error("column {column} does not exist in {keyspace}.{table}")]
    ColumnNotFound {
        keyspace: String,
        table: String,
        column: String,
    },
    #[error("column {column} of {keyspace}.{table} is part of the primary key and cannot be dropped")]
    CannotDropKeyColumn {
        keyspace: String,
        table: String,
        column: String,
    },
    #[error("invalid definition of {object}: {reason}")]
    InvalidDefinition { object: String, reason: String },
}

impl CatalogError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CatalogError::KeyspaceExists { .. }
            | CatalogError::TableExists { .. }
            | CatalogError::ColumnExists { .. } => ErrorKind::AlreadyExists,
            CatalogError::KeyspaceNotFound { .. }
            | CatalogError::TableNotFound { .. }
            | CatalogError::ColumnNotFound { .. } => ErrorKind::NotFound,
            CatalogError::CannotDropKeyColumn { .. } | CatalogError::InvalidDefinition { .. } => ErrorKind::Invalid,
        }
    }
}

impl Catalog {
    /// Applies a schema change at `now_ms` (the batch clock: the drop time of dropped columns).
    pub fn apply(&mut self, cmd: &CatalogCommand, now_ms: u64) -> Result<CatalogOutput, CatalogError> {
        match cmd {
            SchemaChange::CreateKeyspace { def, if_not_exists } => {
                validate::keyspace(def)?;
                if self.keyspaces.contains_key(&def.name) {
                    if *if_not_exists {
                        return Ok(self.unchanged(Effect::AlreadyExisted, None));
                    }
                    return Err(CatalogError::KeyspaceExists {
                        keyspace: def.name.clone(),
                    });
                }
                self.keyspaces.insert(def.name.clone(), def.clone());
                Ok(self.changed(Effect::Created, None, Vec::new()))
            }
            SchemaChange::AlterKeyspace {
                name,
                replication,
                durable_writes,
            } => {
                let mut def = self.keyspace_or_err(name)?.clone();
                if let Some(r) = replication {
                    def.replication = r.clone();
                }
                if let Some(d) = durable_writes {
                    def.durable_writes = *d;
                }
                validate::keyspace(&def)?;
                self.keyspaces.insert(name.clone(), def);
                Ok(self.changed(Effect::Altered, None, Vec::new()))
            }
            SchemaChange::DropKeyspace { name, if_exists } => {
                if !self.keyspaces.contains_key(name) {
                    if *if_exists {
                        return Ok(self.unchanged(Effect::Absent, None));
                    }
                    return Err(CatalogError::KeyspaceNotFound { keyspace: name.clone() });
                }
                self.keyspaces.remove(name);
                let dropped: Vec<TableId> = self.names.remove(name).unwrap_or_default().into_values().collect();
                for id in &dropped {
                    self.tables.remove(id);
                }
                Ok(self.changed(Effect::Dropped, None, dropped))
            }
            SchemaChange::CreateTable { def, if_not_exists } => self.create_table(def, *if_not_exists),
            SchemaChange::AlterTable {
                keyspace,
                table,
                change,
            } => {
                let id = self.table_id_or_err(keyspace, table)?;
                let mut def = self.tables[&id].clone();
                match change {
                    TableChange::AddColumns(cols) => add_columns(&mut def, cols)?,
                    TableChange::DropColumns(names) => drop_columns(&mut def, names, now_ms)?,
                    TableChange::Options(o) => {
                        if let Some(v) = o.default_ttl {
                            def.options.default_ttl = v;
                        }
                        if let Some(v) = o.gc_grace_seconds {
                            def.options.gc_grace_seconds = v;
                        }
                        if let Some(v) = &o.comment {
                            def.options.comment = v.clone();
                        }
                    }
                }
                validate::table(&def)?;
                self.tables.insert(id, def);
                Ok(self.changed(Effect::Altered, Some(id), Vec::new()))
            }
            SchemaChange::DropTable {
                keyspace,
                table,
                if_exists,
            } => {
                let id = match self.table_id_or_err(keyspace, table) {
                    Ok(id) => id,
                    Err(_) if *if_exists && self.keyspaces.contains_key(keyspace) => {
                        return Ok(self.unchanged(Effect::Absent, None));
                    }
                    Err(e) => return Err(e),
                };
                if let Some(names) = self.names.get_mut(keyspace) {
                    names.remove(table);
                    if names.is_empty() {
                        self.names.remove(keyspace);
                    }
                }
                self.tables.remove(&id);
                Ok(self.changed(Effect::Dropped, Some(id), vec![id]))
            }
        }
    }

    fn create_table(&mut self, def: &TableDef, if_not_exists: bool) -> Result<CatalogOutput, CatalogError> {
        self.keyspace_or_err(&def.keyspace)?;
        if let Some(&id) = self.names.get(&def.keyspace).and_then(|t| t.get(&def.name)) {
            if if_not_exists {
                return Ok(self.unchanged(Effect::AlreadyExisted, Some(id)));
            }
            return Err(CatalogError::TableExists {
                keyspace: def.keyspace.clone(),
                table: def.name.clone(),
            });
        }
        let id = TableId(self.next_table.max(1));
        let mut def = def.clone();
        def.id = id;
        for (i, c) in def.columns.iter_mut().enumerate() {
            c.id = ColumnId(i as u64);
        }
        def.next_column = def.columns.len() as u64;
        def.dropped.clear();
        validate::table(&def)?;
        self.next_table = id.0 + 1;
        self.names
            .entry(def.keyspace.clone())
            .or_default()
            .insert(def.name.clone(), id);
        self.tables.insert(id, def);
        Ok(self.changed(Effect::Created, Some(id), Vec::new()))
    }

    fn changed(&mut self, effect: Effect, table: Option<TableId>, dropped_tables: Vec<TableId>) -> CatalogOutput {
        self.version += 1;
        SchemaChangeOutput {
            effect,
            version: self.version,
            table,
            dropped_tables,
        }
    }

    fn unchanged(&self, effect: Effect, table: Option<TableId>) -> CatalogOutput {
        SchemaChangeOutput {
            effect,
            version: self.version,
            table,
            dropped_tables: Vec::new(),
        }
    }

    fn keyspace_or_err(&self, name: &str) -> Result<&KeyspaceDef, CatalogError> {
        self.keyspaces.get(name).ok_or_else(|| CatalogError::KeyspaceNotFound {
            keyspace: name.to_string(),
        })
    }

    fn table_id_or_err(&self, keyspace: &str, table: &str) -> Result<TableId, CatalogError> {
        self.keyspace_or_err(keyspace)?;
        self.names
            .get(keyspace)
            .and_then(|t| t.get(table))
            .copied()
            .ok_or_else(|| CatalogError::TableNotFound {
                keyspace: keyspace.to_string(),
                table: table.to_string(),
            })
    }

    /// The catalog version: bumped by every change.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// CQL's `schema_version`, derived from [`Catalog::version`].
    pub fn schema_version(&self) -> Uuid {
        basalt_table::catalog::schema_version(self.version)
    }

    pub fn keyspaces(&self) -> &BTreeMap<String, KeyspaceDef> {
        &self.keyspaces
    }

    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceDef> {
        self.keyspaces.get(name)
    }

    pub fn table(&self, keyspace: &str, name: &str) -> Option<&TableDef> {
        let id = self.names.get(keyspace)?.get(name)?;
        self.tables.get(id)
    }

    pub fn table_by_id(&self, id: TableId) -> Option<&TableDef> {
        self.tables.get(&id)
    }

    /// The tables of a keyspace, by name.
    pub fn tables_of(&self, keyspace: &str) -> impl Iterator<Item = &TableDef> {
        self.names
            .get(keyspace)
            .into_iter()
            .flat_map(|t| t.values())
            .filter_map(|id| self.tables.get(id))
    }

    /// How many tables there are.
    pub fn table_count(&self) -> usize {
        self.tables.len()
    }

    /// The whole catalog, for the wire.
    pub fn snapshot(&self) -> CatalogSnapshot {
        CatalogSnapshot {
            version: self.version,
            keyspaces: self.keyspaces.clone(),
            tables: self.tables.clone(),
        }
    }
}

fn add_columns(def: &mut TableDef, cols: &[NewColumn]) -> Result<(), CatalogError> {
    if cols.is_empty() {
        return Err(validate::invalid(def, "ALTER TABLE ADD names no column"));
    }
    for c in cols {
        if def.column(&c.name).is_some() {
            return Err(CatalogError::ColumnExists {
                keyspace: def.keyspace.clone(),
                table: def.name.clone(),
                column: c.name.clone(),
            });
        }
        let id = ColumnId(def.next_column);
        def.next_column += 1;
        def.columns.push(ColumnDef {
            id,
            name: c.name.clone(),
            ty: c.ty,
            kind: if c.is_static {
                ColumnKind::Static
            } else {
                ColumnKind::Regular
            },
        });
    }
    Ok(())
}

fn drop_columns(def: &mut TableDef, names: &[String], now_ms: u64) -> Result<(), CatalogError> {
    if names.is_empty() {
        return Err(validate::invalid(def, "ALTER TABLE DROP names no column"));
    }
    for name in names {
        let col = def.column(name).ok_or_else(|| CatalogError::ColumnNotFound {
            keyspace: def.keyspace.clone(),
            table: def.name.clone(),
            column: name.clone(),
        })?;
        if col.kind.is_primary_key() {
            return Err(CatalogError::CannotDropKeyColumn {
                keyspace: def.keyspace.clone(),
                table: def.name.clone(),
                column: name.clone(),
            });
        }
        def.columns.retain(|c| &c.name != name);
        def.dropped.insert(name.clone(), (now_ms as i64).saturating_mul(1000));
    }
    Ok(())
}

//! The catalog as the metadata group replicates it and as datanodes and clients see it: the schema
//! changes a client asks for ([`SchemaChange`]), what one did ([`SchemaChangeOutput`]), the whole
//! catalog at a version ([`CatalogSnapshot`]), and their one wire encoding ([`encode`], [`decode`]).
//!
//! # Encoding
//! One format byte ([`CODEC_VERSION`]), then MessagePack with named fields and variants. All readers
//! are Basalt binaries and every type here is serde with named fields, so it evolves as the metadata
//! log does: a field added later has `#[serde(default)]`, a variant goes at the end, nothing is
//! renamed.

use crate::schema::{KeyspaceDef, Replication, TableDef};
use crate::types::CqlType;
use crate::value::Uuid;
use basalt_common::TableId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A schema change, as CQL's DDL statements ask for it. Applied by the metadata group, which
/// validates it and assigns table and column ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchemaChange {
    CreateKeyspace {
        def: KeyspaceDef,
        if_not_exists: bool,
    },
    /// Changes what is given, keeps the rest.
    AlterKeyspace {
        name: String,
        replication: Option<Replication>,
        durable_writes: Option<bool>,
    },
    /// Drops the keyspace and its tables.
    DropKeyspace {
        name: String,
        if_exists: bool,
    },
    /// `def.id`, the column ids, `next_column` and `dropped` are ignored: the metadata group assigns
    /// them.
    CreateTable {
        def: TableDef,
        if_not_exists: bool,
    },
    AlterTable {
        keyspace: String,
        table: String,
        change: TableChange,
    },
    DropTable {
        keyspace: String,
        table: String,
        if_exists: bool,
    },
}

impl SchemaChange {
    pub fn name(&self) -> &'static str {
        match self {
            SchemaChange::CreateKeyspace { .. } => "create_keyspace",
            SchemaChange::AlterKeyspace { .. } => "alter_keyspace",
            SchemaChange::DropKeyspace { .. } => "drop_keyspace",
            SchemaChange::CreateTable { .. } => "create_table",
            SchemaChange::AlterTable { .. } => "alter_table",
            SchemaChange::DropTable { .. } => "drop_table",
        }
    }

    /// The keyspace the change is in.
    pub fn keyspace(&self) -> &str {
        match self {
            SchemaChange::CreateKeyspace { def, .. } => &def.name,
            SchemaChange::AlterKeyspace { name, .. } | SchemaChange::DropKeyspace { name, .. } => name,
            SchemaChange::CreateTable { def, .. } => &def.keyspace,
            SchemaChange::AlterTable { keyspace, .. } | SchemaChange::DropTable { keyspace, .. } => keyspace,
        }
    }
}

/// A column `ALTER TABLE ... ADD` adds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewColumn {
    pub name: String,
    pub ty: CqlType,
    pub is_static: bool,
}

/// What `ALTER TABLE` changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableChange {
    AddColumns(Vec<NewColumn>),
    /// Regular or static columns; the drop time is the metadata log's clock.
    DropColumns(Vec<String>),
    /// `WITH ...`: the options given, the others unchanged.
    Options(TableOptionsChange),
}

/// Table options to change; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableOptionsChange {
    #[serde(default)]
    pub default_ttl: Option<u32>,
    #[serde(default)]
    pub gc_grace_seconds: Option<u32>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// What a schema change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Created,
    /// `IF NOT EXISTS` and it existed: nothing changed.
    AlreadyExisted,
    Altered,
    Dropped,
    /// `IF EXISTS` and it did not exist: nothing changed.
    Absent,
}

/// The result of an applied schema change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaChangeOutput {
    pub effect: Effect,
    /// The catalog version after the change (unchanged when nothing changed).
    pub version: u64,
    /// The table created, altered, dropped or found existing.
    #[serde(default)]
    pub table: Option<TableId>,
    /// Tables dropped with their keyspace.
    #[serde(default)]
    pub dropped_tables: Vec<TableId>,
}

/// The whole catalog at one version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogSnapshot {
    pub version: u64,
    pub keyspaces: BTreeMap<String, KeyspaceDef>,
    pub tables: BTreeMap<TableId, TableDef>,
}

impl CatalogSnapshot {
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceDef> {
        self.keyspaces.get(name)
    }

    /// A table by keyspace and name (a scan of the keyspace's tables; build an index for hot paths).
    pub fn table(&self, keyspace: &str, name: &str) -> Option<&TableDef> {
        self.tables.values().find(|t| t.keyspace == keyspace && t.name == name)
    }

    pub fn table_by_id(&self, id: TableId) -> Option<&TableDef> {
        self.tables.get(&id)
    }

    /// CQL's schema version (`system.local.schema_version`) of this catalog.
    pub fn schema_version(&self) -> Uuid {
        schema_version(self.version)
    }
}

/// A catalog snapshot with its name lookups indexed: what a coordinator holds and reads per statement.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatalogView {
    snapshot: CatalogSnapshot,
    /// Table ids by keyspace, then name.
    names: BTreeMap<String, BTreeMap<String, TableId>>,
}

impl CatalogView {
    pub fn new(snapshot: CatalogSnapshot) -> CatalogView {
        let mut names: BTreeMap<String, BTreeMap<String, TableId>> = BTreeMap::new();
        for t in snapshot.tables.values() {
            names
                .entry(t.keyspace.clone())
                .or_default()
                .insert(t.name.clone(), t.id);
        }
        CatalogView { snapshot, names }
    }

    pub fn version(&self) -> u64 {
        self.snapshot.version
    }

    pub fn snapshot(&self) -> &CatalogSnapshot {
        &self.snapshot
    }

    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceDef> {
        self.snapshot.keyspaces.get(name)
    }

    pub fn keyspaces(&self) -> impl Iterator<Item = &KeyspaceDef> {
        self.snapshot.keyspaces.values()
    }

    pub fn table(&self, keyspace: &str, name: &str) -> Option<&TableDef> {
        let id = self.names.get(keyspace)?.get(name)?;
        self.snapshot.tables.get(id)
    }

    pub fn table_by_id(&self, id: TableId) -> Option<&TableDef> {
        self.snapshot.tables.get(&id)
    }

    /// A keyspace's tables, by name.
    pub fn tables_of(&self, keyspace: &str) -> impl Iterator<Item = &TableDef> {
        self.names
            .get(keyspace)
            .into_iter()
            .flat_map(|t| t.values())
            .filter_map(|id| self.snapshot.tables.get(id))
    }

    pub fn schema_version(&self) -> Uuid {
        schema_version(self.snapshot.version)
    }
}

/// A UUID-shaped schema version derived from the catalog version: the same version gives the same
/// UUID on every node, different versions differ. RFC 9562 version 8 (vendor-specific) layout: the
/// first eight bytes mix the version, the last eight hold it.
pub fn schema_version(version: u64) -> Uuid {
    let mut z = version.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&z.to_be_bytes());
    b[8..].copy_from_slice(&version.to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x80;
    // The RFC variant bits overwrite the version's top two bits (versions below 2^62 read as is).
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid(b)
}

/// The encoding of catalog values on the wire: the table codec's.
pub use crate::codec::{CodecError, FORMAT_VERSION as CODEC_VERSION, decode, encode};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnDef, ColumnKind, TableOptions};
    use crate::types::NativeType;
    use basalt_common::ColumnId;

    fn snapshot() -> CatalogSnapshot {
        let ks = KeyspaceDef {
            name: "shop".into(),
            replication: Replication::Simple { factor: 3 },
            durable_writes: true,
        };
        let t = TableDef {
            id: TableId(4),
            keyspace: "shop".into(),
            name: "orders".into(),
            columns: vec![ColumnDef {
                id: ColumnId(0),
                name: "id".into(),
                ty: CqlType::Native(NativeType::Uuid),
                kind: ColumnKind::PartitionKey { position: 0 },
            }],
            options: TableOptions::default(),
            dropped: [("old".to_string(), 17)].into(),
            next_column: 1,
        };
        CatalogSnapshot {
            version: 9,
            keyspaces: [("shop".to_string(), ks)].into(),
            tables: [(TableId(4), t)].into(),
        }
    }

    #[test]
    fn values_round_trip() {
        let s = snapshot();
        assert_eq!(decode::<CatalogSnapshot>(&encode(&s)).unwrap(), s);
        assert_eq!(s.table("shop", "orders").unwrap().id, TableId(4));
        let view = CatalogView::new(s.clone());
        assert_eq!(view.table("shop", "orders").unwrap().id, TableId(4));
        assert_eq!(view.tables_of("shop").count(), 1);
        assert!(view.table("shop", "nope").is_none() && view.table("nope", "orders").is_none());
        assert_eq!(view.schema_version(), s.schema_version());
        let change = SchemaChange::AlterTable {
            keyspace: "shop".into(),
            table: "orders".into(),
            change: TableChange::Options(TableOptionsChange {
                comment: Some("x".into()),
                ..Default::default()
            }),
        };
        assert_eq!(decode::<SchemaChange>(&encode(&change)).unwrap(), change);
    }

    #[test]
    fn bad_bytes_are_errors() {
        assert!(matches!(decode::<CatalogSnapshot>(&[]), Err(CodecError::Empty)));
        assert!(matches!(
            decode::<CatalogSnapshot>(&[7, 1]),
            Err(CodecError::Version(7))
        ));
        let mut b = encode(&snapshot());
        b.truncate(b.len() / 2);
        assert!(matches!(decode::<CatalogSnapshot>(&b), Err(CodecError::Malformed(_))));
    }

    #[test]
    fn schema_versions_are_deterministic_uuids() {
        assert_eq!(schema_version(5), schema_version(5));
        assert_ne!(schema_version(5), schema_version(6));
        assert_eq!(schema_version(5).version(), 8);
        assert_eq!(schema_version(5).0[8] & 0xc0, 0x80, "RFC variant");
    }
}

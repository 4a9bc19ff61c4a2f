use super::*;
use basalt_table::catalog::TableOptionsChange;
use basalt_table::{ClusteringOrder, CqlType, NativeType, Replication, TableOptions};
use proptest::prelude::*;

fn ks(name: &str) -> KeyspaceDef {
    KeyspaceDef {
        name: name.into(),
        replication: Replication::Simple { factor: 3 },
        durable_writes: true,
    }
}

fn col(name: &str, ty: NativeType, kind: ColumnKind) -> ColumnDef {
    ColumnDef {
        id: ColumnId(99),
        name: name.into(),
        ty: CqlType::Native(ty),
        kind,
    }
}

fn table(keyspace: &str, name: &str) -> TableDef {
    TableDef {
        id: TableId(777),
        keyspace: keyspace.into(),
        name: name.into(),
        columns: vec![
            col("id", NativeType::Uuid, ColumnKind::PartitionKey { position: 0 }),
            col(
                "at",
                NativeType::Timestamp,
                ColumnKind::Clustering {
                    position: 0,
                    order: ClusteringOrder::Desc,
                },
            ),
            col("v", NativeType::Text, ColumnKind::Regular),
        ],
        options: TableOptions::default(),
        dropped: BTreeMap::new(),
        next_column: 0,
    }
}

fn create_ks(name: &str) -> CatalogCommand {
    SchemaChange::CreateKeyspace {
        def: ks(name),
        if_not_exists: false,
    }
}

fn create_table(keyspace: &str, name: &str) -> CatalogCommand {
    SchemaChange::CreateTable {
        def: table(keyspace, name),
        if_not_exists: false,
    }
}

fn alter(change: TableChange) -> CatalogCommand {
    SchemaChange::AlterTable {
        keyspace: "shop".into(),
        table: "orders".into(),
        change,
    }
}

#[test]
fn create_assigns_ids_and_versions() {
    let mut c = Catalog::default();
    let out = c.apply(&create_ks("shop"), 1).unwrap();
    assert_eq!((out.effect, out.version), (Effect::Created, 1));
    let out = c.apply(&create_table("shop", "orders"), 1).unwrap();
    assert_eq!(
        (out.effect, out.version, out.table),
        (Effect::Created, 2, Some(TableId(1)))
    );
    let t = c.table("shop", "orders").unwrap();
    assert_eq!(t.id, TableId(1));
    assert_eq!(t.columns.iter().map(|c| c.id.0).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(t.next_column, 3);
    assert_eq!(c.table_by_id(TableId(1)), Some(t));
    let out = c.apply(&create_table("shop", "items"), 1).unwrap();
    assert_eq!(out.table, Some(TableId(2)));
    assert_eq!(c.tables_of("shop").count(), 2);
    assert_ne!(c.schema_version(), Catalog::default().schema_version());
}

#[test]
fn if_not_exists_and_if_exists_change_nothing() {
    let mut c = Catalog::default();
    c.apply(&create_ks("shop"), 1).unwrap();
    assert_eq!(
        c.apply(&create_ks("shop"), 1).unwrap_err(),
        CatalogError::KeyspaceExists {
            keyspace: "shop".into()
        }
    );
    let again = SchemaChange::CreateKeyspace {
        def: ks("shop"),
        if_not_exists: true,
    };
    let out = c.apply(&again, 1).unwrap();
    assert_eq!((out.effect, out.version), (Effect::AlreadyExisted, 1));
    c.apply(&create_table("shop", "orders"), 1).unwrap();
    let err = c.apply(&create_table("shop", "orders"), 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let out = c
        .apply(
            &SchemaChange::CreateTable {
                def: table("shop", "orders"),
                if_not_exists: true,
            },
            1,
        )
        .unwrap();
    assert_eq!((out.effect, out.table), (Effect::AlreadyExisted, Some(TableId(1))));
    let drop = |if_exists| SchemaChange::DropTable {
        keyspace: "shop".into(),
        table: "nope".into(),
        if_exists,
    };
    assert_eq!(c.apply(&drop(true), 1).unwrap().effect, Effect::Absent);
    assert_eq!(c.apply(&drop(false), 1).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(c.version(), 2);
}

#[test]
fn drop_keyspace_drops_its_tables() {
    let mut c = Catalog::default();
    c.apply(&create_ks("shop"), 1).unwrap();
    c.apply(&create_ks("other"), 1).unwrap();
    c.apply(&create_table("shop", "orders"), 1).unwrap();
    c.apply(&create_table("other", "orders"), 1).unwrap();
    let out = c
        .apply(
            &SchemaChange::DropKeyspace {
                name: "shop".into(),
                if_exists: false,
            },
            1,
        )
        .unwrap();
    assert_eq!(out.dropped_tables, [TableId(1)]);
    assert!(c.table("shop", "orders").is_none() && c.table_by_id(TableId(1)).is_none());
    assert_eq!(c.table_count(), 1);
    // A keyspace created again under the same name starts empty, and table ids are never reused.
    c.apply(&create_ks("shop"), 1).unwrap();
    assert_eq!(
        c.apply(&create_table("shop", "orders"), 1).unwrap().table,
        Some(TableId(3))
    );
}

#[test]
fn alter_table_adds_and_drops_columns() {
    let mut c = Catalog::default();
    c.apply(&create_ks("shop"), 1).unwrap();
    c.apply(&create_table("shop", "orders"), 1).unwrap();
    let add = |name: &str, is_static| NewColumn {
        name: name.into(),
        ty: CqlType::List(NativeType::Int),
        is_static,
    };
    c.apply(
        &alter(TableChange::AddColumns(vec![add("tags", false), add("s", true)])),
        1,
    )
    .unwrap();
    let t = c.table("shop", "orders").unwrap();
    assert_eq!(t.column("tags").unwrap().id, ColumnId(3));
    assert_eq!(t.column("s").unwrap().kind, ColumnKind::Static);
    assert_eq!(
        c.apply(&alter(TableChange::AddColumns(vec![add("v", false)])), 1)
            .unwrap_err(),
        CatalogError::ColumnExists {
            keyspace: "shop".into(),
            table: "orders".into(),
            column: "v".into()
        }
    );
    c.apply(&alter(TableChange::DropColumns(vec!["tags".into()])), 5_000)
        .unwrap();
    let t = c.table("shop", "orders").unwrap();
    assert!(t.column("tags").is_none());
    assert_eq!(
        t.dropped["tags"], 5_000_000,
        "drop time in microseconds from the batch clock"
    );
    // Added again: a new id, so the old cells do not come back.
    c.apply(&alter(TableChange::AddColumns(vec![add("tags", false)])), 6_000)
        .unwrap();
    assert_eq!(
        c.table("shop", "orders").unwrap().column("tags").unwrap().id,
        ColumnId(5)
    );
    assert_eq!(
        c.apply(&alter(TableChange::DropColumns(vec!["id".into()])), 1)
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        c.apply(&alter(TableChange::DropColumns(vec!["zz".into()])), 1)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let before = c.clone();
    // A failing column in a list leaves the others undropped.
    c.apply(&alter(TableChange::DropColumns(vec!["v".into(), "zz".into()])), 1)
        .unwrap_err();
    assert_eq!(c, before);
    c.apply(
        &alter(TableChange::Options(TableOptionsChange {
            default_ttl: Some(60),
            ..Default::default()
        })),
        1,
    )
    .unwrap();
    let t = c.table("shop", "orders").unwrap();
    assert_eq!((t.options.default_ttl, t.options.gc_grace_seconds), (60, 864_000));
}

#[test]
fn bad_definitions_are_refused() {
    let mut c = Catalog::default();
    let bad_ks = |def| {
        c.clone().apply(
            &SchemaChange::CreateKeyspace {
                def,
                if_not_exists: false,
            },
            1,
        )
    };
    for def in [
        KeyspaceDef {
            name: "bad-name".into(),
            ..ks("x")
        },
        KeyspaceDef {
            name: "a".repeat(49),
            ..ks("x")
        },
        KeyspaceDef {
            replication: Replication::Simple { factor: 0 },
            ..ks("x")
        },
        KeyspaceDef {
            replication: Replication::NetworkTopology {
                datacenters: [("dc2".to_string(), 3)].into(),
            },
            ..ks("x")
        },
    ] {
        assert_eq!(bad_ks(def).unwrap_err().kind(), ErrorKind::Invalid);
    }
    assert_eq!(
        c.apply(&create_table("nope", "t"), 1).unwrap_err(),
        CatalogError::KeyspaceNotFound {
            keyspace: "nope".into()
        }
    );
    c.apply(&create_ks("shop"), 1).unwrap();
    let mut bads = Vec::new();
    let mut t = table("shop", "t");
    t.columns.retain(|c| !c.kind.is_primary_key());
    bads.push(t);
    let mut t = table("shop", "t");
    t.columns[2].name = "id".into();
    bads.push(t);
    let mut t = table("shop", "t");
    t.columns[1].kind = ColumnKind::Clustering {
        position: 1,
        order: ClusteringOrder::Asc,
    };
    bads.push(t);
    let mut t = table("shop", "t");
    t.columns[0].ty = CqlType::Set(NativeType::Int);
    bads.push(t);
    let mut t = table("shop", "t");
    t.columns.remove(1);
    t.columns[1].kind = ColumnKind::Static;
    bads.push(t);
    let mut t = table("shop", "t");
    t.columns[2].name = String::new();
    bads.push(t);
    for def in bads {
        let err = c
            .apply(
                &SchemaChange::CreateTable {
                    def: def.clone(),
                    if_not_exists: false,
                },
                1,
            )
            .unwrap_err();
        assert!(matches!(err, CatalogError::InvalidDefinition { .. }), "{def:?}: {err}");
    }
    assert_eq!(
        (c.version(), c.table_count(), c.next_table),
        (1, 0, 0),
        "refusals change nothing"
    );
}

#[test]
fn an_old_snapshot_without_a_catalog_reads_as_empty() {
    #[derive(Serialize)]
    struct Empty {}
    let c: Catalog = rmp_serde::from_slice(&rmp_serde::to_vec_named(&Empty {}).unwrap()).unwrap();
    assert_eq!(c, Catalog::default());
}

fn arb_command() -> impl Strategy<Value = CatalogCommand> {
    let ks_name = prop::sample::select(vec!["a", "b", "c"]);
    let t_name = prop::sample::select(vec!["t", "u"]);
    let col_name = prop::sample::select(vec!["id", "at", "v", "w", "x"]);
    prop_oneof![
        (ks_name.clone(), any::<bool>()).prop_map(|(k, ine)| SchemaChange::CreateKeyspace {
            def: ks(k),
            if_not_exists: ine
        }),
        (ks_name.clone(), any::<bool>()).prop_map(|(k, ie)| SchemaChange::DropKeyspace {
            name: k.into(),
            if_exists: ie
        }),
        (ks_name.clone(), 0u32..3).prop_map(|(k, f)| SchemaChange::AlterKeyspace {
            name: k.into(),
            replication: Some(Replication::Simple { factor: f }),
            durable_writes: None
        }),
        (ks_name.clone(), t_name.clone(), any::<bool>()).prop_map(|(k, t, ine)| SchemaChange::CreateTable {
            def: table(k, t),
            if_not_exists: ine
        }),
        (ks_name.clone(), t_name.clone(), any::<bool>()).prop_map(|(k, t, ie)| SchemaChange::DropTable {
            keyspace: k.into(),
            table: t.into(),
            if_exists: ie
        }),
        (ks_name.clone(), t_name.clone(), col_name.clone(), any::<bool>()).prop_map(|(k, t, c, s)| {
            SchemaChange::AlterTable {
                keyspace: k.into(),
                table: t.into(),
                change: TableChange::AddColumns(vec![NewColumn {
                    name: c.into(),
                    ty: CqlType::Native(NativeType::Int),
                    is_static: s,
                }]),
            }
        }),
        (ks_name, t_name, col_name).prop_map(|(k, t, c)| SchemaChange::AlterTable {
            keyspace: k.into(),
            table: t.into(),
            change: TableChange::DropColumns(vec![c.into()]),
        }),
    ]
}

fn check_invariants(c: &Catalog) -> Result<(), TestCaseError> {
    let named: usize = c.names.values().map(|t| t.len()).sum();
    prop_assert_eq!(named, c.tables.len());
    for (k, tables) in &c.names {
        prop_assert!(c.keyspaces.contains_key(k), "tables of a dropped keyspace");
        prop_assert!(!tables.is_empty());
        for (name, id) in tables {
            let t = &c.tables[id];
            prop_assert!(&t.keyspace == k && &t.name == name && t.id == *id);
            prop_assert!(id.0 < c.next_table);
            prop_assert!(validate::table(t).is_ok());
        }
    }
    for def in c.keyspaces.values() {
        prop_assert!(validate::keyspace(def).is_ok());
    }
    Ok(())
}

proptest! {
    #[test]
    fn random_changes_keep_the_catalog_valid_and_deterministic(cmds in prop::collection::vec(arb_command(), 1..60)) {
        let (mut a, mut b) = (Catalog::default(), Catalog::default());
        for (i, cmd) in cmds.iter().enumerate() {
            let before = a.clone();
            let ra = a.apply(cmd, i as u64);
            prop_assert_eq!(&ra, &b.apply(cmd, i as u64));
            match &ra {
                Err(_) => prop_assert_eq!(&a, &before, "a refused command changes nothing"),
                Ok(out) if out.version != before.version => prop_assert_eq!(out.version, before.version + 1),
                Ok(_) => prop_assert_eq!(&a, &before, "an unchanged version means an unchanged catalog"),
            }
            check_invariants(&a)?;
        }
        let bytes = rmp_serde::to_vec_named(&a).unwrap();
        prop_assert_eq!(rmp_serde::from_slice::<Catalog>(&bytes).unwrap(), a);
    }
}

use super::*;
use crate::schema::ClusteringOrder;
use crate::types::{CqlType, NativeType};

#[test]
fn create_keyspace() {
    let Statement::CreateKeyspace(ks) = ok(
        "CREATE KEYSPACE IF NOT EXISTS Ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3} \
         AND durable_writes = false;",
    ) else {
        panic!()
    };
    assert_eq!(ks.name, "ks");
    assert!(ks.if_not_exists);
    assert_eq!(
        ks.replication,
        vec![
            ("class".into(), "SimpleStrategy".into()),
            ("replication_factor".into(), "3".into())
        ]
    );
    assert_eq!(ks.durable_writes, Some(false));
    let Statement::CreateKeyspace(ks) =
        ok("create schema \"MyKs\" with REPLICATION = {'class':'NetworkTopologyStrategy','datacenter1':'2'}")
    else {
        panic!()
    };
    assert_eq!(ks.name, "MyKs");
    assert_eq!(ks.durable_writes, None);
    assert!(parse("CREATE KEYSPACE k WITH durable_writes = true").is_err());
    assert_eq!(
        parse("CREATE KEYSPACE k WITH replication = {'class': 'x'} AND foo = 1")
            .unwrap_err()
            .to_string(),
        "line 1:56 Unknown property 'foo'"
    );
    assert!(parse("CREATE KEYSPACE k WITH replication = {'class': 'x'} AND foo = 1").is_err());
}

#[test]
fn alter_and_drop_keyspace() {
    let Statement::AlterKeyspace(a) =
        ok("ALTER KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    else {
        panic!()
    };
    assert_eq!(a.name, "ks");
    assert!(a.replication.is_some());
    assert_eq!(
        ok("DROP KEYSPACE IF EXISTS ks"),
        Statement::DropKeyspace {
            name: "ks".into(),
            if_exists: true
        }
    );
    assert_eq!(
        ok("drop keyspace ks;"),
        Statement::DropKeyspace {
            name: "ks".into(),
            if_exists: false
        }
    );
}

#[test]
fn create_table_full() {
    let Statement::CreateTable(t) = ok("CREATE TABLE IF NOT EXISTS ks.events (
            tenant text, day date, at timestamp, seq int,
            s int STATIC,
            tags set<text>, attrs map<text, int>, hist list<double>,
            \"Mixed\" varchar,
            PRIMARY KEY ((tenant, day), at, seq)
        ) WITH CLUSTERING ORDER BY (at DESC, seq ASC)
          AND default_time_to_live = 3600
          AND gc_grace_seconds = 0
          AND comment = 'it''s a table'
          AND compaction = {'class': 'SizeTieredCompactionStrategy', 'max_threshold': 32};")
    else {
        panic!()
    };
    assert!(t.if_not_exists);
    assert_eq!(t.table, qn(Some("ks"), "events"));
    assert_eq!(t.columns.len(), 9);
    assert_eq!(t.columns[4].name, "s");
    assert!(t.columns[4].is_static);
    assert_eq!(t.columns[5].ty, CqlType::Set(NativeType::Text));
    assert_eq!(t.columns[6].ty, CqlType::Map(NativeType::Text, NativeType::Int));
    assert_eq!(t.columns[7].ty, CqlType::List(NativeType::Double));
    assert_eq!(t.columns[8].name, "Mixed");
    assert_eq!(t.columns[8].ty, CqlType::Native(NativeType::Text));
    let pk = t.primary_key.unwrap();
    assert_eq!(pk.partition, vec!["tenant", "day"]);
    assert_eq!(pk.clustering, vec!["at", "seq"]);
    assert_eq!(
        t.properties.clustering_order,
        vec![
            ("at".into(), ClusteringOrder::Desc),
            ("seq".into(), ClusteringOrder::Asc)
        ]
    );
    assert_eq!(
        t.properties.get("default_time_to_live").unwrap().value,
        PropertyValue::Number("3600".into())
    );
    assert_eq!(
        t.properties.get("comment").unwrap().value,
        PropertyValue::String("it's a table".into())
    );
    assert!(matches!(t.properties.get("compaction").unwrap().value, PropertyValue::Map(ref m) if m.len() == 2));
}

#[test]
fn create_table_inline_key_and_single_partition() {
    let Statement::CreateTable(t) = ok("create table t (k int primary key, v text)") else {
        panic!()
    };
    assert!(t.columns[0].primary_key);
    assert_eq!(t.primary_key, None);
    assert_eq!(t.table, qn(None, "t"));
    let Statement::CreateTable(t) = ok("CREATE COLUMNFAMILY t (a int, b int, PRIMARY KEY (a, b),)") else {
        panic!()
    };
    assert_eq!(
        t.primary_key,
        Some(PrimaryKey {
            partition: vec!["a".into()],
            clustering: vec!["b".into()]
        })
    );
}

#[test]
fn alter_table_forms() {
    let alter = |s: &str| match ok(s) {
        Statement::AlterTable(a) => a.action,
        other => panic!("{other:?}"),
    };
    assert!(matches!(alter("ALTER TABLE ks.t ADD c int"), AlterTableAction::Add(c) if c.len() == 1));
    assert!(
        matches!(alter("ALTER TABLE t ADD (c int, d set<text> , s int static)"), AlterTableAction::Add(c) if c.len() == 3 && c[2].is_static)
    );
    assert_eq!(alter("ALTER TABLE t DROP c"), AlterTableAction::Drop(vec!["c".into()]));
    assert_eq!(
        alter("ALTER TABLE t DROP (c, \"D\")"),
        AlterTableAction::Drop(vec!["c".into(), "D".into()])
    );
    assert!(
        matches!(alter("ALTER TABLE t WITH default_time_to_live = 10 AND comment = 'x'"), AlterTableAction::With(p) if p.properties.len() == 2)
    );
}

#[test]
fn drop_truncate_use() {
    assert_eq!(
        ok("DROP TABLE IF EXISTS ks.t"),
        Statement::DropTable {
            table: qn(Some("ks"), "t"),
            if_exists: true
        }
    );
    assert_eq!(
        ok("TRUNCATE ks.t"),
        Statement::Truncate {
            table: qn(Some("ks"), "t")
        }
    );
    assert_eq!(ok("TRUNCATE TABLE t;"), Statement::Truncate { table: qn(None, "t") });
    assert_eq!(ok("USE \"Ks\""), Statement::Use { keyspace: "Ks".into() });
    assert_eq!(ok("use KS;"), Statement::Use { keyspace: "ks".into() });
}

#[test]
fn describe_forms() {
    let d = |s: &str| match ok(s) {
        Statement::Describe(d) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(d("DESCRIBE KEYSPACES"), Describe::Keyspaces);
    assert_eq!(d("DESC keyspaces;"), Describe::Keyspaces);
    assert_eq!(d("DESCRIBE KEYSPACE ks"), Describe::Keyspace(Some("ks".into())));
    assert_eq!(d("DESCRIBE KEYSPACE"), Describe::Keyspace(None));
    assert_eq!(d("DESCRIBE TABLES"), Describe::Tables);
    assert_eq!(d("DESCRIBE TABLE ks.t"), Describe::Table(qn(Some("ks"), "t")));
    assert_eq!(d("describe table t"), Describe::Table(qn(None, "t")));
    assert_eq!(d("DESCRIBE CLUSTER"), Describe::Cluster);
    assert_eq!(d("DESCRIBE SCHEMA"), Describe::Schema);
    assert_eq!(d("DESCRIBE FULL SCHEMA"), Describe::Schema);
    assert_eq!(
        d("DESCRIBE ONLY KEYSPACE ks WITH INTERNALS"),
        Describe::Keyspace(Some("ks".into()))
    );
    assert_eq!(d("DESC ks.t"), Describe::Name(qn(Some("ks"), "t")));
}

#[test]
fn unsupported_statements() {
    for s in [
        "GRANT SELECT ON ks.t TO bob",
        "REVOKE SELECT ON ks.t FROM bob",
        "LIST ROLES",
        "CREATE INDEX ON t (v)",
        "CREATE TYPE ks.addr (street text)",
        "CREATE MATERIALIZED VIEW v AS SELECT * FROM t",
        "CREATE TABLE t (k counter PRIMARY KEY)",
        "CREATE TABLE t (k frozen<list<int>> PRIMARY KEY)",
        "CREATE TABLE t (k list<list<int>> PRIMARY KEY)",
        "CREATE TABLE t (k int PRIMARY KEY) WITH COMPACT STORAGE",
        "INSERT INTO t JSON '{\"k\": 1}'",
        "SELECT JSON * FROM t",
        "ALTER TABLE t RENAME a TO b",
        "DROP INDEX i",
    ] {
        match parse(s) {
            Err(e @ crate::cql::CqlError::Unsupported { .. }) => {
                assert!(e.to_string().contains("not supported"), "{s}: {e}")
            }
            other => panic!("{s}: {other:?}"),
        }
    }
}

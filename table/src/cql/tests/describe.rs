use super::super::describe::{create_keyspace_cql, create_table_cql, quote_name};
use super::super::schema::{keyspace_def, table_def};
use super::super::{Statement, parse};
use crate::schema::{KeyspaceDef, Replication, TableDef};
use basalt_common::TableId;

fn table(text: &str) -> TableDef {
    let Statement::CreateTable(t) = parse(text).unwrap() else {
        panic!()
    };
    table_def(&t, t.table.keyspace.as_deref().unwrap_or("ks"), TableId(3)).unwrap()
}

fn round_trip(def: &TableDef) {
    let cql = create_table_cql(def);
    let Statement::CreateTable(t) = parse(&cql).unwrap_or_else(|e| panic!("{cql}: {e}")) else {
        panic!()
    };
    assert_eq!(&table_def(&t, &def.keyspace, def.id).unwrap(), def, "{cql}");
}

#[test]
fn tables_as_describe_prints_them() {
    let d = table(
        "CREATE TABLE ks.t (a int, b text, c timestamp, s int static, v map<text, int>, \
                   PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) AND comment = 'it''s'",
    );
    assert_eq!(
        create_table_cql(&d),
        "CREATE TABLE ks.t (\n    a int,\n    b text,\n    c timestamp,\n    s int static,\n    v map<text, int>,\n    \
         PRIMARY KEY ((a, b), c)\n) WITH CLUSTERING ORDER BY (c DESC)\n    AND comment = 'it''s'\n    \
         AND default_time_to_live = 0\n    AND gc_grace_seconds = 864000;"
    );
    round_trip(&d);
    let d = table("CREATE TABLE ks.kv (k text PRIMARY KEY, v blob) WITH default_time_to_live = 7");
    assert_eq!(
        create_table_cql(&d),
        "CREATE TABLE ks.kv (\n    k text PRIMARY KEY,\n    v blob\n) WITH comment = ''\n    \
         AND default_time_to_live = 7\n    AND gc_grace_seconds = 864000;"
    );
    round_trip(&d);
    let d = table(
        "CREATE TABLE \"Ks\".\"T\" (\"Key\" int, \"select\" int, x int, PRIMARY KEY (\"Key\", \"select\", x)) \
                   WITH CLUSTERING ORDER BY (\"select\" ASC, x DESC)",
    );
    assert!(create_table_cql(&d).starts_with("CREATE TABLE \"Ks\".\"T\" (\n    \"Key\" int,\n    \"select\" int,"));
    assert!(create_table_cql(&d).contains("PRIMARY KEY (\"Key\", \"select\", x)"));
    round_trip(&d);
}

#[test]
fn keyspaces_as_describe_prints_them() {
    let k = KeyspaceDef {
        name: "ks".into(),
        replication: Replication::Simple { factor: 3 },
        durable_writes: true,
    };
    let cql = create_keyspace_cql(&k);
    assert_eq!(
        cql,
        "CREATE KEYSPACE ks WITH replication = {'class': 'org.apache.cassandra.locator.SimpleStrategy', \
         'replication_factor': '3'}  AND durable_writes = true;"
    );
    let Statement::CreateKeyspace(stmt) = parse(&cql).unwrap() else {
        panic!()
    };
    assert_eq!(keyspace_def(&stmt).unwrap(), k);
    let k = KeyspaceDef {
        name: "Other".into(),
        replication: Replication::NetworkTopology {
            datacenters: [("datacenter1".to_string(), 2)].into(),
        },
        durable_writes: false,
    };
    let Statement::CreateKeyspace(stmt) = parse(&create_keyspace_cql(&k)).unwrap() else {
        panic!()
    };
    assert_eq!(keyspace_def(&stmt).unwrap(), k);
}

#[test]
fn quoting() {
    assert_eq!(quote_name("abc_1"), "abc_1");
    assert_eq!(quote_name("Abc"), "\"Abc\"");
    assert_eq!(quote_name("1a"), "\"1a\"");
    assert_eq!(quote_name("table"), "\"table\"");
    assert_eq!(quote_name("a\"b"), "\"a\"\"b\"");
    assert_eq!(quote_name("key"), "key");
}

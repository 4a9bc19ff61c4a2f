use super::super::ast::{AlterTableAction, CreateKeyspace, CreateTable};
use super::super::schema::{alter_table, keyspace_def, table_def};
use super::super::{CqlError, ReplicationError, Statement, TableDefError, parse};
use crate::schema::{ClusteringOrder, ColumnKind, Replication};
use crate::types::{CqlType, NativeType};
use basalt_common::{ColumnId, TableId};

fn create(text: &str) -> CreateTable {
    match parse(text).unwrap() {
        Statement::CreateTable(t) => t,
        other => panic!("{other:?}"),
    }
}

fn def(text: &str) -> Result<crate::schema::TableDef, CqlError> {
    table_def(&create(text), "ks", TableId(7))
}

fn table_err(text: &str) -> TableDefError {
    match def(text) {
        Err(CqlError::InvalidTable(e)) => e,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn builds_the_definition() {
    let d = def(
        "CREATE TABLE ks.t (a int, b text, c timestamp, s int static, v list<int>, \
                 PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) AND default_time_to_live = 60 \
                 AND gc_grace_seconds = 10 AND comment = 'hi' AND compaction = {'class': 'LeveledCompactionStrategy'}",
    )
    .unwrap();
    assert_eq!(d.id, TableId(7));
    assert_eq!((d.keyspace.as_str(), d.name.as_str()), ("ks", "t"));
    assert_eq!(d.next_column, 5);
    assert_eq!(d.columns[4].id, ColumnId(4));
    assert_eq!(d.columns[0].kind, ColumnKind::PartitionKey { position: 0 });
    assert_eq!(d.columns[1].kind, ColumnKind::PartitionKey { position: 1 });
    assert_eq!(
        d.columns[2].kind,
        ColumnKind::Clustering {
            position: 0,
            order: ClusteringOrder::Desc
        }
    );
    assert_eq!(d.columns[3].kind, ColumnKind::Static);
    assert_eq!(d.columns[4].kind, ColumnKind::Regular);
    assert_eq!(d.columns[4].ty, CqlType::List(NativeType::Int));
    assert_eq!((d.options.default_ttl, d.options.gc_grace_seconds), (60, 10));
    assert_eq!(d.options.comment, "hi");
    let d = def("CREATE TABLE t (k int PRIMARY KEY, v text)").unwrap();
    assert_eq!(d.columns[0].kind, ColumnKind::PartitionKey { position: 0 });
    assert_eq!(d.options.gc_grace_seconds, 864_000);
}

#[test]
fn refuses_what_cassandra_refuses() {
    use TableDefError as E;
    assert!(matches!(
        table_err("CREATE TABLE t (a int, b int)"),
        E::MissingPrimaryKey { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int PRIMARY KEY, b int, PRIMARY KEY (a))"),
        E::MultiplePrimaryKeys { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int PRIMARY KEY, b int PRIMARY KEY)"),
        E::MultiplePrimaryKeys { .. }
    ));
    assert_eq!(
        table_err("CREATE TABLE t (a int, PRIMARY KEY (x))"),
        E::UnknownKeyColumn { column: "x".into() }
    );
    assert_eq!(
        table_err("CREATE TABLE t (a int, PRIMARY KEY (a, a))"),
        E::RepeatedKeyColumn { column: "a".into() }
    );
    assert!(matches!(
        table_err("CREATE TABLE t (a int PRIMARY KEY, a text)"),
        E::DuplicateColumn { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a set<int> PRIMARY KEY)"),
        E::CollectionInPrimaryKey { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int, b int static, PRIMARY KEY (a, b))"),
        E::StaticInPrimaryKey { .. }
    ));
    assert_eq!(
        table_err("CREATE TABLE t (a int PRIMARY KEY, s int static)"),
        E::StaticWithoutClustering
    );
    assert!(matches!(
        table_err(
            "CREATE TABLE t (a int, b int, c int, PRIMARY KEY (a, b, c)) WITH CLUSTERING ORDER BY (c DESC, b ASC)"
        ),
        E::ClusteringOrderMisordered { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int, b int, PRIMARY KEY (a, b)) WITH CLUSTERING ORDER BY (a DESC)"),
        E::ClusteringOrderNotClustering { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int, b int, c int, PRIMARY KEY (a, b, c)) WITH CLUSTERING ORDER BY (b DESC)"),
        E::ClusteringOrderMissing { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int PRIMARY KEY) WITH default_time_to_live = -1"),
        E::InvalidOption { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int PRIMARY KEY) WITH gc_grace_seconds = 'x'"),
        E::InvalidOption { .. }
    ));
    assert!(matches!(
        table_err("CREATE TABLE t (a int PRIMARY KEY) WITH comment = 3"),
        E::InvalidOption { .. }
    ));
    assert_eq!(
        table_err("CREATE TABLE t (a int PRIMARY KEY) WITH nonsense = 1"),
        E::UnknownOption {
            name: "nonsense".into()
        }
    );
    assert!(matches!(
        table_err("CREATE TABLE t (a int PRIMARY KEY) WITH comment = 'a' AND comment = 'b'"),
        E::RepeatedOption { .. }
    ));
    assert_eq!(
        def("CREATE TABLE t (a int PRIMARY KEY)")
            .map(|_| ())
            .map_err(|e| e.kind()),
        Ok(())
    );
}

#[test]
fn alter_table_adds_and_drops() {
    let d = def("CREATE TABLE t (a int, b int, v int, PRIMARY KEY (a, b))").unwrap();
    let action = |text: &str| match parse(text).unwrap() {
        Statement::AlterTable(a) => a.action,
        other => panic!("{other:?}"),
    };
    let added = alter_table(&d, &action("ALTER TABLE t ADD (w text, s int static)"), 5).unwrap();
    assert_eq!(added.columns[3].id, ColumnId(3));
    assert_eq!(added.columns[4].kind, ColumnKind::Static);
    assert_eq!(added.next_column, 5);
    let dropped = alter_table(&added, &action("ALTER TABLE t DROP w"), 9).unwrap();
    assert!(dropped.column("w").is_none());
    assert_eq!(dropped.dropped.get("w"), Some(&9));
    let readded = alter_table(&dropped, &action("ALTER TABLE t ADD w int"), 10).unwrap();
    assert_eq!(readded.column("w").unwrap().id, ColumnId(5));
    assert!(alter_table(&d, &action("ALTER TABLE t DROP a"), 1).is_err());
    assert!(alter_table(&d, &action("ALTER TABLE t DROP nope"), 1).is_err());
    assert!(alter_table(&d, &action("ALTER TABLE t ADD v int"), 1).is_err());
    let with = alter_table(&d, &action("ALTER TABLE t WITH default_time_to_live = 5"), 1).unwrap();
    assert_eq!(with.options.default_ttl, 5);
    assert!(matches!(action("ALTER TABLE t DROP v"), AlterTableAction::Drop(_)));
}

fn ks(text: &str) -> Result<crate::schema::KeyspaceDef, CqlError> {
    let stmt: CreateKeyspace = match parse(text).unwrap() {
        Statement::CreateKeyspace(k) => k,
        other => panic!("{other:?}"),
    };
    keyspace_def(&stmt)
}

#[test]
fn keyspaces_and_replication() {
    let k = ks("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}").unwrap();
    assert_eq!(k.replication, Replication::Simple { factor: 3 });
    assert!(k.durable_writes);
    let k = ks(
        "CREATE KEYSPACE k WITH replication = {'class': 'org.apache.cassandra.locator.SimpleStrategy', \
                'replication_factor': '2'} AND durable_writes = false",
    )
    .unwrap();
    assert_eq!(k.replication.factor(), 2);
    assert!(!k.durable_writes);
    let k = ks("CREATE KEYSPACE k WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 3}").unwrap();
    assert!(k.replication.rack_aware());
    assert_eq!(k.replication.factor(), 3);
    let err = |text: &str| match ks(text) {
        Err(CqlError::Replication(e)) => e,
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(
        err("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy'}"),
        ReplicationError::MissingFactor
    );
    assert_eq!(
        err("CREATE KEYSPACE k WITH replication = {'replication_factor': 1}"),
        ReplicationError::MissingClass
    );
    assert!(matches!(
        err("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': -1}"),
        ReplicationError::InvalidFactor { .. }
    ));
    assert!(matches!(
        err("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1, 'x': 1}"),
        ReplicationError::UnknownOption { .. }
    ));
    assert!(matches!(
        err("CREATE KEYSPACE k WITH replication = {'class': 'Fancy', 'replication_factor': 1}"),
        ReplicationError::UnknownClass { .. }
    ));
    assert!(matches!(
        err("CREATE KEYSPACE k WITH replication = {'class': 'NetworkTopologyStrategy', 'dc9': 1}"),
        ReplicationError::UnknownDatacenter { .. }
    ));
    assert_eq!(
        parse("CREATE KEYSPACE k WITH durable_writes = true").unwrap_err(),
        CqlError::Replication(ReplicationError::MissingReplication)
    );
    assert!(matches!(
        ks(&format!(
            "CREATE KEYSPACE {} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}",
            "k".repeat(49)
        )),
        Err(CqlError::InvalidName { what: "keyspace", .. })
    ));
    let k = ks("CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").unwrap();
    let Statement::AlterKeyspace(a) =
        parse("ALTER KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3} AND durable_writes = false").unwrap()
    else {
        panic!()
    };
    let altered = super::super::schema::alter_keyspace(&k, &a).unwrap();
    assert_eq!(altered.replication.factor(), 3);
    assert!(!altered.durable_writes);
    assert_eq!(
        CqlError::Replication(ReplicationError::MissingClass).class(),
        super::super::CqlErrorClass::Config
    );
}

#[test]
fn accepts_what_cassandra_4_describe_prints() {
    let d = def("CREATE TABLE ks.t (
    k int,
    c text,
    v map<text, int>,
    PRIMARY KEY (k, c)
) WITH CLUSTERING ORDER BY (c ASC)
    AND additional_write_policy = '99p'
    AND bloom_filter_fp_chance = 0.01
    AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'}
    AND cdc = false
    AND comment = ''
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32', 'min_threshold': '4'}
    AND compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}
    AND memtable = 'default'
    AND crc_check_chance = 1.0
    AND default_time_to_live = 0
    AND extensions = {}
    AND gc_grace_seconds = 864000
    AND max_index_interval = 2048
    AND memtable_flush_period_in_ms = 0
    AND min_index_interval = 128
    AND read_repair = 'BLOCKING'
    AND speculative_retry = '99p';")
    .unwrap();
    assert_eq!(d.columns.len(), 3);
    assert_eq!(d.options.gc_grace_seconds, 864_000);
}

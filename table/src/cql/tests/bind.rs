use super::super::bind::{BindSpec, bind_specs};
use super::super::schema::table_def;
use super::super::{CqlError, Statement, parse};
use crate::schema::TableDef;
use crate::types::{CqlType, NativeType as N};
use basalt_common::TableId;

fn table() -> TableDef {
    let Statement::CreateTable(t) = parse(
        "CREATE TABLE ks.t (k int, c text, v bigint, l list<int>, s set<text>, m map<text, double>, \
         PRIMARY KEY (k, c))",
    )
    .unwrap() else {
        panic!()
    };
    table_def(&t, "ks", TableId(1)).unwrap()
}

fn specs(text: &str) -> Result<Vec<(String, CqlType)>, CqlError> {
    let def = table();
    let stmt = parse(text).unwrap();
    let specs = bind_specs(&stmt, &|name| (name.name == "t").then_some(&def))?;
    assert!(specs.iter().enumerate().all(|(i, s)| s.index == i), "{specs:?}");
    Ok(specs.into_iter().map(|BindSpec { name, ty, .. }| (name, ty)).collect())
}

fn n(name: &str, ty: N) -> (String, CqlType) {
    (name.into(), CqlType::Native(ty))
}

#[test]
fn insert_update_delete_select() {
    assert_eq!(
        specs("INSERT INTO ks.t (k, c, l) VALUES (?, :name, [?, 2]) USING TTL ? AND TIMESTAMP ?").unwrap(),
        vec![
            n("k", N::Int),
            n("name", N::Text),
            n("value(l)", N::Int),
            n("[ttl]", N::Int),
            n("[timestamp]", N::BigInt)
        ]
    );
    assert_eq!(
        specs("UPDATE t SET v = ?, m[?] = ?, l[?] = ?, m = m - ?, s = s + ? WHERE k = ? AND c IN ? IF v > ?").unwrap(),
        vec![
            n("v", N::BigInt),
            n("key(m)", N::Text),
            n("value(m)", N::Double),
            n("idx(l)", N::Int),
            n("value(l)", N::Int),
            ("m".into(), CqlType::Set(N::Text)),
            ("s".into(), CqlType::Set(N::Text)),
            n("k", N::Int),
            ("in(c)".into(), CqlType::List(N::Text)),
            n("v", N::BigInt),
        ]
    );
    assert_eq!(
        specs("DELETE m[?] FROM t USING TIMESTAMP ? WHERE k IN (?, ?)").unwrap(),
        vec![
            n("key(m)", N::Text),
            n("[timestamp]", N::BigInt),
            n("k", N::Int),
            n("k", N::Int)
        ]
    );
    assert_eq!(
        specs(
            "SELECT * FROM t WHERE token(k) > ? AND (k, c) > (?, ?) AND s CONTAINS ? AND m CONTAINS KEY ? \
               PER PARTITION LIMIT ? LIMIT ?"
        )
        .unwrap(),
        vec![
            n("partition key token", N::BigInt),
            n("k", N::Int),
            n("c", N::Text),
            n("value(s)", N::Text),
            n("key(m)", N::Text),
            n("[per_partition_limit]", N::Int),
            n("[limit]", N::Int),
        ]
    );
    assert_eq!(
        specs("BEGIN BATCH USING TIMESTAMP ? INSERT INTO t (k) VALUES (?); DELETE FROM t WHERE k = ? APPLY BATCH")
            .unwrap()
            .len(),
        3
    );
    assert_eq!(specs("SELECT * FROM nosuch").unwrap(), vec![]);
}

#[test]
fn refusals() {
    assert!(matches!(
        specs("SELECT * FROM t WHERE nope = ?"),
        Err(CqlError::UnknownColumn { .. })
    ));
    assert!(matches!(
        specs("SELECT * FROM other WHERE k = ?"),
        Err(CqlError::UnknownTable { .. })
    ));
    assert!(matches!(
        specs("SELECT * FROM t WHERE (k, c) = ?"),
        Err(CqlError::UnsupportedMarker { .. })
    ));
    assert!(matches!(
        specs("INSERT INTO t (k, v) VALUES (1, toUnixTimestamp(?))"),
        Err(CqlError::UnsupportedMarker { .. })
    ));
    assert!(matches!(
        specs("UPDATE t SET v[?] = 1 WHERE k = 1"),
        Err(CqlError::UnsupportedMarker { .. })
    ));
    assert!(matches!(
        specs("SELECT * FROM t WHERE v CONTAINS ?"),
        Err(CqlError::UnsupportedMarker { .. })
    ));
}

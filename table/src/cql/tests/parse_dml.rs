use super::*;
use crate::schema::ClusteringOrder;

#[test]
fn insert_with_using_and_if_not_exists() {
    let Statement::Insert(i) =
        ok("INSERT INTO ks.t (a, \"B\", c) VALUES (1, 'x', [1, 2]) IF NOT EXISTS USING TTL 60 AND TIMESTAMP 123;")
    else {
        panic!()
    };
    assert_eq!(i.table, qn(Some("ks"), "t"));
    assert_eq!(i.columns, vec!["a", "B", "c"]);
    assert_eq!(
        i.values,
        vec![int("1"), string("x"), Term::List(vec![int("1"), int("2")])]
    );
    assert!(i.if_not_exists);
    assert_eq!(i.using.ttl, Some(int("60")));
    assert_eq!(i.using.timestamp, Some(int("123")));
    assert!(parse("INSERT INTO t (a, b) VALUES (1)").is_err());
}

#[test]
fn terms_of_every_kind() {
    let Statement::Insert(i) = ok("INSERT INTO t (a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p) VALUES (
        -5, 1.5, -2e10, NaN, -Infinity, true, FALSE, null, 0xCAFE, 123e4567-e89b-12d3-a456-426614174000,
        {1, 2}, {'k': 1, 'l': 2}, {}, (1, 'a'), toTimestamp(now()), $$it's$$)")
    else {
        panic!()
    };
    let lit = |l: Literal| Term::Literal(l);
    assert_eq!(i.values[0], int("-5"));
    assert_eq!(i.values[1], lit(Literal::Float("1.5".into())));
    assert_eq!(i.values[2], lit(Literal::Float("-2e10".into())));
    assert_eq!(i.values[3], lit(Literal::Float("NaN".into())));
    assert_eq!(i.values[4], lit(Literal::Float("-Infinity".into())));
    assert_eq!(i.values[5], lit(Literal::Boolean(true)));
    assert_eq!(i.values[6], lit(Literal::Boolean(false)));
    assert_eq!(i.values[7], Term::Null);
    assert_eq!(i.values[8], lit(Literal::Hex("CAFE".into())));
    assert!(
        matches!(&i.values[9], Term::Literal(Literal::Uuid(u)) if u.to_string() == "123e4567-e89b-12d3-a456-426614174000")
    );
    assert_eq!(i.values[10], Term::Set(vec![int("1"), int("2")]));
    assert_eq!(
        i.values[11],
        Term::Map(vec![(string("k"), int("1")), (string("l"), int("2"))])
    );
    assert_eq!(i.values[12], Term::Map(vec![]));
    assert_eq!(i.values[13], Term::Tuple(vec![int("1"), string("a")]));
    assert_eq!(
        i.values[14],
        Term::Function {
            name: "totimestamp".into(),
            args: vec![Term::Function {
                name: "now".into(),
                args: vec![]
            }]
        }
    );
    assert_eq!(i.values[15], string("it's"));
    // Big integers keep their digits.
    let Statement::Insert(i) = ok("INSERT INTO t (v) VALUES (123456789012345678901234567890)") else {
        panic!()
    };
    assert_eq!(i.values[0], int("123456789012345678901234567890"));
}

#[test]
fn update_assignments() {
    let Statement::Update(u) = ok(
        "UPDATE ks.t USING TTL 10 AND TIMESTAMP 5 SET a = 1, l = l + [2], l = [0] + l, \
         s = s - {3}, m['k'] = 'v', l[2] = 7, n += 1, o -= 2, c = c -1 WHERE k = 1 AND c IN (1, 2) IF v = 3 AND m['k'] != null",
    ) else {
        panic!()
    };
    assert_eq!(u.using.ttl, Some(int("10")));
    assert_eq!(u.using.timestamp, Some(int("5")));
    assert_eq!(
        u.assignments,
        vec![
            Assignment::Set {
                column: "a".into(),
                value: int("1")
            },
            Assignment::Add {
                column: "l".into(),
                value: Term::List(vec![int("2")])
            },
            Assignment::Prepend {
                column: "l".into(),
                value: Term::List(vec![int("0")])
            },
            Assignment::Subtract {
                column: "s".into(),
                value: Term::Set(vec![int("3")])
            },
            Assignment::SetElement {
                column: "m".into(),
                key: string("k"),
                value: string("v")
            },
            Assignment::SetElement {
                column: "l".into(),
                key: int("2"),
                value: int("7")
            },
            Assignment::Add {
                column: "n".into(),
                value: int("1")
            },
            Assignment::Subtract {
                column: "o".into(),
                value: int("2")
            },
            Assignment::Subtract {
                column: "c".into(),
                value: int("1")
            },
        ]
    );
    assert_eq!(
        rels(&u.where_clause),
        vec![
            eq("k", int("1")),
            (
                RelationLhs::Column("c".into()),
                Operator::In,
                RelationRhs::List(vec![int("1"), int("2")])
            )
        ]
    );
    let Conditions::If(c) = &u.conditions else { panic!() };
    assert_eq!(c.len(), 2);
    assert_eq!(c[1].op, Operator::Ne);
    assert!(matches!(&c[1].lhs, RelationLhs::Element { column, .. } if column == "m"));
    let Statement::Update(u) = ok("UPDATE t SET v = 1 WHERE k = 1 IF EXISTS") else {
        panic!()
    };
    assert_eq!(u.conditions, Conditions::IfExists);
    assert!(parse("UPDATE t SET v = 1 + w WHERE k = 1").is_err());
}

#[test]
fn delete_forms() {
    let Statement::Delete(d) = ok("DELETE FROM ks.t WHERE k = 1") else {
        panic!()
    };
    assert!(d.columns.is_empty());
    assert_eq!(d.table, qn(Some("ks"), "t"));
    let Statement::Delete(d) = ok("DELETE a, m['k'], l[0] FROM t USING TIMESTAMP 99 WHERE k = 1 AND c > 2 IF EXISTS")
    else {
        panic!()
    };
    assert_eq!(
        d.columns,
        vec![
            Deletion {
                column: "a".into(),
                element: None
            },
            Deletion {
                column: "m".into(),
                element: Some(string("k"))
            },
            Deletion {
                column: "l".into(),
                element: Some(int("0"))
            },
        ]
    );
    assert_eq!(d.timestamp, Some(int("99")));
    assert_eq!(d.conditions, Conditions::IfExists);
}

#[test]
fn batches() {
    let Statement::Batch(b) = ok("BEGIN BATCH USING TIMESTAMP 7
          INSERT INTO t (k, v) VALUES (1, ?);
          UPDATE t SET v = ? WHERE k = ?
          DELETE FROM t WHERE k = :key;
        APPLY BATCH;")
    else {
        panic!()
    };
    assert_eq!(b.kind, BatchKind::Logged);
    assert_eq!(b.timestamp, Some(int("7")));
    assert_eq!(b.statements.len(), 3);
    let markers = Statement::Batch(b).bind_markers();
    assert_eq!(markers.iter().map(|m| m.index).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_eq!(markers[3].name.as_deref(), Some("key"));
    let Statement::Batch(b) = ok("BEGIN UNLOGGED BATCH INSERT INTO t (k) VALUES (1) APPLY BATCH") else {
        panic!()
    };
    assert_eq!(b.kind, BatchKind::Unlogged);
    let Statement::Batch(b) = ok("begin counter batch update t set c = c + 1 where k = 1; apply batch") else {
        panic!()
    };
    assert_eq!(b.kind, BatchKind::Counter);
    assert!(parse("BEGIN BATCH SELECT * FROM t; APPLY BATCH").is_err());
}

#[test]
fn select_everything() {
    let Statement::Select(s) = ok(
        "SELECT DISTINCT a, b AS bee, COUNT(*), count(1), token(a, b), writetime(c), ttl(c), \
         max(v) AS m, system.now(), \"Quoted\" FROM ks.t WHERE token(a, b) > -42 AND a IN ? AND (c1, c2) >= (1, 'x') \
         AND (c1, c2) IN ((1, 'a'), (2, 'b')) AND c <= 3 AND tags CONTAINS 'x' AND attrs CONTAINS KEY 'k' \
         GROUP BY a, b ORDER BY c DESC, d PER PARTITION LIMIT 2 LIMIT 10 ALLOW FILTERING;",
    ) else {
        panic!()
    };
    assert!(s.distinct);
    let exprs: Vec<_> = s.selectors.iter().map(|s| s.expr.clone()).collect();
    assert_eq!(
        exprs,
        vec![
            SelectorExpr::Column("a".into()),
            SelectorExpr::Column("b".into()),
            SelectorExpr::CountAll,
            SelectorExpr::CountAll,
            SelectorExpr::Token(vec!["a".into(), "b".into()]),
            SelectorExpr::WriteTime("c".into()),
            SelectorExpr::Ttl("c".into()),
            SelectorExpr::Function {
                name: "max".into(),
                args: vec![SelectorExpr::Column("v".into())]
            },
            SelectorExpr::Function {
                name: "system.now".into(),
                args: vec![]
            },
            SelectorExpr::Column("Quoted".into()),
        ]
    );
    assert_eq!(s.selectors[1].alias.as_deref(), Some("bee"));
    assert_eq!(s.table, qn(Some("ks"), "t"));
    let r = rels(&s.where_clause);
    assert_eq!(
        r[0],
        (
            RelationLhs::Token(vec!["a".into(), "b".into()]),
            Operator::Gt,
            RelationRhs::Term(int("-42"))
        )
    );
    assert!(
        matches!(&r[1], (RelationLhs::Column(c), Operator::In, RelationRhs::Term(Term::Bind(m))) if c == "a" && m.index == 0)
    );
    assert_eq!(r[2].1, Operator::Ge);
    assert!(
        matches!(&r[3], (RelationLhs::Tuple(c), Operator::In, RelationRhs::List(l)) if c.len() == 2 && l.len() == 2)
    );
    assert_eq!(r[4].1, Operator::Le);
    assert_eq!(r[5].1, Operator::Contains);
    assert_eq!(r[6].1, Operator::ContainsKey);
    assert_eq!(s.group_by, vec!["a", "b"]);
    assert_eq!(
        s.order_by,
        vec![("c".into(), ClusteringOrder::Desc), ("d".into(), ClusteringOrder::Asc)]
    );
    assert_eq!(s.per_partition_limit, Some(int("2")));
    assert_eq!(s.limit, Some(int("10")));
    assert!(s.allow_filtering);
}

#[test]
fn what_the_python_driver_and_cqlsh_send() {
    for text in [
        "SELECT * FROM system.local WHERE key='local'",
        "SELECT peer, data_center, host_id, preferred_ip, rack, release_version, rpc_address, schema_version, tokens FROM system.peers",
        "SELECT peer, rpc_address, schema_version FROM system.peers",
        "SELECT schema_version FROM system.local WHERE key='local'",
        "SELECT * FROM system.peers_v2",
        "SELECT * FROM system_schema.keyspaces",
        "SELECT * FROM system_schema.tables",
        "SELECT * FROM system_schema.columns",
        "SELECT * FROM system_schema.types",
        "SELECT * FROM system_schema.functions",
        "SELECT * FROM system_schema.aggregates",
        "SELECT * FROM system_schema.triggers",
        "SELECT * FROM system_schema.indexes",
        "SELECT * FROM system_schema.views",
        "SELECT * FROM system_schema.virtual_keyspaces",
        "SELECT * FROM system_schema.keyspaces WHERE keyspace_name = 'ks'",
        "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'",
        "SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't'",
        "SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'",
        "SELECT cluster_name, data_center, rack, partitioner, release_version, tokens, host_id FROM system.local WHERE key='local'",
        "SELECT keyspace_name, table_name, column_name, clustering_order, column_name_bytes, kind, position, type FROM system_schema.columns",
        "USE \"ks\"",
        "DESCRIBE KEYSPACES",
        "DESCRIBE TABLES",
        "DESCRIBE TABLE ks.t",
        "DESCRIBE KEYSPACE ks",
        "DESCRIBE SCHEMA",
        "DESCRIBE CLUSTER",
    ] {
        ok(text);
    }
    let Statement::Select(s) = ok("SELECT * FROM system.local WHERE key='local'") else {
        panic!()
    };
    assert!(s.selectors.is_empty());
    assert_eq!(rels(&s.where_clause), vec![eq("key", string("local"))]);
}

#[test]
fn bind_markers_in_text_order() {
    let st = ok("UPDATE t USING TTL ? SET a = ?, m[?] = :val WHERE k = ? AND c IN (?, ?) IF x = ?");
    let markers = st.bind_markers();
    assert_eq!(markers.len(), 8);
    assert!(markers.iter().enumerate().all(|(i, m)| m.index == i));
    assert_eq!(markers[3].name.as_deref(), Some("val"));
    let st = ok("SELECT * FROM t WHERE k = :k AND c > ? LIMIT ?");
    assert_eq!(st.bind_markers().len(), 3);
    let st = ok("INSERT INTO t (a, b) VALUES (?, ?) USING TTL ?");
    assert_eq!(st.bind_markers().len(), 3);
    let st = ok("DELETE m[?] FROM t USING TIMESTAMP ? WHERE k = ?");
    assert_eq!(st.bind_markers().len(), 3);
}

#[test]
fn comments_and_case() {
    let Statement::Select(a) = ok("-- a comment\nSELECT /* inline */ A FROM T // trailing\n WHERE K = 1") else {
        panic!()
    };
    assert_eq!(a.selectors[0].expr, SelectorExpr::Column("a".into()));
    assert_eq!(a.table, qn(None, "t"));
    assert_eq!(rels(&a.where_clause), vec![eq("k", int("1"))]);
    assert_eq!(a.where_clause[0].span, Span { start: 61, end: 66 });
}

#[test]
fn scripts_and_splitting() {
    let text = "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n\
                USE k; INSERT INTO t (a) VALUES ('x;y');\nSELECT * FROM t";
    let many = super::super::parse_many(text).unwrap();
    assert_eq!(many.len(), 4);
    assert_eq!(&text[many[1].1.start..many[1].1.end], "USE k");
    assert_eq!(&text[many[3].1.start..many[3].1.end], "SELECT * FROM t");
    assert!(super::super::parse_many("USE k USE j").is_err());

    let split = super::super::split_statements("SELECT 1; -- c;\nINSERT INTO t (a) VALUES ('a;b'); SELECT \"x;");
    assert_eq!(
        split.complete,
        vec!["SELECT 1;", " -- c;\nINSERT INTO t (a) VALUES ('a;b');"]
    );
    assert_eq!(split.rest, " SELECT \"x;");
    let split = super::super::split_statements("BEGIN BATCH INSERT INTO t (a) VALUES (1); ");
    assert!(split.complete.is_empty());
    let split = super::super::split_statements("BEGIN BATCH INSERT INTO t (a) VALUES (1); APPLY BATCH; /* x; */");
    assert_eq!(split.complete.len(), 1);
    assert_eq!(split.rest, " /* x; */");
    assert!(split.rest_is_blank());
    let split = super::super::split_statements("SELECT $$a;b$$ FROM t; SELECT 'unterminated;");
    assert_eq!(split.complete.len(), 1);
    assert!(!split.rest_is_blank());
    assert!(super::super::split_statements("USE k; -- done\n").rest_is_blank());
}

//! Rows and cells end to end, in process (RF=3 on three datanodes): clustering order in both
//! directions for every clustering type; TTL expiry (per statement, per cell, the table default);
//! per-cell last-write-wins with concurrent writers and Cassandra's tie rules; bad input refused with
//! its error, leaving nothing written (a batch with one bad statement writes none of the others).

use crate::cql_support::*;
use basalt_client::Client;
use basalt_client::cql::CqlOptions;
use basalt_common::ErrorKind;
use basalt_table::{Consistency, Value};

/// Values of each clustering type in ascending CQL order.
fn clustering_cases() -> Vec<(&'static str, Vec<Value>)> {
    use Value::*;
    vec![
        ("int", vec![Int(i32::MIN), Int(-5), Int(0), Int(7), Int(i32::MAX)]),
        (
            "bigint",
            vec![
                BigInt(i64::MIN),
                BigInt(-1),
                BigInt(0),
                BigInt(1 << 40),
                BigInt(i64::MAX),
            ],
        ),
        ("tinyint", vec![TinyInt(-128), TinyInt(-1), TinyInt(0), TinyInt(127)]),
        (
            "double",
            vec![
                Double(f64::NEG_INFINITY),
                Double(-1.5),
                Double(-0.0),
                Double(0.0),
                Double(2.5),
                Double(f64::INFINITY),
                Double(f64::NAN),
            ],
        ),
        (
            "decimal",
            vec![dec(-100, 0), dec(-15, 1), dec(0, 0), dec(1, 3), dec(15, 1), dec(1, -10)],
        ),
        (
            "text",
            vec![
                text(""),
                text("A"),
                text("B"),
                text("a"),
                text("ab"),
                text("é"),
                text("日"),
            ],
        ),
        (
            "blob",
            vec![
                Blob(vec![]),
                Blob(vec![0]),
                Blob(vec![0, 0]),
                Blob(vec![0, 1]),
                Blob(vec![1]),
                Blob(vec![0xff]),
            ],
        ),
        (
            "timestamp",
            vec![
                Timestamp(-86_400_000),
                Timestamp(0),
                Timestamp(1),
                Timestamp(1_704_164_645_123),
            ],
        ),
        (
            "date",
            vec![Date(i32::MIN), Date(-1), Date(0), Date(19_724), Date(i32::MAX)],
        ),
        (
            "time",
            vec![Time(0), Time(1), Time(3_600_000_000_000), Time(86_399_999_999_999)],
        ),
        (
            "timeuuid",
            // By time first, whatever the other bytes.
            vec![
                TimeUuid(v1(1, 0x3fff, 0xffff_ffff_ffff)),
                TimeUuid(v1(2, 0, 0)),
                TimeUuid(v1(1 << 40, 5, 5)),
                TimeUuid(v1(0x0fff_ffff_ffff_ffff, 0, 0)),
            ],
        ),
        (
            "uuid",
            vec![
                Value::Uuid(uuid("00000000-0000-4000-8000-000000000000")),
                Value::Uuid(uuid("10000000-0000-4000-8000-000000000000")),
                Value::Uuid(uuid("f0000000-0000-4000-8000-000000000000")),
            ],
        ),
        (
            "inet",
            vec![
                ip("::1"),
                ip("1.2.3.4"),
                ip("10.0.0.1"),
                ip("192.168.0.1"),
                ip("fe80::1"),
            ],
        ),
        ("boolean", vec![Boolean(false), Boolean(true)]),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clustering_order_holds_in_both_directions_for_every_clustering_type() {
    let (c, client) = cluster().await;
    for (ty, asc) in clustering_cases() {
        for w in asc.windows(2) {
            assert!(w[0] < w[1], "{ty}: the case is ascending: {:?} < {:?}", w[0], w[1]);
        }
        for dir in ["ASC", "DESC"] {
            let table = format!("ks.c_{ty}_{}", dir.to_ascii_lowercase());
            ok(
                &client,
                &format!(
                    "CREATE TABLE {table} (k int, c {ty}, v int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c {dir})"
                ),
                &[],
            )
            .await;
            // Written in a scrambled order: odd positions backwards, then even ones.
            let n = asc.len();
            let order: Vec<usize> = (0..n)
                .rev()
                .filter(|i| i % 2 == 1)
                .chain((0..n).filter(|i| i % 2 == 0))
                .collect();
            for i in order {
                ok(
                    &client,
                    &format!("INSERT INTO {table} (k, c, v) VALUES (0, ?, ?)"),
                    &[Some(asc[i].clone()), Some(Value::Int(i as i32))],
                )
                .await;
            }
            let natural: Vec<Value> = if dir == "ASC" {
                asc.clone()
            } else {
                asc.iter().rev().cloned().collect()
            };
            let cs = |got: Vec<Row>| -> Vec<Value> { got.into_iter().map(|r| r[0].clone().unwrap()).collect() };
            // Strict, but a decimal key reads back in its smallest non-negative scale (1E+10 as
            // 10000000000: keys.rs), so decimals compare as numbers.
            let check = |got: &[Value], want: &[Value], what: &str| {
                let (g, w): (Vec<Option<Value>>, Vec<Option<Value>>) = (
                    got.iter().cloned().map(Some).collect(),
                    want.iter().cloned().map(Some).collect(),
                );
                let equal = if ty == "decimal" { g == w } else { same(&g, &w) };
                assert!(equal, "{table} {what}: got {got:?}, want {want:?}");
            };
            let got = cs(rows(
                &client,
                &format!("SELECT c FROM {table} WHERE k = 0"),
                &[],
                Consistency::Quorum,
            )
            .await);
            check(&got, &natural, "table order");
            let reversed: Vec<Value> = natural.iter().rev().cloned().collect();
            let flip = if dir == "ASC" { "DESC" } else { "ASC" };
            let got = cs(rows(
                &client,
                &format!("SELECT c FROM {table} WHERE k = 0 ORDER BY c {flip}"),
                &[],
                Consistency::All,
            )
            .await);
            check(&got, &reversed, "reversed");
            let got = cs(rows(
                &client,
                &format!("SELECT c FROM {table} WHERE k = 0 LIMIT 2"),
                &[],
                Consistency::Quorum,
            )
            .await);
            check(&got, &natural[..2], "LIMIT 2");
            if n >= 4 {
                // c > asc[0] AND c <= asc[n-2]: every value but the two ends, in table order.
                let got = cs(rows(
                    &client,
                    &format!("SELECT c FROM {table} WHERE k = 0 AND c > ? AND c <= ?"),
                    &[Some(asc[0].clone()), Some(asc[n - 2].clone())],
                    Consistency::Quorum,
                )
                .await);
                let inner: Vec<Value> = natural
                    .iter()
                    .filter(|v| **v != asc[0] && **v != asc[n - 1])
                    .cloned()
                    .collect();
                check(&got, &inner, "range");
            }
            // Each value's own row is found by equality.
            for (i, v) in asc.iter().enumerate() {
                let got = rows(
                    &client,
                    &format!("SELECT v FROM {table} WHERE k = 0 AND c = ?"),
                    &[Some(v.clone())],
                    Consistency::Quorum,
                )
                .await;
                assert_eq!(got, vec![vec![Some(Value::Int(i as i32))]], "{table} c = {v:?}");
            }
        }
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_expires_rows_cells_and_the_table_default() {
    let (c, client) = cluster().await;
    ok(
        &client,
        "CREATE TABLE ks.ttl (k int, c int, v text, w text, PRIMARY KEY (k, c))",
        &[],
    )
    .await;
    ok(
        &client,
        "CREATE TABLE ks.dttl (k int PRIMARY KEY, v text) WITH default_time_to_live = 1",
        &[],
    )
    .await;
    ok(
        &client,
        "INSERT INTO ks.ttl (k, c, v, w) VALUES (1, 1, 'a', 'b') USING TTL 1",
        &[],
    )
    .await;
    ok(&client, "INSERT INTO ks.ttl (k, c, v, w) VALUES (2, 1, 'a', 'b')", &[]).await;
    ok(
        &client,
        "UPDATE ks.ttl USING TTL 1 SET w = 'short' WHERE k = 2 AND c = 1",
        &[],
    )
    .await;
    ok(
        &client,
        "INSERT INTO ks.ttl (k, c, v, w) VALUES (3, 1, 'a', 'b') USING TTL 1000",
        &[],
    )
    .await;
    ok(&client, "INSERT INTO ks.dttl (k, v) VALUES (1, 'default ttl')", &[]).await;
    ok(
        &client,
        "INSERT INTO ks.dttl (k, v) VALUES (2, 'no ttl') USING TTL 0",
        &[],
    )
    .await;
    let ttl = rows(
        &client,
        "SELECT TTL(v) FROM ks.ttl WHERE k = 3",
        &[],
        Consistency::Quorum,
    )
    .await;
    match &ttl[..] {
        [r] if matches!(r[0], Some(Value::Int(s)) if (990..=1000).contains(&s)) => {}
        other => panic!("TTL(v) of a 1000 s cell: {other:?}"),
    }
    let no_ttl = rows(
        &client,
        "SELECT TTL(v) FROM ks.dttl WHERE k = 2",
        &[],
        Consistency::Quorum,
    )
    .await;
    assert_eq!(no_ttl, vec![vec![None]], "USING TTL 0 overrides the default: no TTL");
    c.wait_until("the TTL'd row, cell and default-TTL row expire", DEADLINE, async || {
        let r1 = rows(&client, "SELECT v FROM ks.ttl WHERE k = 1", &[], Consistency::Quorum).await;
        let r2 = rows(&client, "SELECT v, w FROM ks.ttl WHERE k = 2", &[], Consistency::Quorum).await;
        let d1 = rows(&client, "SELECT v FROM ks.dttl WHERE k = 1", &[], Consistency::Quorum).await;
        r1.is_empty() && r2 == vec![vec![Some(text("a")), None]] && d1.is_empty()
    })
    .await;
    // What had no (or a long) TTL is still there, at every replica.
    let r3 = rows(&client, "SELECT v, w FROM ks.ttl WHERE k = 3", &[], Consistency::All).await;
    assert_eq!(r3, vec![vec![Some(text("a")), Some(text("b"))]]);
    let d2 = rows(&client, "SELECT v FROM ks.dttl WHERE k = 2", &[], Consistency::All).await;
    assert_eq!(d2, vec![vec![Some(text("no ttl"))]]);
    let count = rows(&client, "SELECT COUNT(*) FROM ks.ttl", &[], Consistency::All).await;
    assert_eq!(count, vec![vec![Some(Value::BigInt(2))]]);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_write_wins_per_cell_with_concurrent_writers() {
    let (c, client) = cluster().await;
    let other = c.client();
    ok(&client, "CREATE TABLE ks.lww (k int PRIMARY KEY, a text, b text)", &[]).await;

    // Two writers, different cells of one row: both cells survive, whatever the timestamps.
    let q = at(Consistency::Quorum);
    let (x, y) = tokio::join!(
        client.cql(
            "INSERT INTO ks.lww (k, a) VALUES (1, 'from one') USING TIMESTAMP 2000",
            &[],
            &q
        ),
        other.cql(
            "UPDATE ks.lww USING TIMESTAMP 1000 SET b = 'from two' WHERE k = 1",
            &[],
            &q
        ),
    );
    x.unwrap();
    y.unwrap();
    let got = rows(&client, "SELECT a, b FROM ks.lww WHERE k = 1", &[], Consistency::All).await;
    assert_eq!(got, vec![vec![Some(text("from one")), Some(text("from two"))]]);

    // Many writers of one cell, timestamps in scrambled order, sent concurrently from two clients: the
    // highest timestamp wins, whenever it arrived.
    let stamps: Vec<i64> = (1..=40).map(|i| (i * 7919) % 41 * 10).collect();
    let write = |cl: &Client, ts: i64| {
        let cl = cl.clone();
        async move {
            cl.cql(
                &format!("UPDATE ks.lww USING TIMESTAMP {ts} SET a = 'v{ts}' WHERE k = 2"),
                &[],
                &at(Consistency::Quorum),
            )
            .await
            .unwrap()
        }
    };
    let mut calls = Vec::new();
    for (i, ts) in stamps.iter().enumerate() {
        let cl = if i % 2 == 0 { &client } else { &other };
        calls.push(tokio::spawn(write(cl, *ts)));
    }
    for call in calls {
        call.await.unwrap();
    }
    let max = *stamps.iter().max().unwrap();
    let got = rows(
        &client,
        "SELECT a, WRITETIME(a) FROM ks.lww WHERE k = 2",
        &[],
        Consistency::All,
    )
    .await;
    assert_eq!(
        got,
        vec![vec![Some(text(&format!("v{max}"))), Some(Value::BigInt(max))]]
    );
    // A lower timestamp arriving last loses too, also with the timestamp given as an option.
    let opts = CqlOptions {
        consistency: Consistency::Quorum,
        timestamp: Some(5),
        ..Default::default()
    };
    other
        .cql("UPDATE ks.lww SET a = 'late' WHERE k = 2", &[], &opts)
        .await
        .unwrap();
    let got = rows(&client, "SELECT a FROM ks.lww WHERE k = 2", &[], Consistency::All).await;
    assert_eq!(got, vec![vec![Some(text(&format!("v{max}")))]]);

    // Ties, as Cassandra breaks them: the greater value wins in either arrival order; a deletion wins
    // over a value.
    for (k, first, second) in [(3, "x", "y"), (4, "y", "x")] {
        for (cl, v) in [(&client, first), (&other, second)] {
            cl.cql(
                &format!("UPDATE ks.lww USING TIMESTAMP 5000 SET a = '{v}' WHERE k = {k}"),
                &[],
                &at(Consistency::Quorum),
            )
            .await
            .unwrap();
        }
        let got = rows(
            &client,
            &format!("SELECT a FROM ks.lww WHERE k = {k}"),
            &[],
            Consistency::All,
        )
        .await;
        assert_eq!(got, vec![vec![Some(text("y"))]], "tie on row {k}");
    }
    ok(&client, "DELETE a FROM ks.lww USING TIMESTAMP 6000 WHERE k = 3", &[]).await;
    ok(
        &client,
        "UPDATE ks.lww USING TIMESTAMP 6000 SET a = 'z' WHERE k = 3",
        &[],
    )
    .await;
    let got = rows(&client, "SELECT a FROM ks.lww WHERE k = 3", &[], Consistency::All).await;
    assert!(
        got.is_empty() || got == vec![vec![None]],
        "a deletion wins a tie: {got:?}"
    );
    c.shutdown().await;
}

/// Every way a statement can be refused: its typed error, and nothing of it written (a batch with one
/// bad statement writes none of the others).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_its_error_and_writes_nothing() {
    let (c, client) = cluster().await;
    ok(
        &client,
        "CREATE TABLE ks.b (k int, c int, v int, s text, PRIMARY KEY (k, c))",
        &[],
    )
    .await;
    ok(&client, "CREATE TABLE ks.kv (k text PRIMARY KEY, v blob)", &[]).await;
    let huge_key = "k".repeat(70_000);
    let cases: Vec<(String, Vec<Option<Value>>, ErrorKind, &str)> = vec![
        (
            "BEGIN BATCH INSERT INTO ks.b (k, c, v) VALUES (1, 1, 1); INSERT INTO ks.b (k, c, v) VALUES (2, 1, 1); \
             INSERT INTO ks.b (k, c, nope) VALUES (3, 1, 1); APPLY BATCH"
                .into(),
            vec![],
            ErrorKind::Invalid,
            "nope",
        ),
        (
            "BEGIN UNLOGGED BATCH INSERT INTO ks.b (k, c, v) VALUES (1, 1, 1); \
             UPDATE ks.b SET v = 'x' WHERE k = 2 AND c = 1; APPLY BATCH"
                .into(),
            vec![],
            ErrorKind::Invalid,
            "'x'",
        ),
        (
            "BEGIN BATCH INSERT INTO ks.b (k, c, v) VALUES (1, 1, 1); INSERT INTO ks.b (k, v) VALUES (2, 1); APPLY BATCH"
                .into(),
            vec![],
            ErrorKind::Invalid,
            "clustering",
        ),
        (
            "BEGIN BATCH INSERT INTO ks.b (k, c, v) VALUES (?, 1, ?); INSERT INTO ks.b (k, c, v) VALUES (?, 1, ?); APPLY BATCH"
                .into(),
            vec![
                Some(Value::Int(1)),
                Some(Value::Int(1)),
                Some(Value::Int(2)),
                Some(text("not an int")),
            ],
            ErrorKind::Invalid,
            "",
        ),
        (
            "BEGIN BATCH INSERT INTO ks.b (k, c, v) VALUES (1, 1, 1); INSERT INTO ks.nosuch (k) VALUES (1); APPLY BATCH"
                .into(),
            vec![],
            ErrorKind::NotFound,
            "nosuch",
        ),
        (
            "BEGIN BATCH INSERT INTO ks.b (k, c, v) VALUES (1, 1, 1); INSERT INTO ks.kv (k, v) VALUES (?, 0x00); APPLY BATCH"
                .into(),
            vec![Some(text(&huge_key))],
            ErrorKind::Invalid,
            "",
        ),
        (
            "BEGIN BATCH INSERT INTO ks.b (k, c, v) VALUES (1, 1, 1); INSERT INTO ks.b (k, c, v) VALUES (2, 1 APPLY BATCH".into(),
            vec![],
            ErrorKind::Invalid,
            "line 1:",
        ),
        ("INSERT INTO ks.b (k, c, nope) VALUES (5, 5, 5)".into(), vec![], ErrorKind::Invalid, "nope"),
        ("UPDATE ks.b SET nope = 1 WHERE k = 5 AND c = 5".into(), vec![], ErrorKind::Invalid, "nope"),
        ("INSERT INTO ks.b (k, v) VALUES (6, 1)".into(), vec![], ErrorKind::Invalid, "c"),
        ("INSERT INTO ks.b (c, v) VALUES (6, 1)".into(), vec![], ErrorKind::Invalid, "k"),
        ("INSERT INTO ks.b (k, c, v) VALUES (7, 7, 'seven')".into(), vec![], ErrorKind::Invalid, "seven"),
        (
            "INSERT INTO ks.b (k, c, v, s) VALUES (8, 8, ?, 'x')".into(),
            vec![Some(text("five!"))],
            ErrorKind::Invalid,
            "",
        ),
        (
            "INSERT INTO ks.b (k, c, v) VALUES (9, 9, ?)".into(),
            vec![],
            ErrorKind::Invalid,
            "",
        ),
        (
            "INSERT INTO ks.kv (k, v) VALUES (?, 0x00)".into(),
            vec![Some(text(&huge_key))],
            ErrorKind::Invalid,
            "",
        ),
    ];
    for (stmt, values, kind, needle) in &cases {
        let err = client
            .cql(stmt, values, &at(Consistency::Quorum))
            .await
            .expect_err(stmt);
        assert_eq!(err.kind(), *kind, "{stmt}: {err}");
        assert!(err.to_string().contains(needle), "{stmt}: {err} (wanted {needle:?})");
        assert!(!err.to_string().contains('\n'), "one line: {err}");
    }
    // A value over the largest mutation is refused by the coordinator before any replica sees it; one
    // over the largest request by the client, before sending it (both Invalid, one line).
    for (len, needle) in [((16 << 20) - (32 << 10), "too large"), (17 << 20, "largest request")] {
        let err = client
            .cql(
                "INSERT INTO ks.kv (k, v) VALUES ('big', ?)",
                &[Some(Value::Blob(vec![7; len]))],
                &at(Consistency::Quorum),
            )
            .await
            .expect_err("a value too large");
        assert_eq!(err.kind(), ErrorKind::Invalid, "{len} bytes: {err}");
        assert!(err.to_string().contains(needle), "{len} bytes: {err}");
    }
    for table in ["ks.b", "ks.kv"] {
        let count = rows(&client, &format!("SELECT COUNT(*) FROM {table}"), &[], Consistency::All).await;
        assert_eq!(count, vec![vec![Some(Value::BigInt(0))]], "{table}: nothing written");
    }
    c.shutdown().await;
}

//! CQL values end to end, in process (RF=3 on three datanodes, QUORUM and ALL): every type round-trips
//! through `Client::cql` with bind values, prepared statements and literals (null, empty, min/max, NaN
//! and infinities, unicode, a 1 MiB blob, decimals, times, uuids, inets, collections); clustering order
//! in both directions for several clustering types; TTL expiry (per statement, per cell, the table
//! default); per-cell last-write-wins with concurrent writers; bad input refused with its error, leaving
//! nothing written.

use basalt_client::Client;
use basalt_client::cql::{CqlOptions, CqlResult};
use basalt_common::ErrorKind;
use basalt_table::display::cql_literal;
use basalt_table::{Consistency, Decimal, Uuid, Value};
use basalt_testkit::{Cluster, Options, bytes};
use std::net::IpAddr;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

type Row = Vec<Option<Value>>;

fn at(consistency: Consistency) -> CqlOptions {
    CqlOptions {
        consistency,
        ..Default::default()
    }
}

async fn ok(client: &Client, stmt: &str, values: &[Option<Value>]) -> CqlResult {
    client
        .cql(stmt, values, &at(Consistency::Quorum))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", short(stmt)))
}

async fn rows(client: &Client, stmt: &str, values: &[Option<Value>], consistency: Consistency) -> Vec<Row> {
    client
        .cql_all(stmt, values, &at(consistency))
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", short(stmt)))
}

/// A statement for messages (a 1 MiB literal is not).
fn short(stmt: &str) -> String {
    if stmt.len() > 300 {
        format!("{}... ({} bytes)", &stmt[..300], stmt.len())
    } else {
        stmt.to_string()
    }
}

/// Strict equality: `Debug` tells a decimal's scale, -0.0 from 0.0 and NaN from NaN (where `Value`'s
/// `Eq` is the CQL comparison).
fn same(a: &[Option<Value>], b: &[Option<Value>]) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

async fn cluster() -> (Cluster, Client) {
    let c = Cluster::start(Options::default()).await;
    c.wait_ready().await;
    let client = c.client();
    ok(
        &client,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        &[],
    )
    .await;
    (c, client)
}

/// The columns of `ks.types` (after the key `k int`), with their CQL types.
const COLS: &[(&str, &str)] = &[
    ("ti", "tinyint"),
    ("si", "smallint"),
    ("i", "int"),
    ("bi", "bigint"),
    ("f", "float"),
    ("d", "double"),
    ("de", "decimal"),
    ("bo", "boolean"),
    ("t", "text"),
    ("vc", "varchar"),
    ("a", "ascii"),
    ("bl", "blob"),
    ("ts", "timestamp"),
    ("dt", "date"),
    ("tm", "time"),
    ("u", "uuid"),
    ("tu", "timeuuid"),
    ("ip", "inet"),
    ("li", "list<int>"),
    ("lt", "list<text>"),
    ("se", "set<text>"),
    ("st", "set<timeuuid>"),
    ("ma", "map<text, double>"),
    ("mb", "map<int, blob>"),
];

async fn types_table(client: &Client) {
    let cols: String = COLS.iter().map(|(n, t)| format!(", {n} {t}")).collect();
    ok(client, &format!("CREATE TABLE ks.types (k int PRIMARY KEY{cols})"), &[]).await;
}

fn col(name: &str) -> usize {
    COLS.iter()
        .position(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// A row of `ks.types` with the given columns set, the others null.
fn row(set: Vec<(&str, Value)>) -> Row {
    let mut r = vec![None; COLS.len()];
    for (name, v) in set {
        r[col(name)] = Some(v);
    }
    r
}

/// A version 1 UUID of the 60-bit time `t`.
fn v1(t: u64, clock: u16, node: u64) -> Uuid {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&((t & 0xffff_ffff) as u32).to_be_bytes());
    b[4..6].copy_from_slice(&(((t >> 32) & 0xffff) as u16).to_be_bytes());
    b[6..8].copy_from_slice(&((((t >> 48) & 0x0fff) as u16) | 0x1000).to_be_bytes());
    b[8..10].copy_from_slice(&((clock & 0x3fff) | 0x8000).to_be_bytes());
    b[10..16].copy_from_slice(&node.to_be_bytes()[2..]);
    Uuid(b)
}

fn uuid(s: &str) -> Uuid {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let mut b = [0u8; 16];
    for (i, byte) in b.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    Uuid(b)
}

fn ip(s: &str) -> Value {
    Value::Inet(s.parse::<IpAddr>().unwrap())
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn dec(unscaled: i128, scale: i32) -> Value {
    Value::Decimal(Decimal { unscaled, scale })
}

const MAX38: i128 = 99_999_999_999_999_999_999_999_999_999_999_999_999;

/// Rows covering every type's edges.
fn edge_rows() -> Vec<Row> {
    use Value::*;
    let mins = row(vec![
        ("ti", TinyInt(i8::MIN)),
        ("si", SmallInt(i16::MIN)),
        ("i", Int(i32::MIN)),
        ("bi", BigInt(i64::MIN)),
        ("f", Float(f32::MIN)),
        ("d", Double(f64::MIN)),
        ("de", dec(-MAX38, 0)),
        ("bo", Boolean(false)),
        ("t", text("")),
        ("vc", text("")),
        ("a", Ascii(String::new())),
        ("bl", Blob(Vec::new())),
        ("ts", Timestamp(i64::MIN)),
        ("dt", Date(i32::MIN)),
        ("tm", Time(0)),
        ("u", Uuid(basalt_table::Uuid([0; 16]))),
        ("tu", TimeUuid(v1(0, 0, 0))),
        ("ip", ip("0.0.0.0")),
        // Empty collections are no cells: they read back as null, as in Cassandra.
        ("li", List(Vec::new())),
        ("lt", List(Vec::new())),
        ("se", Set(Vec::new())),
        ("st", Set(Vec::new())),
        ("ma", Map(Vec::new())),
        ("mb", Map(Vec::new())),
    ]);
    let maxes = row(vec![
        ("ti", TinyInt(i8::MAX)),
        ("si", SmallInt(i16::MAX)),
        ("i", Int(i32::MAX)),
        ("bi", BigInt(i64::MAX)),
        ("f", Float(f32::MAX)),
        ("d", Double(f64::MAX)),
        ("de", dec(MAX38, 10)),
        ("bo", Boolean(true)),
        ("t", text("héllo wörld ✓ 日本語 🎉 'quoted' \\ \n\t end")),
        ("vc", text("ünïcödé")),
        ("a", Ascii(" !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~".into())),
        ("bl", Blob(vec![0, 0xff, 0, 1, 0x7f, 0x80])),
        ("ts", Timestamp(i64::MAX)),
        ("dt", Date(i32::MAX)),
        ("tm", Time(86_399_999_999_999)),
        ("u", Uuid(basalt_table::Uuid([0xff; 16]))),
        ("tu", TimeUuid(v1(0x0fff_ffff_ffff_ffff, 0x3fff, 0xffff_ffff_ffff))),
        ("ip", ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
        ("li", List(vec![Int(3), Int(i32::MIN), Int(3), Int(i32::MAX)])),
        ("lt", List(vec![text(""), text("é"), text("")])),
        ("se", Value::set(vec![text("b"), text(""), text("a"), text("日本")])),
        ("st", Value::set(vec![TimeUuid(v1(5, 1, 1)), TimeUuid(v1(1, 1, 1))])),
        (
            "ma",
            Value::map(vec![
                (text("nan"), Double(f64::NAN)),
                (text("inf"), Double(f64::INFINITY)),
                (text(""), Double(-0.0)),
            ]),
        ),
        (
            "mb",
            Value::map(vec![
                (Int(i32::MAX), Blob(vec![1, 2])),
                (Int(i32::MIN), Blob(Vec::new())),
            ]),
        ),
    ]);
    let specials = row(vec![
        ("ti", TinyInt(0)),
        ("si", SmallInt(-1)),
        ("i", Int(0)),
        ("bi", BigInt(-1)),
        ("f", Float(f32::NAN)),
        ("d", Double(f64::INFINITY)),
        ("de", dec(0, 0)),
        ("t", text("\u{0}nul inside")),
        ("ts", Timestamp(0)),
        ("dt", Date(0)),
        ("tm", Time(1)),
        ("u", Uuid(uuid("123e4567-e89b-42d3-a456-556642440000"))),
        ("tu", TimeUuid(uuid("50554d6e-29bb-11e5-b345-feff819cdc9f"))),
        ("ip", ip("::1")),
    ]);
    let specials2 = row(vec![
        ("f", Float(f32::NEG_INFINITY)),
        ("d", Double(f64::NAN)),
        ("de", dec(-150, 2)),
        ("ts", Timestamp(-1)),
        ("dt", Date(-1)),
        ("ip", ip("2001:db8::ff00:42:8329")),
        ("li", List(vec![Int(7)])),
    ]);
    let tiny = row(vec![
        ("f", Float(f32::MIN_POSITIVE)),
        ("d", Double(5e-324)),
        ("de", dec(1, 100)),
        ("ip", ip("192.168.1.254")),
    ]);
    let negatives = row(vec![
        ("f", Float(-0.0)),
        ("d", Double(-0.0)),
        ("de", dec(-5, -20)),
        ("ts", Timestamp(1_704_164_645_123)),
        ("dt", Date(19_724)),
        ("tm", Time(11_045_123_456_789)),
    ]);
    let big = row(vec![
        ("bl", Blob(bytes(1 << 20, 7))),
        ("t", text(&"日本語テキスト".repeat(10_000))),
    ]);
    vec![
        vec![None; COLS.len()],
        mins,
        maxes,
        specials,
        specials2,
        tiny,
        negatives,
        big,
    ]
}

/// What a row reads back as: empty collections are null.
fn read_back(r: &Row) -> Row {
    r.iter()
        .map(|v| match v {
            Some(Value::List(x) | Value::Set(x)) if x.is_empty() => None,
            Some(Value::Map(x)) if x.is_empty() => None,
            v => v.clone(),
        })
        .collect()
}

fn select_all() -> String {
    let names: Vec<&str> = COLS.iter().map(|(n, _)| *n).collect();
    format!("SELECT {} FROM ks.types WHERE k = ?", names.join(", "))
}

async fn check_row(client: &Client, k: i32, want: &Row, how: &str) {
    for consistency in [Consistency::Quorum, Consistency::All] {
        let got = rows(client, &select_all(), &[Some(Value::Int(k))], consistency).await;
        assert_eq!(got.len(), 1, "{how}: row {k}: {got:?}");
        for (i, (g, w)) in got[0].iter().zip(read_back(want)).enumerate() {
            assert!(
                same(std::slice::from_ref(g), std::slice::from_ref(&w)),
                "{how}: row {k}, column {} ({}): got {}, want {}",
                COLS[i].0,
                COLS[i].1,
                short(&format!("{g:?}")),
                short(&format!("{w:?}")),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips_with_bind_values_prepared_statements_and_literals() {
    let (c, client) = cluster().await;
    types_table(&client).await;
    let names: Vec<&str> = COLS.iter().map(|(n, _)| *n).collect();
    let markers = vec!["?"; COLS.len()].join(", ");
    let insert = format!("INSERT INTO ks.types (k, {}) VALUES (?, {markers})", names.join(", "));
    let prepared = client.prepare(&insert, None).await.expect("prepare");
    let bind_types: Vec<String> = prepared.bind_columns.iter().map(|c| c.ty.to_string()).collect();
    let want_types: Vec<String> = std::iter::once("int")
        .chain(COLS.iter().map(|(_, t)| if *t == "varchar" { "text" } else { t }))
        .map(|t| t.replace(' ', ""))
        .collect();
    assert_eq!(
        bind_types.iter().map(|t| t.replace(' ', "")).collect::<Vec<_>>(),
        want_types
    );
    let rows_in = edge_rows();
    for (n, r) in rows_in.iter().enumerate() {
        let n = n as i32;
        let mut values = vec![Some(Value::Int(n))];
        values.extend(r.iter().cloned());
        ok(&client, &insert, &values).await;
        check_row(&client, n, r, "bind values").await;

        values[0] = Some(Value::Int(100 + n));
        client
            .execute(&prepared, &values, &at(Consistency::Quorum))
            .await
            .unwrap_or_else(|e| panic!("execute row {n}: {e}"));
        check_row(&client, 100 + n, r, "prepared").await;

        let (cols, lits): (Vec<&str>, Vec<String>) = COLS
            .iter()
            .zip(r)
            .map(|((name, _), v)| (*name, v.as_ref().map_or("null".to_string(), cql_literal)))
            .unzip();
        let stmt = format!(
            "INSERT INTO ks.types (k, {}) VALUES ({}, {})",
            cols.join(", "),
            200 + n,
            lits.join(", ")
        );
        ok(&client, &stmt, &[]).await;
        check_row(&client, 200 + n, r, "literals").await;
    }
    // Null over a value deletes it: the row stays (its marker), every column null.
    let mut values = vec![Some(Value::Int(2))];
    values.extend(vec![None; COLS.len()]);
    ok(&client, &insert, &values).await;
    check_row(&client, 2, &vec![None; COLS.len()], "nulls over values").await;
    let count = rows(&client, "SELECT COUNT(*) FROM ks.types", &[], Consistency::All).await;
    assert_eq!(count, vec![vec![Some(Value::BigInt(3 * rows_in.len() as i64))]]);
    c.shutdown().await;
}

/// Literal spellings as users write them, and literals that must be refused (nothing written).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literals_coerce_as_cassandra_does_and_bad_ones_are_refused() {
    use Value::*;
    let (c, client) = cluster().await;
    types_table(&client).await;
    let good: Vec<(&str, &str, Option<Value>)> = vec![
        (
            "ts",
            "'2024-01-02 03:04:05.123+0000'",
            Some(Timestamp(1_704_164_645_123)),
        ),
        ("ts", "'2024-01-02T03:04:05+01:00'", Some(Timestamp(1_704_161_045_000))),
        ("ts", "'2024-01-02'", Some(Timestamp(1_704_153_600_000))),
        ("ts", "1704164645123", Some(Timestamp(1_704_164_645_123))),
        ("dt", "'2024-01-02'", Some(Date(19_724))),
        ("dt", "'1969-12-31'", Some(Date(-1))),
        ("dt", "2147483648", Some(Date(0))),
        ("tm", "'03:04:05.123456789'", Some(Time(11_045_123_456_789))),
        ("tm", "'00:00:00'", Some(Time(0))),
        ("d", "1e3", Some(Double(1000.0))),
        ("d", "-Infinity", Some(Double(f64::NEG_INFINITY))),
        ("d", "NaN", Some(Double(f64::NAN))),
        ("d", "-0.0", Some(Double(-0.0))),
        ("d", "7", Some(Double(7.0))),
        ("f", "Infinity", Some(Float(f32::INFINITY))),
        ("f", "1.5", Some(Float(1.5))),
        ("de", "-1.50", Some(dec(-150, 2))),
        ("de", "99999999999999999999999999999999999999", Some(dec(MAX38, 0))),
        ("de", "0.001", Some(dec(1, 3))),
        ("bl", "0x", Some(Blob(Vec::new()))),
        ("bl", "0xCAFE", Some(Blob(vec![0xca, 0xfe]))),
        ("bl", "textAsBlob('hi')", Some(Blob(b"hi".to_vec()))),
        ("ip", "'::1'", Some(ip("::1"))),
        ("ip", "'10.0.0.1'", Some(ip("10.0.0.1"))),
        (
            "u",
            "123e4567-e89b-42d3-a456-556642440000",
            Some(Value::Uuid(uuid("123e4567-e89b-42d3-a456-556642440000"))),
        ),
        (
            "tu",
            "50554d6e-29bb-11e5-b345-feff819cdc9f",
            Some(TimeUuid(uuid("50554d6e-29bb-11e5-b345-feff819cdc9f"))),
        ),
        ("t", "'it''s'", Some(text("it's"))),
        ("t", "''", Some(text(""))),
        ("a", "'plain'", Some(Ascii("plain".into()))),
        ("bo", "true", Some(Boolean(true))),
        ("bo", "FALSE", Some(Boolean(false))),
        ("ti", "-128", Some(TinyInt(-128))),
        ("bi", "-9223372036854775808", Some(BigInt(i64::MIN))),
        ("t", "null", None),
        ("li", "[]", None),
        ("se", "{}", None),
        ("ma", "{}", None),
        ("li", "[2, 1, 2]", Some(List(vec![Int(2), Int(1), Int(2)]))),
        ("se", "{'b', 'a', 'b'}", Some(Value::set(vec![text("a"), text("b")]))),
        (
            "ma",
            "{'a': 1.5, 'a': 2.5}",
            Some(Value::map(vec![(text("a"), Double(2.5))])),
        ),
    ];
    for (n, (column, literal, want)) in good.iter().enumerate() {
        let stmt = format!("INSERT INTO ks.types (k, {column}) VALUES ({n}, {literal})");
        ok(&client, &stmt, &[]).await;
        let got = rows(
            &client,
            &format!("SELECT {column} FROM ks.types WHERE k = {n}"),
            &[],
            Consistency::Quorum,
        )
        .await;
        // Numeric equality for decimals written in another scale; strict for the rest.
        let matches = match (&got[0][0], want) {
            (Some(Decimal(_)), Some(Decimal(_))) => got[0][0] == *want,
            _ => same(&got[0], std::slice::from_ref(want)),
        };
        assert!(matches, "{stmt}: got {:?}, want {want:?}", got[0][0]);
    }

    let bad: Vec<(&str, &str)> = vec![
        ("ti", "128"),
        ("si", "32768"),
        ("i", "2147483648"),
        ("bi", "9223372036854775808"),
        ("i", "'abc'"),
        ("i", "1.5"),
        ("a", "'é'"),
        ("de", "123456789012345678901234567890123456789"),
        ("de", "NaN"),
        ("u", "'not-a-uuid'"),
        ("tu", "123e4567-e89b-42d3-a456-556642440000"),
        ("ip", "'1.2.3'"),
        ("ts", "'2024-13-01'"),
        ("tm", "'24:00:00'"),
        ("dt", "'2024-02-30'"),
        ("bl", "'text'"),
        ("bo", "1"),
        ("li", "[null]"),
        ("li", "{1: 2}"),
        ("ma", "{'a': 'x'}"),
        ("se", "[1]"),
    ];
    for (n, (column, literal)) in bad.iter().enumerate() {
        let k = 1000 + n;
        // The good column first: a refused value must not leave the row half written.
        let stmt = format!("INSERT INTO ks.types (k, t, {column}) VALUES ({k}, 'written?', {literal})");
        let err = client.cql(&stmt, &[], &at(Consistency::Quorum)).await.expect_err(&stmt);
        assert_eq!(err.kind(), ErrorKind::Invalid, "{stmt}: {err}");
        assert!(
            err.to_string().contains(*column) || err.to_string().contains("Invalid"),
            "{stmt}: {err}"
        );
        assert!(!err.to_string().contains('\n'), "one line: {err}");
    }
    // Only the good rows are there: the refused ones wrote nothing, not even their good cell.
    let count = rows(&client, "SELECT COUNT(*) FROM ks.types", &[], Consistency::All).await;
    assert_eq!(
        count,
        vec![vec![Some(BigInt(good.len() as i64))]],
        "refused literals wrote nothing"
    );
    c.shutdown().await;
}

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

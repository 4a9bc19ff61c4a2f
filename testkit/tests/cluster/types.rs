//! CQL values end to end, in process (RF=3 on three datanodes, QUORUM and ALL): every type round-trips
//! through `Client::cql` with bind values, prepared statements and literals (null, empty, min/max, NaN
//! and infinities, unicode, a 1 MiB blob, decimals, times, uuids, inets, collections), and literals
//! coerce as Cassandra does or are refused, writing nothing.

use crate::cql_support::*;
use basalt_client::Client;
use basalt_common::ErrorKind;
use basalt_table::display::cql_literal;
use basalt_table::{Consistency, Value};
use basalt_testkit::bytes;

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

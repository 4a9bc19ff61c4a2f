//! Reconciliation laws (the CRDT laws that make replicas converge), read repair, purge and the codec.

use super::*;
use crate::schema::{ClusteringOrder, ColumnDef, ColumnKind, TableDef, TableOptions};
use crate::types::{CqlType, NativeType};
use proptest::prelude::*;
use std::ops::Bound;

/// pk int; ck1 int ASC; ck2 text DESC; c3 int; c4 int; c5 set<int>; s6 static int.
pub(crate) fn table() -> TableDef {
    let col = |id: u64, name: &str, ty: CqlType, kind: ColumnKind| ColumnDef {
        id: ColumnId(id),
        name: name.into(),
        ty,
        kind,
    };
    let int = CqlType::Native(NativeType::Int);
    TableDef {
        id: TableId(7),
        keyspace: "ks".into(),
        name: "t".into(),
        columns: vec![
            col(0, "pk", int, ColumnKind::PartitionKey { position: 0 }),
            col(
                1,
                "ck1",
                int,
                ColumnKind::Clustering {
                    position: 0,
                    order: ClusteringOrder::Asc,
                },
            ),
            col(
                2,
                "ck2",
                CqlType::Native(NativeType::Text),
                ColumnKind::Clustering {
                    position: 1,
                    order: ClusteringOrder::Desc,
                },
            ),
            col(3, "c3", int, ColumnKind::Regular),
            col(4, "c4", int, ColumnKind::Regular),
            col(5, "c5", CqlType::Set(NativeType::Int), ColumnKind::Regular),
            col(6, "s6", int, ColumnKind::Static),
        ],
        options: TableOptions::default(),
        dropped: Default::default(),
        next_column: 7,
    }
}

fn empty() -> Partition {
    Partition::new(TableId(7), 42, vec![Value::Int(1)])
}

fn ck(a: i32, b: &str) -> Vec<Value> {
    vec![Value::Int(a), Value::Text(b.into())]
}

#[derive(Clone, Debug)]
enum Op {
    Cell {
        row: (i32, u8),
        col: u64,
        path: Option<u8>,
        ts: i64,
        v: CellValue,
    },
    Static {
        ts: i64,
        v: CellValue,
    },
    Marker {
        row: (i32, u8),
        ts: i64,
        expiry: Option<(u32, i64)>,
    },
    RowDel {
        row: (i32, u8),
        d: Deletion,
    },
    CollDel {
        row: (i32, u8),
        d: Deletion,
    },
    PartDel(Deletion),
    Range {
        start: Bound<Vec<Value>>,
        end: Bound<Vec<Value>>,
        d: Deletion,
    },
}

fn text(b: u8) -> &'static str {
    ["a", "b", "c"][b as usize % 3]
}

fn deletion() -> impl Strategy<Value = Deletion> {
    (0i64..6, 0i64..40).prop_map(|(timestamp, local_time)| Deletion { timestamp, local_time })
}

fn cell_value() -> impl Strategy<Value = CellValue> {
    prop_oneof![
        (0u8..3).prop_map(|b| CellValue::Live(vec![b])),
        (0u8..3, 1u32..10, 0i64..40).prop_map(|(b, ttl, expires_at)| CellValue::Expiring {
            value: vec![b],
            ttl,
            expires_at
        }),
        (0i64..40).prop_map(|local_time| CellValue::Tombstone { local_time }),
    ]
}

fn bound() -> impl Strategy<Value = Bound<Vec<Value>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        (0i32..3).prop_map(|a| Bound::Included(vec![Value::Int(a)])),
        (0i32..3).prop_map(|a| Bound::Excluded(vec![Value::Int(a)])),
        (0i32..3, 0u8..3).prop_map(|(a, b)| Bound::Included(ck(a, text(b)))),
        (0i32..3, 0u8..3).prop_map(|(a, b)| Bound::Excluded(ck(a, text(b)))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let row = (0i32..3, 0u8..3);
    prop_oneof![
        6 => (row.clone(), 3u64..5, 0i64..6, cell_value()).prop_map(|(row, col, ts, v)| Op::Cell { row, col, path: None, ts, v }),
        2 => (row.clone(), 0u8..3, 0i64..6, cell_value()).prop_map(|(row, p, ts, v)| Op::Cell { row, col: 5, path: Some(p), ts, v }),
        1 => (0i64..6, cell_value()).prop_map(|(ts, v)| Op::Static { ts, v }),
        2 => (row.clone(), 0i64..6, proptest::option::of((1u32..10, 0i64..40))).prop_map(|(row, ts, expiry)| Op::Marker { row, ts, expiry }),
        1 => (row.clone(), deletion()).prop_map(|(row, d)| Op::RowDel { row, d }),
        1 => (row, deletion()).prop_map(|(row, d)| Op::CollDel { row, d }),
        1 => deletion().prop_map(Op::PartDel),
        1 => (bound(), bound(), deletion()).prop_map(|(start, end, d)| Op::Range { start, end, d }),
    ]
}

fn fragment(op: Op) -> Partition {
    let mut p = empty();
    let row_of = |(a, b): (i32, u8)| Row::empty(ck(a, text(b)));
    match op {
        Op::Cell { row, col, path, ts, v } => {
            let mut r = row_of(row);
            r.cells.push(Cell {
                column: ColumnId(col),
                path: path.map(|b| vec![b]),
                timestamp: ts,
                value: v,
            });
            p.rows.push(r);
        }
        Op::Static { ts, v } => {
            let mut r = Row::empty(vec![]);
            r.cells.push(Cell {
                column: ColumnId(6),
                path: None,
                timestamp: ts,
                value: v,
            });
            p.static_row = Some(r);
        }
        Op::Marker { row, ts, expiry } => {
            let mut r = row_of(row);
            r.liveness = Some(Liveness { timestamp: ts, expiry });
            p.rows.push(r);
        }
        Op::RowDel { row, d } => {
            let mut r = row_of(row);
            r.deletion = Some(d);
            p.rows.push(r);
        }
        Op::CollDel { row, d } => {
            let mut r = row_of(row);
            r.collection_deletions.push((ColumnId(5), d));
            p.rows.push(r);
        }
        Op::PartDel(d) => p.deletion = Some(d),
        Op::Range { start, end, d } => p.range_tombstones.push(RangeTombstone {
            start,
            end,
            deletion: d,
        }),
    }
    p
}

fn partition() -> impl Strategy<Value = Partition> {
    proptest::collection::vec(op(), 0..12).prop_map(|ops| {
        let cmp = ClusteringComparator::for_table(&table());
        let mut p = empty();
        for o in ops {
            p.merge(fragment(o), &cmp);
        }
        p
    })
}

fn merged(a: &Partition, b: &Partition) -> Partition {
    let mut m = a.clone();
    m.merge(b.clone(), &ClusteringComparator::for_table(&table()));
    m
}

fn live(p: &Partition, now: i64) -> Vec<LiveRow> {
    p.live_rows(&table(), now).collect()
}

proptest! {
    #[test]
    fn merge_is_commutative(a in partition(), b in partition()) {
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
    }

    #[test]
    fn merge_is_associative(a in partition(), b in partition(), c in partition()) {
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
    }

    #[test]
    fn merge_is_idempotent(a in partition(), b in partition()) {
        prop_assert_eq!(merged(&a, &a), a.clone());
        let m = merged(&a, &b);
        prop_assert_eq!(merged(&m, &b), m);
    }

    #[test]
    fn diff_repairs_the_replica(a in partition(), b in partition()) {
        let m = merged(&a, &b);
        match diff(&m, &a) {
            None => prop_assert_eq!(&m, &a),
            Some(d) => {
                prop_assert_ne!(&m, &a);
                prop_assert_eq!(merged(&a, &d), m.clone());
            }
        }
    }

    #[test]
    fn compact_and_purge_do_not_change_what_readers_see(a in partition(), now in 0i64..45, grace in 0u32..20) {
        let cmp = ClusteringComparator::for_table(&table());
        let before = live(&a, now);
        let mut c = a.clone();
        c.compact(&cmp);
        prop_assert_eq!(live(&c, now), before.clone());
        let mut p = a.clone();
        p.purge(now, grace, &cmp);
        prop_assert_eq!(live(&p, now), before);
        // Purging twice changes nothing more.
        let once = p.clone();
        p.purge(now, grace, &cmp);
        prop_assert_eq!(p, once);
    }

    #[test]
    fn replicas_converge_to_one_digest(a in partition(), b in partition()) {
        let cmp = ClusteringComparator::for_table(&table());
        let (mut x, mut y) = (merged(&a, &b), merged(&b, &a));
        x.compact(&cmp);
        y.compact(&cmp);
        prop_assert_eq!(x.digest(), y.digest());
    }

    #[test]
    fn codec_round_trips(a in partition()) {
        let bytes = encode(&a);
        prop_assert_eq!(bytes[0], FORMAT_V1);
        prop_assert_eq!(decode(&bytes).unwrap(), a);
        for cut in 0..bytes.len() {
            prop_assert!(decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode(&bytes);
        if !bytes.is_empty() {
            bytes[0] = FORMAT_V1;
            let _ = decode(&bytes);
        }
    }
}

fn cell(col: u64, ts: i64, v: CellValue) -> Cell {
    Cell {
        column: ColumnId(col),
        path: None,
        timestamp: ts,
        value: v,
    }
}

#[test]
fn cell_ties_break_as_cassandra_does() {
    use std::cmp::Ordering::*;
    let live = |b: u8| CellValue::Live(vec![b]);
    let exp = |at| CellValue::Expiring {
        value: vec![0],
        ttl: 5,
        expires_at: at,
    };
    let tomb = |t| CellValue::Tombstone { local_time: t };
    assert_eq!(cell_order(&cell(3, 2, live(0)), &cell(3, 1, tomb(9))), Greater);
    assert_eq!(cell_order(&cell(3, 1, tomb(0)), &cell(3, 1, live(9))), Greater);
    assert_eq!(cell_order(&cell(3, 1, tomb(2)), &cell(3, 1, tomb(1))), Greater);
    assert_eq!(cell_order(&cell(3, 1, exp(1)), &cell(3, 1, live(9))), Greater);
    assert_eq!(cell_order(&cell(3, 1, exp(2)), &cell(3, 1, exp(1))), Greater);
    assert_eq!(cell_order(&cell(3, 1, live(2)), &cell(3, 1, live(1))), Greater);
}

#[test]
fn static_cells_join_rows_and_stand_alone() {
    let t = table();
    let cmp = ClusteringComparator::for_table(&t);
    let mut p = fragment(Op::Static {
        ts: 1,
        v: CellValue::Live(vec![6]),
    });
    let only_static: Vec<_> = p.live_rows(&t, 0).collect();
    assert_eq!(
        only_static,
        vec![LiveRow {
            clustering: vec![],
            columns: vec![(ColumnId(6), LiveValue::Simple(vec![6]))]
        }]
    );
    for (a, b) in [(1, 0u8), (0, 1), (0, 0)] {
        p.merge(
            fragment(Op::Cell {
                row: (a, b),
                col: 3,
                path: None,
                ts: 1,
                v: CellValue::Live(vec![3]),
            }),
            &cmp,
        );
    }
    p.merge(
        fragment(Op::Cell {
            row: (0, 1),
            col: 5,
            path: Some(2),
            ts: 1,
            v: CellValue::Live(vec![]),
        }),
        &cmp,
    );
    let rows: Vec<_> = p.live_rows(&t, 0).collect();
    // ck2 is DESC: "b" before "a".
    let keys: Vec<_> = rows.iter().map(|r| r.clustering.clone()).collect();
    assert_eq!(keys, vec![ck(0, "b"), ck(0, "a"), ck(1, "a")]);
    assert_eq!(
        rows[0].columns,
        vec![
            (ColumnId(3), LiveValue::Simple(vec![3])),
            (ColumnId(5), LiveValue::Collection(vec![(vec![2], vec![])])),
            (ColumnId(6), LiveValue::Simple(vec![6])),
        ]
    );
    // A range tombstone over ck1 = 0 at a later timestamp removes two rows, not the static cell.
    p.merge(
        fragment(Op::Range {
            start: Bound::Included(vec![Value::Int(0)]),
            end: Bound::Included(vec![Value::Int(0)]),
            d: Deletion {
                timestamp: 1,
                local_time: 0,
            },
        }),
        &cmp,
    );
    let keys: Vec<_> = p.live_rows(&t, 0).map(|r| r.clustering).collect();
    assert_eq!(keys, vec![ck(1, "a")]);
}

#[test]
fn ttl_expires_and_purge_drops_old_tombstones() {
    let t = table();
    let cmp = ClusteringComparator::for_table(&t);
    let mut p = fragment(Op::Cell {
        row: (0, 0),
        col: 3,
        path: None,
        ts: 1,
        v: CellValue::Expiring {
            value: vec![1],
            ttl: 10,
            expires_at: 110,
        },
    });
    assert_eq!(p.live_rows(&t, 109).count(), 1);
    assert_eq!(p.live_rows(&t, 110).count(), 0);
    let mut q = p.clone();
    q.purge(110, 50, &cmp);
    assert_eq!(
        q.rows[0].cells[0].value,
        CellValue::Tombstone { local_time: 100 },
        "an expired cell becomes a tombstone dated from its write"
    );
    p.purge(150, 50, &cmp);
    assert!(p.is_empty());
}

#[test]
fn bad_format_bytes_are_typed() {
    assert_eq!(decode(&[]), Err(PartitionError::Empty));
    assert_eq!(decode(&[9, 1, 2]), Err(PartitionError::Version(9)));
    assert!(matches!(decode(&[FORMAT_V1, 0xc1]), Err(PartitionError::Malformed(_))));
}

/// `cargo test -p basalt-table codec_speed -- --ignored --nocapture`
#[test]
#[ignore]
fn codec_speed() {
    let mut p = empty();
    let mut r = Row::empty(ck(1, "some-key"));
    r.liveness = Some(Liveness {
        timestamp: 1_700_000_000_000_000,
        expiry: None,
    });
    for c in 3..5 {
        r.cells
            .push(cell(c, 1_700_000_000_000_000, CellValue::Live(vec![7; 40])));
    }
    p.rows.push(r);
    let bytes = encode(&p);
    let n = 200_000;
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(encode(std::hint::black_box(&p)));
    }
    let enc = t0.elapsed();
    let t0 = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(decode(std::hint::black_box(&bytes)).unwrap());
    }
    let dec = t0.elapsed();
    println!(
        "{} bytes: encode {:?}/op, decode {:?}/op",
        bytes.len(),
        enc / n,
        dec / n
    );
}

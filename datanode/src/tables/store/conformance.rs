//! The store against a model: random sequences of applies, flushes and compactions; every partition
//! read back must be the model's (the merge of everything applied) as a reader sees it, and equal to
//! it once both are purged at the store's clock.

use super::*;
use basalt_common::ColumnId;
use basalt_table::partition::{Cell, CellValue, Deletion, RangeTombstone, Row};
use basalt_table::schema::{ClusteringOrder, ColumnDef, ColumnKind, TableOptions};
use basalt_table::types::{CqlType, NativeType};
use basalt_table::value::Value;
use proptest::prelude::*;
use std::ops::Bound;

const NOW: i64 = 1_000;
const GRACE: u32 = 100;

fn table() -> TableDef {
    let col = |id: u64, ty: NativeType, kind: ColumnKind| ColumnDef {
        id: ColumnId(id),
        name: format!("c{id}"),
        ty: CqlType::Native(ty),
        kind,
    };
    TableDef {
        id: TableId(3),
        keyspace: "ks".into(),
        name: "m".into(),
        columns: vec![
            col(0, NativeType::Blob, ColumnKind::PartitionKey { position: 0 }),
            col(
                1,
                NativeType::BigInt,
                ColumnKind::Clustering {
                    position: 0,
                    order: ClusteringOrder::Desc,
                },
            ),
            col(
                2,
                NativeType::Text,
                ColumnKind::Clustering {
                    position: 1,
                    order: ClusteringOrder::Asc,
                },
            ),
            col(3, NativeType::Int, ColumnKind::Regular),
            col(4, NativeType::Int, ColumnKind::Regular),
            col(5, NativeType::Int, ColumnKind::Static),
        ],
        options: TableOptions {
            gc_grace_seconds: GRACE,
            ..TableOptions::default()
        },
        dropped: Default::default(),
        next_column: 6,
    }
}

const KEYS: [(i64, &[u8]); 4] = [(-3, b"a"), (-3, b"a\0"), (0, b""), (7, b"z")];

fn local() -> impl Strategy<Value = i64> {
    prop_oneof![950i64..1000, 0i64..50]
}

fn deletion() -> impl Strategy<Value = Deletion> {
    (0i64..6, local()).prop_map(|(timestamp, local_time)| Deletion { timestamp, local_time })
}

fn cell() -> impl Strategy<Value = Cell> {
    let value = prop_oneof![
        (0u8..3).prop_map(|b| CellValue::Live(vec![b])),
        (0u8..3, 1u32..20, 990i64..1010).prop_map(|(b, ttl, expires_at)| CellValue::Expiring {
            value: vec![b],
            ttl,
            expires_at
        }),
        local().prop_map(|local_time| CellValue::Tombstone { local_time }),
    ];
    (prop_oneof![Just(3u64), Just(4)], 0i64..6, value).prop_map(|(c, timestamp, value)| Cell {
        column: ColumnId(c),
        path: None,
        timestamp,
        value,
    })
}

fn clustering() -> impl Strategy<Value = Vec<Value>> {
    (0i64..3, prop_oneof![Just(""), Just("x"), Just("x\0")])
        .prop_map(|(a, b)| vec![Value::BigInt(a), Value::Text(b.into())])
}

fn row() -> impl Strategy<Value = Row> {
    (
        clustering(),
        proptest::collection::btree_map(prop_oneof![Just(3u64), Just(4)], cell(), 0..3),
        proptest::option::weighted(0.2, deletion()),
    )
        .prop_map(|(clustering, cells, deletion)| Row {
            clustering,
            deletion,
            cells: cells
                .into_iter()
                .map(|(c, mut cell)| {
                    cell.column = ColumnId(c);
                    cell
                })
                .collect(),
            ..Row::default()
        })
}

fn bound() -> impl Strategy<Value = Bound<Vec<Value>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        (0i64..3).prop_map(|a| Bound::Included(vec![Value::BigInt(a)])),
        (0i64..3).prop_map(|a| Bound::Excluded(vec![Value::BigInt(a)])),
        clustering().prop_map(Bound::Included),
    ]
}

fn partition() -> impl Strategy<Value = Partition> {
    (
        0..KEYS.len(),
        proptest::collection::vec(row(), 0..3),
        proptest::option::weighted(0.1, deletion()),
        proptest::option::weighted(0.15, (bound(), bound(), deletion())),
        proptest::option::weighted(0.2, (0i64..6, 0u8..3)),
    )
        .prop_map(|(k, rows, deletion, rt, stat)| {
            let cmp = ClusteringComparator::for_table(&table());
            let (token, key) = KEYS[k];
            let mut p = Partition::new(TableId(3), token, vec![Value::Blob(key.to_vec())]);
            p.deletion = deletion;
            p.range_tombstones = rt
                .into_iter()
                .map(|(start, end, deletion)| RangeTombstone { start, end, deletion })
                .collect();
            p.static_row = stat.map(|(ts, b)| Row {
                cells: vec![Cell {
                    column: ColumnId(5),
                    path: None,
                    timestamp: ts,
                    value: CellValue::Live(vec![b]),
                }],
                ..Row::default()
            });
            // Rows in clustering order, one per clustering (merging the duplicates).
            for r in rows {
                let mut one = Partition::new(TableId(3), token, p.key.clone());
                one.rows.push(r);
                p.merge(one, &cmp);
            }
            p
        })
}

/// Drops from `p` everything written at or before `floor`.
fn newer_than(p: &mut Partition, floor: Option<i64>) {
    let Some(f) = floor else { return };
    let keep = |ts: i64| ts > f;
    if p.deletion.is_some_and(|d| !keep(d.timestamp)) {
        p.deletion = None;
    }
    p.range_tombstones.retain(|r| keep(r.deletion.timestamp));
    for r in p.rows.iter_mut().chain(p.static_row.iter_mut()) {
        r.cells.retain(|c| keep(c.timestamp));
        if r.liveness.is_some_and(|l| !keep(l.timestamp)) {
            r.liveness = None;
        }
        if r.deletion.is_some_and(|d| !keep(d.timestamp)) {
            r.deletion = None;
        }
        r.collection_deletions.retain(|(_, d)| keep(d.timestamp));
    }
}

/// The newest timestamp anywhere in `p`.
fn max_timestamp(p: &Partition) -> i64 {
    let mut m = i64::MIN;
    m = m.max(p.deletion.map_or(i64::MIN, |d| d.timestamp));
    for r in &p.range_tombstones {
        m = m.max(r.deletion.timestamp);
    }
    for r in p.rows.iter().chain(p.static_row.iter()) {
        for c in &r.cells {
            m = m.max(c.timestamp);
        }
        m = m.max(r.liveness.map_or(i64::MIN, |l| l.timestamp));
        m = m.max(r.deletion.map_or(i64::MIN, |d| d.timestamp));
        for (_, d) in &r.collection_deletions {
            m = m.max(d.timestamp);
        }
    }
    m
}

#[derive(Clone, Debug)]
enum Step {
    Apply(Vec<Partition>),
    Flush,
    Compact,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => proptest::collection::vec(partition(), 1..4).prop_map(Step::Apply),
        1 => Just(Step::Flush),
        1 => Just(Step::Compact),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_store_reads_back_the_merge_of_what_was_applied(steps in proptest::collection::vec(step(), 1..12)) {
        let t = table();
        let cmp = ClusteringComparator::for_table(&t);
        let dir = tempfile::tempdir().unwrap();
        let store = TableStore::open(dir.path(), TableStoreOptions {
            durability: Durability::Batch,
            clock: Arc::new(|| NOW),
        }).unwrap();
        store.ensure_table(&t).unwrap();
        let mut model: BTreeMap<usize, Partition> = BTreeMap::new();
        // Cassandra's contract with compaction: no write older than a tombstone gc grace lets it
        // purge. After a compaction, writes are kept newer than everything written before it.
        let (mut newest, mut floor) = (i64::MIN, None);
        for s in steps {
            match s {
                Step::Apply(mut parts) => {
                    for p in &mut parts {
                        newer_than(p, floor);
                        newest = newest.max(max_timestamp(p));
                    }
                    store.apply(&t, &parts).unwrap();
                    for p in parts {
                        let i = KEYS.iter().position(|(tok, k)| *tok == p.token && p.key == [Value::Blob(k.to_vec())]).unwrap();
                        match model.get_mut(&i) {
                            Some(m) => m.merge(p, &cmp),
                            None => { model.insert(i, p); }
                        }
                    }
                }
                Step::Flush => store.flush_table(t.id).unwrap(),
                Step::Compact => {
                    store.compact_table(t.id).unwrap();
                    floor = Some(newest);
                }
            }
        }
        for (i, (token, key)) in KEYS.iter().enumerate() {
            let key = vec![Value::Blob(key.to_vec())];
            let mut got = store.read(&t, &PartitionRead::all(*token, key.clone(), NOW)).unwrap();
            let mut want = model.get(&i).cloned().unwrap_or_else(|| Partition::new(t.id, *token, key));
            let live_got: Vec<_> = got.live_rows(&t, NOW).collect();
            let live_want: Vec<_> = want.live_rows(&t, NOW).collect();
            prop_assert_eq!(live_got, live_want);
            got.purge(NOW, GRACE, &cmp);
            want.purge(NOW, GRACE, &cmp);
            prop_assert_eq!(got, want);
        }
        // A full scan sees the same partitions, in token order.
        let page = store.scan(&t, &TokenScan {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
            resume_after: None,
            max_partitions: 100,
            columns: None,
        }).unwrap();
        let tokens: Vec<i64> = page.partitions.iter().map(|p| p.token).collect();
        let mut sorted = tokens.clone();
        sorted.sort();
        prop_assert_eq!(tokens, sorted);
    }
}

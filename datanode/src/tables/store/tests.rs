//! The table store as a whole, on temp dirs, with an injected clock (no sleeps).

use super::*;
use crate::tables::store::keys::KIND_ROW;
use basalt_common::{ColumnId, DatanodeId, ErrorKind};
use basalt_table::partition::{Cell, CellValue, Deletion, LiveValue, Liveness, RangeTombstone, Row};
use basalt_table::schema::{ClusteringOrder, ColumnDef, ColumnKind, TableOptions};
use basalt_table::types::{CqlType, NativeType};
use basalt_table::value::{Uuid, Value};
use std::ops::Bound;
use std::sync::atomic::{AtomicI64, Ordering};

const GRACE: u32 = 100;

/// pk text; ck int DESC; v int (3); w text (4); tags set<int> (5); s int static (6).
fn table() -> TableDef {
    let col = |id: u64, name: &str, ty: NativeType, kind: ColumnKind| ColumnDef {
        id: ColumnId(id),
        name: name.into(),
        ty: if id == 5 { CqlType::Set(ty) } else { CqlType::Native(ty) },
        kind,
    };
    TableDef {
        id: TableId(12),
        keyspace: "ks".into(),
        name: "t".into(),
        columns: vec![
            col(0, "pk", NativeType::Text, ColumnKind::PartitionKey { position: 0 }),
            col(
                1,
                "ck",
                NativeType::Int,
                ColumnKind::Clustering {
                    position: 0,
                    order: ClusteringOrder::Desc,
                },
            ),
            col(3, "v", NativeType::Int, ColumnKind::Regular),
            col(4, "w", NativeType::Text, ColumnKind::Regular),
            col(5, "tags", NativeType::Int, ColumnKind::Regular),
            col(6, "s", NativeType::Int, ColumnKind::Static),
        ],
        options: TableOptions {
            gc_grace_seconds: GRACE,
            ..TableOptions::default()
        },
        dropped: Default::default(),
        next_column: 7,
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    clock: Arc<AtomicI64>,
    store: TableStore,
    t: TableDef,
}

fn options(clock: &Arc<AtomicI64>, durability: Durability) -> TableStoreOptions {
    let c = clock.clone();
    TableStoreOptions {
        durability,
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(1_000));
    let store = TableStore::open(dir.path(), options(&clock, Durability::default())).unwrap();
    let t = table();
    store.ensure_table(&t).unwrap();
    Fixture { dir, clock, store, t }
}

fn key(k: &str) -> Vec<Value> {
    vec![Value::Text(k.into())]
}

fn part(k: &str, token: i64) -> Partition {
    Partition::new(TableId(12), token, key(k))
}

fn cell(col: u64, ts: i64, v: i32) -> Cell {
    Cell {
        column: ColumnId(col),
        path: None,
        timestamp: ts,
        value: CellValue::Live(v.to_be_bytes().to_vec()),
    }
}

fn row(ck: i32, cells: Vec<Cell>) -> Row {
    Row {
        clustering: vec![Value::Int(ck)],
        cells,
        ..Row::default()
    }
}

fn with_rows(k: &str, token: i64, rows: Vec<Row>) -> Partition {
    let mut p = part(k, token);
    p.rows = rows;
    p
}

fn del(ts: i64, local: i64) -> Deletion {
    Deletion {
        timestamp: ts,
        local_time: local,
    }
}

impl Fixture {
    fn read_all(&self, k: &str, token: i64) -> Partition {
        let now = self.clock.load(Ordering::SeqCst);
        self.store
            .read(&self.t, &PartitionRead::all(token, key(k), now))
            .unwrap()
    }

    /// `(ck, column v's value)` of the live rows.
    fn live_v(&self, k: &str, token: i64) -> Vec<(i32, Option<Vec<u8>>)> {
        let now = self.clock.load(Ordering::SeqCst);
        let p = self.read_all(k, token);
        p.live_rows(&self.t, now)
            .map(|r| {
                let ck = match r.clustering.first() {
                    Some(Value::Int(x)) => *x,
                    _ => i32::MIN,
                };
                let v = r.columns.iter().find(|(c, _)| *c == ColumnId(3)).map(|(_, v)| match v {
                    LiveValue::Simple(b) => b.clone(),
                    LiveValue::Collection(_) => vec![],
                });
                (ck, v)
            })
            .collect()
    }

    /// Every raw entry of the table's column family.
    fn raw(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let cf = self.store.cf(self.t.id).unwrap();
        self.store
            .db()
            .iterator_cf(&cf, rocksdb::IteratorMode::Start)
            .map(|i| i.unwrap())
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    }

    fn compact(&self) {
        self.store.flush_table(self.t.id).unwrap();
        // The first compaction merges operands into values, the second one filters them.
        self.store.compact_table(self.t.id).unwrap();
        self.store.compact_table(self.t.id).unwrap();
    }
}

fn be(v: i32) -> Option<Vec<u8>> {
    Some(v.to_be_bytes().to_vec())
}

#[test]
fn writes_read_back_with_static_rows_markers_and_collections() {
    let f = fixture();
    let mut p = part("a", 5);
    let mut s = Row::empty(vec![]);
    s.cells.push(cell(6, 1, 60));
    p.static_row = Some(s);
    let mut r = row(1, vec![cell(3, 1, 10)]);
    r.liveness = Some(Liveness {
        timestamp: 1,
        expiry: None,
    });
    r.cells.push(Cell {
        column: ColumnId(5),
        path: Some(vec![0, 0, 0, 7]),
        timestamp: 1,
        value: CellValue::Live(vec![]),
    });
    p.rows = vec![row(2, vec![cell(3, 1, 20)]), r];
    f.store.apply(&f.t, std::slice::from_ref(&p)).unwrap();
    assert_eq!(f.read_all("a", 5), p);
    // ck is DESC: 2 before 1.
    assert_eq!(f.live_v("a", 5), vec![(2, be(20)), (1, be(10))]);
    assert_eq!(f.read_all("b", 5), part("b", 5), "another key, same token");
}

#[test]
fn last_write_wins_per_cell_across_applies() {
    let f = fixture();
    f.store
        .apply(&f.t, &[with_rows("a", 1, vec![row(1, vec![cell(3, 5, 50)])])])
        .unwrap();
    f.store
        .apply(
            &f.t,
            &[with_rows("a", 1, vec![row(1, vec![cell(3, 3, 30), cell(4, 4, 40)])])],
        )
        .unwrap();
    let p = f.read_all("a", 1);
    assert_eq!(p.rows, vec![row(1, vec![cell(3, 5, 50), cell(4, 4, 40)])]);
    // Equal timestamps: the greater value wins, whatever the order of arrival.
    f.store
        .apply(&f.t, &[with_rows("a", 1, vec![row(1, vec![cell(3, 5, 99)])])])
        .unwrap();
    f.store
        .apply(&f.t, &[with_rows("a", 1, vec![row(1, vec![cell(3, 5, 51)])])])
        .unwrap();
    assert_eq!(f.live_v("a", 1), vec![(1, be(99))]);
    // Survives flush and compaction.
    f.compact();
    assert_eq!(f.live_v("a", 1), vec![(1, be(99))]);
}

#[test]
fn deletes_shadow_older_data_and_not_newer() {
    let f = fixture();
    let rows = (1..=6).map(|ck| row(ck, vec![cell(3, 10, ck)])).collect();
    f.store.apply(&f.t, &[with_rows("a", 1, rows)]).unwrap();
    // Row deletion of 6 at 20, then a newer write to 6 at 30.
    let mut d = row(6, vec![]);
    d.deletion = Some(del(20, 900));
    f.store.apply(&f.t, &[with_rows("a", 1, vec![d])]).unwrap();
    f.store
        .apply(&f.t, &[with_rows("a", 1, vec![row(6, vec![cell(3, 30, 66)])])])
        .unwrap();
    // Range deletion ck in [2, 3] (DESC: start 3, end 2) at 20; an older one over 5 at 5 does nothing.
    let mut p = part("a", 1);
    p.range_tombstones = vec![
        RangeTombstone {
            start: Bound::Included(vec![Value::Int(3)]),
            end: Bound::Included(vec![Value::Int(2)]),
            deletion: del(20, 900),
        },
        RangeTombstone {
            start: Bound::Included(vec![Value::Int(5)]),
            end: Bound::Included(vec![Value::Int(5)]),
            deletion: del(5, 900),
        },
    ];
    f.store.apply(&f.t, &[p]).unwrap();
    assert_eq!(f.live_v("a", 1), vec![(6, be(66)), (5, be(5)), (4, be(4)), (1, be(1))]);
    // Partition deletion at 25: only the row written at 30 remains.
    let mut p = part("a", 1);
    p.deletion = Some(del(25, 900));
    f.store.apply(&f.t, &[p]).unwrap();
    assert_eq!(f.live_v("a", 1), vec![(6, be(66))]);
    // The answer keeps the tombstones (for read repair), not the shadowed cells.
    let ans = f.read_all("a", 1);
    assert_eq!(ans.deletion, Some(del(25, 900)));
    assert_eq!(ans.rows.len(), 1);
}

#[test]
fn ttl_expires_with_the_injected_clock() {
    let f = fixture();
    let mut c = cell(3, 1, 7);
    c.value = CellValue::Expiring {
        value: vec![7],
        ttl: 10,
        expires_at: 1_010,
    };
    f.store
        .apply(&f.t, &[with_rows("a", 1, vec![row(1, vec![c])])])
        .unwrap();
    assert_eq!(f.live_v("a", 1), vec![(1, Some(vec![7]))]);
    f.clock.store(1_010, Ordering::SeqCst);
    assert_eq!(f.live_v("a", 1), vec![]);
    // Compaction turns it into a tombstone dated from its write (1000), dropped once past grace.
    f.compact();
    let v = Entry::decode(&f.raw()[0].1).unwrap();
    assert!(matches!(v, Entry::Row(r) if r.cells[0].value == CellValue::Tombstone { local_time: 1_000 }));
    f.clock.store(1_000 + GRACE as i64, Ordering::SeqCst);
    f.compact();
    assert!(f.raw().is_empty());
}

#[test]
fn compaction_purges_tombstones_past_grace_and_keeps_the_others() {
    let f = fixture();
    let tomb = |ck: i32, local: i64| {
        let mut r = row(ck, vec![]);
        r.cells.push(Cell {
            column: ColumnId(3),
            path: None,
            timestamp: 5,
            value: CellValue::Tombstone { local_time: local },
        });
        r
    };
    let mut old_row_del = row(3, vec![cell(4, 1, 1)]);
    old_row_del.deletion = Some(del(2, 0));
    let mut young_row_del = row(4, vec![]);
    young_row_del.deletion = Some(del(2, 950));
    let rows = vec![
        tomb(1, 0),
        tomb(2, 950),
        old_row_del,
        young_row_del,
        row(5, vec![cell(3, 1, 5)]),
    ];
    f.store.apply(&f.t, &[with_rows("a", 1, rows)]).unwrap();
    f.clock.store(1_040, Ordering::SeqCst); // 0 + 100 passed; 950 + 100 not yet
    f.compact();
    let layout = KeyLayout::for_table(&f.t);
    let left: Vec<_> = f
        .raw()
        .iter()
        .map(|(k, _)| layout.decode(k).unwrap())
        .filter(|k| k.kind == KIND_ROW)
        .map(|k| k.clustering[0].clone())
        .collect();
    assert_eq!(left, vec![Value::Int(5), Value::Int(4), Value::Int(2)]);
    f.clock.store(2_000, Ordering::SeqCst);
    f.compact();
    assert_eq!(f.raw().len(), 1, "only the live row is left");
}

#[test]
fn data_survives_close_and_reopen() {
    let f = fixture();
    let p = with_rows("a", 9, vec![row(1, vec![cell(3, 1, 1)])]);
    f.store.apply(&f.t, std::slice::from_ref(&p)).unwrap();
    let Fixture { dir, clock, store, t } = f;
    drop(store);
    let store = TableStore::open(dir.path(), options(&clock, Durability::Batch)).unwrap();
    assert_eq!(store.tables().unwrap(), vec![t.id]);
    store.ensure_table(&t).unwrap();
    assert_eq!(store.read(&t, &PartitionRead::all(9, key("a"), 1_000)).unwrap(), p);
    store.drop_table(t.id).unwrap();
    assert_eq!(store.tables().unwrap(), vec![]);
    assert_eq!(
        store
            .read(&t, &PartitionRead::all(9, key("a"), 1_000))
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn a_corrupt_value_is_a_typed_error_and_marks_the_table_unhealthy() {
    let f = fixture();
    f.store
        .apply(&f.t, &[with_rows("a", 1, vec![row(1, vec![cell(3, 1, 1)])])])
        .unwrap();
    let layout = KeyLayout::for_table(&f.t);
    let prefix = layout.partition_prefix(1, &key("a")).unwrap();
    let k = layout.entry(&prefix, KIND_ROW, &[Value::Int(2)]).unwrap();
    let cf = f.store.cf(f.t.id).unwrap();
    f.store.db().put_cf(&cf, &k, [1u8, 0xc1, 0xc1]).unwrap();
    // A merge on top of the bad bytes keeps them, so the corruption stays visible.
    f.store
        .apply(&f.t, &[with_rows("a", 1, vec![row(2, vec![cell(3, 1, 1)])])])
        .unwrap();
    drop(cf);
    let err = f.store.read(&f.t, &PartitionRead::all(1, key("a"), 1_000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(matches!(&err, TableStoreError::Corrupt { table, key, .. } if *table == f.t.id && *key == entry::hex(&k)));
    assert_eq!(f.store.health().len(), 1);
    // Other partitions still read; compaction keeps the bad bytes rather than failing.
    assert!(f.store.read(&f.t, &PartitionRead::all(1, key("b"), 1_000)).is_ok());
    f.compact();
    assert!(f.store.read(&f.t, &PartitionRead::all(1, key("a"), 1_000)).is_err());
}

#[test]
fn slices_limits_reversal_and_projection() {
    let f = fixture();
    let rows = (1..=5)
        .map(|ck| row(ck, vec![cell(3, 1, ck), cell(4, 1, ck)]))
        .collect();
    f.store.apply(&f.t, &[with_rows("a", 1, rows)]).unwrap();
    let cks = |p: &Partition| -> Vec<Value> { p.rows.iter().map(|r| r.clustering[0].clone()).collect() };
    let mut r = PartitionRead::all(1, key("a"), 1_000);
    // Clustering order is DESC: slice from 4 down to 2, exclusive of 2.
    r.slices = vec![(
        Bound::Included(vec![Value::Int(4)]),
        Bound::Excluded(vec![Value::Int(2)]),
    )];
    assert_eq!(
        cks(&f.store.read(&f.t, &r).unwrap()),
        vec![Value::Int(4), Value::Int(3)]
    );
    r.slices = vec![];
    r.limit = Some(2);
    assert_eq!(
        cks(&f.store.read(&f.t, &r).unwrap()),
        vec![Value::Int(5), Value::Int(4)]
    );
    r.reversed = true;
    assert_eq!(
        cks(&f.store.read(&f.t, &r).unwrap()),
        vec![Value::Int(2), Value::Int(1)]
    );
    r.columns = Some(vec![ColumnId(4)]);
    let p = f.store.read(&f.t, &r).unwrap();
    assert!(
        p.rows
            .iter()
            .all(|r| r.cells.len() == 1 && r.cells[0].column == ColumnId(4))
    );
    // A deleted row does not count towards the limit but comes back as a tombstone.
    let mut d = row(2, vec![]);
    d.deletion = Some(del(9, 990));
    f.store.apply(&f.t, &[with_rows("a", 1, vec![d])]).unwrap();
    r.columns = None;
    let p = f.store.read(&f.t, &r).unwrap();
    assert_eq!(cks(&p), vec![Value::Int(3), Value::Int(2), Value::Int(1)]);
    assert_eq!(p.live_rows(&f.t, 1_000).count(), 2);
}

#[test]
fn scans_go_in_token_order_and_resume() {
    let f = fixture();
    let tokens = [i64::MIN, -7, -7, 0, 3, 99, i64::MAX];
    let parts: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| with_rows(&format!("k{i}"), *t, vec![row(1, vec![cell(3, 1, i as i32)])]))
        .collect();
    f.store.apply(&f.t, &parts).unwrap();
    let mut scan = TokenScan {
        start: Bound::Unbounded,
        end: Bound::Unbounded,
        resume_after: None,
        max_partitions: 2,
        columns: None,
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = f.store.scan(&f.t, &scan).unwrap();
        pages += 1;
        seen.extend(page.partitions.iter().map(|p| (p.token, p.key.clone())));
        match page.resume {
            Some(r) => scan.resume_after = Some(r),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    let want: Vec<_> = parts.iter().map(|p| (p.token, p.key.clone())).collect();
    assert_eq!(seen, want);
    let range = TokenScan {
        start: Bound::Excluded(-7),
        end: Bound::Included(99),
        resume_after: None,
        max_partitions: 100,
        columns: None,
    };
    let got: Vec<_> = f
        .store
        .scan(&f.t, &range)
        .unwrap()
        .partitions
        .iter()
        .map(|p| p.token)
        .collect();
    assert_eq!(got, vec![0, 3, 99]);
    let edges = |start, end| {
        let s = TokenScan {
            start,
            end,
            resume_after: None,
            max_partitions: 100,
            columns: None,
        };
        f.store
            .scan(&f.t, &s)
            .unwrap()
            .partitions
            .iter()
            .map(|p| p.token)
            .collect::<Vec<_>>()
    };
    assert_eq!(edges(Bound::Excluded(i64::MAX), Bound::Unbounded), Vec::<i64>::new());
    assert_eq!(
        edges(Bound::Included(i64::MAX), Bound::Included(i64::MAX)),
        vec![i64::MAX]
    );
    assert_eq!(edges(Bound::Unbounded, Bound::Excluded(i64::MIN)), Vec::<i64>::new());
    assert_eq!(edges(Bound::Included(5), Bound::Excluded(5)), Vec::<i64>::new());
    let one = TokenScan {
        start: Bound::Included(-7),
        end: Bound::Excluded(0),
        ..range
    };
    let page = f.store.scan(&f.t, &one).unwrap();
    assert_eq!(page.partitions.len(), 2);
    assert_eq!(page.partitions[0].rows[0], parts[1].rows[0]);
}

#[test]
fn hints_and_the_batch_log() {
    let f = fixture();
    let (a, b) = (DatanodeId(1), DatanodeId(2));
    let k1 = f.store.put_hint(a, b"one", 10).unwrap();
    f.store.put_hint(b, b"other", 5).unwrap();
    f.store.put_hint(a, b"two", 20).unwrap();
    assert_eq!(f.store.count_hints().unwrap(), vec![(a, 2), (b, 1)]);
    let hints = f.store.hints_for(a, 10).unwrap();
    assert_eq!(
        hints.iter().map(|(_, v)| v.as_slice()).collect::<Vec<_>>(),
        vec![&b"one"[..], b"two"]
    );
    assert_eq!((hints[0].0.target(), hints[0].0.created_at_ms()), (a, 10));
    assert_eq!(f.store.hints_for(a, 1).unwrap().len(), 1);
    f.store.delete_hints(&[k1]).unwrap();
    assert_eq!(f.store.count_hints().unwrap(), vec![(a, 1), (b, 1)]);

    let id = Uuid([7; 16]);
    f.store.put_batch(id, b"batch").unwrap();
    f.store.put_batch(Uuid([8; 16]), b"b2").unwrap();
    f.store.remove_batch(Uuid([8; 16])).unwrap();
    assert_eq!(f.store.pending_batches().unwrap(), vec![(id, b"batch".to_vec())]);
}

#[test]
fn bad_keys_are_invalid_and_estimates_grow() {
    let f = fixture();
    let mut p = with_rows("a", 1, vec![row(1, vec![cell(3, 1, 1)])]);
    p.key = vec![Value::Int(1)];
    assert_eq!(f.store.apply(&f.t, &[p]).unwrap_err().kind(), ErrorKind::Invalid);
    let rows: Vec<_> = (0..100)
        .map(|i| with_rows(&format!("k{i}"), i, vec![row(1, vec![cell(3, 1, 1)])]))
        .collect();
    f.store.apply(&f.t, &rows).unwrap();
    f.store.flush_table(f.t.id).unwrap();
    let (n, bytes) = f.store.estimates(f.t.id).unwrap();
    assert!(n >= 50 && bytes > 0, "{n} {bytes}");
}

/// `cargo test -p basalt-datanode apply_throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn apply_throughput() {
    let f = fixture();
    let n = 50_000;
    let batch = 100;
    let t0 = std::time::Instant::now();
    for b in 0..n / batch {
        let parts: Vec<_> = (0..batch)
            .map(|i| {
                let id = b * batch + i;
                let mut r = row(1, vec![cell(3, 1, id)]);
                r.cells.push(Cell {
                    column: ColumnId(4),
                    path: None,
                    timestamp: 1,
                    value: CellValue::Live(vec![b'x'; 80]),
                });
                with_rows(&format!("key-{id}"), id as i64 * 7919, vec![r])
            })
            .collect();
        f.store.apply(&f.t, &parts).unwrap();
    }
    let el = t0.elapsed();
    println!(
        "{n} rows of ~100 B in batches of {batch}: {:.0} rows/s",
        n as f64 / el.as_secs_f64()
    );
    let t0 = std::time::Instant::now();
    for id in 0..5_000 {
        let parts = [with_rows(
            &format!("key-{id}"),
            id as i64 * 7919,
            vec![row(1, vec![cell(3, 2, 1)])],
        )];
        f.store.apply(&f.t, &parts).unwrap();
    }
    println!(
        "single-row applies, periodic: {:.0} rows/s",
        5_000.0 / t0.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = TableStore::open(dir.path(), options(&f.clock, Durability::Batch)).unwrap();
    store.ensure_table(&f.t).unwrap();
    let t0 = std::time::Instant::now();
    for id in 0..500 {
        let parts = [with_rows(
            &format!("key-{id}"),
            id as i64,
            vec![row(1, vec![cell(3, 2, 1)])],
        )];
        store.apply(&f.t, &parts).unwrap();
    }
    println!(
        "single-row applies, batch (a WAL sync each): {:.0} rows/s",
        500.0 / t0.elapsed().as_secs_f64()
    );
}

#[test]
fn a_damaged_table_file_is_a_corrupt_error_not_a_panic() {
    let f = fixture();
    let rows = (0..50).map(|ck| row(ck, vec![cell(3, 1, ck)])).collect();
    f.store.apply(&f.t, &[with_rows("a", 1, rows)]).unwrap();
    f.store.flush_table(f.t.id).unwrap();
    let Fixture { dir, clock, store, t } = f;
    drop(store);
    let sst = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "sst"))
        .unwrap();
    let mut bytes = std::fs::read(&sst).unwrap();
    for b in &mut bytes[20..40] {
        *b ^= 0x5a;
    }
    std::fs::write(&sst, bytes).unwrap();
    let store = TableStore::open(dir.path(), options(&clock, Durability::Batch)).unwrap();
    store.ensure_table(&t).unwrap();
    let err = store.read(&t, &PartitionRead::all(1, key("a"), 1_000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(matches!(err, TableStoreError::Corrupt { .. }));
    assert_eq!(store.health().len(), 1);
}

/// The catalog follower and a write for a table it has not created yet both create its column family:
/// neither may fail (a lost race gave the write an Internal error, and the follower an error log).
#[test]
fn concurrent_creation_of_one_table_succeeds_for_every_caller() {
    let dir = tempfile::tempdir().unwrap();
    let store = TableStore::open(dir.path(), TableStoreOptions::default()).unwrap();
    for id in 100..120 {
        let mut t = table();
        t.id = TableId(id);
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (store, t, barrier) = (store.clone(), t.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    store.ensure_table(&t)
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap().unwrap_or_else(|e| panic!("table {id}: {e}"));
        }
    }
    assert_eq!(store.tables().unwrap().len(), 20);
}

//! The table store of a fixture (`tests/fixtures/v4/datanode/tables`, written by a datanode of the
//! build of that format through `basalt cql`; see `make-fixture.sh`) opens with this build's
//! [`TableStore`] and reads back, through the store API, every kind of row it holds: regular cells,
//! statics, collections (elements added, removed, overwritten), a TTL'd row and cell, a deleted cell,
//! a row tombstone, a range tombstone and a partition deletion. The table definition is the CREATE
//! TABLE saved next to it (`table.cql`); the store's clock is the fixture's making time, so that TTLs
//! and grace periods are judged as they were then.

use basalt_common::TableId;
use basalt_datanode::tables::store::{PartitionRead, TableStore, TableStoreOptions};
use basalt_table::cql::{Statement, parse, schema::table_def};
use basalt_table::partition::{CellValue, LiveValue, Partition};
use basalt_table::{CqlType, TableDef, Value};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

const TTL: u32 = 630_720_000;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A live row: its clustering and its columns' values by name, sorted by name.
type Live = (Vec<Value>, Vec<(String, Value)>);

struct Fixture {
    _dir: tempfile::TempDir,
    store: TableStore,
    def: TableDef,
    made_at: i64,
}

fn open(format: &str) -> Fixture {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture.join("datanode/tables"), dir.path());
    let made_at: i64 = std::fs::read_to_string(fixture.join("tables-made-at.txt"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let options = TableStoreOptions {
        clock: Arc::new(move || made_at),
        ..Default::default()
    };
    let store = TableStore::open(dir.path(), options).unwrap_or_else(|e| panic!("{format}: {e}"));
    let tables = store.tables().unwrap();
    assert_eq!(tables.len(), 1, "one table in the fixture: {tables:?}");
    let Statement::CreateTable(create) = parse(&std::fs::read_to_string(fixture.join("table.cql")).unwrap()).unwrap()
    else {
        panic!("table.cql holds a CREATE TABLE");
    };
    let def = table_def(&create, "fx", TableId(tables[0].0)).unwrap();
    store.ensure_table(&def).unwrap();
    Fixture {
        _dir: dir,
        store,
        def,
        made_at,
    }
}

impl Fixture {
    fn partition(&self, p: &str, q: i32) -> Partition {
        let key = vec![Value::Text(p.into()), Value::Int(q)];
        let token = basalt_table::token::token_of(&key);
        self.store
            .read(&self.def, &PartitionRead::all(token, key, self.made_at))
            .unwrap_or_else(|e| panic!("partition ({p}, {q}): {e}"))
    }

    fn col(&self, name: &str) -> (basalt_common::ColumnId, CqlType) {
        let c = self.def.column(name).unwrap_or_else(|| panic!("column {name}"));
        (c.id, c.ty)
    }

    /// The live rows at `now`, each as (clustering, [(column name, value)]) sorted by name.
    fn live(&self, p: &Partition, now: i64) -> Vec<Live> {
        p.live_rows(&self.def, now)
            .map(|r| {
                let mut cols: Vec<(String, Value)> = r
                    .columns
                    .iter()
                    .map(|(id, v)| {
                        let c = self.def.column_by_id(*id).unwrap();
                        (c.name.clone(), value_of(&c.ty, v))
                    })
                    .collect();
                cols.sort_by(|a, b| a.0.cmp(&b.0));
                (r.clustering, cols)
            })
            .collect()
    }
}

/// A live value as a typed value: collections from their elements.
fn value_of(ty: &CqlType, v: &LiveValue) -> Value {
    use basalt_table::serialize::deserialize;
    let native = |t| CqlType::Native(t);
    match (ty, v) {
        (_, LiveValue::Simple(b)) => deserialize(ty, b).unwrap(),
        (CqlType::List(t), LiveValue::Collection(items)) => Value::List(
            items
                .iter()
                .map(|(_, v)| deserialize(&native(*t), v).unwrap())
                .collect(),
        ),
        (CqlType::Set(t), LiveValue::Collection(items)) => Value::set(
            items
                .iter()
                .map(|(k, _)| deserialize(&native(*t), k).unwrap())
                .collect(),
        ),
        (CqlType::Map(k, t), LiveValue::Collection(items)) => Value::map(
            items
                .iter()
                .map(|(kb, vb)| {
                    (
                        deserialize(&native(*k), kb).unwrap(),
                        deserialize(&native(*t), vb).unwrap(),
                    )
                })
                .collect(),
        ),
        (ty, v) => panic!("a {ty} column holds {v:?}"),
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn cols(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    let mut v: Vec<(String, Value)> = pairs.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// What the fixture's rows read as at a time before any TTL ran out (as `rows-before.csv` shows).
fn live_then() -> Vec<Live> {
    use Value::*;
    let s = ("s", text("static a"));
    vec![
        (vec![Int(1), text("y")], cols(&[s.clone(), ("v", BigInt(11))])),
        (
            vec![Int(1), text("x")],
            cols(&[
                s.clone(),
                ("v", BigInt(10)),
                ("ts", Timestamp(1_704_164_645_678)),
                ("l", List(vec![Int(1), Int(2), Int(3), Int(4)])),
                ("st", Value::set(vec![text("b")])),
                (
                    "m",
                    Value::map(vec![(text("k1"), Int(1)), (text("k2"), Int(2)), (text("k3"), Int(3))]),
                ),
            ]),
        ),
        (
            vec![Int(2), text("w")],
            cols(&[
                s.clone(),
                ("v", BigInt(12)),
                ("ts", Timestamp(1_893_456_000_000)),
                ("m", Value::map(vec![(text("only"), Int(9))])),
            ]),
        ),
        (vec![Int(6), text("after")], cols(&[s, ("v", BigInt(17))])),
    ]
}

/// The same after every TTL ran out: the TTL'd row and cell are gone, nothing else.
fn live_later() -> Vec<Live> {
    let mut rows = live_then();
    rows.remove(0);
    rows[1].1.retain(|(n, _)| n != "ts");
    rows
}

#[test]
fn the_table_store_of_format_4_reads_back_every_kind_of_row() {
    use Value::*;
    let f = open("v4");
    let (s, _) = f.col("s");
    let (v, _) = f.col("v");
    let (d, _) = f.col("d");
    let (ts, _) = f.col("ts");
    let (l, _) = f.col("l");
    let (st, _) = f.col("st");
    let (m, _) = f.col("m");

    // Partition (a, 1): its rows in clustering order (c1 ASC, c2 DESC), the deleted one included.
    let a = f.partition("a", 1);
    assert_eq!(a.deletion, None);
    let clusterings: Vec<&[Value]> = a.rows.iter().map(|r| r.clustering.as_slice()).collect();
    let want: [&[Value]; 5] = [
        &[Int(1), text("y")],
        &[Int(1), text("x")],
        &[Int(2), text("w")],
        &[Int(3), text("gone")],
        &[Int(6), text("after")],
    ];
    assert_eq!(clusterings, want, "{a:#?}");
    // The range tombstone (c1 >= 5 AND c1 < 7 at 7000) shadows the two rows under it.
    assert_eq!(a.range_tombstones.len(), 1, "{a:#?}");
    let rt = &a.range_tombstones[0];
    assert_eq!(
        (&rt.start, &rt.end, rt.deletion.timestamp),
        (&Bound::Included(vec![Int(5)]), &Bound::Excluded(vec![Int(7)]), 7000)
    );
    assert!(rt.deletion.local_time <= f.made_at);
    // The static row.
    let srow = a.static_row.as_ref().expect("static row");
    assert_eq!(srow.cells.len(), 1);
    assert_eq!((srow.cells[0].column, srow.cells[0].timestamp), (s, 1000));
    assert_eq!(srow.cells[0].value, CellValue::Live(b"static a".to_vec()));
    let [y, x, w, gone, _after] = &a.rows[..] else {
        unreachable!()
    };
    // A row written with a TTL: its marker and cell expire together.
    let (ttl, expires_at) = y.liveness.expect("row marker").expiry.expect("marker TTL");
    assert_eq!(ttl, TTL);
    assert_eq!(y.cells.len(), 1);
    assert_eq!(
        y.cells[0].value,
        CellValue::Expiring {
            value: 11i64.to_be_bytes().to_vec(),
            ttl: TTL,
            expires_at
        }
    );
    assert!(expires_at > f.made_at + i64::from(TTL) - 3600, "{expires_at}");
    // Regular cells, a deleted cell, collection elements added and removed, collections overwritten.
    let cell = |r: &basalt_table::partition::Row, col, path: Option<&[u8]>| {
        r.cells
            .iter()
            .find(|c| c.column == col && c.path.as_deref() == path)
            .unwrap_or_else(|| panic!("no cell {col:?} {path:?} in {r:#?}"))
            .clone()
    };
    assert_eq!(cell(x, v, None).value, CellValue::Live(10i64.to_be_bytes().to_vec()));
    assert_eq!(cell(x, v, None).timestamp, 1000);
    assert!(matches!(cell(x, d, None).value, CellValue::Tombstone { .. }));
    assert_eq!(cell(x, d, None).timestamp, 10_000);
    assert_eq!(
        cell(x, ts, None).value,
        CellValue::Live(1_704_164_645_678i64.to_be_bytes().to_vec())
    );
    assert!(matches!(cell(x, st, Some(b"a")).value, CellValue::Tombstone { .. }));
    assert_eq!(cell(x, st, Some(b"b")).value, CellValue::Live(Vec::new()));
    assert_eq!(cell(x, m, Some(b"k3")).timestamp, 10_000);
    let list: Vec<_> = x.cells.iter().filter(|c| c.column == l).map(|c| c.timestamp).collect();
    assert_eq!(list, [1000, 1000, 1000, 10_000], "list elements in timeuuid order");
    let overwritten: Vec<_> = x.collection_deletions.iter().map(|(c, d)| (*c, d.timestamp)).collect();
    assert_eq!(
        overwritten,
        [(l, 999), (st, 999), (m, 999)],
        "an INSERT replaces its collections"
    );
    assert_eq!(
        w.collection_deletions
            .iter()
            .map(|(c, d)| (*c, d.timestamp))
            .collect::<Vec<_>>(),
        [(m, 9999)]
    );
    assert!(matches!(cell(w, ts, None).value, CellValue::Expiring { ttl: TTL, .. }));
    // A row tombstone.
    assert_eq!(gone.deletion.map(|d| d.timestamp), Some(5000));
    assert!(gone.cells.is_empty() && gone.liveness.is_none(), "{gone:#?}");

    // Partition (b, 2): deleted whole; what it shadowed is not returned.
    let b = f.partition("b", 2);
    assert_eq!(b.deletion.map(|d| d.timestamp), Some(9000), "{b:#?}");
    assert!(b.rows.is_empty() && b.static_row.is_none(), "{b:#?}");
    // Partition (c, 3): only its static row.
    let c = f.partition("c", 3);
    assert!(c.rows.is_empty());
    assert_eq!(
        f.live(&c, f.made_at),
        vec![(vec![], cols(&[("s", text("static only"))]))],
        "a partition of only statics reads as one row"
    );

    // As a reader sees them then, and after every TTL ran out.
    assert_eq!(f.live(&a, f.made_at), live_then());
    assert!(f.live(&b, f.made_at).is_empty());
    let later = f.made_at + i64::from(TTL) + 1;
    assert_eq!(f.live(&a, later), live_later());
    // A token scan finds the three partitions (in token order).
    let page = f
        .store
        .scan(
            &f.def,
            &basalt_datanode::tables::store::TokenScan {
                start: Bound::Unbounded,
                end: Bound::Unbounded,
                resume_after: None,
                max_partitions: 10,
                columns: None,
            },
        )
        .unwrap();
    let mut keys: Vec<(i64, Vec<Value>)> = page.partitions.iter().map(|p| (p.token, p.key.clone())).collect();
    let mut want: Vec<(i64, Vec<Value>)> = [("a", 1), ("b", 2), ("c", 3)]
        .iter()
        .map(|(p, q)| {
            let key = vec![text(p), Int(*q)];
            (basalt_table::token::token_of(&key), key)
        })
        .collect();
    want.sort();
    keys.sort();
    assert_eq!(keys, want);
}

/// Compaction of the fixture's data by this build, at the time it was made and then long after
/// (tombstones past their grace, TTLs run out): what a reader sees never changes, nothing comes back.
#[test]
fn compacting_the_table_store_of_format_4_changes_no_answer() {
    let f = open("v4");
    for _ in 0..2 {
        f.store.compact_table(f.def.id).unwrap();
    }
    assert_eq!(f.live(&f.partition("a", 1), f.made_at), live_then());
    assert!(f.live(&f.partition("b", 2), f.made_at).is_empty());

    let mut later = open("v4");
    let when = later.made_at + i64::from(TTL) + i64::from(later.def.options.gc_grace_seconds) + 1;
    let dir = later._dir.path().to_path_buf();
    drop(later.store);
    later.store = TableStore::open(
        &dir,
        TableStoreOptions {
            clock: Arc::new(move || when),
            ..Default::default()
        },
    )
    .unwrap();
    later.store.ensure_table(&later.def).unwrap();
    for _ in 0..2 {
        later.store.compact_table(later.def.id).unwrap();
    }
    let a = later.partition("a", 1);
    assert_eq!(later.live(&a, when), live_later());
    // It did purge: the row tombstone and the deleted cell are past their grace, the TTL'd row gone.
    let clusterings: Vec<&[Value]> = a.rows.iter().map(|r| r.clustering.as_slice()).collect();
    let want: [&[Value]; 3] = [
        &[Value::Int(1), text("x")],
        &[Value::Int(2), text("w")],
        &[Value::Int(6), text("after")],
    ];
    assert_eq!(clusterings, want, "{a:#?}");
    let (d, _) = later.col("d");
    assert!(!a.rows[0].cells.iter().any(|c| c.column == d), "{a:#?}");
    assert!(later.live(&later.partition("b", 2), when).is_empty());
    assert_eq!(
        later.live(&later.partition("c", 3), when),
        vec![(vec![], cols(&[("s", text("static only"))]))]
    );
}

//! The table tools against real `basalt` processes: `basalt table load` (CSV with a bad line, good
//! files, Parquet type mismatches, `basalt:/` paths), `basalt table export` round trips through CSV and
//! Parquet, `Client::scan` covering every row once, and `basalt table status`.

#[allow(unused_imports, dead_code)]
#[path = "cluster/harness.rs"]
mod harness;

use basalt_client::ScanOptions;
use basalt_client::cql::CqlOptions;
use basalt_table::{Consistency, Value};
use futures::StreamExt;
use harness::{Opts, TestCluster, fails_with, ok, stdout};
use std::collections::BTreeMap;

const COLUMNS: &str = "(id int PRIMARY KEY, name text, amount double, tags set<text>)";

fn cql(c: &TestCluster, text: &str) {
    ok(c.cli(&["cql", "-e", text]));
}

/// Every row of `ks.table` by id, read at ALL.
async fn rows(c: &TestCluster, table: &str) -> BTreeMap<i32, Vec<Option<Value>>> {
    let client = c.client();
    let opts = CqlOptions {
        consistency: Consistency::All,
        ..Default::default()
    };
    let text = format!("SELECT id, name, amount, tags FROM ks.{table}");
    // A coordinator learns the other replicas are up a moment after the cluster is: wait for ALL.
    let all = harness::wait_for(format!("{text} at ALL"), harness::DEADLINE, async || {
        client.cql_all(&text, &[], &opts).await.ok()
    })
    .await;
    all.into_iter()
        .map(|r| match &r[0] {
            Some(Value::Int(id)) => (*id, r),
            other => panic!("id {other:?}"),
        })
        .collect()
}

/// A CSV of `n` rows with quoting, commas, nulls and collections.
fn good_csv(n: i32) -> String {
    let mut s = String::from("id,name,amount,tags\n");
    for i in 0..n {
        let name = match i % 4 {
            0 => format!("\"name, {i}\""),
            1 => format!("\"say \"\"hi\"\" {i}\""),
            2 => String::new(),
            _ => format!("plain{i}"),
        };
        let tags = if i % 3 == 0 {
            String::new()
        } else {
            format!("\"{{'a{i}', 'b'}}\"")
        };
        s.push_str(&format!("{i},{name},{}.25,{tags}\n", i * 2));
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_export_round_trip_and_status() {
    let c = TestCluster::start(Opts::default()).await;
    let dir = c.dir.path().join("files");
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).display().to_string();
    cql(
        &c,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    );
    for t in ["ev", "from_csv", "from_parquet", "from_basalt"] {
        cql(&c, &format!("CREATE TABLE ks.{t} {COLUMNS}"));
    }
    cql(
        &c,
        "CREATE TABLE ks.wrong (id int PRIMARY KEY, name text, amount int, tags set<text>)",
    );

    // A malformed line stops the load with its line and column.
    std::fs::write(
        path("bad.csv"),
        "id,name,amount,tags\n1,a,1.5,\n2,b,2.5,\n3,c,3.5,\n4,d,abc,\n5,e,5.5,\n",
    )
    .unwrap();
    fails_with(
        c.cli(&["table", "load", "ks.ev", &path("bad.csv")]),
        "bad.csv:5: column amount: 'abc' is not a double",
    );
    // With --skip-bad it is reported and skipped.
    let out = ok(c.cli(&[
        "table",
        "load",
        "--skip-bad",
        "--consistency",
        "ALL",
        "ks.ev",
        &path("bad.csv"),
    ]));
    assert!(stdout(&out).contains("4 rows loaded"), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 malformed lines skipped"), "{}", stdout(&out));
    assert!(
        harness::stderr(&out).contains("bad.csv:5: column amount"),
        "{}",
        harness::stderr(&out)
    );
    let loaded = rows(&c, "ev").await;
    assert_eq!(loaded.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 5]);
    // An unknown column and a missing key are refused before anything is sent.
    std::fs::write(path("cols.csv"), "id,nope\n1,2\n").unwrap();
    fails_with(
        c.cli(&["table", "load", "ks.ev", &path("cols.csv")]),
        "column nope is not a column of ks.ev",
    );

    // A good file of several batches: every row readable, as written.
    let n = 1234;
    std::fs::write(path("good.csv"), good_csv(n)).unwrap();
    ok(c.cli(&[
        "table",
        "load",
        "--consistency",
        "ALL",
        "--batch-rows",
        "100",
        "ks.ev",
        &path("good.csv"),
    ]));
    let loaded = rows(&c, "ev").await;
    assert_eq!(loaded.len(), n as usize);
    let r7 = &loaded[&1];
    assert_eq!(r7[1], Some(Value::Text("say \"hi\" 1".into())));
    assert_eq!(r7[2], Some(Value::Double(2.25)));
    assert_eq!(
        r7[3],
        Some(Value::Set(vec![Value::Text("a1".into()), Value::Text("b".into())]))
    );
    assert_eq!(loaded[&0][1], Some(Value::Text("name, 0".into())));
    assert_eq!(loaded[&2][1], None, "an empty cell is null");

    // Client::scan: every row exactly once, the projection pushed down.
    let client = c.client();
    let mut scan = client
        .scan(
            "ks",
            "ev",
            ScanOptions {
                columns: vec!["amount".into(), "id".into()],
                batch_rows: 100,
                parallelism: 4,
                ..Default::default()
            },
        )
        .await
        .expect("scan");
    assert_eq!(scan.schema().fields().len(), 2);
    let mut ids = Vec::new();
    while let Some(b) = scan.next().await {
        let b = b.expect("batch");
        assert_eq!(b.num_columns(), 2);
        let ty = basalt_table::CqlType::Native(basalt_table::NativeType::Int);
        for v in basalt_table::arrow::column_values(&b, 1, &ty).unwrap() {
            match v {
                Some(Value::Int(i)) => ids.push(i),
                other => panic!("{other:?}"),
            }
        }
    }
    ids.sort();
    assert_eq!(ids, (0..n).collect::<Vec<_>>(), "every row once");

    // Export round trips: CSV, Parquet, and Parquet through Basalt FS.
    ok(c.cli(&["table", "export", "ks.ev", &path("out.csv")]));
    ok(c.cli(&["table", "export", "ks.ev", &path("out.parquet")]));
    fails_with(c.cli(&["table", "export", "ks.ev", &path("out.csv")]), "exists");
    ok(c.cli(&[
        "table",
        "export",
        "--format",
        "parquet",
        "ks.ev",
        "basalt:/exports/ev.pq",
    ]));
    ok(c.cli(&["table", "load", "--consistency", "ALL", "ks.from_csv", &path("out.csv")]));
    ok(c.cli(&[
        "table",
        "load",
        "--consistency",
        "ALL",
        "ks.from_parquet",
        &path("out.parquet"),
    ]));
    ok(c.cli(&[
        "table",
        "load",
        "--consistency",
        "ALL",
        "--format",
        "parquet",
        "ks.from_basalt",
        "basalt:/exports/ev.pq",
    ]));
    let want = rows(&c, "ev").await;
    assert!(rows(&c, "from_csv").await == want, "the CSV round trip differs");
    assert!(rows(&c, "from_parquet").await == want, "the Parquet round trip differs");
    assert!(rows(&c, "from_basalt").await == want, "the basalt: round trip differs");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // A Parquet column whose type does not map is refused, naming both types.
    fails_with(
        c.cli(&["table", "load", "ks.wrong", &path("out.parquet")]),
        "column amount: the file's Arrow type Float64 does not map to the table's CQL type int",
    );

    // Status: every datanode, its tables, no hints, nothing unhealthy.
    let st = stdout(&ok(c.cli(&["table", "status"])));
    assert_eq!(st.matches("Datanode ").count(), 3, "{st}");
    assert_eq!(st.matches("ks.ev ").count(), 3, "{st}");
    assert_eq!(st.matches("pending hints: none").count(), 3, "{st}");
    assert_eq!(st.matches("unhealthy tables: none").count(), 3, "{st}");

    // A replica down (still listed as live: the namenode has not noticed yet): the scan falls over
    // to the next replica of each of its ranges and still returns every row once.
    let mut c = c;
    c.kill_datanode(0);
    assert_eq!(
        scan_ids(&c).await,
        (0..n).collect::<Vec<_>>(),
        "every row once, one replica down"
    );
    let st = stdout(&ok(c.cli(&["table", "status"])));
    assert!(st.contains("unavailable"), "{st}");
}

/// The ids of a full scan of ks.ev, sorted.
async fn scan_ids(c: &TestCluster) -> Vec<i32> {
    let client = c.client();
    let opts = ScanOptions {
        columns: vec!["id".into()],
        parallelism: 4,
        ..Default::default()
    };
    let mut scan = client.scan("ks", "ev", opts).await.expect("scan");
    let ty = basalt_table::CqlType::Native(basalt_table::NativeType::Int);
    let mut ids = Vec::new();
    while let Some(b) = scan.next().await {
        for v in basalt_table::arrow::column_values(&b.expect("batch"), 0, &ty).unwrap() {
            match v {
                Some(Value::Int(i)) => ids.push(i),
                other => panic!("{other:?}"),
            }
        }
    }
    ids.sort();
    ids
}

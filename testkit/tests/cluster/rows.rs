//! Table rows under faults, in process: RF=3 keyspaces on four datanodes, QUORUM and ALL, a replica killed
//! during writes, hints replayed when it returns, read repair of a replica that missed writes and
//! deletes, paging across coordinators, Unavailable with its counts.

use basalt_client::Client;
use basalt_client::cql::{CqlOptions, CqlResult};
use basalt_common::ErrorKind;
use basalt_table::{Consistency, Value};
use basalt_testkit::{Cluster, Options};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn at(consistency: Consistency) -> CqlOptions {
    CqlOptions {
        consistency,
        ..Default::default()
    }
}

async fn ok(client: &Client, stmt: &str, consistency: Consistency) -> CqlResult {
    client
        .cql(stmt, &[], &at(consistency))
        .await
        .unwrap_or_else(|e| panic!("{stmt}: {e}"))
}

async fn rows(client: &Client, stmt: &str, consistency: Consistency) -> Vec<Vec<Option<Value>>> {
    client
        .cql_all(stmt, &[], &at(consistency))
        .await
        .unwrap_or_else(|e| panic!("{stmt}: {e}"))
}

fn options(datanodes: usize, no_hints: bool) -> Options {
    Options {
        datanodes,
        datanode_config: if no_hints {
            |c| c.table_hint_window = Duration::ZERO
        } else {
            |_| {}
        },
        ..Options::default()
    }
}

async fn schema(client: &Client) {
    ok(
        client,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        Consistency::One,
    )
    .await;
    ok(
        client,
        "CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)",
        Consistency::One,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_round_trip_at_quorum_with_clustering_order_and_deletes() {
    let c = Cluster::start(options(4, false)).await;
    c.wait_ready().await;
    let client = c.client();
    schema(&client).await;
    for i in 0..20 {
        ok(
            &client,
            &format!("INSERT INTO ks.t (k, c, v) VALUES ({}, {}, 'v{i}')", i % 2, i),
            Consistency::Quorum,
        )
        .await;
    }
    let got = rows(&client, "SELECT c, v FROM ks.t WHERE k = 0", Consistency::Quorum).await;
    let cs: Vec<Value> = got.iter().map(|r| r[0].clone().unwrap()).collect();
    let want: Vec<Value> = (0..20).rev().filter(|i| i % 2 == 0).map(Value::Int).collect();
    assert_eq!(cs, want, "clustering order DESC");
    let got = rows(
        &client,
        "SELECT c FROM ks.t WHERE k = 0 AND c > 4 AND c <= 12 ORDER BY c ASC",
        Consistency::All,
    )
    .await;
    assert_eq!(got, [6, 8, 10, 12].map(|i| vec![Some(Value::Int(i))]).to_vec());
    ok(&client, "DELETE FROM ks.t WHERE k = 0 AND c > 4", Consistency::Quorum).await;
    let got = rows(&client, "SELECT c FROM ks.t WHERE k = 0", Consistency::Quorum).await;
    assert_eq!(got, [4, 2, 0].map(|i| vec![Some(Value::Int(i))]).to_vec());
    let count = rows(&client, "SELECT COUNT(*) FROM ks.t", Consistency::Quorum).await;
    assert_eq!(count, vec![vec![Some(Value::BigInt(13))]]);
    c.shutdown().await;
}

/// kill a replica during QUORUM writes: every acknowledged row stays readable at QUORUM; when it
/// returns, hints bring it up to date and ALL reads agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_writes_survive_a_killed_replica_and_hints_replay() {
    let mut c = Cluster::start(options(4, false)).await;
    c.wait_ready().await;
    let client = c.client();
    schema(&client).await;
    let mut acked = Vec::new();
    for i in 0..60 {
        if i == 20 {
            c.kill_datanode(1).await;
        }
        let stmt = format!("INSERT INTO ks.t (k, c, v) VALUES ({i}, 0, 'x{i}')");
        match client.cql(&stmt, &[], &at(Consistency::Quorum)).await {
            Ok(_) => acked.push(i),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Unavailable, "{stmt}: {e}"),
        }
    }
    assert!(acked.len() >= 50, "most writes are acknowledged: {}", acked.len());
    for i in &acked {
        let got = rows(
            &client,
            &format!("SELECT v FROM ks.t WHERE k = {i}"),
            Consistency::Quorum,
        )
        .await;
        assert_eq!(got, vec![vec![Some(Value::Text(format!("x{i}")))]], "row {i}");
    }
    c.restart_datanode(1).await;
    c.wait_live(1).await;
    // Hints replay; then every replica has every row: ALL agrees without repairing anything.
    c.wait_until("ALL reads see every acknowledged row", DEADLINE, async || {
        let mut all = true;
        for i in &acked {
            let stmt = format!("SELECT v FROM ks.t WHERE k = {i}");
            match client.cql_all(&stmt, &[], &at(Consistency::All)).await {
                Ok(r) if r.len() == 1 => {}
                _ => all = false,
            }
        }
        all
    })
    .await;
    c.shutdown().await;
}

/// With hints off, a replica that missed writes and a delete is fixed by read repair, and the deleted
/// row does not come back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_repair_fixes_a_stale_replica_and_deletes_do_not_resurrect() {
    let mut c = Cluster::start(options(3, true)).await;
    c.wait_ready().await;
    let client = c.client();
    schema(&client).await;
    ok(
        &client,
        "INSERT INTO ks.t (k, c, v) VALUES (1, 1, 'old')",
        Consistency::All,
    )
    .await;
    ok(
        &client,
        "INSERT INTO ks.t (k, c, v) VALUES (1, 2, 'doomed')",
        Consistency::All,
    )
    .await;
    c.kill_datanode(2).await;
    ok(
        &client,
        "UPDATE ks.t SET v = 'new' WHERE k = 1 AND c = 1",
        Consistency::Quorum,
    )
    .await;
    ok(&client, "DELETE FROM ks.t WHERE k = 1 AND c = 2", Consistency::Quorum).await;
    c.restart_datanode(2).await;
    c.wait_live(2).await;
    // ALL reads every replica: the stale one is repaired before the answer.
    c.wait_until("an ALL read succeeds", DEADLINE, async || {
        client
            .cql_all("SELECT c, v FROM ks.t WHERE k = 1", &[], &at(Consistency::All))
            .await
            .is_ok_and(|r| r == vec![vec![Some(Value::Int(1)), Some(Value::Text("new".into()))]])
    })
    .await;
    // Now any single replica answers the same, the deleted row included (absent).
    for _ in 0..6 {
        let got = rows(&client, "SELECT c, v FROM ks.t WHERE k = 1", Consistency::One).await;
        assert_eq!(got, vec![vec![Some(Value::Int(1)), Some(Value::Text("new".into()))]]);
    }
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_says_how_many_replicas_were_needed_and_alive() {
    let mut c = Cluster::start(options(3, false)).await;
    c.wait_ready().await;
    let client = c.client();
    schema(&client).await;
    c.kill_datanode(1).await;
    c.kill_datanode(2).await;
    // The coordinator learns of the dead replicas from its first failed call; then it refuses up front.
    c.wait_until("QUORUM is refused as Unavailable", DEADLINE, async || {
        match client
            .cql(
                "INSERT INTO ks.t (k, c, v) VALUES (7, 7, 'x')",
                &[],
                &at(Consistency::Quorum),
            )
            .await
        {
            Err(e) => e.to_string().contains("2 replicas required but only 1 alive"),
            Ok(_) => false,
        }
    })
    .await;
    let err = client
        .cql(
            "INSERT INTO ks.t (k, c, v) VALUES (7, 7, 'x')",
            &[],
            &at(Consistency::Quorum),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(
        err.to_string().contains("2 replicas required but only 1 alive"),
        "{err}"
    );
    // ONE still works.
    ok(
        &client,
        "INSERT INTO ks.t (k, c, v) VALUES (7, 7, 'x')",
        Consistency::One,
    )
    .await;
    c.shutdown().await;
}

/// 10,000 rows paged 700 at a time, each page from the next coordinator: every row exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_resumes_exactly_across_coordinators() {
    let c = Cluster::start(options(3, false)).await;
    c.wait_ready().await;
    let client = c.client();
    schema(&client).await;
    for b in 0..20 {
        let rows_sql: String = (0..500)
            .map(|i| {
                let n = b * 500 + i;
                format!("INSERT INTO ks.t (k, c, v) VALUES ({}, {n}, 'r');", n % 7)
            })
            .collect();
        ok(
            &client,
            &format!("BEGIN UNLOGGED BATCH {rows_sql} APPLY BATCH"),
            Consistency::Quorum,
        )
        .await;
    }
    let mut opts = CqlOptions {
        consistency: Consistency::Quorum,
        page_size: 700,
        ..Default::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let CqlResult::Rows(page) = client.cql("SELECT k, c FROM ks.t", &[], &opts).await.unwrap() else {
            panic!("rows expected");
        };
        pages += 1;
        for r in page.rows().unwrap() {
            let Some(Value::Int(c)) = r[1] else { panic!("{r:?}") };
            assert!(seen.insert(c), "row {c} returned twice");
        }
        match page.paging_state {
            Some(s) => opts.paging_state = Some(s),
            None => break,
        }
    }
    assert_eq!(seen.len(), 10_000);
    assert!(pages >= 15, "{pages} pages");
    c.shutdown().await;
}

/// Prepared statements with bind values, routed token-aware to a replica of the partition; an
/// unknown prepared id is refused as not found (a driver re-prepares on that).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_bind_values_and_route_to_a_replica() {
    let c = Cluster::start(options(4, false)).await;
    c.wait_ready().await;
    let client = c.client();
    schema(&client).await;
    let insert = client
        .prepare("INSERT INTO ks.t (k, c, v) VALUES (?, ?, ?)", None)
        .await
        .unwrap();
    assert_eq!(insert.partition_key_indexes, vec![0]);
    assert_eq!(insert.bind_columns.len(), 3);
    for i in 0..30 {
        let values = [
            Some(Value::Int(i)),
            Some(Value::Int(i * 10)),
            Some(Value::Text(format!("p{i}"))),
        ];
        client
            .execute(&insert, &values, &at(Consistency::Quorum))
            .await
            .unwrap();
    }
    let select = client
        .prepare("SELECT v FROM ks.t WHERE k = ? AND c = ?", Some("ks"))
        .await
        .unwrap();
    for i in 0..30 {
        let CqlResult::Rows(page) = client
            .execute(
                &select,
                &[Some(Value::Int(i)), Some(Value::Int(i * 10))],
                &at(Consistency::Quorum),
            )
            .await
            .unwrap()
        else {
            panic!("rows expected")
        };
        assert_eq!(page.rows().unwrap(), vec![vec![Some(Value::Text(format!("p{i}")))]]);
    }
    let mut bogus = select.clone();
    bogus.id = vec![0; 16];
    let err = client
        .execute(
            &bogus,
            &[Some(Value::Int(1)), Some(Value::Int(10))],
            &at(Consistency::One),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    c.shutdown().await;
}

/// ALTER TABLE through one coordinator, writes naming the new column through every other at once;
/// a dropped column's cells do not come back when a column of that name is added again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_tables_take_new_columns_everywhere_and_dropped_cells_stay_gone() {
    let c = Cluster::start(options(3, false)).await;
    c.wait_ready().await;
    let client = c.client();
    schema(&client).await;
    ok(
        &client,
        "INSERT INTO ks.t (k, c, v) VALUES (1, 1, 'a')",
        Consistency::All,
    )
    .await;
    ok(&client, "ALTER TABLE ks.t ADD w int", Consistency::One).await;
    for i in 0..6 {
        ok(
            &client,
            &format!("INSERT INTO ks.t (k, c, w) VALUES (1, {i}, {i})"),
            Consistency::Quorum,
        )
        .await;
    }
    let err = client
        .cql(
            "INSERT INTO ks.t (k, c, nope) VALUES (1, 1, 1)",
            &[],
            &at(Consistency::One),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
    ok(&client, "ALTER TABLE ks.t DROP v", Consistency::One).await;
    ok(&client, "ALTER TABLE ks.t ADD v text", Consistency::One).await;
    let got = rows(&client, "SELECT v, w FROM ks.t WHERE k = 1 AND c = 1", Consistency::All).await;
    assert_eq!(
        got,
        vec![vec![None, Some(Value::Int(1))]],
        "the old v cell stays dropped"
    );
    c.shutdown().await;
}

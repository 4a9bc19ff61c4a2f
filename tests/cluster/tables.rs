//! Tables on real processes: a namenode and four datanodes, RF=3. A datanode that replicates the rows
//! is killed with SIGKILL while a client writes at QUORUM: every acknowledged row stays readable at
//! QUORUM; when it returns, hints bring it up to date (seen through its own ONE reads, which read no
//! other replica and repair nothing), an ALL read agrees, and then, the processes stopped, each
//! datanode's table store is opened directly: every row is on exactly its replicas, and no hint is
//! left. Then `basalt cql` from the binary: formats, consistency, and one clear line per error.

use crate::harness::{DEADLINE, Opts, TestCluster, fails_with, ok, stdout, wait_until};
use basalt_client::Client;
use basalt_client::cql::CqlOptions;
use basalt_common::DatanodeId;
use basalt_datanode::tables::store::{PartitionRead, TableStore, TableStoreOptions};
use basalt_proto::pb;
use basalt_table::partition::LiveValue;
use basalt_table::{Consistency, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn at(consistency: Consistency) -> CqlOptions {
    CqlOptions {
        consistency,
        ..Default::default()
    }
}

async fn cql(client: &Client, stmt: &str) {
    client
        .cql(stmt, &[], &at(Consistency::Quorum))
        .await
        .unwrap_or_else(|e| panic!("{stmt}: {e}"));
}

/// Harness index of each datanode, by id (matched on the address it listens on).
async fn datanode_indexes(c: &TestCluster) -> BTreeMap<DatanodeId, usize> {
    let status = c.client().cluster_status().await.unwrap();
    let mut out = BTreeMap::new();
    for d in &status.datanodes {
        let info = d.info.as_ref().expect("datanode info");
        let i = c
            .dns
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.addr == info.addr))
            .unwrap_or_else(|| panic!("no datanode process listens on {}", info.addr));
        out.insert(DatanodeId(info.id), i);
    }
    out
}

/// Rows a ONE read coordinated by the datanode at `addr` returns: it reads its own replica only.
async fn local_one_read(addr: &str, k: i32) -> Option<u64> {
    let mut cql = pb::cql_client::CqlClient::connect(format!("http://{addr}"))
        .await
        .ok()?;
    let req = pb::CqlRequest {
        statement: format!("SELECT v FROM ks.t WHERE k = {k}"),
        consistency: Consistency::One.code() as u32,
        ..Default::default()
    };
    let resp = cql.execute(req).await.ok()?.into_inner();
    match resp.result {
        Some(pb::cql_response::Result::Rows(r)) => Some(r.row_count),
        _ => None,
    }
}

/// The last ring version datanode `i` logged that it applied ("ring updated version=N").
fn applied_ring_version(c: &TestCluster, i: usize) -> Option<u64> {
    let log = std::fs::read_to_string(c.dir.path().join(format!("datanode-{i}.log"))).ok()?;
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            plain.push(ch);
        }
    }
    plain
        .lines()
        .filter(|l| l.contains("ring updated"))
        .filter_map(|l| l.split("version=").nth(1)?.split_whitespace().next()?.parse().ok())
        .next_back()
}

/// Waits until every running datanode applied the ring the namenode has: a coordinator on an older
/// ring (one datanode short) would write to other replicas (there is no pending-range handling yet).
async fn wait_ring_everywhere(c: &TestCluster, client: &Client) {
    let version = client.ring().await.unwrap().ring.version();
    wait_until("every datanode applied the ring", DEADLINE, || async {
        c.all_dns()
            .filter(|i| c.dns[*i].is_some())
            .all(|i| applied_ring_version(c, i) == Some(version))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_loses_no_acknowledged_row_and_catches_up_through_hints() {
    let mut c = TestCluster::start(Opts {
        datanodes: 4,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    cql(
        &client,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    )
    .await;
    cql(&client, "CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))").await;
    wait_until("four datanodes own tokens", DEADLINE, || async {
        client.ring().await.is_ok_and(|r| r.ring.nodes().len() == 4)
    })
    .await;
    wait_ring_everywhere(&c, &client).await;
    let ring = client.ring().await.unwrap();
    let catalog = client.catalog().await.unwrap();
    let def = catalog.table("ks", "t").expect("ks.t in the catalog").clone();
    let replication = catalog.keyspace("ks").unwrap().replication.clone();
    let index = datanode_indexes(&c).await;
    let replicas_of = |k: i32| -> Vec<usize> {
        let token = basalt_table::token::token_of(&[Value::Int(k)]);
        ring.ring
            .replicas(token, &replication)
            .iter()
            .map(|n| index[n])
            .collect()
    };
    let victim = 1;

    // One writer at QUORUM, a row per partition; the victim is killed mid-stream.
    let acked: Arc<Mutex<Vec<i32>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, acked, stop) = (c.client(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let stmt = format!("INSERT INTO ks.t (k, c, v) VALUES ({k}, 0, 'x{k}')");
                match client.cql(&stmt, &[], &at(Consistency::Quorum)).await {
                    Ok(_) => acked.lock().unwrap().push(k),
                    Err(e) => failures.push((e.kind(), format!("{stmt}: {e}"))),
                }
                k += 1;
            }
            failures
        })
    };
    let count = || acked.lock().unwrap().len();
    wait_until("100 rows acknowledged", DEADLINE, || async { count() >= 100 }).await;
    c.kill_datanode(victim);
    let at_kill = count();
    wait_until("300 more rows acknowledged with a replica down", DEADLINE, || async {
        count() >= at_kill + 300
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let failures = writer.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    // One replica of three down leaves a quorum everywhere: a write may fail only as Unavailable (a
    // timeout on a loaded machine), and rarely.
    assert!(
        failures
            .iter()
            .all(|(kind, _)| *kind == basalt_common::ErrorKind::Unavailable),
        "{failures:#?}"
    );
    assert!(
        failures.len() * 20 <= acked.len(),
        "{} failed writes: {failures:#?}",
        failures.len()
    );
    let missed: Vec<i32> = acked[at_kill..]
        .iter()
        .copied()
        .filter(|k| replicas_of(*k).contains(&victim))
        .collect();
    assert!(
        missed.len() > 100,
        "the victim replicates rows written while it was down: {}",
        missed.len()
    );

    // Every acknowledged row is readable at QUORUM while the victim is down.
    for k in &acked {
        let got = client
            .cql_all(
                &format!("SELECT v FROM ks.t WHERE k = {k}"),
                &[],
                &at(Consistency::Quorum),
            )
            .await
            .unwrap_or_else(|e| panic!("row {k}: {e}"));
        assert_eq!(got, vec![vec![Some(Value::Text(format!("x{k}")))]], "row {k}");
    }

    // It returns: hints replay. Its own ONE reads (no other replica read, nothing repaired) see
    // every row it missed.
    c.restart_datanode(victim);
    c.wait_ready().await;
    // It listens on a new port: the ring (which carries addresses) changes, and coordinators follow.
    wait_ring_everywhere(&c, &client).await;
    let victim_addr = c.dns[victim].as_ref().unwrap().addr.clone();
    let ready = basalt_wait::try_wait_for(DEADLINE, || async {
        for k in &missed {
            if local_one_read(&victim_addr, *k).await != Some(1) {
                return None;
            }
        }
        Some(())
    })
    .await;
    if let Err(e) = ready {
        let mut seen = Vec::new();
        for k in missed.iter().take(10) {
            seen.push((k, local_one_read(&victim_addr, *k).await));
        }
        panic!("the victim lacks rows it missed ({e}): {seen:?}\n{}", c.logs());
    }
    assert!(c.log_contains("hints replayed"), "{}", c.logs());
    // An ALL read agrees.
    for k in &acked {
        let got = client
            .cql_all(&format!("SELECT v FROM ks.t WHERE k = {k}"), &[], &at(Consistency::All))
            .await
            .unwrap_or_else(|e| panic!("ALL read of row {k}: {e}"));
        assert_eq!(got, vec![vec![Some(Value::Text(format!("x{k}")))]], "row {k} at ALL");
    }

    // The processes stopped, each datanode's store, opened directly, holds the rows of its tokens and
    // only those, and no hint is pending anywhere.
    drop(client);
    for i in c.all_dns() {
        if let Some(mut dn) = c.dns[i].take() {
            assert!(dn.terminate().success(), "datanode {i} exits cleanly");
        }
    }
    let v_col = def.column("v").unwrap().id;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for i in c.all_dns() {
        let store = TableStore::open(&c.dn_dir(i).join("tables"), TableStoreOptions::default())
            .unwrap_or_else(|e| panic!("datanode {i}'s table store: {e}"));
        assert_eq!(store.count_hints().unwrap(), vec![], "datanode {i} has hints left");
        let mut held = 0;
        for k in &acked {
            let key = vec![Value::Int(*k)];
            let token = basalt_table::token::token_of(&key);
            let p = store.read(&def, &PartitionRead::all(token, key, now)).unwrap();
            let rows: Vec<_> = p.live_rows(&def, now).collect();
            if replicas_of(*k).contains(&i) {
                assert_eq!(rows.len(), 1, "datanode {i} replicates row {k}: {p:?}");
                let v = rows[0]
                    .columns
                    .iter()
                    .find(|(c, _)| *c == v_col)
                    .map(|(_, v)| v.clone());
                assert_eq!(
                    v,
                    Some(LiveValue::Simple(format!("x{k}").into_bytes())),
                    "row {k} on {i}"
                );
                assert_eq!(rows[0].clustering, vec![Value::Int(0)]);
                held += 1;
            } else {
                assert!(rows.is_empty(), "datanode {i} is no replica of row {k}: {p:?}");
            }
        }
        assert!(held > acked.len() / 2, "datanode {i} holds {held} rows");
    }
}

/// Runs `basalt cql -e STMT` with extra flags.
fn shell(c: &TestCluster, flags: &[&str], stmt: &str) -> std::process::Output {
    let mut args = vec!["cql"];
    args.extend_from_slice(flags);
    args.extend(["-e", stmt]);
    c.cli(&args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cql_shell_prints_rows_in_each_format_and_one_line_per_error() {
    let c = TestCluster::start(Opts::default()).await;
    let client = c.client();
    wait_until("three datanodes own tokens", DEADLINE, || async {
        client.ring().await.is_ok_and(|r| r.ring.nodes().len() == 3)
    })
    .await;
    wait_ring_everywhere(&c, &client).await;
    ok(shell(
        &c,
        &["--consistency", "quorum"],
        "CREATE KEYSPACE shell WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3};
         CREATE TABLE shell.t (k int, c text, v double, tags set<text>, PRIMARY KEY (k, c));
         INSERT INTO shell.t (k, c, v, tags) VALUES (1, 'a', 1.5, {'y', 'x'});
         INSERT INTO shell.t (k, c, v) VALUES (1, 'b, with comma', -2);
         INSERT INTO shell.t (k, c, v, tags) VALUES (2, 'é', NaN, {'z'});",
    ));
    let select = "SELECT k, c, v, tags FROM shell.t WHERE k = 1";
    let csv = stdout(&ok(shell(&c, &["--format", "csv", "--consistency", "QUORUM"], select)));
    assert_eq!(
        csv, "k,c,v,tags\n1,a,1.5,\"{'x', 'y'}\"\n1,\"b, with comma\",-2,\n",
        "csv: a header, then one line per row, values as cqlsh prints them"
    );
    let json = stdout(&ok(shell(&c, &["--format", "json", "--consistency", "quorum"], select)));
    let values: Vec<serde_json::Value> = match serde_json::from_str::<serde_json::Value>(&json) {
        Ok(serde_json::Value::Array(rows)) => rows,
        _ => json
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("json line {l:?}: {e}")))
            .collect(),
    };
    assert_eq!(
        values,
        vec![
            serde_json::json!({"k": 1, "c": "a", "v": 1.5, "tags": ["x", "y"]}),
            serde_json::json!({"k": 1, "c": "b, with comma", "v": -2.0, "tags": null}),
        ],
        "json: {json}"
    );
    let table = stdout(&ok(shell(
        &c,
        &["--format", "table", "--consistency", "Quorum"],
        "SELECT k, c, v FROM shell.t",
    )));
    let lines: Vec<&str> = table.lines().map(str::trim_end).collect();
    assert!(
        lines.iter().any(|l| l.split('|').map(str::trim).eq(["k", "c", "v"])),
        "{table}"
    );
    assert!(
        lines.iter().any(|l| l.split('|').map(str::trim).eq(["2", "é", "NaN"])),
        "{table}"
    );
    assert!(table.contains("(3 rows)"), "{table}");
    let count = stdout(&ok(shell(
        &c,
        &["--format", "csv", "--consistency", "all"],
        "SELECT COUNT(*) FROM shell.t",
    )));
    assert_eq!(count, "count\n3\n");

    // Errors: one clear line on stderr, a non-zero exit, nothing written.
    fails_with(shell(&c, &[], "SELEC k FROM shell.t"), "line 1:");
    fails_with(shell(&c, &[], "SELECT k FROM shell.nosuch"), "nosuch");
    fails_with(
        shell(
            &c,
            &["--consistency", "quorum"],
            "INSERT INTO shell.t (k, v) VALUES (3, 1.0)",
        ),
        "clustering",
    );
    fails_with(
        shell(&c, &[], "INSERT INTO shell.t (k, c, v) VALUES (3, 'x', 'not a double')"),
        "not a double",
    );
    fails_with(
        shell(&c, &[], "INSERT INTO shell.t (k, c, nope) VALUES (3, 'x', 1)"),
        "nope",
    );
    let bad_level = shell(&c, &["--consistency", "most"], "SELECT k FROM shell.t");
    assert!(!bad_level.status.success(), "an unknown consistency level is refused");
    let count = stdout(&ok(shell(
        &c,
        &["--format", "csv"],
        "SELECT COUNT(*) FROM shell.t WHERE k = 3",
    )));
    assert_eq!(count, "count\n0\n", "the refused statements wrote nothing");

    // A script file; DESCRIBE answers with the table's CQL.
    let file = c.dir.path().join("script.cql");
    std::fs::write(
        &file,
        "USE shell;\nINSERT INTO t (k, c, v) VALUES (4, 'file', 4.25);\nSELECT v FROM t WHERE k = 4;\n",
    )
    .unwrap();
    let out = stdout(&ok(c.cli(&[
        "cql",
        "--format",
        "csv",
        "--consistency",
        "quorum",
        "-f",
        file.to_str().unwrap(),
    ])));
    assert_eq!(out, "v\n4.25\n");
    let describe = stdout(&ok(shell(&c, &[], "DESCRIBE TABLE shell.t")));
    assert!(describe.contains("CREATE TABLE shell.t"), "{describe}");
    assert!(describe.contains("tags set<text>"), "{describe}");
}

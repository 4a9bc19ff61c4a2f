//! Write and read timeouts, in process: replicas that answer too late (every call between datanodes
//! delayed past the coordinator's timeout) give Cassandra's `WriteTimeout` / `ReadTimeout` with the
//! responses received and the number required; the late replicas get hints, so the write reaches them
//! once the links are healthy again.

use basalt_client::Client;
use basalt_client::cql::CqlOptions;
use basalt_common::ErrorKind;
use basalt_table::{Consistency, Value};
use basalt_testkit::{Action, Cluster, Options, Rule, Sel};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

fn at(consistency: Consistency) -> CqlOptions {
    CqlOptions {
        consistency,
        ..Default::default()
    }
}

async fn run(client: &Client, stmt: &str, consistency: Consistency) -> Result<Vec<Vec<Option<Value>>>, String> {
    client.cql_all(stmt, &[], &at(consistency)).await.map_err(|e| {
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{stmt}: {e}");
        e.to_string()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_replicas_give_timeouts_with_the_responses_received_and_get_hints() {
    let c = Cluster::start(Options {
        datanode_config: |d| {
            d.table_write_timeout = Duration::from_secs(1);
            d.table_read_timeout = Duration::from_secs(1);
        },
        ..Options::default()
    })
    .await;
    c.wait_ready().await;
    let client = c.client();
    for stmt in [
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        "CREATE TABLE ks.t (k int PRIMARY KEY, v text)",
        "INSERT INTO ks.t (k, v) VALUES (1, 'before')",
    ] {
        run(&client, stmt, Consistency::All).await.unwrap();
    }
    // Every replica call between datanodes now lands after the timeout: a coordinator hears only its
    // own replica in time (RF=3 on three datanodes: every coordinator is a replica).
    let slow = c
        .links()
        .add(Rule::new(Sel::Datanodes, Sel::Datanodes, Action::Delay(Duration::from_secs(5))).only("TableReplica"));
    let err = run(
        &client,
        "INSERT INTO ks.t (k, v) VALUES (2, 'late')",
        Consistency::Quorum,
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("received only 1 responses (write at QUORUM, 2 required"),
        "{err}"
    );
    let err = run(&client, "SELECT v FROM ks.t WHERE k = 1", Consistency::All)
        .await
        .unwrap_err();
    assert!(
        err.contains("received only 1 responses (read at ALL, 3 required, data present)"),
        "{err}"
    );
    // ONE needs no other replica.
    let got = run(&client, "SELECT v FROM ks.t WHERE k = 1", Consistency::One)
        .await
        .unwrap();
    assert_eq!(got, vec![vec![Some(Value::Text("before".into()))]]);

    // Healthy again: the timed-out write reached every replica (late, or by its hints).
    c.links().remove(slow);
    c.wait_until("the late write is on every replica", DEADLINE, async || {
        client
            .cql_all("SELECT v FROM ks.t WHERE k = 2", &[], &at(Consistency::All))
            .await
            .is_ok_and(|r| r == vec![vec![Some(Value::Text("late".into()))]])
    })
    .await;
    c.shutdown().await;
}

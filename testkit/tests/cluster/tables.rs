//! The table ring and the catalog through the metadata group: every datanode gets its tokens when it
//! registers, every node sees one agreed ring, schema changes are visible on followers and after a
//! failover, and tokens survive a restart.

use basalt_client::{Client, RingView};
use basalt_common::DatanodeId;
use basalt_proto::pb;
use basalt_proto::pb::client_protocol_client::ClientProtocolClient;
use basalt_table::catalog::{self, CatalogSnapshot, Effect, SchemaChange};
use basalt_table::{KeyspaceDef, Replication};
use basalt_testkit::{Cluster, Options};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);
const VNODES: usize = 16;

fn keyspace(name: &str) -> SchemaChange {
    SchemaChange::CreateKeyspace {
        def: KeyspaceDef {
            name: name.into(),
            replication: Replication::Simple { factor: 3 },
            durable_writes: true,
        },
        if_not_exists: false,
    }
}

/// Waits until the ring holds `nodes` datanodes of [`VNODES`] tokens each, and returns it.
async fn full_ring(c: &Cluster, client: &Client, nodes: usize) -> RingView {
    c.wait_until("every datanode owns its tokens", DEADLINE, async || {
        client.ring().await.is_ok_and(|v| {
            let own = v.ring.ownership();
            own.len() == nodes && own.keys().all(|n| v.ring.tokens_of(*n).len() == VNODES)
        })
    })
    .await;
    client.ring().await.unwrap()
}

/// The catalog as member `addr` has applied it (no read barrier: what a follower serves).
async fn member_catalog(addr: std::net::SocketAddr) -> Option<CatalogSnapshot> {
    let mut nn = ClientProtocolClient::connect(format!("http://{addr}")).await.ok()?;
    let req = pb::GetCatalogRequest {
        known_version: 0,
        linearizable: false,
    };
    let resp = nn.get_catalog(req).await.ok()?.into_inner();
    catalog::decode(&resp.catalog).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datanodes_get_tokens_and_agree_on_one_ring_that_survives_a_restart() {
    let mut c = Cluster::start(Options::default()).await;
    let client = c.client();
    let view = full_ring(&c, &client, 3).await;
    let ids: Vec<DatanodeId> = (0..3).map(|i| c.datanode(i).id()).collect();
    for id in &ids {
        assert_eq!(view.ring.tokens_of(*id).len(), VNODES, "{id}");
        assert!(view.nodes[id].addr.starts_with("127.0.0.1:"));
    }
    let own = view.ring.ownership();
    let (max, min) = own.values().fold((0f64, 1f64), |(a, b), s| (a.max(*s), b.min(*s)));
    assert!(max / min < 1.2, "balanced ownership: {own:?}");
    // Every datanode's view converges on the same ring (refreshed from heartbeat versions).
    c.wait_until("every datanode sees the ring", DEADLINE, async || {
        (0..3).all(|i| *c.datanode(i).schema().ring() == view)
    })
    .await;

    // Datanodes re-register after the namenode restarts: they keep their tokens.
    c.kill_namenode(1).await;
    c.restart_namenode(1).await;
    c.wait_ready().await;
    let after = client.ring().await.unwrap();
    assert_eq!(after.ring.tokens(), view.ring.tokens(), "tokens survive the restart");
    assert_eq!(
        after.ring.version(),
        view.ring.version(),
        "re-registration changes nothing"
    );
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_changes_reach_followers_datanodes_and_survive_failover() {
    let mut c = Cluster::start(Options {
        namenodes: 3,
        datanodes: 3,
        ..Options::default()
    })
    .await;
    let client = c.client();
    let view = full_ring(&c, &client, 3).await;

    let out = client.schema_change(&keyspace("shop")).await.unwrap();
    assert_eq!(out.effect, Effect::Created);
    let err = client.schema_change(&keyspace("shop")).await.unwrap_err();
    assert_eq!(err.kind(), basalt_common::ErrorKind::AlreadyExists, "{err}");
    assert!(err.to_string().contains("keyspace shop already exists"), "{err}");
    let cat = client.catalog().await.unwrap();
    assert_eq!(cat.version, out.version);
    assert!(cat.keyspace("shop").is_some());

    // Over the wire: a retried request (same client and request id) returns the first result; bad
    // bytes are a typed Invalid error.
    let leader = c.leader().unwrap();
    let mut nn = ClientProtocolClient::connect(format!("http://{}", c.namenode_addr(leader)))
        .await
        .unwrap();
    let req = pb::SchemaChangeRequest {
        change: catalog::encode(&keyspace("retried")),
        client_name: "tester".into(),
        request_id: 77,
    };
    let first = nn.schema_change(req.clone()).await.unwrap().into_inner();
    let again = nn.schema_change(req).await.unwrap().into_inner();
    assert_eq!((first.version, &first.output), (again.version, &again.output));
    let bad = pb::SchemaChangeRequest {
        change: vec![1, 0xc1],
        client_name: "tester".into(),
        request_id: 78,
    };
    let status = nn.schema_change(bad).await.unwrap_err();
    let err = basalt_proto::RemoteError::from(status);
    assert_eq!(err.kind, basalt_common::ErrorKind::Invalid, "{}", err.message);
    let out = catalog::decode::<basalt_table::catalog::SchemaChangeOutput>(&first.output).unwrap();

    // Followers serve it once applied; datanodes pick it up from heartbeat versions.
    for id in (1..=3).filter(|&id| id != leader) {
        let addr = c.namenode_addr(id);
        c.wait_until("a follower serves the new catalog", DEADLINE, async || {
            member_catalog(addr)
                .await
                .is_some_and(|k| k.version >= out.version && k.keyspace("shop").is_some())
        })
        .await;
    }
    c.wait_until("every datanode sees the keyspace", DEADLINE, async || {
        (0..3).all(|i| c.datanode(i).schema().catalog().version() >= out.version)
    })
    .await;
    // A coordinator asking for a version it already has returns at once.
    let got = c
        .datanode(0)
        .schema()
        .refresh_at_least(out.version, DEADLINE)
        .await
        .unwrap();
    assert!(got.keyspace("shop").is_some());

    // The leader dies: the catalog and the ring are the new leader's too.
    c.kill_namenode(leader).await;
    c.wait_leader("a new leader", |l| l != leader).await;
    let out2 = client.schema_change(&keyspace("more")).await.unwrap();
    assert_eq!(out2.version, out.version + 1);
    let cat = client.catalog().await.unwrap();
    assert!(cat.keyspace("shop").is_some() && cat.keyspace("more").is_some());
    assert_eq!(client.ring().await.unwrap().ring.tokens(), view.ring.tokens());
    // A coordinator that just made a change waits for it.
    let got = c
        .datanode(1)
        .schema()
        .refresh_at_least(out2.version, DEADLINE)
        .await
        .unwrap();
    assert!(got.keyspace("more").is_some());
    let st = client.cluster_status().await.unwrap();
    assert_eq!((st.catalog_version, st.keyspaces, st.tables), (out2.version, 3, 0));
    assert_eq!(st.ring_version, view.ring.version());
    c.shutdown().await;
}

//! The cluster heals itself: a dead datanode's replicas are copied back to the replication factor.

use crate::harness::{DEADLINE, Opts, TestCluster, bytes, fails_with, ok, stdout, wait_until};
use basalt_client::CreateOptions;

const BLOCK: u64 = 128 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_datanode_replicas_are_restored() {
    let mut c = TestCluster::start(Opts {
        datanodes: 4,
        dead_interval_secs: 2.0,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    let data = bytes(5 * BLOCK as usize + 1000, 3);
    let opts = CreateOptions {
        block_size: BLOCK,
        ..Default::default()
    };
    client.write_all("/heal", &data, opts).await.unwrap();
    let live_replicas = |st: &basalt_client::ClusterStatus| -> u64 {
        st.datanodes.iter().filter(|d| d.live).map(|d| d.block_count).sum()
    };
    wait_until("18 replicas reported", DEADLINE, || async {
        live_replicas(&client.cluster_status().await.unwrap()) == 18
    })
    .await;
    // Kill the datanode holding the most replicas.
    let st = client.cluster_status().await.unwrap();
    let victim = st
        .datanodes
        .iter()
        .max_by_key(|d| d.block_count)
        .unwrap()
        .info
        .clone()
        .unwrap()
        .addr;
    c.kill_datanode_at(&victim);
    // It is declared dead, its blocks are copied from survivors, and every block has 3 live replicas.
    wait_until("3 live replicas of every block on the survivors", DEADLINE, || async {
        let st = client.cluster_status().await.unwrap();
        st.datanodes.iter().filter(|d| !d.live).count() == 1 && live_replicas(&st) == 18
    })
    .await;
    assert!(c.remote_client().read_all("/heal").await.unwrap() == data);
    let fsck = stdout(&ok(c.cli(&["fs", "fsck", "/"])));
    assert!(
        fsck.contains("under-replicated 0") && fsck.contains("missing 0"),
        "{fsck}"
    );
    assert!(fsck.contains("Status: HEALTHY"), "{fsck}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsck_reports_missing_blocks_with_a_failing_exit() {
    let mut c = TestCluster::start(Opts {
        datanodes: 2,
        replication: 1,
        dead_interval_secs: 2.0,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    let opts = CreateOptions {
        block_size: BLOCK,
        replication: 1,
        ..Default::default()
    };
    client.write_all("/single", &bytes(1000, 1), opts).await.unwrap();
    let healthy = stdout(&ok(c.cli(&["fs", "fsck", "/", "--files"])));
    assert!(
        healthy.contains("/single: 1000 bytes, 1 block(s), 1 live replica(s), RF 1: OK"),
        "{healthy}"
    );
    // Kill the only holder: once it is declared dead the block is missing and fsck fails.
    let st = client.cluster_status().await.unwrap();
    let holder = st
        .datanodes
        .iter()
        .find(|d| d.block_count == 1)
        .unwrap()
        .info
        .clone()
        .unwrap()
        .addr;
    c.kill_datanode_at(&holder);
    wait_until("fsck fails with the block missing", DEADLINE, || async {
        let o = c.cli(&["fs", "fsck", "/"]);
        let out = stdout(&o);
        !o.status.success() && out.contains("/single") && out.contains("Status: MISSING BLOCKS")
    })
    .await;
    // Reading it is one clear error naming the file and its block, from the CLI and the library.
    fails_with(c.cli(&["fs", "cat", "/single"]), "could not read blk_");
    let err = c.remote_client().read_all("/single").await.unwrap_err();
    assert_eq!(err.kind(), basalt_common::ErrorKind::Unavailable, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("of /single: no live replica"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsck_pages_cover_the_tree_once_in_path_order() {
    use basalt_proto::pb;
    let c = TestCluster::start(Opts {
        datanodes: 1,
        ..Opts::default()
    })
    .await;
    let client = c.client();
    let opts = || CreateOptions {
        replication: 1,
        create_parent: true,
        ..Default::default()
    };
    for f in ["/p/e", "/p/b/d", "/p/a", "/p/b/c/x", "/p/b-z"] {
        client.write_all(f, b"some bytes", opts()).await.unwrap();
    }
    let mut nn = pb::client_protocol_client::ClientProtocolClient::connect(format!("http://{}", c.nn_addr()))
        .await
        .unwrap();
    let (mut paths, mut pages, mut blocks) = (Vec::new(), 0, 0);
    let mut start_after = String::new();
    loop {
        let req = pb::FsckRequest {
            path: "/p".into(),
            start_after,
            limit: 2,
        };
        let caller = basalt_client::CallerId::new(&basalt_client::default_user());
        let page = nn.fsck(caller.request(req)).await.unwrap().into_inner();
        assert!(page.files.len() <= 2);
        assert_eq!(page.total_files, page.files.len() as u64);
        pages += 1;
        blocks += page.total_blocks;
        paths.extend(page.files.into_iter().map(|f| f.path));
        if page.next_after.is_empty() {
            break;
        }
        start_after = page.next_after;
    }
    assert_eq!(paths, ["/p/a", "/p/b/c/x", "/p/b/d", "/p/b-z", "/p/e"]);
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(blocks, 5);
    // Unpaged (an older client) and the library's merged pages agree.
    let all = nn
        .fsck(pb::FsckRequest {
            path: "/p".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.files.len(), 5);
    assert!(all.next_after.is_empty());
    let merged = client.fsck("/p").await.unwrap();
    assert_eq!((merged.total_files, merged.total_blocks, merged.missing), (5, 5, 0));
}

//! The namenode's web UI in a real browser: the pytest suite in `tests/web/` drives Debian's
//! headless Chromium (`/usr/bin/chromium`, `/usr/bin/chromedriver`; selenium from the virtualenv
//! `scripts/deps.sh` makes) against a cluster of real processes with files written and a job run,
//! asserts on the DOM of every page and saves a screenshot of each under
//! `<target dir>/web-artifacts/`.

use crate::harness::{BIN, Opts, TestCluster, bytes, ok, stdout};
use std::path::{Path, PathBuf};

/// Chromium and its driver from Debian's packages, which `scripts/deps.sh` installs.
fn require_chromium() {
    for f in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            Path::new(f).exists(),
            "{f} is missing: run scripts/deps.sh (as root: apt-get)"
        );
    }
}

/// `<target dir>/web-artifacts`: beside the binary's `debug/` folder.
fn artifacts() -> PathBuf {
    let bin = Path::new(BIN);
    let target = bin.parent().and_then(Path::parent).unwrap_or(Path::new("."));
    target.join("web-artifacts")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_web_ui_in_a_real_browser() {
    crate::pytest::pyenv();
    require_chromium();
    let mut c = TestCluster::start(Opts {
        namenode_args: &["--http", "127.0.0.1:0"],
        datanode_args: &["--http", "127.0.0.1:0"],
        // The last page test kills a datanode and watches it turn dead.
        dead_interval_secs: 3.0,
        ..Default::default()
    })
    .await;
    let client = c.client();
    client.mkdirs("/web/sub", true).await.unwrap();
    client
        .write_all("/web/hello.txt", b"hello web ui\nhello basalt\n", Default::default())
        .await
        .unwrap();
    // 128 KiB blocks: three blocks.
    client
        .write_all("/web/blocks.bin", &bytes(300_000, 21), Default::default())
        .await
        .unwrap();
    c.start_executors(1).await;
    let o = ok(c.cli(&["job", "wordcount", "-r", "1", "/web/hello.txt", "/out/wc"]));
    assert!(stdout(&o).contains("succeeded"), "{}", stdout(&o));
    crate::harness::wait_until("fsck healthy", crate::harness::DEADLINE, || async { c.fsck_healthy() }).await;

    let status = client.cluster_status().await.unwrap();
    let dns: Vec<serde_json::Value> = status
        .datanodes
        .iter()
        .map(|d| {
            let info = d.info.clone().unwrap_or_default();
            serde_json::json!({"id": info.id, "addr": info.addr, "http": d.http_addr})
        })
        .collect();
    let victim = c.dns[2].as_ref().expect("running");
    let victim_id = status
        .datanodes
        .iter()
        .filter_map(|d| d.info.clone())
        .find(|i| i.addr == victim.addr)
        .map(|i| i.id)
        .expect("the victim is registered");
    let victim_pid = victim.pid();
    let ui = format!("http://{}", c.nn.http.clone().expect("namenode http"));
    let dir = artifacts();
    let env = [
        ("BASALT_UI", ui),
        ("BASALT_NAMENODE", c.nn_addr()),
        ("BASALT_BIN", BIN.to_string()),
        ("BASALT_DATANODES", serde_json::to_string(&dns).unwrap()),
        ("BASALT_WEB_ARTIFACTS", dir.display().to_string()),
        ("BASALT_VICTIM_PID", victim_pid.to_string()),
        ("BASALT_VICTIM_ID", victim_id.to_string()),
        // Selenium must not look for a driver on the network: the paths are given.
        ("SE_AVOID_STATS", "true".to_string()),
        ("SE_OFFLINE", "true".to_string()),
    ];
    let args = ["-s".to_string(), "test_ui.py".to_string()];
    let note = format!(", screenshots in {}", dir.display());
    crate::pytest::run(&c, "web", &args, &env, &note).await;
}

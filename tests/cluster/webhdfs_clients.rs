//! WebHDFS with the real HDFS clients: HdfsCLI (`hdfs`) and fsspec's webhdfs from PyPI, unmodified,
//! running the suite in `tests/webhdfs/` (pytest) against a cluster of real processes whose namenode
//! and datanodes serve HTTP; plus what a Python client cannot do politely (a caller that disconnects
//! in the middle of an upload), over raw TCP. The clients come from the virtualenv `scripts/deps.sh`
//! makes (`BASALT_PYENV` names another one).

use crate::harness::{BIN, DEADLINE, Opts, TestCluster, stdout, wait_until};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

/// The cluster's block size: 3 blocks are a few MiB.
const BLOCK: u64 = 1 << 20;

fn opts() -> Opts {
    Opts {
        datanodes: 3,
        http: true,
        block_size: "1MiB",
        ..Default::default()
    }
}

/// The user the namenode runs as (its superuser).
fn os_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn nn_http(c: &TestCluster) -> String {
    c.nn.http.clone().expect("namenode started with --http")
}

#[tokio::test(flavor = "multi_thread")]
async fn hdfscli_and_fsspec() {
    let c = TestCluster::start(opts()).await;
    let env = [
        ("BASALT_WEBHDFS", format!("http://{}", nn_http(&c))),
        ("BASALT_NAMENODE", c.nn_addr()),
        ("BASALT_BIN", BIN.to_string()),
        ("BASALT_BLOCK_SIZE", BLOCK.to_string()),
        ("BASALT_SUPERUSER", os_user()),
    ];
    let only: Vec<String> = std::env::var("BASALT_WEBHDFS_TESTS").ok().into_iter().collect();
    crate::pytest::run(&c, "webhdfs", &only, &env, "").await;
}

/// One HTTP/1.1 exchange over a fresh connection: (status, head, body).
fn exchange(addr: &str, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).unwrap();
    s.write_all(request).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("read the answer");
    let split = got.windows(4).position(|w| w == b"\r\n\r\n").expect("a full head");
    let head = String::from_utf8_lossy(&got[..split]).to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).expect("a status");
    (status, head, got[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_cut_short_leaves_the_file_open_not_closed_short() {
    let c = TestCluster::start(opts()).await;
    let user = os_user();
    let nn = nn_http(&c);
    let req = format!(
        "PUT /webhdfs/v1/cut?op=CREATE&user.name={user}&noredirect=true HTTP/1.1\r\nHost: {nn}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    let (status, _, body) = exchange(&nn, req.as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let location: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let location = location["Location"].as_str().expect("a Location").to_string();
    let rest = location.strip_prefix("http://").expect("an http URL");
    let (dn, path) = rest.split_at(rest.find('/').expect("a path"));

    // Promise 8 MiB, send 3 MiB (past the first block), hang up.
    let promised = 8 * BLOCK;
    let mut s = TcpStream::connect(dn).expect("connect to the datanode");
    let head = format!("PUT {path} HTTP/1.1\r\nHost: {dn}\r\nContent-Length: {promised}\r\n\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let chunk = vec![7u8; 64 * 1024];
    for _ in 0..(3 * BLOCK as usize / chunk.len()) {
        s.write_all(&chunk).unwrap();
    }
    s.flush().unwrap();
    drop(s);

    wait_until("the datanode saw the body end early", DEADLINE, || async {
        c.log_contains("The request body ended early")
    })
    .await;
    let stat = stdout(&c.cli(&["fs", "stat", "/cut"]));
    assert!(stat.contains("Open for writing: yes"), "{stat}");
    let size: u64 = stat
        .lines()
        .find_map(|l| l.trim().strip_prefix("Size: "))
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("a size");
    assert!(size < promised, "{stat}");
}

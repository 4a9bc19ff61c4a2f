//! `basalt local`: a whole cluster in one command; stopped with Ctrl-C and started again on the same
//! folder, the same files are there.

use crate::harness::{BIN, DEADLINE, cli_with, ok, stdout, wait_until};
use std::process::{Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_local(dir: &std::path::Path, addr: &str) -> std::process::Child {
    let child = Command::new(BIN)
        .args([
            "local",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            addr,
            "--datanodes",
            "2",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("local cluster up", DEADLINE, || async {
        let o = cli_with(addr, &["cluster", "status"]);
        o.status.success() && stdout(&o).contains("Datanodes: 2 live") && stdout(&o).contains("Safe mode: off")
    })
    .await;
    child
}

fn interrupt(mut child: std::process::Child) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(status.success(), "basalt local exited with {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_cluster_restarts_with_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let addr = format!("127.0.0.1:{}", free_port());
    let local = dir.path().join("hello.txt");
    std::fs::write(&local, b"kept across restarts\n").unwrap();

    let child = start_local(&data, &addr).await;
    ok(cli_with(&addr, &["fs", "put", local.to_str().unwrap(), "/hello.txt"]));
    interrupt(child);

    let child = start_local(&data, &addr).await;
    let cat = ok(cli_with(&addr, &["fs", "cat", "/hello.txt"]));
    assert_eq!(stdout(&cat), "kept across restarts\n");
    interrupt(child);
}

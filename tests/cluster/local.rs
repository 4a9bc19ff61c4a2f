//! `basalt local`: a whole cluster in one command; stopped with Ctrl-C and started again on the same
//! folder, the same files are there.

use crate::harness::{BIN, DEADLINE, Proc, cli_with, fails_with, free_ports, ok, stdout, wait_until};
use std::process::{Command, Stdio};

async fn start_local(dir: &std::path::Path, addr: &str, http: &str) -> std::process::Child {
    let child = Command::new(BIN)
        .args([
            "local",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            addr,
            "--datanodes",
            "2",
            // Not 9042: tests run in parallel, beside whatever else this machine runs.
            "--cql",
            "127.0.0.1:0",
            "--http",
            http,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("local cluster up", DEADLINE, || async {
        let o = cli_with(addr, &["cluster", "status"]);
        let out = stdout(&o);
        // One executor per datanode, each registered with the scheduler.
        o.status.success()
            && out.contains("Datanodes: 2 live")
            && out.contains("Safe mode: off")
            && out.contains("Executors: 2 (4 slots")
    })
    .await;
    child
}

/// The status line of a plain HTTP/1.1 GET of `path` from `addr`.
fn http_status(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply.lines().next().unwrap_or_default().to_string()
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
    let ports = free_ports(2);
    let (addr, http) = (format!("127.0.0.1:{}", ports[0]), format!("127.0.0.1:{}", ports[1]));
    let local = dir.path().join("hello.txt");
    std::fs::write(&local, b"kept across restarts\n").unwrap();

    let child = start_local(&data, &addr, &http).await;
    // The namenode serves HTTP where it was told to.
    assert_eq!(http_status(&http, "/no-such-page"), "HTTP/1.1 404 Not Found");
    // Each datanode's CQL and HTTP addresses, as it registered, are in the CQL and HTTP columns of
    // cluster status, and its HTTP server answers.
    let status = stdout(&ok(cli_with(&addr, &["cluster", "status"])));
    let rows: Vec<&str> = status
        .lines()
        .skip_while(|l| !(l.trim_start().starts_with("ID ") && l.contains(" CQL ")))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(rows.len(), 2, "{status}");
    for row in rows {
        let cql = row.split_whitespace().nth(2).unwrap_or_default();
        assert!(
            cql.parse::<std::net::SocketAddr>().is_ok(),
            "CQL column {cql:?}: {status}"
        );
        let dn_http = row.split_whitespace().nth(3).unwrap_or_default();
        assert_eq!(
            http_status(dn_http, "/"),
            "HTTP/1.1 404 Not Found",
            "HTTP column: {status}"
        );
    }
    ok(cli_with(&addr, &["fs", "put", local.to_str().unwrap(), "/hello.txt"]));
    interrupt(child);

    let child = start_local(&data, &addr, &http).await;
    let cat = ok(cli_with(&addr, &["fs", "cat", "/hello.txt"]));
    assert_eq!(stdout(&cat), "kept across restarts\n");
    interrupt(child);
}

/// Roles read their settings from a TOML file; a flag on the command line wins over the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_start_from_config_files() {
    use Proc;
    let dir = tempfile::tempdir().unwrap();
    let nn_toml = dir.path().join("namenode.toml");
    std::fs::write(
        &nn_toml,
        format!(
            "listen = \"127.0.0.1:0\"\ndata-dir = \"{}\"\nreplication = 3\nblock-size = \"1MiB\"\n",
            dir.path().join("nn").display()
        ),
    )
    .unwrap();
    // The file says replication 3; the command line says 1 and wins.
    let nn_args: Vec<String> = ["namenode", "--config", nn_toml.to_str().unwrap(), "--replication", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let _nn = Proc::spawn(&nn_args, &dir.path().join("namenode.log"));
    let addr = _nn.addr.clone();
    let dn_toml = dir.path().join("datanode.toml");
    std::fs::write(
        &dn_toml,
        format!(
            "namenode = \"{addr}\"\nlisten = \"127.0.0.1:0\"\ndata-dir = \"{}\"\nheartbeat-ms = 200\n",
            dir.path().join("dn").display()
        ),
    )
    .unwrap();
    let dn_args: Vec<String> = ["datanode", "--config", dn_toml.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let _dn = Proc::spawn(&dn_args, &dir.path().join("datanode.log"));
    let client = basalt_client::Client::connect(basalt_client::ClientConfig::new(addr.clone())).unwrap();
    wait_until("the datanode is live", DEADLINE, || async {
        client
            .cluster_status()
            .await
            .is_ok_and(|s| !s.safe_mode && s.datanodes.iter().any(|d| d.live))
    })
    .await;
    client
        .write_all("/from-config", b"configured", Default::default())
        .await
        .unwrap();
    let st = client.stat("/from-config").await.unwrap();
    assert_eq!(
        (st.replication, st.block_size),
        (1, 1 << 20),
        "flag over file, file over default"
    );
    // A bad file is one clear line and a failing exit.
    std::fs::write(&nn_toml, "[namenode]\nid = 1\n").unwrap();
    fails_with(
        cli_with(&addr, &["namenode", "--config", nn_toml.to_str().unwrap()]),
        "sections are not supported",
    );
}

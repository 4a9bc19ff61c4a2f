//! `/metrics` of every role and `--log-format json`, from real processes after some file traffic:
//! the text parsed line by line (the Prometheus text format), values checked against the traffic, and
//! every metric the Grafana dashboard in deploy/monitoring names found among them.

use crate::harness::{DEADLINE, Opts, Proc, TestCluster, bytes, wait_until};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of a text exposition (comments and `# EOF` skipped).
pub fn parse(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("bad value: {line:?}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_string(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line:?}"));
                let labels = body
                    .split("\",")
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (k, v) = p
                            .split_once("=\"")
                            .unwrap_or_else(|| panic!("bad label {p:?}: {line:?}"));
                        (k.to_string(), v.trim_end_matches('"').to_string())
                    })
                    .collect();
                (name.to_string(), labels)
            }
        };
        out.push(Sample { name, labels, value });
    }
    out
}

/// A plain HTTP/1.1 GET: (status code, headers, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let code = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    // Chunked bodies (axum streams some): strip the chunk sizes.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_string()
    };
    (code, head.to_string(), body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The samples `/metrics` of `addr` serves, after checking its content type.
pub fn scrape(addr: &str) -> Vec<Sample> {
    let (code, head, body) = http_get(addr, "/metrics");
    assert_eq!(code, 200, "{head}\n{body}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    parse(&body)
}

/// The sum of the samples named `name` whose labels include `want`.
pub fn sum(samples: &[Sample], name: &str, want: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && want
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

fn has(samples: &[Sample], name: &str) -> bool {
    samples.iter().any(|s| s.name == name)
}

/// The `basalt_...` metric names the dashboard's PromQL expressions use.
fn dashboard_metrics() -> BTreeSet<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/monitoring/grafana-dashboard.json");
    let dash: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let panels = dash["panels"].as_array().expect("panels");
    assert!(panels.len() >= 10, "a dashboard of the issue's metrics");
    let mut names = BTreeSet::new();
    for p in panels {
        let targets = p["targets"]
            .as_array()
            .unwrap_or_else(|| panic!("panel without targets: {p}"));
        assert!(!targets.is_empty(), "{p}");
        for t in targets {
            let expr = t["expr"].as_str().expect("expr");
            let mut rest = expr;
            while let Some(at) = rest.find("basalt_") {
                let tail = &rest[at..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                names.insert(tail[..end].to_string());
                rest = &tail[end..];
            }
        }
    }
    names
}

/// The scrape config names each role's job with the deploy templates' HTTP ports.
#[test]
fn the_prometheus_config_scrapes_every_role_on_the_template_ports() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/monitoring/prometheus.yml");
    let text = std::fs::read_to_string(path).unwrap();
    // A small YAML reader is enough for this file: job_name lines, then their targets.
    let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines().map(str::trim) {
        if let Some(job) = line.strip_prefix("- job_name:") {
            current = Some(job.trim().to_string());
        } else if let Some(targets) = line.strip_prefix("- targets:") {
            let list: Vec<String> = targets
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|t| t.trim().trim_matches('"').to_string())
                .collect();
            jobs.entry(current.clone().expect("targets under a job"))
                .or_default()
                .extend(list);
        } else if let Some(p) = line.strip_prefix("metrics_path:") {
            assert_eq!(p.trim(), "/metrics");
        }
    }
    let port = |job: &str| -> BTreeSet<String> {
        jobs[job]
            .iter()
            .map(|t| t.rsplit(':').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    assert_eq!(port("basalt-namenode"), BTreeSet::from(["9870".to_string()]));
    assert_eq!(port("basalt-datanode"), BTreeSet::from(["9864".to_string()]));
    assert_eq!(port("basalt-executor"), BTreeSet::from(["8042".to_string()]));
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config");
    for (file, p) in [
        ("namenode.toml", "9870"),
        ("datanode.toml", "9864"),
        ("executor.toml", "8042"),
    ] {
        let t = std::fs::read_to_string(templates.join(file)).unwrap();
        assert!(
            t.contains(&format!("http = \"0.0.0.0:{p}\"")),
            "{file} serves HTTP on {p}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_serves_metrics_that_count_the_traffic() {
    let c = TestCluster::start(Opts {
        namenode_args: &["--http", "127.0.0.1:0", "--log-format", "json"],
        datanode_args: &["--http", "127.0.0.1:0"],
        ..Default::default()
    })
    .await;
    let client = c.client();
    // 128 KiB blocks: three blocks, each written to three datanodes.
    let data = bytes(300_000, 13);
    client
        .write_all("/metrics-data", &data, Default::default())
        .await
        .unwrap();
    assert_eq!(client.read_all("/metrics-data").await.unwrap(), data);
    let ex_log = c.dir.path().join("executor-metrics.log");
    let ex_args: Vec<String> = [
        "--namenode",
        &c.nn.addr,
        "executor",
        "--datanode",
        &c.dns[0].as_ref().unwrap().addr,
        "--work-dir",
        &c.dir.path().join("ex-metrics").display().to_string(),
        "--http",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let ex = Proc::spawn_until(&ex_args, &ex_log, " http on ");

    let nn_http = c.nn.http.clone().expect("namenode http");
    // Heartbeats and reports reach the namenode on their own; wait until the traffic shows.
    wait_until("namenode counts the writes and heartbeats", DEADLINE, || async {
        let s = scrape(&nn_http);
        let ok = |service: &str, method: &str| {
            sum(
                &s,
                "basalt_rpc_requests_total",
                &[("service", service), ("method", method), ("status", "ok")],
            )
        };
        ok("ClientProtocol", "Complete") >= 1.0 && ok("DatanodeProtocol", "Heartbeat") >= 3.0
    })
    .await;
    let nn = scrape(&nn_http);
    let rpc = |method: &str| {
        sum(
            &nn,
            "basalt_rpc_requests_total",
            &[("service", "ClientProtocol"), ("method", method)],
        )
    };
    assert!(rpc("Create") >= 1.0, "{nn:?}");
    assert!(rpc("AddBlock") >= 3.0, "three blocks");
    assert!(rpc("GetBlockLocations") >= 1.0);
    assert!(
        sum(
            &nn,
            "basalt_rpc_requests_total",
            &[("service", "DatanodeProtocol"), ("method", "Heartbeat")]
        ) >= 3.0
    );
    assert!(sum(&nn, "basalt_rpc_duration_seconds_count", &[("method", "Create")]) >= 1.0);
    assert!(has(&nn, "basalt_rpc_duration_seconds_bucket"));
    assert!(sum(&nn, "basalt_raft_commit_index", &[]) > 0.0);
    assert!(sum(&nn, "basalt_raft_applied_index", &[]) > 0.0);
    assert!(sum(&nn, "basalt_raft_term", &[]) >= 1.0);
    assert_eq!(sum(&nn, "basalt_raft_is_leader", &[]), 1.0);
    assert!(
        sum(&nn, "basalt_raft_leader_changes_total", &[]) >= 1.0,
        "it became leader"
    );
    assert!(sum(&nn, "basalt_raft_proposal_batch_size_count", &[]) >= 1.0);
    assert_eq!(sum(&nn, "basalt_datanodes", &[("state", "live")]), 3.0);
    assert!(sum(&nn, "basalt_namespace_files", &[]) >= 1.0);
    assert!(has(&nn, "basalt_block_queue_length") && has(&nn, "basalt_blocks_health"));
    assert!(sum(&nn, "basalt_process_resident_memory_bytes", &[]) > 0.0);
    assert!(sum(&nn, "basalt_process_open_fds", &[]) > 0.0);
    assert!(sum(&nn, "basalt_process_threads", &[]) >= 1.0);
    assert!(has(&nn, "basalt_process_cpu_seconds_total"));

    // Each datanode wrote the replicas it holds: together at least three times the bytes put; the
    // read came from one of them, over TCP or short-circuit.
    let mut written = 0.0;
    let mut read = 0.0;
    let mut write_blocks = 0.0;
    let mut all = nn.clone();
    for dn in c.dns.iter().flatten() {
        let s = scrape(dn.http.as_ref().expect("datanode http"));
        written += sum(&s, "basalt_block_bytes_total", &[("op", "write")]);
        read += sum(&s, "basalt_block_bytes_total", &[("op", "read")]);
        write_blocks += sum(
            &s,
            "basalt_rpc_requests_total",
            &[("service", "DataTransfer"), ("method", "WriteBlock")],
        );
        assert!(sum(&s, "basalt_process_resident_memory_bytes", &[]) > 0.0);
        assert!(has(&s, "basalt_table_wal_syncs_total"), "table store WAL syncs");
        all.extend(s);
    }
    assert!(
        written >= 3.0 * data.len() as f64,
        "written {written} of 3 x {}",
        data.len()
    );
    assert!(read >= data.len() as f64, "read {read} of {}", data.len());
    assert!(write_blocks >= 9.0, "3 blocks x 3 replicas: {write_blocks}");

    // The executor tells the scheduler where it serves /metrics; `cluster status` lists it.
    let ex_http = ex.http.clone().expect("executor http");
    wait_until("the executor's HTTP address is known", DEADLINE, || async {
        client
            .executors()
            .await
            .is_ok_and(|e| e.iter().any(|e| e.http_addr == ex_http))
    })
    .await;
    let status = crate::harness::stdout(&crate::harness::ok(c.cli(&["cluster", "status"])));
    assert!(status.contains(&ex_http), "{status}");
    let ex_metrics = scrape(ex.http.as_ref().map_or(&ex.addr, |h| h));
    assert!(sum(&ex_metrics, "basalt_process_resident_memory_bytes", &[]) > 0.0);
    assert!(has(&ex_metrics, "basalt_executor_tasks_running"));
    all.extend(ex_metrics);

    // Every metric the dashboard charts is served by some role (counters, histograms by family).
    let served: BTreeSet<String> = all.iter().map(|s| s.name.clone()).collect();
    for name in dashboard_metrics() {
        let found = served.contains(&name)
            || ["_bucket", "_sum", "_count"]
                .iter()
                .any(|suffix| served.contains(&format!("{name}{suffix}")));
        assert!(
            found,
            "the dashboard charts {name}, which no role serves; served: {served:?}"
        );
    }

    // --log-format json: every line of the namenode's log is one object with level, target, fields.
    let log = std::fs::read_to_string(c.dir.path().join("namenode.log")).unwrap();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "{log}");
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["target"].is_string() && v["fields"].is_object(),
            "{line}"
        );
        assert!(v["timestamp"].is_string(), "{line}");
    }
    assert!(
        lines.iter().any(|l| l.contains("\"namenode started\"")),
        "the start message as a field: {log}"
    );
    drop(ex);
}

//! Data dirs written by earlier builds open with this one: each fixture in `tests/fixtures/<format>/`
//! (made by `tests/fixtures/make-fixture.sh` with the build of that format) is copied, started with the
//! current build, and every file it lists must read back intact, before and after new writes and a
//! restart that leaves the old and the new formats side by side in the log.

use crate::harness::{Opts, TestCluster, ok, stdout};
use basalt_client::CreateOptions;
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The contents `make-fixture.sh` wrote: for each (name, lines) part, lines "name line i".
fn expected_contents(parts: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for pair in parts.chunks(2) {
        let n: usize = pair[1].parse().unwrap();
        for i in 1..=n {
            out.push_str(&format!("{} line {i}\n", pair[0]));
        }
    }
    out.into_bytes()
}

async fn check_fixture(format: &str) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format);
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture.join("namenode"), &dir.path().join("nn"));
    copy_dir(&fixture.join("datanode"), &dir.path().join("dn0"));
    let opts = Opts {
        datanodes: 1,
        replication: 1,
        ..Opts::default()
    };
    let mut c = TestCluster::start_in(dir, opts).await;
    let expected = std::fs::read_to_string(fixture.join("expected.txt")).unwrap();
    let check_all = |c: &TestCluster| {
        let client = c.client();
        let expected = expected.clone();
        let logs = c.logs();
        async move {
            for line in expected.lines() {
                let words: Vec<&str> = line.split_whitespace().collect();
                let got = client
                    .read_all(words[0])
                    .await
                    .unwrap_or_else(|e| panic!("{format}: {}: {e}\n{logs}", words[0]));
                assert!(got == expected_contents(&words[1..]), "{format}: {} differs", words[0]);
            }
        }
    };
    check_all(&c).await;
    let tables = fixture.join("table.cql").exists();
    if tables {
        check_tables(&c, &fixture).await;
    }
    // The namespace as the old build listed it: names, kinds, owners, modes, replication and sizes.
    let columns = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                format!("{} {} {} {} {} {}", f[0], f[1], f[2], f[3], f[4], f[f.len() - 1])
            })
            .collect()
    };
    let before = std::fs::read_to_string(fixture.join("listing-before.txt")).unwrap();
    let now = stdout(&ok(c.cli(&["fs", "ls", "-R", "/fixture"])));
    assert_eq!(columns(&now), columns(&before), "{format}: the listing changed");
    let fsck = stdout(&ok(c.cli(&["fs", "fsck", "/fixture"])));
    assert!(fsck.contains("missing 0") && fsck.contains("corrupt 0"), "{fsck}");
    // Job records (`v5` on): id, name, state and output as the old build listed them.
    let jobs = fixture.join("jobs-before.txt");
    if jobs.exists() {
        let job_columns = |s: &str| -> Vec<String> {
            s.lines()
                .skip(1)
                .map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    format!("{} {} {} {}", f[0], f[1], f[2], f[f.len() - 1])
                })
                .collect()
        };
        let before = std::fs::read_to_string(&jobs).unwrap();
        let now = stdout(&ok(c.cli(&["job", "list"])));
        assert_eq!(
            job_columns(&now),
            job_columns(&before),
            "{format}: the job records changed"
        );
    }

    // New writes on top of the old data, then a restart: the log now holds both formats.
    let client = c.client();
    let opts = CreateOptions {
        create_parent: true,
        ..Default::default()
    };
    client
        .write_all("/after-upgrade/new.txt", b"written by this build\n", opts)
        .await
        .unwrap();
    client
        .rename("/fixture/dir/empty", "/fixture/moved-empty")
        .await
        .unwrap();
    c.restart_namenode();
    c.restart_datanode(0);
    c.wait_ready().await;
    check_all(&c).await;
    let client = c.client();
    assert_eq!(
        client.read_all("/after-upgrade/new.txt").await.unwrap(),
        b"written by this build\n"
    );
    assert!(client.exists("/fixture/moved-empty").await.unwrap());
    if tables {
        // The old rows, and one written by this build, after a restart with both on disk.
        ok(c.cli(&[
            "cql",
            "-e",
            "INSERT INTO fx.t (p, q, c1, c2, v) VALUES ('new', 4, 1, 'n', 40)",
        ]));
        c.restart_namenode();
        c.restart_datanode(0);
        c.wait_ready().await;
        check_tables(&c, &fixture).await;
        let new = cql_csv(&c, "SELECT v FROM fx.t WHERE p = 'new' AND q = 4").await;
        assert_eq!(new, "v\n40\n");
    }
}

/// Runs a SELECT through `basalt cql` (CSV, at ALL), retrying while the datanode still catches up
/// on the catalog and ring after its start.
async fn cql_csv(c: &TestCluster, select: &str) -> String {
    let mut last = None;
    let out = basalt_wait::try_wait_for(crate::harness::DEADLINE, || {
        let o = c.cli(&["cql", "--format", "csv", "--consistency", "all", "-e", select]);
        let ok = o.status.success();
        last = Some(crate::harness::stderr(&o));
        async move { ok.then(|| stdout(&o)) }
    })
    .await;
    out.unwrap_or_else(|e| panic!("{select}: {e}: {last:?}\n{}", c.logs()))
}

/// Tables of a fixture (format 4 on): the keyspace and the table as `table.cql` defines them, the
/// datanode's ring tokens as `ring-before.txt` lists them, and its rows as the old build printed them.
async fn check_tables(c: &TestCluster, fixture: &Path) {
    use basalt_table::cql::{Statement, parse, schema::table_def};
    let client = c.client();
    let catalog = client.catalog().await.unwrap();
    let ks = catalog.keyspace("fx").expect("keyspace fx");
    assert_eq!(ks.replication, basalt_table::Replication::Simple { factor: 1 });
    let def = catalog.table("fx", "t").expect("table fx.t");
    let Statement::CreateTable(create) = parse(&std::fs::read_to_string(fixture.join("table.cql")).unwrap()).unwrap()
    else {
        panic!("table.cql holds a CREATE TABLE");
    };
    assert_eq!(*def, table_def(&create, "fx", def.id).unwrap(), "the table as created");
    // Tokens: the lines of the token listing start with the token.
    let ring_before = std::fs::read_to_string(fixture.join("ring-before.txt")).unwrap();
    let mut before: Vec<i64> = ring_before
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    before.sort_unstable();
    assert_eq!(before.len(), 16, "{ring_before}");
    let ring = client.ring().await.unwrap();
    let now: Vec<i64> = ring.ring.tokens().iter().map(|(t, _)| *t).collect();
    assert_eq!(now, before, "the ring tokens survive the upgrade");
    let owner = ring.ring.tokens()[0].1;
    assert!(ring_before.contains(&owner.short()), "same owner: {ring_before}");
    let rows_before = std::fs::read_to_string(fixture.join("rows-before.csv")).unwrap();
    // Less the partition this build adds (`new`).
    let rows_now: String = cql_csv(c, "SELECT * FROM fx.t")
        .await
        .lines()
        .filter(|l| !l.starts_with("new,"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(rows_now, rows_before, "the rows as the old build printed them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dirs_of_format_2_open_with_this_build() {
    check_fixture("v2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dirs_of_format_3_open_with_this_build() {
    check_fixture("v3").await;
}

/// State version 4 (tables: the catalog and ring in the metadata state, the datanode's table store),
/// what builds before the jobs sub-machine wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dirs_of_format_4_open_with_this_build() {
    check_fixture("v4").await;
}

/// State version 5 (the jobs sub-machine: a killed job record), what builds before permissions wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dirs_of_format_5_open_with_this_build() {
    check_fixture("v5").await;
}

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dirs_of_format_2_open_with_this_build() {
    check_fixture("v2").await;
}

/// The format this build writes: the next build must open it (this fixture proves it then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dirs_of_format_3_open_with_this_build() {
    check_fixture("v3").await;
}

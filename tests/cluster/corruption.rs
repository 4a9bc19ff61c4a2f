//! A corrupt replica on disk is never served: readers fail over to a good replica.

use crate::harness::{Opts, TestCluster, bytes, ok};
use basalt_client::CreateOptions;
use std::path::{Path, PathBuf};

/// Every finalized replica data file (`blk_<id>`, not `.meta`) under `dir`.
fn replica_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("current")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("blk_") && !n.ends_with(".meta"))
            {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_fail_over_from_a_corrupt_replica() {
    let c = TestCluster::start(Opts::default()).await;
    let data = bytes(200_000, 77);
    let opts = CreateOptions {
        block_size: 128 * 1024,
        ..Default::default()
    };
    c.client().write_all("/victim", &data, opts).await.unwrap();
    // Flip one byte in the first replica of every block on datanode 0 and datanode 1.
    for dn in ["dn0", "dn1"] {
        let files = replica_files(&c.dir.path().join(dn));
        assert_eq!(files.len(), 2, "{dn}: {files:?}");
        for f in files {
            let mut b = std::fs::read(&f).unwrap();
            b[100] ^= 0x5a;
            std::fs::write(&f, b).unwrap();
        }
    }
    // Remote and short-circuit readers both return the right bytes, from the one good replica.
    for _ in 0..3 {
        assert!(
            c.remote_client().read_all("/victim").await.unwrap() == data,
            "remote read"
        );
        assert!(
            c.client().read_all("/victim").await.unwrap() == data,
            "short-circuit read"
        );
    }
    let cat = ok(c.cli(&["fs", "cat", "/victim"]));
    assert!(cat.stdout == data);
}

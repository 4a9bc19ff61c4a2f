//! The reader's pure parts, without a cluster: block lookup by offset, the short-circuit decision,
//! chunk verification of a memory-mapped replica, and the read-ahead and seek bookkeeping.

use super::*;
use crate::{Client, ClientConfig};
use basalt_common::checksum::chunk_checksums;
use std::io::Write;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

fn located(offset: u64, length: u64) -> pb::LocatedBlock {
    pb::LocatedBlock {
        block: Some(pb::ExtendedBlock {
            block_id: offset + 1,
            gen_stamp: 1,
            length,
        }),
        offset,
        locations: Vec::new(),
    }
}

#[test]
fn the_block_under_a_position() {
    let blocks = [located(0, 100), located(100, 100), located(200, 50)];
    for (pos, want) in [(0, 0), (99, 0), (100, 1), (199, 1), (200, 2), (249, 2), (10_000, 2)] {
        assert_eq!(block_index(&blocks, pos), want, "position {pos}");
    }
    assert_eq!(block_index(&[], 5), 0);
}

fn inner(short_circuit: bool) -> Arc<Inner> {
    let mut cfg = ClientConfig::new("127.0.0.1:1");
    cfg.short_circuit = short_circuit;
    Client::connect(cfg).unwrap().inner
}

fn datanode(host_id: &str) -> pb::DatanodeInfo {
    pb::DatanodeInfo {
        id: 1,
        addr: "127.0.0.1:9866".into(),
        host_id: host_id.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn only_replicas_on_this_host_are_read_short_circuit() {
    let on = inner(true);
    let here = on.host_id.clone();
    assert_eq!(reads_locally(&on, &datanode(&here)), !here.is_empty());
    assert!(!reads_locally(&on, &datanode("another-machine")));
    assert!(!reads_locally(&on, &datanode("")), "an unknown host is never local");
    assert!(
        !reads_locally(&inner(false), &datanode(&here)),
        "short-circuit disabled"
    );
}

const CHUNK: u32 = 1024;

/// A memory-mapped replica of `on_disk` whose checksums were computed over `good`.
fn local_replica(good: &[u8], on_disk: &[u8]) -> (tempfile::NamedTempFile, Cursor) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(on_disk).unwrap();
    file.flush().unwrap();
    // SAFETY: the test owns the file and does not change it while it is mapped.
    let map = unsafe { Mmap::map(file.as_file()) }.unwrap();
    let sums = chunk_checksums(good, CHUNK);
    let chunks = sums.len();
    let cursor = Cursor {
        index: 0,
        block: BlockId(7),
        datanode: 1,
        source: Source::Local {
            map,
            sums,
            chunk: CHUNK,
            verified: vec![false; chunks],
            addr: "127.0.0.1:9866".into(),
        },
    };
    (file, cursor)
}

fn verified(cur: &Cursor) -> Vec<bool> {
    match &cur.source {
        Source::Local { verified, .. } => verified.clone(),
        Source::Remote { .. } => unreachable!(),
    }
}

#[tokio::test]
async fn a_local_read_verifies_the_chunks_it_touches_once() {
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
    let (_file, mut cur) = local_replica(&data, &data);
    let mut out = vec![0u8; 100];
    // Bytes 1000..1100 straddle chunks 0 and 1.
    assert_eq!(read_from(&mut cur, 1000, &mut out).await.unwrap(), 100);
    assert_eq!(out, data[1000..1100]);
    let v = verified(&cur);
    assert!(v[0] && v[1] && v[2..].iter().all(|c| !c), "{v:?}");
    // The short last chunk.
    let mut tail = vec![0u8; 10];
    read_from(&mut cur, 9990, &mut tail).await.unwrap();
    assert_eq!(tail, data[9990..]);
    assert!(verified(&cur)[9]);
}

#[tokio::test]
async fn a_bad_chunk_fails_with_its_block_and_offset_and_good_chunks_still_read() {
    let data: Vec<u8> = (0..5000u32).map(|i| (i * 13) as u8).collect();
    let mut bad = data.clone();
    bad[3 * CHUNK as usize + 5] ^= 0x40;
    let (_file, mut cur) = local_replica(&data, &bad);
    let mut out = vec![0u8; 200];
    let err = read_from(&mut cur, 3 * CHUNK as u64 - 100, &mut out).await.unwrap_err();
    match err {
        ClientError::Corrupt {
            block,
            source_addr,
            mismatch,
        } => {
            assert_eq!(block, BlockId(7));
            assert_eq!(source_addr, "127.0.0.1:9866");
            assert_eq!((mismatch.chunk, mismatch.offset), (3, 3 * CHUNK as u64));
        }
        other => panic!("expected a checksum mismatch, got {other:?}"),
    }
    assert!(!verified(&cur)[3], "a bad chunk is never marked verified");
    read_from(&mut cur, 0, &mut out).await.unwrap();
    assert_eq!(out, data[..200]);
}

/// A reader with no replica open: what it hands out comes from read-ahead only.
fn reader(length: u64, pos: u64, spill: &[u8]) -> FileReader {
    FileReader {
        core: None,
        pending: None,
        spill: spill.to_vec(),
        spill_at: 0,
        pos,
        length,
    }
}

#[tokio::test]
async fn read_ahead_is_handed_out_in_order_and_dropped_by_a_seek() {
    let mut r = reader(100, 10, b"abcdef");
    let mut buf = [0u8; 4];
    assert_eq!(r.read(&mut buf).await.unwrap(), 4);
    assert_eq!(&buf, b"abcd");
    assert_eq!(r.read(&mut buf).await.unwrap(), 2);
    assert_eq!(&buf[..2], b"ef");
    assert_eq!(r.position(), 16);
    // Setting the same position keeps read-ahead; another position drops it.
    let mut r = reader(100, 10, b"xyz");
    r.set_position(10);
    assert_eq!(r.read(&mut buf).await.unwrap(), 3);
    let mut r = reader(100, 10, b"xyz");
    r.set_position(50);
    assert!(r.spill.is_empty() && r.position() == 50);
}

#[tokio::test]
async fn seeks_resolve_against_the_start_the_position_and_the_end() {
    let mut r = reader(100, 0, b"");
    assert_eq!(r.seek(SeekFrom::End(-10)).await.unwrap(), 90);
    assert_eq!(r.seek(SeekFrom::Current(-40)).await.unwrap(), 50);
    assert_eq!(
        r.seek(SeekFrom::Start(500)).await.unwrap(),
        500,
        "past the end is allowed"
    );
    let err = r.seek(SeekFrom::Current(-501)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(r.position(), 500, "a failed seek does not move");
    // At or past the end, AsyncRead reads nothing (and needs no replica).
    let mut out = Vec::new();
    assert_eq!(r.read_to_end(&mut out).await.unwrap(), 0);
    assert_eq!((r.len(), r.is_empty()), (100, false));
}

#[test]
fn read_stats_snapshot_the_counters() {
    let c = ReadCounters::default();
    ReadCounters::add(&c.short_circuit_bytes, 10);
    ReadCounters::add(&c.network_bytes, 3);
    ReadCounters::add(&c.network_bytes, 4);
    ReadCounters::add(&c.short_circuit_fallbacks, 1);
    assert_eq!(
        c.snapshot(),
        ReadStats {
            short_circuit_bytes: 10,
            network_bytes: 7,
            short_circuit_fallbacks: 1,
            short_circuit_corrupt: 0,
        }
    );
}

//! Block store: round trip through a reopen, crash leftovers, corruption on disk, write conflicts.

use basalt_common::checksum::chunk_checksums;
use basalt_common::{BlockId, ErrorKind, GenStamp};
use basalt_datanode::{BlockStore, DatanodeError};
use std::fs;

const CHUNK: u32 = 64;

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// Writes `bytes` as one replica in packets of `packet` bytes and finalizes it.
fn write_replica(store: &BlockStore, block: BlockId, gs: GenStamp, bytes: &[u8], packet: usize) {
    let mut w = store.begin_write(block, gs, CHUNK).unwrap();
    let mut offset = 0u64;
    for (seqno, piece) in bytes.chunks(packet).enumerate() {
        w.append(seqno as u64, offset, piece, &chunk_checksums(piece, CHUNK))
            .unwrap();
        offset += piece.len() as u64;
    }
    w.finalize().unwrap();
}

#[test]
fn replica_survives_reopen_and_reads_back_verified() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = data(1000, 1);
    let (block, gs) = (BlockId(0x0102_0304), GenStamp(3));
    {
        let store = BlockStore::open(dir.path()).unwrap();
        write_replica(&store, block, gs, &bytes, 256);
        assert_eq!(store.len(), 1);
    }
    let store = BlockStore::open(dir.path()).unwrap();
    let replicas = store.replicas();
    assert_eq!(replicas.len(), 1);
    let r = &replicas[0];
    assert_eq!((r.block, r.genstamp, r.length, r.chunk_size), (block, gs, 1000, CHUNK));
    assert_eq!(r.data_path, store.layout().data_path(block));
    assert!(store.usage().unwrap().used >= 1000);

    let reader = store.open_reader(block, gs).unwrap();
    assert_eq!(reader.read(0, 10_000).unwrap().data, bytes);
    let part = reader.read(70, 100).unwrap();
    assert_eq!(part.offset, 64, "offset is rounded down to a chunk boundary");
    assert_eq!(part.data, bytes[64..192]);
    assert_eq!(part.sums.len(), 2);
    let tail = reader.read(1000, 10).unwrap();
    assert_eq!(
        (tail.offset, tail.data.len()),
        (960, 40),
        "the end offset rounds down to the last chunk"
    );
    assert_eq!(reader.read(1001, 10).unwrap_err().kind(), ErrorKind::Invalid);

    assert_eq!(
        store.lookup(block, GenStamp(4)).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(store.lookup(BlockId(9), gs).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn unfinalized_writes_are_discarded_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = BlockStore::open(dir.path()).unwrap();
        let mut w = store.begin_write(BlockId(7), GenStamp(1), CHUNK).unwrap();
        let piece = data(128, 2);
        w.append(0, 0, &piece, &chunk_checksums(&piece, CHUNK)).unwrap();
        std::mem::forget(w); // a crash: no cleanup runs
        assert!(fs::read_dir(store.layout().tmp()).unwrap().count() >= 2);
    }
    let store = BlockStore::open(dir.path()).unwrap();
    assert!(store.is_empty());
    assert_eq!(fs::read_dir(store.layout().tmp()).unwrap().count(), 0);
}

#[test]
fn dropped_writer_removes_its_temp_files_and_releases_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    let w = store.begin_write(BlockId(7), GenStamp(1), CHUNK).unwrap();
    let again = store.begin_write(BlockId(7), GenStamp(1), CHUNK).unwrap_err();
    assert!(matches!(again, DatanodeError::WriteInProgress { .. }));
    drop(w);
    assert_eq!(fs::read_dir(store.layout().tmp()).unwrap().count(), 0);
    write_replica(&store, BlockId(7), GenStamp(1), &data(10, 3), 64);
    let dup = store.begin_write(BlockId(7), GenStamp(1), CHUNK).unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::AlreadyExists);
    let stale = store.begin_write(BlockId(7), GenStamp(0), CHUNK).unwrap_err();
    assert_eq!(stale.kind(), ErrorKind::Conflict);
}

#[test]
fn newer_genstamp_replaces_the_old_replica() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    write_replica(&store, BlockId(5), GenStamp(1), &data(100, 4), 64);
    let newer = data(300, 5);
    write_replica(&store, BlockId(5), GenStamp(2), &newer, 128);
    let old_meta = store.layout().meta_path(BlockId(5), GenStamp(1));
    assert!(!old_meta.exists());
    let store = BlockStore::open(dir.path()).unwrap();
    let r = store.get(BlockId(5)).unwrap();
    assert_eq!((r.genstamp, r.length), (GenStamp(2), 300));
    assert_eq!(
        store
            .open_reader(BlockId(5), GenStamp(2))
            .unwrap()
            .read(0, 1 << 20)
            .unwrap()
            .data,
        newer
    );
}

#[test]
fn a_flipped_byte_on_disk_is_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    let (block, gs) = (BlockId(11), GenStamp(1));
    write_replica(&store, block, gs, &data(500, 6), 128);
    let path = store.layout().data_path(block);
    let mut on_disk = fs::read(&path).unwrap();
    on_disk[300] ^= 0x10;
    fs::write(&path, on_disk).unwrap();

    let reader = store.open_reader(block, gs).unwrap();
    let err = reader.read(0, 1 << 20).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(matches!(err, DatanodeError::Checksum { .. }));
    assert_eq!(
        reader.read(0, 64).unwrap().data.len(),
        64,
        "chunks before the bad one still verify"
    );

    let truncated = store.layout().data_path(block);
    fs::write(&truncated, b"short").unwrap();
    assert_eq!(reader.read(0, 1 << 20).unwrap_err().kind(), ErrorKind::Corrupt);

    assert!(store.quarantine(block, gs).is_some());
    assert!(store.get(block).is_none());
    assert_eq!(fs::read_dir(store.layout().corrupt()).unwrap().count(), 2);
}

#[test]
fn a_corrupt_checksum_packet_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    let mut w = store.begin_write(BlockId(1), GenStamp(1), CHUNK).unwrap();
    let piece = data(128, 7);
    let mut sums = chunk_checksums(&piece, CHUNK);
    sums[1] ^= 1;
    assert_eq!(w.append(0, 0, &piece, &sums).unwrap_err().kind(), ErrorKind::Corrupt);
    let err = w.append(1, 64, &piece, &chunk_checksums(&piece, CHUNK)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "out-of-order offset");
}

#[test]
fn bad_files_in_current_are_moved_aside_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad_header, orphan) = (BlockId(1), BlockId(2), BlockId(3));
    {
        let store = BlockStore::open(dir.path()).unwrap();
        for b in [good, bad_header, orphan] {
            write_replica(&store, b, GenStamp(1), &data(200, b.0), 64);
        }
        let meta = store.layout().meta_path(bad_header, GenStamp(1));
        let mut m = fs::read(&meta).unwrap();
        m[0] = b'X';
        fs::write(&meta, m).unwrap();
        fs::remove_file(store.layout().meta_path(orphan, GenStamp(1))).unwrap();
    }
    let store = BlockStore::open(dir.path()).unwrap();
    assert_eq!(store.replicas().iter().map(|r| r.block).collect::<Vec<_>>(), vec![good]);
    assert_eq!(fs::read_dir(store.layout().corrupt()).unwrap().count(), 3);
}

#[test]
fn delete_removes_files_but_keeps_newer_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    write_replica(&store, BlockId(8), GenStamp(5), &data(100, 8), 64);
    assert!(
        store.delete(BlockId(8), GenStamp(4)).unwrap().is_none(),
        "newer replica kept"
    );
    assert!(store.delete(BlockId(8), GenStamp(5)).unwrap().is_some());
    assert!(!store.layout().data_path(BlockId(8)).exists());
    assert!(store.delete(BlockId(8), GenStamp(5)).unwrap().is_none());
    assert_eq!(store.usage().unwrap().used, 0);
}

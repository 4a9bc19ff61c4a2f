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

/// Writes `bytes` at `gs` in 256-byte packets and parks the replica, as a broken stream does.
fn park_replica(store: &BlockStore, block: BlockId, gs: GenStamp, bytes: &[u8]) {
    let mut w = store.begin_write(block, gs, CHUNK).unwrap();
    let mut offset = 0u64;
    for (seqno, piece) in bytes.chunks(256).enumerate() {
        w.append(seqno as u64, offset, piece, &chunk_checksums(piece, CHUNK))
            .unwrap();
        offset += piece.len() as u64;
    }
    assert!(w.park().unwrap().is_some());
}

fn read_all(store: &BlockStore, block: BlockId, gs: GenStamp) -> Vec<u8> {
    store.open_reader(block, gs).unwrap().read(0, 1 << 20).unwrap().data
}

#[test]
fn a_parked_replica_resumes_from_an_acknowledged_offset_under_a_newer_stamp() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    let (block, bytes) = (BlockId(20), data(1000, 20));
    park_replica(&store, block, GenStamp(1), &bytes);
    let p = store.parked(block).unwrap();
    assert_eq!((p.replica.genstamp, p.replica.length), (GenStamp(1), 1000));
    assert!(store.get(block).is_none() && store.replicas().is_empty());
    assert_eq!(store.usage().unwrap().used, 0, "parked replicas are not counted");

    let err = |gs, offset, chunk| store.begin_resume(block, GenStamp(gs), offset, chunk).unwrap_err();
    assert!(matches!(err(1, 640, 0), DatanodeError::GenStampNotNewer { .. }));
    assert!(matches!(
        err(2, 1001, 0),
        DatanodeError::ReplicaTooShort {
            wanted: 1001,
            length: 1000,
            ..
        }
    ));
    assert!(matches!(err(2, 100, 0), DatanodeError::ResumeUnaligned { .. }));
    assert_eq!(err(2, 640, CHUNK * 2).kind(), ErrorKind::Invalid);
    assert!(matches!(
        store.begin_resume(BlockId(21), GenStamp(2), 0, 0).unwrap_err(),
        DatanodeError::NoReplicaToResume { .. }
    ));
    assert!(store.parked(block).is_some(), "refused resumes leave it parked");

    // Bytes past the offset are dropped and rewritten (here: different ones).
    let mut w = store.begin_resume(block, GenStamp(2), 640, 0).unwrap();
    assert_eq!(w.length(), 640);
    assert!(store.parked(block).is_none());
    let tail = data(500, 21);
    w.append(0, 640, &tail, &chunk_checksums(&tail, CHUNK)).unwrap();
    w.finalize().unwrap();
    let mut expected = bytes[..640].to_vec();
    expected.extend_from_slice(&tail);
    assert_eq!(read_all(&store, block, GenStamp(2)), expected);
    assert_eq!(fs::read_dir(store.layout().tmp()).unwrap().count(), 0);

    // A resume at the exact (unaligned) length only closes the block.
    park_replica(&store, BlockId(22), GenStamp(1), &bytes);
    let w = store.begin_resume(BlockId(22), GenStamp(2), 1000, 0).unwrap();
    let r = w.finalize().unwrap();
    assert_eq!((r.genstamp, r.length), (GenStamp(2), 1000));
    assert_eq!(read_all(&store, BlockId(22), GenStamp(2)), bytes);
}

#[test]
fn recovery_cuts_inside_a_chunk_and_the_replica_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let (block, bytes) = (BlockId(30), data(1000, 30));
    {
        let store = BlockStore::open(dir.path()).unwrap();
        park_replica(&store, block, GenStamp(1), &bytes);
        let found = store.init_recovery(block, GenStamp(5)).unwrap().unwrap();
        assert_eq!(
            (found.genstamp, found.length, found.finalized),
            (GenStamp(1), 1000, false)
        );
        assert!(store.init_recovery(BlockId(31), GenStamp(5)).unwrap().is_none());
        let fenced = store.begin_resume(block, GenStamp(3), 640, 0).unwrap_err();
        assert!(matches!(fenced, DatanodeError::RecoveryFenced { .. }), "{fenced}");
        assert_eq!(
            store.finalize_recovery(block, GenStamp(5), 1001).unwrap_err().kind(),
            ErrorKind::Invalid
        );
        let done = store.finalize_recovery(block, GenStamp(5), 700).unwrap();
        assert!(done.changed && !done.before.finalized);
        assert_eq!((done.replica.genstamp, done.replica.length), (GenStamp(5), 700));
        let again = store.finalize_recovery(block, GenStamp(5), 700).unwrap();
        assert!(!again.changed && again.before.finalized);
        assert_eq!(read_all(&store, block, GenStamp(5)), bytes[..700]);
    }
    let store = BlockStore::open(dir.path()).unwrap();
    assert_eq!(read_all(&store, block, GenStamp(5)), bytes[..700]);
    assert_eq!(fs::read_dir(store.layout().corrupt()).unwrap().count(), 0);
}

#[test]
fn a_corrupt_chunk_at_the_recovery_cut_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    let block = BlockId(35);
    park_replica(&store, block, GenStamp(1), &data(1000, 35));
    let path = store.parked(block).unwrap().replica.data_path;
    let mut on_disk = fs::read(&path).unwrap();
    on_disk[650] ^= 1;
    fs::write(&path, on_disk).unwrap();
    let err = store.finalize_recovery(block, GenStamp(2), 700).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}

#[test]
fn a_superseded_writer_is_signalled_and_its_end_awaited() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    let block = BlockId(40);
    let mut w = store.begin_write(block, GenStamp(1), CHUNK).unwrap();
    let piece = data(128, 40);
    w.append(0, 0, &piece, &chunk_checksums(&piece, CHUNK)).unwrap();
    assert!(store.supersede(BlockId(41), GenStamp(2)).unwrap().is_none());
    assert!(matches!(
        store.supersede(block, GenStamp(1)).unwrap_err(),
        DatanodeError::WriteInProgress { .. }
    ));
    let gone = store.supersede(block, GenStamp(2)).unwrap().unwrap();
    assert_eq!(*w.superseded().borrow(), Some(GenStamp(2)));
    assert!(gone.has_changed().is_ok(), "the writer is still there");
    w.park().unwrap();
    assert!(gone.has_changed().is_err(), "the writer is gone");
    assert_eq!(store.parked(block).unwrap().replica.length, 128);
}

#[test]
fn parked_replicas_expire_and_are_deleted_by_stamp() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlockStore::open(dir.path()).unwrap();
    park_replica(&store, BlockId(50), GenStamp(3), &data(100, 50));
    park_replica(&store, BlockId(51), GenStamp(3), &data(100, 51));
    assert!(store.expire_parked(std::time::Duration::from_secs(3600)).is_empty());
    assert!(store.delete(BlockId(50), GenStamp(2)).unwrap().is_none());
    assert!(store.parked(BlockId(50)).is_some(), "newer parked replica kept");
    store.delete(BlockId(50), GenStamp(3)).unwrap();
    assert!(store.parked(BlockId(50)).is_none());
    let expired = store.expire_parked(std::time::Duration::ZERO);
    assert_eq!(expired.iter().map(|r| r.block).collect::<Vec<_>>(), vec![BlockId(51)]);
    assert_eq!(fs::read_dir(store.layout().tmp()).unwrap().count(), 0);

    // A new write replaces an older parked replica; a newer one refuses the write.
    park_replica(&store, BlockId(52), GenStamp(3), &data(100, 52));
    let refused = store.begin_write(BlockId(52), GenStamp(2), CHUNK).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    write_replica(&store, BlockId(52), GenStamp(4), &data(10, 53), 64);
    assert!(store.parked(BlockId(52)).is_none());
    assert_eq!(fs::read_dir(store.layout().tmp()).unwrap().count(), 0);
}

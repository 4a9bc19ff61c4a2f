//! Packet accounting of the writer, without a cluster: how written bytes are cut into packets and
//! blocks, which packets a pipeline still owes acknowledgements for, and when a stream counts as failed.

use super::*;
use crate::{Client, ClientConfig};

fn inner() -> Arc<Inner> {
    // Connects lazily: nothing here reaches a namenode.
    Client::connect(ClientConfig::new("127.0.0.1:1")).unwrap().inner
}

fn status(block_size: u64) -> FileStatus {
    FileStatus {
        path: "/f".into(),
        is_dir: false,
        length: 0,
        replication: 3,
        block_size,
        mtime_ms: 0,
        atime_ms: 0,
        owner: "u".into(),
        group: "g".into(),
        mode: 0o644,
        under_construction: true,
        block_count: 0,
        inode_id: 0,
        children_num: 0,
    }
}

/// A block whose stream ends at once (its ack task has nothing to report), `sent` bytes into it.
fn open_block(sent: u64, next_seqno: u64) -> OpenBlock {
    let stream = Stream {
        tx: None,
        acks: tokio::spawn(async { None }),
        progress: Arc::new(Progress::default()),
        header: None,
    };
    OpenBlock {
        block: pb::ExtendedBlock::default(),
        pipeline: Vec::new(),
        stream,
        unacked: VecDeque::new(),
        next_seqno,
        sent,
    }
}

fn packet(seqno: u64) -> pb::WritePacket {
    pb::WritePacket {
        seqno,
        ..Default::default()
    }
}

#[tokio::test]
async fn chunk_and_packet_sizes_follow_the_block_size() {
    let w = WriterCore::new(inner(), CallerId::new("u"), status(128 << 20));
    assert_eq!((w.chunk_size, w.packet_size), (DEFAULT_CHUNK_SIZE, PACKET_BYTES));
    // A block smaller than a chunk is one chunk; packets are whole chunks.
    let w = WriterCore::new(inner(), CallerId::new("u"), status(1000));
    assert_eq!(w.chunk_size, 1000);
    assert_eq!(w.packet_size % 1000, 0);
    assert!(w.packet_size <= PACKET_BYTES);
    let w = WriterCore::new(inner(), CallerId::new("u"), status(1));
    assert_eq!((w.chunk_size, w.packet_size), (1, PACKET_BYTES));
}

/// What `send_packet` does to the accounting, without the network: the buffer goes out as one packet;
/// a block-ending one closes the block.
fn sent(w: &mut WriterCore, last: bool, packets: &mut Vec<(usize, bool)>) {
    let len = w.buf.len();
    w.buf.clear();
    packets.push((len, last));
    if last {
        w.block = None;
    } else {
        let b = w.block.get_or_insert_with(|| open_block(0, 0));
        b.sent += len as u64;
    }
}

#[tokio::test]
async fn random_writes_cut_into_whole_packets_that_never_cross_a_block() {
    for seed in 0..30 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let block_size = [1000, 64 << 10, 300_000, 3 << 20][rng.usize(..4)];
        let mut w = WriterCore::new(inner(), CallerId::new("u"), status(block_size));
        let total = rng.usize(..8 << 20);
        let mut packets = Vec::new();
        let mut data = vec![0u8; total];
        rng.fill(&mut data);
        let mut rest = &data[..];
        let mut flushed = Vec::new();
        while !rest.is_empty() {
            let piece = &rest[..rng.usize(1..=rest.len().min(3 << 20))];
            let mut p = piece;
            while !p.is_empty() {
                let before = w.buf.len();
                let (n, flush) = w.accept(p);
                assert!(n > 0, "seed {seed}: accept took nothing");
                flushed.extend_from_slice(&w.buf[before..]);
                p = &p[n..];
                if let Some(last) = flush {
                    sent(&mut w, last, &mut packets);
                }
            }
            rest = &rest[piece.len()..];
        }
        // close(): what is buffered ends the last block.
        if w.block.is_some() || !w.buf.is_empty() {
            sent(&mut w, true, &mut packets);
        }
        assert_eq!(w.written, total as u64, "seed {seed}");
        assert!(flushed == data, "seed {seed}: bytes reordered or lost");
        assert_eq!(packets.iter().map(|p| p.0).sum::<usize>(), total, "seed {seed}");
        let mut in_block = 0u64;
        for (i, &(len, last)) in packets.iter().enumerate() {
            assert!(len <= w.packet_size, "seed {seed}: packet {i} of {len} bytes");
            in_block += len as u64;
            assert!(
                in_block <= block_size,
                "seed {seed}: packet {i} crosses a block boundary"
            );
            if last {
                let final_block = i == packets.len() - 1;
                assert!(final_block || in_block == block_size, "seed {seed}: short block {i}");
                in_block = 0;
            } else {
                assert_eq!(len, w.packet_size, "seed {seed}: a mid-block packet {i} is not full");
            }
        }
        let blocks = packets.iter().filter(|p| p.1).count() as u64;
        assert_eq!(blocks, (total as u64).div_ceil(block_size), "seed {seed}");
    }
}

#[tokio::test]
async fn acknowledged_packets_are_forgotten_and_unacknowledged_ones_kept_for_a_recovery() {
    let mut b = open_block(0, 5);
    b.unacked.extend((0..5).map(packet));
    b.prune();
    assert_eq!(b.unacked.len(), 5, "nothing acknowledged yet");
    b.stream.progress.acked.store(3, Ordering::Release); // packets 0, 1 and 2
    b.prune();
    let left: Vec<u64> = b.unacked.iter().map(|p| p.seqno).collect();
    assert_eq!(left, [3, 4]);
}

#[tokio::test]
async fn a_stream_that_ends_before_every_ack_is_a_failure() {
    let mut b = open_block(0, 5);
    b.stream.progress.acked.store(3, Ordering::Release);
    let failure = b.outcome().await.expect("two packets were never acknowledged");
    assert!(!failure.fatal && failure.bad.is_none(), "{failure:?}");
    assert!(
        failure.reason.contains("up to Some(2) of Some(4)"),
        "{}",
        failure.reason
    );
    let mut b = open_block(0, 5);
    b.stream.progress.acked.store(5, Ordering::Release);
    assert!(b.outcome().await.is_none(), "every packet acknowledged");
    // A block with no packet at all, nothing acknowledged: done.
    assert!(open_block(0, 0).outcome().await.is_none());
}

#[tokio::test]
async fn the_ack_task_reason_wins_over_the_count() {
    let mut b = open_block(0, 2);
    b.stream.acks = tokio::spawn(async {
        Some(Failure {
            reason: "dn2 refused".into(),
            bad: Some(2),
            fatal: false,
        })
    });
    let failure = b.outcome().await.unwrap();
    assert_eq!((failure.reason.as_str(), failure.bad), ("dn2 refused", Some(2)));
}

#[tokio::test]
async fn a_failed_or_closed_writer_refuses_more_data() {
    let mut w = WriterCore::new(inner(), CallerId::new("u"), status(1 << 20));
    assert!(w.check_open().is_ok());
    assert!(w.fail_on_err(Ok(())).is_ok());
    assert!(w.check_open().is_ok(), "success keeps it open");
    let err = w.fail_on_err(Err(ClientError::WriterClosed)).unwrap_err();
    assert!(matches!(err, ClientError::WriterClosed));
    assert!(matches!(w.check_open(), Err(ClientError::WriterClosed)));
    let mut w = WriterCore::new(inner(), CallerId::new("u"), status(1 << 20));
    w.state = State::Closed;
    assert!(matches!(w.check_open(), Err(ClientError::WriterClosed)));
}

//! Pipeline and lease recovery over real gRPC: replicas parked when a write stream breaks, resumed under a
//! newer generation stamp, recovered by RecoverReplica (both steps, fencing), and expired.

mod common;

use basalt_common::{BlockId, ErrorKind, GenStamp};
use basalt_datanode::Datanode;
use basalt_proto::RemoteError;
use basalt_proto::pb::{RecoverReplicaResponse, WritePacket};
use basalt_wait::wait_for;
use common::*;
use std::future::ready;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn kind(s: &tonic::Status) -> ErrorKind {
    RemoteError::from(s.clone()).kind
}

fn addr(dn: &Datanode) -> String {
    dn.local_addr().to_string()
}

/// Opens a stream to `dn` with `ps`, sends the first `n` packets, waits for their acks and keeps it open.
async fn open_and_ack(dn: &Datanode, mut ps: Vec<WritePacket>, n: usize) -> WriteSession {
    let rest = ps.split_off(1);
    let mut session = WriteSession::open(&addr(dn), ps.remove(0)).await;
    for p in rest.into_iter().take(n - 1) {
        assert!(session.send(p).await);
    }
    for seqno in 0..n as u64 {
        assert_eq!(session.ack().await.unwrap().unwrap().seqno, seqno);
    }
    session
}

async fn wait_parked(dn: &Datanode, block: u64) -> basalt_datanode::store::ParkedReplica {
    wait_for("replica parked", T, || ready(dn.store().parked(BlockId(block)))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_pipeline_parks_replicas_and_survivors_resume_under_a_new_stamp() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut dns = Vec::new();
    for d in &dirs {
        dns.push(start_node(d.path(), vec![]).await);
    }
    let (dn1, dn2, dn3) = (&dns[0], &dns[1], &dns[2]);
    let bytes = data(4 * PACKET + 1000, 11);
    let ps = packets(&block(100, 1), vec![info(dn2), info(dn3)], &bytes);

    // Two packets acknowledged by the whole pipeline, then the client goes away.
    let session = open_and_ack(dn1, ps, 2).await;
    drop(session);
    let acked = 2 * PACKET as u64;
    for dn in [dn1, dn2, dn3] {
        let p = wait_parked(dn, 100).await;
        assert!(p.replica.length >= acked, "{} < {acked}", p.replica.length);
        assert_eq!(p.replica.genstamp, GenStamp(1));
        assert!(
            dn.store().get(BlockId(100)).is_none(),
            "parked replicas are not finalized"
        );
    }

    // dn3 is dropped: dn1 -> dn2 continue under stamp 2 from the acknowledged offset.
    let eb2 = block(100, 2);
    let acks = write(&addr(dn1), resume_packets(&eb2, vec![info(dn2)], &bytes, acked))
        .await
        .unwrap();
    assert_eq!(acks.len(), 4, "header-only packet and three data packets");
    assert!(acks.iter().all(|a| a.acked_by == vec![dn1.id().0, dn2.id().0]));
    for dn in [dn1, dn2] {
        let r = dn.store().get(BlockId(100)).unwrap();
        assert_eq!((r.genstamp, r.length), (GenStamp(2), bytes.len() as u64));
        assert!(dn.store().parked(BlockId(100)).is_none());
        let (_, got) = read(&addr(dn), &eb2, 0, 0).await.unwrap();
        assert!(got == bytes, "resumed replica on {} differs", dn.id());
        let stale = dn.store().lookup(BlockId(100), GenStamp(1)).unwrap_err();
        assert_eq!(stale.kind(), ErrorKind::NotFound);
        assert_eq!(
            kind(&read(&addr(dn), &block(100, 1), 0, 0).await.unwrap_err()),
            ErrorKind::NotFound
        );
    }

    // Refused resumes: same stamp, older than the finalized replica, past the parked length, no replica.
    let parked3 = dn3.store().parked(BlockId(100)).unwrap().replica;
    let same = write(&addr(dn3), resume_packets(&block(100, 1), vec![], &bytes, acked)).await;
    assert_eq!(kind(&same.unwrap_err()), ErrorKind::Conflict);
    let older = write(&addr(dn1), resume_packets(&block(100, 1), vec![], &bytes, acked)).await;
    assert_eq!(kind(&older.unwrap_err()), ErrorKind::Conflict);
    let beyond_at = parked3.length + CHUNK as u64;
    let beyond = write(&addr(dn3), resume_packets(&block(100, 3), vec![], &bytes, beyond_at))
        .await
        .unwrap_err();
    assert_eq!(kind(&beyond), ErrorKind::Invalid, "{beyond:?}");
    assert!(
        beyond.message().contains(&beyond_at.to_string()) && beyond.message().contains(&parked3.length.to_string()),
        "{}",
        beyond.message()
    );
    let none = write(&addr(dn3), resume_packets(&block(101, 2), vec![], &bytes, 0))
        .await
        .unwrap_err();
    assert_eq!(kind(&none), ErrorKind::NotFound);
    assert!(none.message().contains("no replica of block"), "{}", none.message());
    assert_eq!(
        dn3.store().parked(BlockId(100)).map(|p| p.replica),
        Some(parked3),
        "refused resumes leave the parked replica alone"
    );

    for dn in dns {
        dn.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_supersedes_a_writer_whose_stream_is_still_open() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let dn1 = start_node(dirs[0].path(), vec![]).await;
    let dn2 = start_node(dirs[1].path(), vec![]).await;
    let bytes = data(3 * PACKET + 10, 12);
    let mut old = open_and_ack(&dn1, packets(&block(200, 1), vec![info(&dn2)], &bytes), 2).await;

    // This time the first resumed packet carries data along with the header.
    let eb2 = block(200, 2);
    let acked = 2 * PACKET as u64;
    let mut ps = resume_packets(&eb2, vec![info(&dn2)], &bytes, acked);
    let header = ps.remove(0).header;
    ps[0].header = header;
    write(&addr(&dn1), ps).await.unwrap();
    let err = old.ack().await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Conflict, "{err:?}");
    assert!(err.message().contains("superseded"), "{}", err.message());
    for dn in [&dn1, &dn2] {
        let (_, got) = read(&addr(dn), &eb2, 0, 0).await.unwrap();
        assert!(got == bytes, "replica on {} differs", dn.id());
    }
    drop(old);
    dn1.shutdown().await;
    dn2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_takes_back_a_finalized_replica() {
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node(dir.path(), vec![]).await;
    let bytes = data(2 * PACKET + 300, 13);
    write(&addr(&dn), packets(&block(300, 1), vec![], &bytes))
        .await
        .unwrap();
    // The writer saw a failure although the last packet got here: it resumes from what all nodes acked.
    let eb2 = block(300, 2);
    write(&addr(&dn), resume_packets(&eb2, vec![], &bytes, PACKET as u64))
        .await
        .unwrap();
    let r = dn.store().get(BlockId(300)).unwrap();
    assert_eq!((r.genstamp, r.length), (GenStamp(2), bytes.len() as u64));
    assert!(!dn.store().layout().meta_path(BlockId(300), GenStamp(1)).exists());
    let (_, got) = read(&addr(&dn), &eb2, 0, 0).await.unwrap();
    assert!(got == bytes);
    dn.shutdown().await;
}

fn response(finalized: bool, length: u64, gs: u64) -> RecoverReplicaResponse {
    RecoverReplicaResponse {
        found: true,
        finalized,
        length,
        gen_stamp: gs,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_replica_reports_fences_and_finalizes() {
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node(dir.path(), vec![]).await;
    let a = addr(&dn);
    let bytes = data(3 * PACKET, 14);

    // A parked replica: step 1 reports it and fences the block against older stamps.
    drop(open_and_ack(&dn, packets(&block(400, 1), vec![], &bytes), 2).await);
    let parked = wait_parked(&dn, 400).await.replica.length;
    let g5 = block(400, 5);
    assert_eq!(recover(&a, &g5, false, 0).await.unwrap(), response(false, parked, 1));
    let fenced = write(&a, resume_packets(&block(400, 3), vec![], &bytes, PACKET as u64))
        .await
        .unwrap_err();
    assert_eq!(kind(&fenced), ErrorKind::Conflict);
    assert!(fenced.message().contains("under recovery"), "{}", fenced.message());
    assert_eq!(
        kind(&recover(&a, &block(400, 4), false, 0).await.unwrap_err()),
        ErrorKind::Conflict
    );

    // Step 2: too long is refused; cut inside a chunk, finalized under the new stamp; a retry is a no-op.
    let too_long = recover(&a, &g5, true, parked + 1).await.unwrap_err();
    assert_eq!(kind(&too_long), ErrorKind::Invalid);
    let cut = PACKET as u64 + 1000;
    assert_eq!(recover(&a, &g5, true, cut).await.unwrap(), response(false, cut, 1));
    let (_, got) = read(&a, &g5, 0, 0).await.unwrap();
    assert!(got == bytes[..cut as usize]);
    assert_eq!(recover(&a, &g5, true, cut).await.unwrap(), response(true, cut, 5));
    assert_eq!(
        kind(&recover(&a, &g5, true, cut - 1).await.unwrap_err()),
        ErrorKind::AlreadyExists
    );
    assert_eq!(recover(&a, &g5, false, 0).await.unwrap(), response(true, cut, 5));

    // Finalized replicas: step 1 says so; step 2 at the same length re-stamps, shorter cuts.
    let len = bytes.len() as u64;
    for id in [401, 402] {
        write(&a, packets(&block(id, 1), vec![], &bytes)).await.unwrap();
        assert_eq!(
            recover(&a, &block(id, 3), false, 0).await.unwrap(),
            response(true, len, 1)
        );
    }
    assert_eq!(
        recover(&a, &block(401, 3), true, len).await.unwrap(),
        response(true, len, 1)
    );
    let r = dn.store().lookup(BlockId(401), GenStamp(3)).unwrap();
    assert_eq!(r.meta_path, dn.store().layout().meta_path(BlockId(401), GenStamp(3)));
    assert!(!dn.store().layout().meta_path(BlockId(401), GenStamp(1)).exists());
    assert!(read(&a, &block(401, 3), 0, 0).await.unwrap().1 == bytes);
    let short = 2 * PACKET as u64 + 77;
    assert_eq!(
        recover(&a, &block(402, 3), true, short).await.unwrap(),
        response(true, short, 1)
    );
    assert!(read(&a, &block(402, 3), 0, 0).await.unwrap().1 == bytes[..short as usize]);
    assert_eq!(
        kind(&read(&a, &block(402, 1), 0, 0).await.unwrap_err()),
        ErrorKind::NotFound
    );

    // No replica: step 1 says so, step 2 fails.
    assert_eq!(
        recover(&a, &block(499, 2), false, 0).await.unwrap(),
        RecoverReplicaResponse::default()
    );
    assert_eq!(
        kind(&recover(&a, &block(499, 2), true, 0).await.unwrap_err()),
        ErrorKind::NotFound
    );
    dn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_stops_a_live_writer_whose_late_packets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node(dir.path(), vec![]).await;
    let a = addr(&dn);
    let bytes = data(3 * PACKET, 15);
    let mut ps = packets(&block(500, 1), vec![], &bytes);
    let late = ps.split_off(2);
    let mut old = open_and_ack(&dn, ps, 2).await;

    let g2 = block(500, 2);
    let step1 = recover(&a, &g2, false, 0).await.unwrap();
    assert_eq!(step1, response(false, 2 * PACKET as u64, 1));
    // The old writer's stream is over; its late packets change nothing.
    for p in late {
        old.send(p).await;
    }
    assert_eq!(kind(&old.ack().await.unwrap_err()), ErrorKind::Conflict);
    let done = recover(&a, &g2, true, step1.length).await.unwrap();
    assert_eq!(done, response(false, step1.length, 1));
    assert!(read(&a, &g2, 0, 0).await.unwrap().1 == bytes[..step1.length as usize]);
    dn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parked_replicas_expire() {
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node_with(dir.path(), |c| c.rbw_expiry = Duration::from_secs(2)).await;
    drop(open_and_ack(&dn, packets(&block(600, 1), vec![], &data(2 * PACKET, 16)), 1).await);
    wait_parked(&dn, 600).await;
    let tmp = dn.store().layout().tmp();
    wait_until("parked replica expired", T, || {
        ready(dn.store().parked(BlockId(600)).is_none() && std::fs::read_dir(&tmp).unwrap().count() == 0)
    })
    .await;
    assert!(dn.store().is_empty());
    let resume = write(&addr(&dn), resume_packets(&block(600, 2), vec![], &data(0, 0), 0)).await;
    assert_eq!(kind(&resume.unwrap_err()), ErrorKind::NotFound);
    dn.shutdown().await;
}

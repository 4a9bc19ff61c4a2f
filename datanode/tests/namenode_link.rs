//! The namenode links against a fake namenode: registration, full and incremental reports, heartbeats,
//! a DeleteBlocks command and re-registration on request.

mod common;

use basalt_proto::pb::datanode_command::Command;
use basalt_proto::pb::datanode_protocol_server::{DatanodeProtocol, DatanodeProtocolServer};
use basalt_proto::pb::*;
use common::*;
use std::future::ready;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

#[derive(Default)]
struct Seen {
    registers: Vec<DatanodeInfo>,
    full_reports: Vec<Vec<ExtendedBlock>>,
    received: Vec<ExtendedBlock>,
    deleted: Vec<ExtendedBlock>,
    heartbeats: usize,
    /// Commands for the next heartbeat reply.
    commands: Vec<DatanodeCommand>,
    reregister: bool,
}

#[derive(Clone, Default)]
struct FakeNamenode(Arc<Mutex<Seen>>);

#[tonic::async_trait]
impl DatanodeProtocol for FakeNamenode {
    async fn register(&self, r: Request<RegisterRequest>) -> Result<Response<RegisterResponse>, Status> {
        self.0.lock().unwrap().registers.push(r.into_inner().info.unwrap());
        Ok(Response::new(RegisterResponse {}))
    }
    async fn heartbeat(&self, r: Request<HeartbeatRequest>) -> Result<Response<HeartbeatResponse>, Status> {
        assert!(r.into_inner().capacity > 0);
        let mut s = self.0.lock().unwrap();
        s.heartbeats += 1;
        let reply = HeartbeatResponse {
            commands: std::mem::take(&mut s.commands),
            reregister: s.reregister,
            members: Vec::new(),
            ..Default::default()
        };
        s.reregister = false;
        Ok(Response::new(reply))
    }
    async fn block_report(&self, r: Request<BlockReportRequest>) -> Result<Response<BlockReportResponse>, Status> {
        self.0.lock().unwrap().full_reports.push(r.into_inner().blocks);
        Ok(Response::new(BlockReportResponse {}))
    }
    async fn block_received_and_deleted(
        &self,
        r: Request<IncrementalBlockReportRequest>,
    ) -> Result<Response<IncrementalBlockReportResponse>, Status> {
        let r = r.into_inner();
        let mut s = self.0.lock().unwrap();
        s.received.extend(r.received);
        s.deleted.extend(r.deleted);
        Ok(Response::new(IncrementalBlockReportResponse {}))
    }
}

/// Serves a [`FakeNamenode`] on an ephemeral port: the fake, its address and the server task.
async fn start_fake_namenode() -> (
    FakeNamenode,
    String,
    tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
) {
    let nn = FakeNamenode::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nn_addr = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(DatanodeProtocolServer::new(nn.clone()))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    (nn, nn_addr, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datanode_registers_reports_and_obeys_delete_commands() {
    let (nn, nn_addr, server) = start_fake_namenode().await;
    let seen = || nn.0.lock().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node(dir.path(), vec![nn_addr]).await;
    let t = Duration::from_secs(10);

    wait_until("registration and full report", t, || {
        ready(seen().full_reports.len() == 1)
    })
    .await;
    assert_eq!(seen().registers[0].id, dn.id().0);
    assert_eq!(seen().registers[0].addr, dn.local_addr().to_string());
    assert!(seen().full_reports[0].is_empty());
    wait_until("heartbeats", t, || ready(seen().heartbeats >= 2)).await;

    let eb = block(77, 3);
    let bytes = data(10_000, 5);
    write(&dn.local_addr().to_string(), packets(&eb, vec![], &bytes))
        .await
        .unwrap();
    wait_until("incremental 'received' report", t, || {
        ready(!seen().received.is_empty())
    })
    .await;
    assert_eq!(
        seen().received,
        vec![ExtendedBlock {
            block_id: 77,
            gen_stamp: 3,
            length: 10_000
        }]
    );

    // ReplicateBlock: the replica is pushed to another datanode as a pipeline.
    let dir2 = tempfile::tempdir().unwrap();
    let dn2 = start_node(dir2.path(), vec![]).await;
    let replicate = ReplicateBlock {
        block: Some(eb),
        targets: vec![info(&dn2)],
    };
    seen().commands.push(DatanodeCommand {
        command: Some(Command::Replicate(replicate)),
    });
    wait_until("replica copied to the target", t, || {
        ready(dn2.store().get(basalt_common::BlockId(77)).is_some())
    })
    .await;
    let (_, copied) = read(&dn2.local_addr().to_string(), &eb, 0, 0).await.unwrap();
    assert!(copied == bytes);
    dn2.shutdown().await;

    let delete = DeleteBlocks { blocks: vec![eb] };
    seen().commands.push(DatanodeCommand {
        command: Some(Command::Delete(delete)),
    });
    wait_until("incremental 'deleted' report", t, || ready(!seen().deleted.is_empty())).await;
    assert!(dn.store().is_empty());

    seen().reregister = true;
    wait_until("re-registration and a second full report", t, || {
        ready(seen().full_reports.len() == 2)
    })
    .await;
    assert_eq!(seen().registers.len(), 2);

    dn.shutdown().await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_and_recoveries_are_reported_and_delete_removes_parked_replicas() {
    let (nn, nn_addr, server) = start_fake_namenode().await;
    let seen = || nn.0.lock().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dn = start_node(dir.path(), vec![nn_addr]).await;
    let addr = dn.local_addr().to_string();
    let t = Duration::from_secs(10);
    wait_until("registration", t, || ready(seen().full_reports.len() == 1)).await;
    let eb = |id, gs, length| ExtendedBlock {
        block_id: id,
        gen_stamp: gs,
        length,
    };

    // A finalized replica taken back by a resume is reported deleted, then received under the new stamp.
    let bytes = data(2 * PACKET, 7);
    write(&addr, packets(&block(10, 1), vec![], &bytes)).await.unwrap();
    write(&addr, resume_packets(&block(10, 2), vec![], &bytes, PACKET as u64))
        .await
        .unwrap();
    let len = bytes.len() as u64;
    wait_until("reports of the resume", t, || ready(seen().received.len() == 2)).await;
    assert_eq!(seen().received, vec![eb(10, 1, len), eb(10, 2, len)]);
    assert_eq!(seen().deleted, vec![eb(10, 1, len)]);

    // A recovery's step 2 is reported received under the recovery's stamp.
    recover(&addr, &block(10, 4), false, 0).await.unwrap();
    recover(&addr, &block(10, 4), true, 5000).await.unwrap();
    wait_until("report of the recovery", t, || ready(seen().received.len() == 3)).await;
    assert_eq!(seen().received[2], eb(10, 4, 5000));

    // DeleteBlocks removes a parked replica up to the given stamp.
    let mut ps = packets(&block(11, 3), vec![], &bytes);
    let mut session = WriteSession::open(&addr, ps.remove(0)).await;
    assert_eq!(session.ack().await.unwrap().unwrap().seqno, 0);
    drop(session);
    wait_until("replica parked", t, || {
        ready(dn.store().parked(basalt_common::BlockId(11)).is_some())
    })
    .await;
    seen().commands.push(DatanodeCommand {
        command: Some(Command::Delete(DeleteBlocks {
            blocks: vec![eb(11, 3, 0)],
        })),
    });
    wait_until("parked replica deleted", t, || {
        ready(dn.store().parked(basalt_common::BlockId(11)).is_none())
    })
    .await;

    dn.shutdown().await;
    server.abort();
}

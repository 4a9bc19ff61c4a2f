//! Helpers shared by the datanode integration tests.
#![allow(dead_code)]

use basalt_common::checksum::chunk_checksums;
use basalt_datanode::transfer::downstream::connect;
use basalt_datanode::{Datanode, DatanodeConfig};
use basalt_proto::pb::{
    DatanodeInfo, ExtendedBlock, ReadBlockRequest, RecoverReplicaRequest, RecoverReplicaResponse, WriteAck,
    WriteHeader, WritePacket,
};
use std::time::Duration;
use tokio_stream::wrappers::ReceiverStream;

pub const CHUNK: u32 = 4096;
pub const PACKET: usize = 1024 * 1024;

pub use basalt_wait::wait_until;

pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// A datanode on loopback port 0 in `dir`.
pub async fn start_node(dir: &std::path::Path, namenodes: Vec<String>) -> Datanode {
    start_node_with(dir, |c| c.namenodes = namenodes).await
}

/// A datanode on loopback port 0 in `dir`, reporting to no namenode (the default, 127.0.0.1:8020, may be a
/// real cluster on this machine), its config adjusted by `adjust`.
pub async fn start_node_with(dir: &std::path::Path, adjust: impl FnOnce(&mut DatanodeConfig)) -> Datanode {
    let mut config = DatanodeConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.namenodes = Vec::new();
    config.heartbeat_interval = Duration::from_millis(50);
    adjust(&mut config);
    Datanode::start(config).await.unwrap()
}

pub fn info(dn: &Datanode) -> DatanodeInfo {
    DatanodeInfo {
        id: dn.id().0,
        addr: dn.local_addr().to_string(),
        ..Default::default()
    }
}

pub fn block(id: u64, gs: u64) -> ExtendedBlock {
    ExtendedBlock {
        block_id: id,
        gen_stamp: gs,
        length: 0,
    }
}

/// The packets of `bytes`: 1 MiB each, the header on the first, `last` on the final one.
pub fn packets(eb: &ExtendedBlock, downstream: Vec<DatanodeInfo>, bytes: &[u8]) -> Vec<WritePacket> {
    let mut out: Vec<WritePacket> = bytes
        .chunks(PACKET)
        .enumerate()
        .map(|(i, piece)| WritePacket {
            header: None,
            seqno: i as u64,
            offset: (i * PACKET) as u64,
            data: bytes::Bytes::copy_from_slice(piece),
            checksums: chunk_checksums(piece, CHUNK),
            last: false,
        })
        .collect();
    if out.is_empty() {
        out.push(WritePacket::default());
    }
    out[0].header = Some(WriteHeader {
        block: Some(*eb),
        downstream,
        chunk_size: CHUNK,
        client_name: "test".into(),
        ..Default::default()
    });
    out.last_mut().unwrap().last = true;
    out
}

/// The packets continuing `bytes` from `offset` in a resumed pipeline: a header-only first packet (resume
/// fields set), then 1 MiB packets from `offset` on, `last` on the final one.
pub fn resume_packets(
    eb: &ExtendedBlock,
    downstream: Vec<DatanodeInfo>,
    bytes: &[u8],
    offset: u64,
) -> Vec<WritePacket> {
    let mut out = vec![WritePacket {
        header: Some(WriteHeader {
            block: Some(*eb),
            downstream,
            chunk_size: CHUNK,
            client_name: "test".into(),
            resume: true,
            resume_offset: offset,
        }),
        seqno: 0,
        offset,
        ..Default::default()
    }];
    for (i, piece) in bytes[offset as usize..].chunks(PACKET).enumerate() {
        out.push(WritePacket {
            header: None,
            seqno: i as u64 + 1,
            offset: offset + (i * PACKET) as u64,
            data: bytes::Bytes::copy_from_slice(piece),
            checksums: chunk_checksums(piece, CHUNK),
            last: false,
        });
    }
    out.last_mut().unwrap().last = true;
    out
}

/// An open write stream driven packet by packet; dropping it breaks the stream.
pub struct WriteSession {
    tx: tokio::sync::mpsc::Sender<WritePacket>,
    acks: tonic::Streaming<WriteAck>,
}

impl WriteSession {
    /// Opens a stream to `addr` whose first packet is `first`.
    pub async fn open(addr: &str, first: WritePacket) -> WriteSession {
        let mut client = connect(&Default::default(), addr).await.unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tx.send(first).await.unwrap();
        let acks = client.write_block(ReceiverStream::new(rx)).await.unwrap().into_inner();
        WriteSession { tx, acks }
    }

    /// Sends a packet; false once the server has ended the stream.
    pub async fn send(&self, p: WritePacket) -> bool {
        self.tx.send(p).await.is_ok()
    }

    /// The next ack; `Err` with the stream's status.
    pub async fn ack(&mut self) -> Result<Option<WriteAck>, tonic::Status> {
        self.acks.message().await
    }
}

/// Calls RecoverReplica on `addr`.
pub async fn recover(
    addr: &str,
    eb: &ExtendedBlock,
    finalize: bool,
    length: u64,
) -> Result<RecoverReplicaResponse, tonic::Status> {
    let mut client = connect(&Default::default(), addr).await.unwrap();
    let req = RecoverReplicaRequest {
        block: Some(*eb),
        finalize,
        length,
    };
    Ok(client.recover_replica(req).await?.into_inner())
}

/// Sends every packet without waiting for acks, then collects the acks (or the stream's error).
pub async fn write(addr: &str, packets: Vec<WritePacket>) -> Result<Vec<WriteAck>, tonic::Status> {
    let mut client = connect(&Default::default(), addr).await.unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(packets.len().max(1));
    for p in packets {
        tx.send(p).await.unwrap();
    }
    let mut acks = client.write_block(ReceiverStream::new(rx)).await?.into_inner();
    let mut out = Vec::new();
    while let Some(ack) = acks.message().await? {
        out.push(ack);
    }
    drop(tx);
    Ok(out)
}

/// Reads `[offset, offset + length)` of a block; returns the first packet's offset and all the data.
pub async fn read(addr: &str, eb: &ExtendedBlock, offset: u64, length: u64) -> Result<(u64, Vec<u8>), tonic::Status> {
    let mut client = connect(&Default::default(), addr).await.unwrap();
    let req = ReadBlockRequest {
        block: Some(*eb),
        offset,
        length,
    };
    let mut stream = client.read_block(req).await?.into_inner();
    let (mut first, mut bytes) = (None, Vec::new());
    while let Some(p) = stream.message().await? {
        basalt_common::checksum::verify_chunks(&p.data, &p.checksums, p.chunk_size, p.offset).unwrap();
        first.get_or_insert(p.offset);
        bytes.extend_from_slice(&p.data);
    }
    Ok((first.unwrap_or(offset), bytes))
}

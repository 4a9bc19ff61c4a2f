//! Server side of the Raft transport: decodes openraft requests, hands them to the local Raft and
//! returns its `Result` encoded. It also notes when an AppendEntries last arrived ([`Heard`]), so that
//! a member that campaigns can say how long it had not heard a leader (`server::watch_elections`).

use super::{Raft, decode, encode};
use basalt_common::ErrorKind;
use basalt_proto::pb::RaftPayload;
use basalt_proto::pb::raft_transport_server::RaftTransport;
use basalt_proto::to_status;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tonic::{Request, Response, Status};

/// When this member last received an AppendEntries (at the transport, before Raft handles it).
#[derive(Debug)]
pub struct Heard {
    start: Instant,
    /// Milliseconds after `start`, plus one (0: never).
    at_ms: AtomicU64,
}

impl Default for Heard {
    fn default() -> Self {
        Heard {
            start: Instant::now(),
            at_ms: AtomicU64::new(0),
        }
    }
}

impl Heard {
    fn note(&self) {
        let ms = self.start.elapsed().as_millis() as u64 + 1;
        self.at_ms.fetch_max(ms, Ordering::Relaxed);
    }

    /// How long ago the last AppendEntries arrived; `None` if none has.
    pub fn ago(&self) -> Option<Duration> {
        match self.at_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(self.start.elapsed().saturating_sub(Duration::from_millis(ms - 1))),
        }
    }
}

pub struct RaftTransportService {
    raft: Raft,
    heard: Arc<Heard>,
}

impl RaftTransportService {
    pub fn new(raft: Raft, heard: Arc<Heard>) -> Self {
        RaftTransportService { raft, heard }
    }
}

fn bad_payload(e: super::DecodeError) -> Status {
    to_status(ErrorKind::Invalid, format!("malformed raft message: {e}"), None)
}

#[tonic::async_trait]
impl RaftTransport for RaftTransportService {
    async fn append_entries(&self, req: Request<RaftPayload>) -> Result<Response<RaftPayload>, Status> {
        self.heard.note();
        let rpc = decode(&req.into_inner().data).map_err(bad_payload)?;
        let res = self.raft.append_entries(rpc).await;
        Ok(Response::new(RaftPayload { data: encode(&res) }))
    }

    async fn vote(&self, req: Request<RaftPayload>) -> Result<Response<RaftPayload>, Status> {
        let rpc = decode(&req.into_inner().data).map_err(bad_payload)?;
        let res = self.raft.vote(rpc).await;
        Ok(Response::new(RaftPayload { data: encode(&res) }))
    }

    async fn install_snapshot(&self, req: Request<RaftPayload>) -> Result<Response<RaftPayload>, Status> {
        let rpc = decode(&req.into_inner().data).map_err(bad_payload)?;
        let res = self.raft.install_snapshot(rpc).await;
        Ok(Response::new(RaftPayload { data: encode(&res) }))
    }
}

//! Server side of the Raft transport: decodes openraft requests, hands them to the local Raft and
//! returns its `Result` encoded.

use super::{Raft, decode, encode};
use basalt_common::ErrorKind;
use basalt_proto::pb::RaftPayload;
use basalt_proto::pb::raft_transport_server::RaftTransport;
use basalt_proto::to_status;
use tonic::{Request, Response, Status};

pub struct RaftTransportService {
    raft: Raft,
}

impl RaftTransportService {
    pub fn new(raft: Raft) -> Self {
        RaftTransportService { raft }
    }
}

fn bad_payload(e: super::DecodeError) -> Status {
    to_status(ErrorKind::Invalid, format!("malformed raft message: {e}"), None)
}

#[tonic::async_trait]
impl RaftTransport for RaftTransportService {
    async fn append_entries(&self, req: Request<RaftPayload>) -> Result<Response<RaftPayload>, Status> {
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

//! `JobProtocol`: job submit, status, list and kill for clients; heartbeats for executors. Leader only
//! (a follower answers NotLeader with the leader's address, and clients follow it). Job values cross
//! the wire in `basalt_jobs::codec`; they are decoded here and nowhere else in the namenode.

use super::{Heartbeat, JobScheduler};
use crate::service::{Core, ServiceError};
use crate::state::jobs::{JobsCommand, JobsOutput};
use basalt_jobs::codec::{self, CodecError};
use basalt_jobs::sched::JobOutcome;
use basalt_jobs::status::{JobStatusView, JobSummary, StageView};
use basalt_jobs::{ExecutorId, JobId, JobSpec};
use basalt_proto::link::Connector;
use basalt_proto::pb;
use basalt_proto::pb::job_protocol_server::JobProtocol;
use basalt_proto::pb::shuffle_client::ShuffleClient;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tonic::transport::Endpoint;
use tonic::{Request, Response, Status};

fn malformed(what: &'static str) -> impl FnOnce(CodecError) -> ServiceError {
    move |e| ServiceError::MalformedJobValue {
        what,
        source: Arc::new(e),
    }
}

pub struct JobService {
    core: Arc<Core>,
    sched: Arc<JobScheduler>,
}

impl JobService {
    pub fn new(core: Arc<Core>, sched: Arc<JobScheduler>) -> Self {
        JobService { core, sched }
    }

    async fn submit(&self, r: pb::SubmitJobRequest) -> Result<pb::SubmitJobResponse, ServiceError> {
        let spec: JobSpec = codec::decode(&r.spec).map_err(malformed("job spec"))?;
        let cmd = JobsCommand::Submit { spec: Arc::new(spec) };
        let JobsOutput::Submitted { job } = self.core.write(&r.client_name, r.request_id, cmd).await? else {
            return Err(ServiceError::UnexpectedOutput {
                expected: "submitted",
                got: "another jobs output",
            });
        };
        self.sched.wake();
        Ok(pb::SubmitJobResponse { job_id: job.0 })
    }

    async fn status(&self, r: pb::JobStatusRequest) -> Result<pb::JobStatusResponse, ServiceError> {
        self.core.require_leader()?;
        let view = self.view(JobId(r.job_id))?;
        Ok(pb::JobStatusResponse {
            status: codec::encode(&view),
        })
    }

    /// Every job in detail, as `status` answers for one (the web UI's jobs page). Leader only.
    pub fn views(&self) -> Result<Vec<JobStatusView>, ServiceError> {
        self.core.require_leader()?;
        let ids: Vec<JobId> = self.core.state().meta.jobs.records().map(|r| r.id).collect();
        ids.into_iter().map(|job| self.view(job)).collect()
    }

    /// One job: its record, with the live stages and counters while the scheduler runs it.
    fn view(&self, job: JobId) -> Result<JobStatusView, ServiceError> {
        let (summary, recorded, counters) = {
            let state = self.core.state();
            let rec = state.meta.jobs.get(job).ok_or(ServiceError::UnknownJob { job })?;
            let stages: Vec<StageView> = rec
                .stages
                .iter()
                .map(|s| StageView {
                    stage: s.stage,
                    kind: stage_kind(&rec.spec, s.stage.0 as usize),
                    stats: s.stats.clone(),
                })
                .collect();
            (rec.summary(), stages, rec.counters.clone())
        };
        let view = match self.sched.live(job).filter(|_| !summary.state.is_final()) {
            Some((stages, counters)) => JobStatusView {
                summary,
                stages,
                counters,
            },
            None => JobStatusView {
                summary,
                stages: recorded,
                counters,
            },
        };
        Ok(view)
    }

    async fn list(&self) -> Result<pb::ListJobsResponse, ServiceError> {
        self.core.require_leader()?;
        let jobs: Vec<JobSummary> = self.core.state().meta.jobs.records().map(|r| r.summary()).collect();
        Ok(pb::ListJobsResponse {
            jobs: codec::encode(&jobs),
        })
    }

    async fn kill(&self, r: pb::KillJobRequest) -> Result<pb::KillJobResponse, ServiceError> {
        let cmd = JobsCommand::Finish {
            job: JobId(r.job_id),
            outcome: JobOutcome::Killed,
            counters: BTreeMap::new(),
        };
        self.core.write(&r.client_name, r.request_id, cmd).await?;
        self.sched.wake();
        Ok(pb::KillJobResponse {})
    }

    async fn heartbeat(&self, r: pb::ExecutorHeartbeatRequest) -> Result<pb::ExecutorHeartbeatResponse, ServiceError> {
        let running = r
            .running
            .iter()
            .map(|b| codec::decode(b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(malformed("attempt"))?;
        let reports = r
            .reports
            .iter()
            .map(|b| codec::decode(b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(malformed("task report"))?;
        let reply = self.sched.heartbeat(Heartbeat {
            id: ExecutorId(r.executor_id),
            host: r.host,
            host_id: r.host_id,
            datanode_addr: r.datanode_addr,
            slots: r.slots,
            running,
            reports,
            http_addr: r.http_addr,
        })?;
        Ok(pb::ExecutorHeartbeatResponse {
            launch: reply.launch.iter().map(codec::encode).collect(),
            cancel: reply.cancel.iter().map(codec::encode).collect(),
            datanode_addr: reply.datanode_addr,
        })
    }
}

fn stage_kind(spec: &JobSpec, stage: usize) -> basalt_jobs::plan::StageKind {
    use basalt_jobs::plan::StageKind;
    match (stage, spec.reduce.is_some()) {
        (0, _) => StageKind::Map,
        (1, true) => StageKind::Reduce,
        _ => StageKind::Commit,
    }
}

fn answer<T>(r: Result<T, ServiceError>) -> Result<Response<T>, Status> {
    r.map(Response::new).map_err(|e| e.to_status())
}

#[tonic::async_trait]
impl JobProtocol for JobService {
    async fn submit_job(&self, r: Request<pb::SubmitJobRequest>) -> Result<Response<pb::SubmitJobResponse>, Status> {
        answer(self.submit(r.into_inner()).await)
    }

    async fn job_status(&self, r: Request<pb::JobStatusRequest>) -> Result<Response<pb::JobStatusResponse>, Status> {
        answer(self.status(r.into_inner()).await)
    }

    async fn list_jobs(&self, _r: Request<pb::ListJobsRequest>) -> Result<Response<pb::ListJobsResponse>, Status> {
        answer(self.list().await)
    }

    async fn kill_job(&self, r: Request<pb::KillJobRequest>) -> Result<Response<pb::KillJobResponse>, Status> {
        answer(self.kill(r.into_inner()).await)
    }

    async fn list_executors(
        &self,
        _r: Request<pb::ListExecutorsRequest>,
    ) -> Result<Response<pb::ListExecutorsResponse>, Status> {
        answer(self.core.require_leader().map(|()| pb::ListExecutorsResponse {
            executors: codec::encode(&self.sched.executors()),
        }))
    }

    async fn executor_heartbeat(
        &self,
        r: Request<pb::ExecutorHeartbeatRequest>,
    ) -> Result<Response<pb::ExecutorHeartbeatResponse>, Status> {
        answer(self.heartbeat(r.into_inner()).await)
    }
}

/// Asks the datanode at `addr` to remove a job's shuffle files.
pub async fn delete_shuffle(connector: &Connector, addr: &str, job: JobId) -> Result<u64, Status> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| Status::invalid_argument(e.to_string()))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(30));
    let mut client = ShuffleClient::new(connector.connect_lazy(endpoint));
    Ok(client
        .delete_shuffle(pb::DeleteShuffleRequest { job: job.0 })
        .await?
        .into_inner()
        .files)
}

//! The jobs feature's calls to the metadata leader: submit, status, list, kill, and the executors.

use crate::error::{ClientError, Result};
use crate::fs::{Client, Inner};
use basalt_jobs::codec;
use basalt_jobs::status::{ExecutorView, JobStatusView, JobSummary};
use basalt_jobs::{JobId, JobSpec};
use basalt_proto::pb;
use basalt_proto::pb::job_protocol_client::JobProtocolClient;

impl Client {
    /// Submits a job; returns its id. Retried with the same request id, so a retry after a lost reply
    /// returns the first id instead of submitting twice.
    pub async fn submit_job(&self, spec: &JobSpec) -> Result<JobId> {
        let req = pb::SubmitJobRequest {
            spec: codec::encode(spec),
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        let resp = self
            .inner
            .nn
            .call_on(JobProtocolClient::new, |mut c| {
                let req = req.clone();
                async move { c.submit_job(req).await }
            })
            .await?;
        Ok(JobId(resp.job_id))
    }

    /// A job's state, stages and counters.
    pub async fn job_status(&self, job: JobId) -> Result<JobStatusView> {
        let resp = self
            .inner
            .nn
            .call_on(JobProtocolClient::new, |mut c| async move {
                c.job_status(pb::JobStatusRequest { job_id: job.0 }).await
            })
            .await?;
        codec::decode(&resp.status).map_err(ClientError::MalformedJobValue)
    }

    /// Every job, oldest first.
    pub async fn list_jobs(&self) -> Result<Vec<JobSummary>> {
        let resp = self
            .inner
            .nn
            .call_on(JobProtocolClient::new, |mut c| async move {
                c.list_jobs(pb::ListJobsRequest {}).await
            })
            .await?;
        codec::decode(&resp.jobs).map_err(ClientError::MalformedJobValue)
    }

    /// Kills a running job (its attempts are cancelled everywhere).
    pub async fn kill_job(&self, job: JobId) -> Result<()> {
        let req = pb::KillJobRequest {
            job_id: job.0,
            client_name: self.inner.name.clone(),
            request_id: Inner::request_id(),
        };
        self.inner
            .nn
            .call_on(JobProtocolClient::new, |mut c| {
                let req = req.clone();
                async move { c.kill_job(req).await }
            })
            .await?;
        Ok(())
    }

    /// The executors the leader's scheduler knows.
    pub async fn executors(&self) -> Result<Vec<ExecutorView>> {
        let resp = self
            .inner
            .nn
            .call_on(JobProtocolClient::new, |mut c| async move {
                c.list_executors(pb::ListExecutorsRequest {}).await
            })
            .await?;
        codec::decode(&resp.executors).map_err(ClientError::MalformedJobValue)
    }
}

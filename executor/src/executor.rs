//! [`Executor`]: the heartbeat loop and the task threads.
//!
//! Every `heartbeat-interval` (and at once when an attempt ends), the executor sends the leader its
//! id, host, slots, the attempts it runs and the reports of those that ended; the reply carries the
//! attempts to launch and to cancel. Each launched attempt runs on its own OS thread (at most `slots`
//! at once; the scheduler never places more); a cancel sets the attempt's flag, which kills its
//! command and ends it. Reports not delivered (the leader changed, a call failed) are sent again with
//! the next heartbeat.

use crate::config::ExecutorConfig;
use crate::error::ExecutorError;
use crate::metrics::ExecutorMetrics;
use crate::runner::{self, TaskEnv};
use basalt_client::namenode::{NamenodeClient, RetryPolicy};
use basalt_client::{Client, ClientConfig};
use basalt_jobs::ExecutorId;
use basalt_jobs::codec;
use basalt_jobs::ids::AttemptRef;
use basalt_jobs::task::{TaskDescriptor, TaskReport};
use basalt_proto::pb;
use basalt_proto::pb::job_protocol_client::JobProtocolClient;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// A running executor.
pub struct Executor {
    id: ExecutorId,
    slots: u32,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// The `/metrics` server, when `http` is set.
    http: Option<basalt_proto::http::HttpServer>,
}

struct Loop {
    id: ExecutorId,
    config: ExecutorConfig,
    slots: u32,
    host: String,
    host_id: String,
    nn: NamenodeClient,
    client: Client,
    running: HashMap<AttemptRef, Arc<AtomicBool>>,
    unsent: Vec<TaskReport>,
    done_tx: mpsc::UnboundedSender<TaskReport>,
    done_rx: mpsc::UnboundedReceiver<TaskReport>,
    paired: String,
    metrics: ExecutorMetrics,
    /// Where `/metrics` is served ("" for nowhere), told in heartbeats.
    http_addr: String,
}

impl Executor {
    /// Starts the heartbeat loop (the first heartbeat registers the executor).
    pub async fn start(config: ExecutorConfig) -> Result<Executor, ExecutorError> {
        config.validate()?;
        std::fs::create_dir_all(&config.work_dir).map_err(|source| ExecutorError::WorkDir {
            path: config.work_dir.clone(),
            source,
        })?;
        let id = ExecutorId(fastrand::u64(1..));
        let slots = config.effective_slots();
        let members = config.namenodes.join(",");
        let policy = RetryPolicy {
            op_timeout: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        let nn = NamenodeClient::new(&members, policy)?;
        let client = Client::connect(ClientConfig::new(members))?;
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = watch::channel(false);
        let host = basalt_host::hostname().unwrap_or_default();
        let metrics = ExecutorMetrics::new();
        let http = match config.http_listen {
            Some(addr) => Some(
                basalt_proto::http::serve(addr, metrics.registry.routes(), stop_rx.clone())
                    .await
                    .map_err(|source| ExecutorError::Bind { addr, source })?,
            ),
            None => None,
        };
        let l = Loop {
            id,
            slots,
            host,
            host_id: basalt_host::host_id(),
            nn,
            client,
            running: HashMap::new(),
            unsent: Vec::new(),
            done_tx,
            done_rx,
            paired: String::new(),
            metrics,
            http_addr: http.as_ref().map(|h| h.addr.to_string()).unwrap_or_default(),
            config,
        };
        let task = tokio::spawn(l.run(stop_rx));
        Ok(Executor {
            id,
            slots,
            stop,
            task,
            http,
        })
    }

    pub fn id(&self) -> ExecutorId {
        self.id
    }

    pub fn slots(&self) -> u32 {
        self.slots
    }

    /// Where `/metrics` is served, when `http` is set.
    pub fn http_addr(&self) -> Option<std::net::SocketAddr> {
        self.http.as_ref().map(|h| h.addr)
    }

    /// Stops heartbeating; running attempts are cancelled (their threads end on their own).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        if let Some(http) = self.http {
            let _ = http.task.await;
        }
    }
}

impl Loop {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.config.heartbeat_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tick.tick() => {}
                Some(r) = self.done_rx.recv() => self.ended(r),
            }
            while let Ok(r) = self.done_rx.try_recv() {
                self.ended(r);
            }
            self.heartbeat().await;
        }
        for cancel in self.running.values() {
            cancel.store(true, Ordering::Release);
        }
    }

    fn ended(&mut self, r: TaskReport) {
        self.running.remove(&r.attempt);
        self.metrics.ended(&r.outcome);
        self.metrics.set_running(self.running.len());
        self.unsent.push(r);
    }

    async fn heartbeat(&mut self) {
        let req = pb::ExecutorHeartbeatRequest {
            executor_id: self.id.0,
            host: self.host.clone(),
            host_id: self.host_id.clone(),
            datanode_addr: self.config.datanode.clone().unwrap_or_default(),
            slots: self.slots,
            running: self.running.keys().map(codec::encode).collect(),
            reports: self.unsent.iter().map(codec::encode).collect(),
            http_addr: self.http_addr.clone(),
        };
        let reply = self
            .nn
            .call_on(JobProtocolClient::new, |mut c| {
                let req = req.clone();
                async move { c.executor_heartbeat(req).await }
            })
            .await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "executor heartbeat failed");
                return;
            }
        };
        self.unsent.clear();
        if reply.datanode_addr != self.paired {
            self.paired = reply.datanode_addr.clone();
            if self.paired.is_empty() {
                tracing::warn!("no live datanode to pair with yet; no tasks are placed here");
            } else {
                tracing::info!(executor = %self.id, datanode = %self.paired, "executor paired with its host's datanode");
            }
        }
        for c in reply.cancel {
            if let Ok(a) = codec::decode::<AttemptRef>(&c)
                && let Some(flag) = self.running.get(&a)
            {
                tracing::info!(attempt = %a, "cancelling task attempt");
                flag.store(true, Ordering::Release);
            }
        }
        for l in reply.launch {
            match codec::decode::<TaskDescriptor>(&l) {
                Ok(t) => self.launch(t),
                Err(e) => tracing::warn!(error = %e, "undecodable task descriptor"),
            }
        }
    }

    fn launch(&mut self, t: TaskDescriptor) {
        let a = t.attempt;
        if self.running.contains_key(&a) {
            return;
        }
        let cancel = Arc::new(AtomicBool::new(false));
        self.running.insert(a, cancel.clone());
        self.metrics.started();
        self.metrics.set_running(self.running.len());
        let env = TaskEnv {
            rt: tokio::runtime::Handle::current(),
            client: self.client.clone(),
            work_dir: self.config.work_dir.clone(),
            cancel,
        };
        let done = self.done_tx.clone();
        tracing::info!(attempt = %a, "task attempt started");
        let spawned = std::thread::Builder::new().name(format!("task-{a}")).spawn(move || {
            let report = runner::run(&env, &t);
            let _ = done.send(report);
        });
        if let Err(e) = spawned {
            tracing::warn!(attempt = %a, error = %e, "could not start a task thread");
            self.running.remove(&a);
        }
    }
}

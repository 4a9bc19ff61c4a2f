//! The replicated metadata state: what every member of the metadata group holds, in memory, rebuilt
//! from the latest snapshot plus the Raft log tail. Pure: [`MetaState::apply_batch`] takes a log entry
//! and returns its results; Raft, RPC and time live outside (`crate::raft`, `crate::service`).
//!
//! # Layout: one sub-machine per feature
//!
//! | sub-machine | module | owns |
//! |---|---|---|
//! | file namespace | [`namespace`] | directories, files, each file's blocks, leases |
//! | cluster | [`cluster`] | datanode identities, racks, admin (decommission) states, ring tokens |
//! | catalog | [`catalog`] | keyspaces, tables, the catalog version |
//! | jobs | [`jobs`] | job records: spec, state, completed stages and their outputs |
//!
//! Each sub-machine owns its state, its command enum, its output enum, its error enum (with an
//! exhaustive `kind()`), its `apply` and its queries, and knows nothing of the others. Above them, once:
//! the [`Batch`] of requests one log entry carries (group commit), the request [`dedup`] window, the
//! batch clock, and the encoding version ([`codec`]).
//!
//! # Adding a feature's state
//! 1. Put its state, commands, outputs and errors in its sub-machine module (a new one for a new
//!    feature: copy the shape of [`jobs`], the empty one), and add a variant to [`Command`], [`Output`] and
//!    [`StateError`] for a new sub-machine; implement [`SubCommand`] for its command enum.
//! 2. Choose its write gate in [`Command::gate`]: only writes that depend on block locations wait for
//!    safe mode to end.
//! 3. Evolve, never break: new fields get `#[serde(default)]`, new variants go at the end, nothing is
//!    renamed or removed. A command that an older build cannot apply raises [`STATE_VERSION`] and is
//!    proposed with that version (see `deploy/README.md`, "Upgrades").
//! 4. When a persisted format changes, first write a fixture of the old one with the old build
//!    (`tests/fixtures/make-fixture.sh`) and add it to `tests/cluster/upgrade.rs`.

pub mod catalog;
pub mod cluster;
pub mod codec;
pub mod dedup;
pub mod jobs;
pub mod legacy;
pub mod namespace;

#[cfg(test)]
mod tests;

use basalt_common::ErrorKind;
use catalog::{Catalog, CatalogCommand, CatalogError, CatalogOutput};
use cluster::{Cluster, ClusterCommand, ClusterError, ClusterOutput};
use jobs::{Jobs, JobsCommand, JobsError, JobsOutput};
use namespace::{FsCommand, FsOutput, Namespace, NamespaceError};
use serde::{Deserialize, Serialize};

/// The newest version of the command set this build applies. A request carries the version it needs
/// (the version that introduced its command, [`Command::version`]); requests from older builds carry
/// older versions.
///
/// | version | introduced |
/// |---|---|
/// | 3 | the sub-machines (file namespace, cluster) |
/// | 4 | the catalog's schema changes, the cluster's ring tokens (`SetTokens`) |
/// | 5 | the jobs sub-machine's commands (job records) |
/// | 6 | permissions: requests carry their caller ([`Request::caller`], checked by the namespace), the
/// |   | namespace's `SetPermission`, `SetOwner` and `SetTimes` |
pub const STATE_VERSION: u16 = 6;

/// The state version from which a request may carry its caller: an older member would skip the field
/// and apply the request unchecked, so such requests need it.
pub const CALLER_VERSION: u16 = 6;

/// The whole replicated state machine (the Raft state machine's data).
///
/// Persisted with named fields: a sub-machine added later needs `#[serde(default)]`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MetaState {
    pub namespace: Namespace,
    pub cluster: Cluster,
    #[serde(default)]
    pub catalog: Catalog,
    #[serde(default)]
    pub jobs: Jobs,
    dedup: dedup::Dedup,
    /// Time of the batch being applied (the leader's clock when it proposed it, never going back).
    clock_ms: u64,
}

/// One entry of the metadata log: client requests proposed together (group commit), applied in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// The leader's wall clock when it proposed the batch: how long retries are remembered is measured
    /// with it (every member applies the same time, so the state stays deterministic).
    pub time_ms: u64,
    pub requests: Vec<Request>,
}

/// One client request in the metadata log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The state version the command needs (see [`STATE_VERSION`]).
    pub version: u16,
    /// Client that sent the request and its request id: a retried request with the same pair returns
    /// the first result instead of being applied twice. `request_id == 0` disables the check.
    pub client: String,
    pub request_id: u64,
    pub command: Command,
    /// Who made the request, as the leader resolved it (user, groups, superuser) when it proposed it:
    /// the namespace checks permissions against it. `None`: the namenode's own work (lease recovery,
    /// registrations) or a request older than [`CALLER_VERSION`], applied unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<namespace::Caller>,
}

impl Request {
    pub fn new(client: impl Into<String>, request_id: u64, command: impl Into<Command>) -> Self {
        let command = command.into();
        Request {
            version: command.version(),
            client: client.into(),
            request_id,
            command,
            caller: None,
        }
    }

    /// This request made by `caller` (which raises its version to [`CALLER_VERSION`]).
    pub fn with_caller(mut self, caller: Option<namespace::Caller>) -> Self {
        if caller.is_some() {
            self.version = self.version.max(CALLER_VERSION);
        }
        self.caller = caller;
        self
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{} {}", self.client, self.request_id, self.command.name())
    }
}

/// A command of one of the sub-machines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Fs(FsCommand),
    Cluster(ClusterCommand),
    Catalog(CatalogCommand),
    Jobs(JobsCommand),
}

/// Which checks a write passes before it is proposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// The leader takes it at any time (datanode registration, decommission, catalog, jobs).
    Leader,
    /// It changes the file namespace, whose block map is incomplete in safe mode: refused until safe
    /// mode ends, as in HDFS.
    SafeMode,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Fs(c) => c.name(),
            Command::Cluster(c) => c.name(),
            Command::Catalog(c) => c.name(),
            Command::Jobs(c) => c.name(),
        }
    }

    /// The state version that introduced this command (what a member must apply to take it).
    pub fn version(&self) -> u16 {
        match self {
            Command::Fs(c) => c.version(),
            Command::Cluster(c) => c.version(),
            Command::Catalog(_) => 4,
            Command::Jobs(_) => 5,
        }
    }

    pub fn gate(&self) -> Gate {
        match self {
            Command::Fs(_) => Gate::SafeMode,
            Command::Cluster(_) | Command::Catalog(_) | Command::Jobs(_) => Gate::Leader,
        }
    }
}

/// What a successfully applied command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    Fs(FsOutput),
    Cluster(ClusterOutput),
    Catalog(CatalogOutput),
    Jobs(JobsOutput),
}

/// Why a command was refused. Each sub-machine's error keeps its own structured fields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum StateError {
    #[error(transparent)]
    Fs(#[from] NamespaceError),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error("command version {version} is newer than this member applies ({supported}): upgrade it")]
    UnsupportedVersion { version: u16, supported: u16 },
}

impl StateError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            StateError::Fs(e) => e.kind(),
            StateError::Cluster(e) => e.kind(),
            StateError::Catalog(e) => e.kind(),
            StateError::Jobs(e) => e.kind(),
            StateError::UnsupportedVersion { .. } => ErrorKind::Invalid,
        }
    }
}

/// The result of applying one request (what the proposer hands back to the caller).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response(pub Result<Output, StateError>);

/// A sub-machine's command enum: how it wraps into [`Command`] and finds its output in [`Output`].
pub trait SubCommand: Into<Command> {
    type Output;
    /// The sub-machine's output, if `out` is one.
    fn output(out: Output) -> Option<Self::Output>;
}

macro_rules! sub_command {
    ($cmd:ty, $out:ty, $variant:ident) => {
        impl From<$cmd> for Command {
            fn from(c: $cmd) -> Self {
                Command::$variant(c)
            }
        }
        impl SubCommand for $cmd {
            type Output = $out;
            fn output(out: Output) -> Option<$out> {
                match out {
                    Output::$variant(o) => Some(o),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}

sub_command!(FsCommand, FsOutput, Fs);
sub_command!(ClusterCommand, ClusterOutput, Cluster);
sub_command!(CatalogCommand, CatalogOutput, Catalog);
sub_command!(JobsCommand, JobsOutput, Jobs);

impl MetaState {
    /// Applies one log entry's batch of requests, in order, at the batch's time.
    pub fn apply_batch(&mut self, batch: &Batch) -> Vec<Response> {
        self.clock_ms = self.clock_ms.max(batch.time_ms);
        self.dedup.expire(self.clock_ms);
        batch.requests.iter().map(|r| self.apply(r)).collect()
    }

    /// Applies one request. Requests already applied (same client and request id) return their first
    /// result again without changing anything.
    pub fn apply(&mut self, req: &Request) -> Response {
        if req.version > STATE_VERSION {
            return Response(Err(StateError::UnsupportedVersion {
                version: req.version,
                supported: STATE_VERSION,
            }));
        }
        if req.request_id != 0
            && let Some(prev) = self.dedup.get(&req.client, req.request_id)
        {
            return prev.clone();
        }
        let resp = Response(self.apply_command(&req.client, req.caller.as_ref(), &req.command));
        if req.request_id != 0 {
            self.dedup
                .insert(&req.client, req.request_id, resp.clone(), self.clock_ms);
        }
        resp
    }

    fn apply_command(
        &mut self,
        client: &str,
        caller: Option<&namespace::Caller>,
        cmd: &Command,
    ) -> Result<Output, StateError> {
        Ok(match cmd {
            Command::Fs(c) => Output::Fs(self.namespace.apply_as(client, caller, c)?),
            Command::Cluster(c) => Output::Cluster(self.cluster.apply(c)?),
            Command::Catalog(c) => Output::Catalog(self.catalog.apply(c, self.clock_ms)?),
            Command::Jobs(c) => Output::Jobs(self.jobs.apply(c, self.clock_ms)?),
        })
    }

    /// A state rebuilt by an upgrade of an older format (with an empty dedup window).
    pub(crate) fn upgraded(namespace: Namespace, cluster: Cluster, clock_ms: u64) -> Self {
        MetaState {
            namespace,
            cluster,
            clock_ms,
            ..MetaState::default()
        }
    }

    /// Requests remembered for retries.
    pub fn dedup_len(&self) -> usize {
        self.dedup.len()
    }
}

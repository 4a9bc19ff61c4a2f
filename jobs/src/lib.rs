//! Basalt jobs, the pure part (no IO, no clock, no threads): what a job is, how it is cut into stages
//! and tasks, and how tasks are placed, retried and finished. The namenode's scheduler, the executor
//! and the CLI all build on it; the async shells around it live in those crates.
//!
//! - [`ids`]: newtype ids (job, stage, partition, attempt, executor).
//! - [`spec`]: the job spec a client submits: input splits, the map operator, an optional reduce stage
//!   after a shuffle, the output directory.
//! - [`plan`]: the planner: a spec → stages (cut at the shuffle) → one task per partition, with the
//!   preferred datanodes of each map task.
//! - [`task`]: what an executor is told to run ([`task::TaskDescriptor`]) and what it reports back.
//! - [`sched`]: the scheduler core: events in (executor heartbeats and losses, task results, ticks),
//!   decisions out (launch, cancel, stage done, job done or failed), with delay scheduling and retries.
//! - [`lines`]: Hadoop's line-reader rule for splits (a line belongs to the split it starts in).
//! - [`records`]: shuffle records (framing, partitioners, the k-way merge of sorted runs).
//! - [`codec`]: the versioned, evolvable encoding of every value that crosses a process boundary.
//! - [`status`]: the job status views shown by `basalt job status` / `list`.

pub mod codec;
pub mod ids;
pub mod lines;
pub mod plan;
pub mod records;
pub mod sched;
pub mod spec;
pub mod status;
pub mod task;

pub use ids::{AttemptId, ExecutorId, JobId, Partition, StageId};
pub use spec::{JobSpec, MapOp, ReduceOp, SpecError};

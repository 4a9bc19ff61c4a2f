//! The Basalt executor: runs the task attempts the metadata leader's scheduler places on it, next to
//! the data, and holds no state that matters (its work dir is disposable).
//!
//! - [`config`]: [`ExecutorConfig`], checked once by `validate()`.
//! - [`executor`]: [`Executor`]: the heartbeat loop (register, pull launches and cancels, report
//!   attempts that ended) and the task threads (one OS thread per running attempt, up to `slots`;
//!   never the async runtime: IO from a task thread goes through the runtime's handle).
//! - [`metrics`]: the executor's Prometheus registry, served at `/metrics` on `http` when set.
//! - [`runner`]: one attempt, by phase: fetch the job's files, read the input (a split of a Basalt
//!   file, or the shuffle runs from the datanodes), run the operator (built-in, or a Hadoop Streaming
//!   command as a child process), write the output (sorted runs to the shuffle service of the
//!   datanode on this host, or a part file), or commit a job's part files.
//! - [`error`]: [`ExecutorError`] (start-up) and [`runner::TaskError`] (why an attempt failed).
//!
//! A task is described completely by a `basalt_jobs::task::TaskDescriptor`, so a job binary in task
//! mode (later) receives the same descriptor and runs it with its own closures.

pub mod config;
pub mod error;
pub mod executor;
pub mod metrics;
pub mod runner;

pub use config::ExecutorConfig;
pub use error::ExecutorError;
pub use executor::Executor;

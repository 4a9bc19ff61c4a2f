//! The coordinator: any datanode takes any table request, sends it to the replicas of its partition and
//! answers at the requested consistency level (Cassandra's model).
//!
//! - [`replicas`]: the [`Replicas`] trait the logic is written against (local store or gRPC), and the
//!   [`HintSink`].
//! - [`handoff`]: replay of stored hints to replicas that are back, and probes of down ones.
//! - [`liveness`]: which replicas are believed up.
//! - [`read`]: data and digest reads, reconciliation and blocking read repair.
//! - [`write`]: the write fan-out, acknowledgements and hinted handoff.
//! - [`error`]: [`CoordinatorError`], Cassandra's Unavailable / timeouts with their counts.

pub mod error;
pub mod handoff;
pub mod liveness;
pub mod read;
pub mod replicas;
pub mod write;

pub use error::{CoordinatorError, WriteType};
pub use liveness::Liveness;
pub use replicas::{HintSink, Partitions, ReadAnswer, Replicas};

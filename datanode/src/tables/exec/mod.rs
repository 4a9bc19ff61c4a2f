//! Statement execution on a coordinator: a parsed CQL statement, its bound values and the catalog
//! become catalog changes (sent to the metadata group), partition updates (replicated at the
//! consistency level) or reads (coordinated, reconciled, paged), and the answer goes back as Arrow.
//!
//! - [`eval`]: terms and bound values to [`basalt_table::Value`]s; the clock.
//! - [`restrict`]: a `WHERE` clause to partitions, clustering slices and row filters.
//! - [`mutation`]: INSERT / UPDATE / DELETE to partition updates.
//! - [`select`]: SELECT plans, rows of reconciled partitions, paging states.
//! - [`ddl`]: schema statements through the metadata group.
//! - [`describe`]: server-side DESCRIBE.
//! - [`system`]: the system keyspaces (with the CQL protocol).
//! - [`nodes`]: where each datanode serves CQL, and this node's request counters.
//! - [`engine`]: [`Engine`], which runs a statement from request to answer.
//! - [`error`]: [`ExecError`], in the terms of CQL error codes.

pub mod ddl;
pub mod describe;
pub mod engine;
pub mod error;
pub mod eval;
pub mod mutation;
pub mod nodes;
pub mod restrict;
pub mod select;
pub mod system;

pub use engine::{Answer, Engine, EngineConfig, Rows};
pub use error::ExecError;

//! Statement execution on a coordinator: a parsed CQL statement, its bound values and the catalog
//! become catalog changes (sent to the metadata group), partition updates (replicated at the
//! consistency level) or reads (coordinated, reconciled, paged), and the answer goes back as Arrow.
//!
//! - [`eval`]: terms and bound values to [`basalt_table::Value`]s; the clock.
//! - [`restrict`]: a `WHERE` clause to partitions, clustering slices and row filters.
//! - [`mutation`]: INSERT / UPDATE / DELETE to partition updates.
//! - [`error`]: [`ExecError`], in the terms of CQL error codes.

pub mod error;
pub mod eval;
pub mod mutation;
pub mod restrict;

pub use error::ExecError;

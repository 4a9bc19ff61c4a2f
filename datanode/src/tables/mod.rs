//! Tables on this datanode: what it knows of the catalog and the token ring, and (with the table
//! store and the coordinator, added by the tables feature) the rows it holds and the statements it
//! coordinates.
//!
//! - [`schema_view`]: [`schema_view::SchemaView`], the catalog and ring as this node last fetched them
//!   from the metadata group: cheap `Arc` snapshots for any task, refreshed when a heartbeat reply
//!   shows a newer version, or on demand by a coordinator that needs at least a given catalog version
//!   (after its own schema change, or when a statement names a table or column it does not know).

pub mod schema_view;

//! The Basalt client library: an async API over the namenode and datanodes.
//!
//! [`Client`] connects to the metadata group (leader discovery and retry in [`namenode`]), creates files
//! as [`FileWriter`]s (blocks streamed down a datanode pipeline, see [`writer`]) and opens them as
//! seekable [`FileReader`]s (nearest replica first, failover on error, short-circuit reads of local
//! replicas through a memory map, every chunk verified; see [`reader`]). For tables: schema changes,
//! the catalog and the token ring ([`Client::schema_change`], [`Client::catalog`], [`Client::ring`]),
//! statements ([`cql`]), full scans as Arrow batches ([`Client::scan`], see [`scan`]) and each datanode's
//! table status ([`Client::table_status`]).

pub mod cql;
mod datanodes;
pub mod error;
mod fs;
mod jobs;
pub mod namenode;
pub mod reader;
pub mod scan;
mod tables;
pub mod writer;

pub use basalt_table::ring::{RingNode, RingView};
pub use error::{ClientError, Result};
pub use fs::{
    Client, ClientConfig, ContentSummary, CreateOptions, DEFAULT_UMASK, FileStatus, MemberStatus, default_user,
};
pub use namenode::CallerId;
pub use namenode::RetryPolicy;
pub use reader::{FileReader, ReadStats};
pub use scan::{ScanOptions, TableScan};
pub use tables::NodeTableStatus;
pub use writer::FileWriter;

/// Cluster status as reported by the namenode (re-exported wire type).
pub use basalt_proto::pb::ClusterStatusResponse as ClusterStatus;
/// Block health below a path (re-exported wire type).
pub use basalt_proto::pb::FsckResponse as FsckReport;
/// A block of a file with its replicas' datanodes (re-exported wire type).
pub use basalt_proto::pb::LocatedBlock;

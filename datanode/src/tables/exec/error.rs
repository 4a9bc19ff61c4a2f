//! Why a statement failed, in the terms of CQL's error codes (the CQL protocol layer maps each
//! variant to one: SyntaxError, Invalid, ConfigError, AlreadyExists, Unavailable, timeouts, ...).

use crate::tables::coordinator::CoordinatorError;
use basalt_common::ErrorKind;
use basalt_proto::RemoteError;
use basalt_table::ValueError;
use basalt_table::cql::CqlError;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Cql(#[from] CqlError),
    #[error("{0}")]
    Value(#[from] ValueError),
    #[error(transparent)]
    Coordinator(#[from] CoordinatorError),
    #[error("No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename")]
    NoKeyspace,
    #[error("Keyspace {keyspace} does not exist")]
    UnknownKeyspace { keyspace: String },
    #[error("unconfigured table {table}")]
    UnknownTable { table: String },
    #[error("Undefined column name {column} in table {table}")]
    UnknownColumn { table: String, column: String },
    #[error("Some partition key parts are missing: {columns}")]
    MissingPartitionKey { columns: String },
    #[error("Some clustering keys are missing: {columns}")]
    MissingClustering { columns: String },
    #[error("{what}")]
    InvalidQuery { what: String },
    #[error("{what} is not supported yet")]
    Unsupported { what: String },
    #[error("Invalid null value in condition for column {column}")]
    NullKey { column: String },
    #[error("Invalid unset value for column {column}")]
    UnsetKey { column: String },
    #[error("there are {markers} bind markers but {values} values were given")]
    WrongValueCount { markers: usize, values: usize },
    #[error(
        "Prepared query with ID {id} not found (either the query was not prepared on this host (maybe the host has been restarted?) or you have prepared too many queries and it has been evicted from the internal cache)"
    )]
    Unprepared { id: String },
    #[error(
        "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING"
    )]
    NeedsFiltering,
    #[error("Invalid paging state")]
    BadPagingState,
    /// A catalog change the metadata group refused (exists already, not found, invalid) or could not
    /// take (no leader).
    #[error("{0}")]
    Catalog(RemoteError),
    #[error("the catalog did not reach version {version} on this node within {secs} s")]
    SchemaLag { version: u64, secs: u64 },
    /// A replica's answer (or a stored value) that does not decode.
    #[error("undecodable answer from replica {node}: {source}")]
    Undecodable {
        node: basalt_common::DatanodeId,
        source: basalt_table::codec::CodecError,
    },
    #[error("cannot write the batch log: {0}")]
    BatchLog(crate::tables::store::TableStoreError),
    #[error("cannot encode the result as Arrow IPC: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

impl ExecError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExecError::Cql(e) => e.kind(),
            ExecError::Value(e) => e.kind(),
            ExecError::Coordinator(e) => e.kind(),
            ExecError::Catalog(e) => e.kind,
            ExecError::Unprepared { .. } | ExecError::UnknownTable { .. } | ExecError::UnknownKeyspace { .. } => {
                ErrorKind::NotFound
            }
            ExecError::SchemaLag { .. } => ErrorKind::Unavailable,
            ExecError::Undecodable { .. } => ErrorKind::Corrupt,
            ExecError::Arrow(_) => ErrorKind::Internal,
            ExecError::BatchLog(e) => e.kind(),
            ExecError::NoKeyspace
            | ExecError::UnknownColumn { .. }
            | ExecError::MissingPartitionKey { .. }
            | ExecError::MissingClustering { .. }
            | ExecError::InvalidQuery { .. }
            | ExecError::Unsupported { .. }
            | ExecError::NullKey { .. }
            | ExecError::UnsetKey { .. }
            | ExecError::WrongValueCount { .. }
            | ExecError::NeedsFiltering
            | ExecError::BadPagingState => ErrorKind::Invalid,
        }
    }

    pub(crate) fn invalid(what: impl Into<String>) -> ExecError {
        ExecError::InvalidQuery { what: what.into() }
    }
}

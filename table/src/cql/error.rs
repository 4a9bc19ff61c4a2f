//! The errors of parsing CQL and of turning statements into values and definitions. Every variant is a
//! request error ([`ErrorKind::Invalid`]); [`CqlError::class`] says which CQL protocol error it becomes
//! (`SyntaxError` for [`CqlError::Syntax`] and [`CqlError::Unsupported`], `ConfigError` for
//! [`CqlError::Replication`], `Invalid` for the others).

use basalt_common::ErrorKind;
use thiserror::Error;

/// A CQL error. Positions are 1-based lines and 0-based columns (in characters), as Cassandra reports them.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CqlError {
    /// The text is not CQL: `line 1:7 no viable alternative at input 'TABL'`.
    #[error("line {line}:{column} {message}")]
    Syntax {
        line: u32,
        column: u32,
        message: String,
        /// The text of the offending token (`<EOF>` at the end of input).
        near: String,
    },
    /// Valid CQL that Basalt does not implement (`GRANT`, `INSERT JSON`, `counter`, ...).
    #[error("line {line}:{column} {what} is not supported")]
    Unsupported { line: u32, column: u32, what: String },
    /// A type name that is not a CQL type (nor a user-defined type, which Basalt does not have).
    #[error("line {line}:{column} Unknown type {name}")]
    UnknownType { line: u32, column: u32, name: String },
    /// A literal that cannot be a value of the type it is given to.
    #[error("Invalid literal {literal} for type {expected}: {reason}")]
    InvalidLiteral {
        /// The CQL type expected (`int`, `list<text>`).
        expected: String,
        literal: String,
        reason: String,
    },
    /// A bind marker where a value is needed and none was bound.
    #[error("bind marker {index} has no value here")]
    UnboundMarker { index: usize },
    /// A statement names a column its table does not have.
    #[error("Undefined column name {column} in table {table}")]
    UnknownColumn { column: String, table: String },
    /// A statement names a table that does not exist.
    #[error("table {table} does not exist")]
    UnknownTable { table: String },
    /// A bind marker where Basalt cannot say what it stands for.
    #[error("Unsupported bind marker: {reason}")]
    UnsupportedMarker { reason: String },
    /// A function call that is not a known value-producing function.
    #[error("Unknown function {name} with {arity} argument(s)")]
    UnknownFunction { name: String, arity: usize },
    /// A keyspace or table name that Cassandra refuses (`[A-Za-z0-9_]+`, at most 48 characters for a
    /// keyspace and 222 for a table).
    #[error(
        "{what} name \"{name}\" is not valid (alphanumeric characters and underscores only, at most {max} characters)"
    )]
    InvalidName {
        what: &'static str,
        name: String,
        max: usize,
    },
    /// A table definition that Cassandra would refuse.
    #[error("{0}")]
    InvalidTable(#[from] TableDefError),
    /// A keyspace's replication options that Cassandra would refuse.
    #[error("{0}")]
    Replication(#[from] ReplicationError),
}

/// Why a `CREATE TABLE` (or `ALTER TABLE`) is refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TableDefError {
    #[error("No PRIMARY KEY specified for table '{table}' (exactly one required)")]
    MissingPrimaryKey { table: String },
    #[error("Multiple PRIMARY KEY specified for table '{table}' (exactly one required)")]
    MultiplePrimaryKeys { table: String },
    #[error("Unknown definition {column} referenced in PRIMARY KEY")]
    UnknownKeyColumn { column: String },
    #[error("Column {column} appears more than once in the PRIMARY KEY")]
    RepeatedKeyColumn { column: String },
    #[error("Duplicate column '{column}' declaration for table {table}")]
    DuplicateColumn { column: String, table: String },
    #[error("Invalid collection type for PRIMARY KEY component {column}")]
    CollectionInPrimaryKey { column: String },
    #[error("Static column {column} cannot be part of the PRIMARY KEY")]
    StaticInPrimaryKey { column: String },
    #[error("Static columns are only useful (and thus allowed) if the table has at least one clustering column")]
    StaticWithoutClustering,
    #[error("Only clustering key columns can be defined in CLUSTERING ORDER directive: {column} is not")]
    ClusteringOrderNotClustering { column: String },
    #[error(
        "The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns \
         ({column} must appear before {next})"
    )]
    ClusteringOrderMisordered { column: String, next: String },
    #[error("Missing CLUSTERING ORDER for column {column}")]
    ClusteringOrderMissing { column: String },
    #[error("Unknown property '{name}'")]
    UnknownOption { name: String },
    #[error("Multiple definitions for property '{name}'")]
    RepeatedOption { name: String },
    #[error("Invalid value for property '{name}': {reason}")]
    InvalidOption { name: String, reason: String },
    #[error("Unknown column {column} in table {table}")]
    UnknownColumn { column: String, table: String },
    #[error("Cannot drop PRIMARY KEY column {column}")]
    DropKeyColumn { column: String },
    #[error("Invalid column name {column} because it conflicts with an existing column")]
    ColumnExists { column: String },
}

/// Why the replication options of a `CREATE`/`ALTER KEYSPACE` are refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ReplicationError {
    #[error("Missing mandatory replication strategy class")]
    MissingClass,
    #[error("Unable to find replication strategy class '{class}'")]
    UnknownClass { class: String },
    #[error("SimpleStrategy requires a replication_factor strategy option.")]
    MissingFactor,
    #[error("Replication factor must be non-negative integer; found {value}")]
    InvalidFactor { value: String },
    #[error("Unrecognized strategy option {{{option}}} passed to {class}")]
    UnknownOption { option: String, class: String },
    #[error("Unrecognized datacenter {datacenter} (Basalt has one, datacenter1)")]
    UnknownDatacenter { datacenter: String },
    #[error("Unknown property '{name}'")]
    UnknownProperty { name: String },
    #[error("Invalid value for property '{name}': {reason}")]
    InvalidProperty { name: String, reason: String },
    #[error("Missing mandatory option 'replication'")]
    MissingReplication,
}

impl CqlError {
    /// What the caller should do: every CQL error is a bad request.
    pub fn kind(&self) -> ErrorKind {
        match self {
            CqlError::Syntax { .. }
            | CqlError::Unsupported { .. }
            | CqlError::UnknownType { .. }
            | CqlError::InvalidLiteral { .. }
            | CqlError::UnboundMarker { .. }
            | CqlError::UnknownFunction { .. }
            | CqlError::InvalidName { .. }
            | CqlError::UnknownColumn { .. }
            | CqlError::UnknownTable { .. }
            | CqlError::UnsupportedMarker { .. }
            | CqlError::InvalidTable(_)
            | CqlError::Replication(_) => ErrorKind::Invalid,
        }
    }

    /// The CQL protocol error this becomes.
    pub fn class(&self) -> CqlErrorClass {
        match self {
            CqlError::Syntax { .. } | CqlError::Unsupported { .. } => CqlErrorClass::Syntax,
            CqlError::UnknownType { .. }
            | CqlError::InvalidLiteral { .. }
            | CqlError::UnboundMarker { .. }
            | CqlError::UnknownFunction { .. }
            | CqlError::InvalidName { .. }
            | CqlError::UnknownColumn { .. }
            | CqlError::UnknownTable { .. }
            | CqlError::UnsupportedMarker { .. }
            | CqlError::InvalidTable(_) => CqlErrorClass::Invalid,
            CqlError::Replication(_) => CqlErrorClass::Config,
        }
    }
}

/// The CQL native protocol error family of a [`CqlError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CqlErrorClass {
    /// `SyntaxError` (0x2000).
    Syntax,
    /// `Invalid` (0x2200).
    Invalid,
    /// `ConfigError` (0x2300).
    Config,
}

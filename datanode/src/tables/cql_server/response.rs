//! Response bodies: the Engine's answers and errors in CQL v4 terms, encoded by `cassandra-protocol`.
//!
//! Rows: each value in its CQL native serialization ([`basalt_table::serialize`]), the metadata with
//! the column types as CQL type options. Errors: each [`ExecError`] becomes its CQL error code with
//! the body the code carries (Unavailable: consistency, required, alive; timeouts: received,
//! block_for, write type or data present; AlreadyExists: keyspace, table; Unprepared: the id).

use crate::tables::coordinator::{CoordinatorError, WriteType};
use crate::tables::exec::{ExecError, Rows};
use basalt_common::ErrorKind;
use basalt_proto::pb;
use basalt_table::cql::CqlErrorClass;
use basalt_table::{Consistency, CqlType, NativeType};
use cassandra_protocol::consistency::Consistency as WireConsistency;
use cassandra_protocol::frame::events::{SchemaChange, SchemaChangeOptions, SchemaChangeTarget, SchemaChangeType};
use cassandra_protocol::frame::message_error::{
    AlreadyExistsError, ErrorBody, ErrorType, UnavailableError, UnpreparedError, WriteTimeoutError,
    WriteType as WireWriteType,
};
use cassandra_protocol::frame::message_result::{
    BodyResResultPrepared, BodyResResultRows, ColSpec, ColType, ColTypeOption, ColTypeOptionValue, PreparedMetadata,
    RowsMetadata, RowsMetadataFlags, TableSpec,
};
use cassandra_protocol::frame::{FromCursor, Version};
use cassandra_protocol::types::{CBytes, CBytesShort};

/// The CQL type option of a column type.
pub fn col_type(ty: &CqlType) -> ColTypeOption {
    let native = |n: NativeType| ColTypeOption {
        id: match n {
            NativeType::TinyInt => ColType::Tinyint,
            NativeType::SmallInt => ColType::Smallint,
            NativeType::Int => ColType::Int,
            NativeType::BigInt => ColType::Bigint,
            NativeType::Float => ColType::Float,
            NativeType::Double => ColType::Double,
            NativeType::Decimal => ColType::Decimal,
            NativeType::Boolean => ColType::Boolean,
            NativeType::Text => ColType::Varchar,
            NativeType::Ascii => ColType::Ascii,
            NativeType::Blob => ColType::Blob,
            NativeType::Timestamp => ColType::Timestamp,
            NativeType::Date => ColType::Date,
            NativeType::Time => ColType::Time,
            NativeType::Uuid => ColType::Uuid,
            NativeType::TimeUuid => ColType::Timeuuid,
            NativeType::Inet => ColType::Inet,
        },
        value: None,
    };
    match *ty {
        CqlType::Native(n) => native(n),
        CqlType::List(n) => ColTypeOption {
            id: ColType::List,
            value: Some(ColTypeOptionValue::CList(Box::new(native(n)))),
        },
        CqlType::Set(n) => ColTypeOption {
            id: ColType::Set,
            value: Some(ColTypeOptionValue::CSet(Box::new(native(n)))),
        },
        CqlType::Map(k, v) => ColTypeOption {
            id: ColType::Map,
            value: Some(ColTypeOptionValue::CMap(Box::new(native(k)), Box::new(native(v)))),
        },
    }
}

fn table_spec(keyspace: &str, table: &str) -> Option<TableSpec> {
    (!keyspace.is_empty()).then(|| TableSpec {
        ks_name: keyspace.to_string(),
        table_name: table.to_string(),
    })
}

/// Rows metadata for `columns` (NO_METADATA when there are none), with a paging state when more
/// rows follow.
fn rows_metadata(
    keyspace: &str,
    table: &str,
    columns: &[(String, CqlType)],
    paging_state: Option<Vec<u8>>,
) -> RowsMetadata {
    let mut flags = RowsMetadataFlags::empty();
    let global = table_spec(keyspace, table);
    let col_specs: Vec<ColSpec> = columns
        .iter()
        .map(|(name, ty)| ColSpec {
            table_spec: if global.is_some() {
                None
            } else {
                Some(TableSpec {
                    ks_name: String::new(),
                    table_name: String::new(),
                })
            },
            name: name.clone(),
            col_type: col_type(ty),
        })
        .collect();
    let global = if col_specs.is_empty() {
        flags |= RowsMetadataFlags::NO_METADATA;
        None
    } else {
        if global.is_some() {
            flags |= RowsMetadataFlags::GLOBAL_TABLE_SPACE;
        }
        global
    };
    if paging_state.is_some() {
        flags |= RowsMetadataFlags::HAS_MORE_PAGES;
    }
    RowsMetadata {
        flags,
        columns_count: columns.len() as i32,
        paging_state: paging_state.map(CBytes::new),
        new_metadata_id: None,
        global_table_spec: global,
        col_specs,
    }
}

/// A ROWS result.
pub fn rows(r: Rows) -> BodyResResultRows {
    let content: Vec<Vec<CBytes>> = r
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Some(v) => CBytes::new(basalt_table::serialize::to_bytes(v)),
                    None => CBytes::new_null(),
                })
                .collect()
        })
        .collect();
    BodyResResultRows {
        metadata: rows_metadata(&r.keyspace, &r.table, &r.columns, r.paging_state),
        rows_count: content.len() as i32,
        rows_content: content,
        protocol_version: Version::V4,
    }
}

fn spec_type(s: &pb::ColumnSpec) -> CqlType {
    CqlType::from_cql_name(&s.cql_type).unwrap_or(CqlType::Native(NativeType::Blob))
}

/// A PREPARED result.
pub fn prepared(p: pb::CqlPrepareResponse) -> BodyResResultPrepared {
    let (ks, table) = p
        .bind_columns
        .first()
        .or(p.result_columns.first())
        .map(|s| (s.keyspace.clone(), s.table.clone()))
        .unwrap_or_default();
    let global = table_spec(&ks, &table);
    let bind_specs = p
        .bind_columns
        .iter()
        .map(|s| ColSpec {
            table_spec: None,
            name: s.name.clone(),
            col_type: col_type(&spec_type(s)),
        })
        .collect();
    let result_columns: Vec<(String, CqlType)> = p
        .result_columns
        .iter()
        .map(|s| (s.name.clone(), spec_type(s)))
        .collect();
    BodyResResultPrepared {
        id: CBytesShort::new(p.prepared_id),
        result_metadata_id: None,
        metadata: PreparedMetadata {
            pk_indexes: p.partition_key_indexes.iter().map(|&i| i as i16).collect(),
            global_table_spec: global,
            col_specs: bind_specs,
        },
        result_metadata: rows_metadata(&ks, &table, &result_columns, None),
    }
}

/// A SCHEMA_CHANGE result or event.
pub fn schema_change(s: &pb::SchemaChangeResult) -> SchemaChange {
    let change_type = match s.change.as_str() {
        "CREATED" => SchemaChangeType::Created,
        "DROPPED" => SchemaChangeType::Dropped,
        _ => SchemaChangeType::Updated,
    };
    let (target, options) = if s.target == "KEYSPACE" || s.name.is_empty() {
        (
            SchemaChangeTarget::Keyspace,
            SchemaChangeOptions::Keyspace(s.keyspace.clone()),
        )
    } else {
        (
            SchemaChangeTarget::Table,
            SchemaChangeOptions::TableType(s.keyspace.clone(), s.name.clone()),
        )
    };
    SchemaChange {
        change_type,
        target,
        options,
    }
}

fn wire_consistency(c: Consistency) -> WireConsistency {
    WireConsistency::try_from(c.code() as i16).unwrap_or_default()
}

fn wire_write_type(w: WriteType) -> WireWriteType {
    match w {
        WriteType::Simple => WireWriteType::Simple,
        WriteType::Batch => WireWriteType::Batch,
        WriteType::UnloggedBatch => WireWriteType::UnloggedBatch,
        WriteType::BatchLog => WireWriteType::BatchLog,
    }
}

/// The error body of an error of the frame layer (code 0x000A).
pub fn protocol_error(message: String) -> ErrorBody {
    ErrorBody {
        message,
        ty: ErrorType::Protocol,
    }
}

/// Overloaded (code 0x1001): a limit of this node refused the request.
pub fn overloaded(message: String) -> ErrorBody {
    ErrorBody {
        message,
        ty: ErrorType::Overloaded,
    }
}

/// What a statement names for an AlreadyExists error (keyspace, table or empty).
pub type Subject = (String, String);

/// The CQL error of a failed statement. `prepared_id`: the id of an EXECUTE (for Unprepared);
/// `subject`: the keyspace and table a DDL statement names (for AlreadyExists).
pub fn error(e: &ExecError, prepared_id: &[u8], subject: impl FnOnce() -> Subject) -> ErrorBody {
    let message = e.to_string();
    let ty = match e {
        ExecError::Cql(c) => match c.class() {
            CqlErrorClass::Syntax => ErrorType::Syntax,
            CqlErrorClass::Invalid => ErrorType::Invalid,
            CqlErrorClass::Config => ErrorType::Config,
        },
        ExecError::Coordinator(c) => coordinator_error(c),
        ExecError::Unprepared { .. } => ErrorType::Unprepared(UnpreparedError {
            id: CBytesShort::new(prepared_id.to_vec()),
        }),
        ExecError::Catalog(r) => match r.kind {
            ErrorKind::AlreadyExists => {
                let (ks, table) = subject();
                ErrorType::AlreadyExists(AlreadyExistsError { ks, table })
            }
            ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Conflict => ErrorType::Invalid,
            _ => ErrorType::Server,
        },
        ExecError::SchemaLag { .. } | ExecError::Undecodable { .. } | ExecError::BatchLog(_) | ExecError::Arrow(_) => {
            ErrorType::Server
        }
        ExecError::Value(_)
        | ExecError::NoKeyspace
        | ExecError::UnknownKeyspace { .. }
        | ExecError::UnknownTable { .. }
        | ExecError::UnknownColumn { .. }
        | ExecError::MissingPartitionKey { .. }
        | ExecError::MissingClustering { .. }
        | ExecError::InvalidQuery { .. }
        | ExecError::Unsupported { .. }
        | ExecError::NullKey { .. }
        | ExecError::UnsetKey { .. }
        | ExecError::WrongValueCount { .. }
        | ExecError::NeedsFiltering
        | ExecError::BadPagingState => ErrorType::Invalid,
    };
    ErrorBody { message, ty }
}

fn coordinator_error(c: &CoordinatorError) -> ErrorType {
    match c {
        CoordinatorError::Unavailable {
            consistency,
            required,
            alive,
        } => ErrorType::Unavailable(UnavailableError {
            cl: wire_consistency(*consistency),
            required: *required as i32,
            alive: *alive as i32,
        }),
        CoordinatorError::WriteTimeout {
            consistency,
            received,
            block_for,
            write_type,
        } => ErrorType::WriteTimeout(WriteTimeoutError {
            cl: wire_consistency(*consistency),
            received: *received as i32,
            block_for: *block_for as i32,
            write_type: wire_write_type(*write_type),
            contentions: None,
        }),
        CoordinatorError::ReadTimeout {
            consistency,
            received,
            block_for,
            data_present,
        } => {
            // The crate's ReadTimeoutError has no constructor for `data_present`: read it from its
            // wire form.
            let mut b = Vec::with_capacity(11);
            b.extend_from_slice(&(consistency.code() as i16).to_be_bytes());
            b.extend_from_slice(&(*received as i32).to_be_bytes());
            b.extend_from_slice(&(*block_for as i32).to_be_bytes());
            b.push(u8::from(*data_present));
            cassandra_protocol::frame::message_error::ReadTimeoutError::from_cursor(
                &mut std::io::Cursor::new(b.as_slice()),
                Version::V4,
            )
            .map_or(ErrorType::Server, ErrorType::ReadTimeout)
        }
        CoordinatorError::BadConsistency { .. } => ErrorType::Invalid,
        CoordinatorError::Replica { kind, .. } => match kind {
            ErrorKind::Invalid => ErrorType::Invalid,
            ErrorKind::Unavailable => ErrorType::Overloaded,
            _ => ErrorType::Server,
        },
        CoordinatorError::EmptyRing => ErrorType::Server,
    }
}

/// A value bound by a client, for the Engine.
pub fn bound(v: &cassandra_protocol::types::value::Value) -> pb::CqlValue {
    use cassandra_protocol::types::value::Value as V;
    pb::CqlValue {
        value: Some(match v {
            V::Some(b) => pb::cql_value::Value::Data(b.clone()),
            V::Null => pb::cql_value::Value::Null(true),
            V::NotSet => pb::cql_value::Value::Unset(true),
        }),
    }
}

//! The system keyspaces drivers read (`system.local`, `system.peers`, `system_schema.*`) come with
//! the CQL protocol issue; until then a SELECT on them is refused with a clear error, and every other
//! SELECT goes to the tables.

use super::engine::{Engine, Rows};
use super::error::ExecError;
use basalt_table::cql::ast::Select;

pub async fn select(_engine: &Engine, s: &Select, session: Option<&str>) -> Result<Option<Rows>, ExecError> {
    let ks = s.table.keyspace.as_deref().or(session);
    match ks {
        Some("system" | "system_schema" | "system_auth" | "system_distributed" | "system_traces") => {
            Err(ExecError::Unsupported {
                what: format!("Reading {}.{}", ks.unwrap_or_default(), s.table.name),
            })
        }
        _ => Ok(None),
    }
}

//! Schema statements: CREATE / ALTER / DROP of keyspaces and tables become catalog changes, applied
//! by the metadata group (which assigns table and column ids and validates again); the coordinator
//! then waits until its own catalog holds the new version, so the client's next statement, on this
//! node, sees the change.

use super::engine::{Answer, Engine};
use super::error::ExecError;
use basalt_proto::pb;
use basalt_table::catalog::{Effect, NewColumn, SchemaChange, TableChange, TableOptionsChange};
use basalt_table::cql::ast::{AlterTableAction, Statement};
use basalt_table::cql::schema as cql_schema;
use std::time::Duration;

/// How long a coordinator waits for its catalog to catch up with a change it made.
const SCHEMA_WAIT: Duration = Duration::from_secs(10);

fn result(change: &str, target: &str, keyspace: &str, name: &str) -> pb::SchemaChangeResult {
    pb::SchemaChangeResult {
        change: change.into(),
        target: target.into(),
        keyspace: keyspace.into(),
        name: name.into(),
    }
}

/// The catalog change of a DDL statement and the answer it gives when applied.
fn change_of(
    fresh: &basalt_table::catalog::CatalogView,
    stmt: &Statement,
    session: Option<&str>,
    now_micros: i64,
) -> Result<(SchemaChange, pb::SchemaChangeResult), ExecError> {
    let ks_of = |q: &Option<String>| {
        q.as_deref()
            .or(session)
            .map(str::to_string)
            .ok_or(ExecError::NoKeyspace)
    };
    Ok(match stmt {
        Statement::CreateKeyspace(c) => {
            let def = cql_schema::keyspace_def(c)?;
            let r = result("CREATED", "KEYSPACE", &def.name, "");
            (
                SchemaChange::CreateKeyspace {
                    def,
                    if_not_exists: c.if_not_exists,
                },
                r,
            )
        }
        Statement::AlterKeyspace(a) => {
            let catalog = fresh;
            let current = catalog.keyspace(&a.name).ok_or_else(|| ExecError::UnknownKeyspace {
                keyspace: a.name.clone(),
            })?;
            let def = cql_schema::alter_keyspace(current, a)?;
            (
                SchemaChange::AlterKeyspace {
                    name: a.name.clone(),
                    replication: Some(def.replication),
                    durable_writes: Some(def.durable_writes),
                },
                result("UPDATED", "KEYSPACE", &a.name, ""),
            )
        }
        Statement::DropKeyspace { name, if_exists } => (
            SchemaChange::DropKeyspace {
                name: name.clone(),
                if_exists: *if_exists,
            },
            result("DROPPED", "KEYSPACE", name, ""),
        ),
        Statement::CreateTable(c) => {
            let ks = ks_of(&c.table.keyspace)?;
            let def = cql_schema::table_def(c, &ks, basalt_common::TableId(0))?;
            let r = result("CREATED", "TABLE", &ks, &def.name);
            (
                SchemaChange::CreateTable {
                    def,
                    if_not_exists: c.if_not_exists,
                },
                r,
            )
        }
        Statement::AlterTable(a) => {
            let ks = ks_of(&a.table.keyspace)?;
            let catalog = fresh;
            let current = catalog
                .table(&ks, &a.table.name)
                .ok_or_else(|| ExecError::UnknownTable {
                    table: format!("{ks}.{}", a.table.name),
                })?;
            // Validated here as Cassandra would, against the freshest catalog at hand (the metadata
            // group checks again, against the one that counts).
            cql_schema::alter_table(current, &a.action, now_micros)?;
            let change = match &a.action {
                AlterTableAction::Add(cols) => TableChange::AddColumns(
                    cols.iter()
                        .map(|c| NewColumn {
                            name: c.name.clone(),
                            ty: c.ty,
                            is_static: c.is_static,
                        })
                        .collect(),
                ),
                AlterTableAction::Drop(cols) => TableChange::DropColumns(cols.clone()),
                AlterTableAction::With(props) => {
                    let altered = cql_schema::alter_table(current, &a.action, now_micros)?;
                    let _ = props;
                    TableChange::Options(TableOptionsChange {
                        default_ttl: Some(altered.options.default_ttl),
                        gc_grace_seconds: Some(altered.options.gc_grace_seconds),
                        comment: Some(altered.options.comment.clone()),
                    })
                }
            };
            (
                SchemaChange::AlterTable {
                    keyspace: ks.clone(),
                    table: a.table.name.clone(),
                    change,
                },
                result("UPDATED", "TABLE", &ks, &a.table.name),
            )
        }
        Statement::DropTable { table, if_exists } => {
            let ks = ks_of(&table.keyspace)?;
            (
                SchemaChange::DropTable {
                    keyspace: ks.clone(),
                    table: table.name.clone(),
                    if_exists: *if_exists,
                },
                result("DROPPED", "TABLE", &ks, &table.name),
            )
        }
        _ => unreachable!("only schema statements come here"),
    })
}

/// Applies a schema statement through the metadata group and waits for this node to see it.
pub async fn run(
    engine: &Engine,
    stmt: &Statement,
    session: Option<&str>,
    now_micros: i64,
) -> Result<Answer, ExecError> {
    // ALTER statements are checked against the current definition: fetch the newest catalog first
    // (another coordinator may have changed it a moment ago).
    let fresh = match stmt {
        Statement::AlterKeyspace(_) | Statement::AlterTable(_) => engine.schema.refresh_latest().await,
        _ => engine.schema.catalog(),
    };
    let (change, answer) = change_of(&fresh, stmt, session, now_micros)?;
    let out = engine.schema.schema_change(&change).await.map_err(ExecError::Catalog)?;
    engine
        .schema
        .refresh_at_least(out.version, SCHEMA_WAIT)
        .await
        .map_err(|_| ExecError::SchemaLag {
            version: out.version,
            secs: SCHEMA_WAIT.as_secs(),
        })?;
    match out.effect {
        // Nothing changed: CQL answers Void (no schema change event).
        Effect::AlreadyExisted | Effect::Absent => Ok(Answer::Void),
        _ => Ok(Answer::SchemaChange(answer, out.version)),
    }
}

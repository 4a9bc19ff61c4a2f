//! `DESCRIBE`, answered by the server as Cassandra 4 does: rows of `keyspace_name`, `type`, `name` and
//! `create_statement`.

use super::engine::{Engine, Rows};
use super::error::ExecError;
use basalt_table::cql::ast::{Describe, QualifiedName};
use basalt_table::cql::describe::{create_keyspace_cql, create_table_cql};
use basalt_table::{CqlType, NativeType, Value};

fn row(ks: &str, kind: &str, name: &str, cql: &str) -> Vec<Option<Value>> {
    vec![
        Some(Value::Text(ks.into())),
        Some(Value::Text(kind.into())),
        Some(Value::Text(name.into())),
        Some(Value::Text(cql.into())),
    ]
}

pub async fn run(engine: &Engine, d: &Describe, session: Option<&str>) -> Result<Rows, ExecError> {
    let catalog = engine.schema.catalog();
    let mut rows = Vec::new();
    let keyspace = |name: &str| -> Result<Vec<Vec<Option<Value>>>, ExecError> {
        let k = catalog.keyspace(name).ok_or_else(|| ExecError::UnknownKeyspace {
            keyspace: name.to_string(),
        })?;
        let mut out = vec![row(name, "keyspace", name, &create_keyspace_cql(k))];
        for t in catalog.snapshot().tables.values().filter(|t| t.keyspace == name) {
            out.push(row(name, "table", &t.name, &create_table_cql(t)));
        }
        Ok(out)
    };
    let table = |q: &QualifiedName| -> Result<Vec<Option<Value>>, ExecError> {
        let ks = q.keyspace.as_deref().or(session).ok_or(ExecError::NoKeyspace)?;
        let t = catalog.table(ks, &q.name).ok_or_else(|| ExecError::UnknownTable {
            table: format!("{ks}.{}", q.name),
        })?;
        Ok(row(ks, "table", &t.name, &create_table_cql(t)))
    };
    match d {
        Describe::Keyspaces => {
            for name in catalog.keyspaces().map(|k| k.name.clone()).collect::<Vec<_>>() {
                rows.push(row(&name, "keyspace", &name, ""));
            }
        }
        Describe::Tables => {
            for t in catalog.snapshot().tables.values() {
                if session.is_none_or(|s| s == t.keyspace) {
                    rows.push(row(&t.keyspace, "table", &t.name, ""));
                }
            }
        }
        Describe::Keyspace(name) => {
            let name = name.as_deref().or(session).ok_or(ExecError::NoKeyspace)?;
            rows = keyspace(name)?;
        }
        Describe::Schema => {
            for name in catalog.keyspaces().map(|k| k.name.clone()).collect::<Vec<_>>() {
                rows.extend(keyspace(&name)?);
            }
        }
        Describe::Table(q) => rows.push(table(q)?),
        Describe::Name(q) => match (&q.keyspace, catalog.keyspace(&q.name)) {
            (None, Some(_)) => rows = keyspace(&q.name)?,
            _ => rows.push(table(q)?),
        },
        Describe::Cluster => {
            rows.push(row(
                "",
                "cluster",
                "Basalt",
                "Partitioner: org.apache.cassandra.dht.Murmur3Partitioner",
            ));
        }
    }
    let text = CqlType::Native(NativeType::Text);
    Ok(Rows {
        columns: ["keyspace_name", "type", "name", "create_statement"]
            .iter()
            .map(|c| (c.to_string(), text))
            .collect(),
        keyspace: String::new(),
        table: String::new(),
        rows,
        paging_state: None,
    })
}

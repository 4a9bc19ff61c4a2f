//! One request of a ready connection, from its decoded body to the response body: QUERY, PREPARE,
//! EXECUTE and BATCH become one [`pb::CqlRequest`] (or a prepare) for the [`Engine`], exactly as
//! the `Cql` gRPC service sends them, and the answer is encoded by [`super::response`].
//!
//! A protocol BATCH becomes the text `BEGIN [UNLOGGED] BATCH s1; s2; ... APPLY BATCH` with the values
//! of every statement in order (the Engine runs it as the CQL statement); a prepared statement in a
//! batch is replaced by its text, from the Engine's prepared statements (Unprepared if this node
//! has not prepared it, so the driver prepares it here and retries).

use super::response;
use crate::tables::exec::{Answer, Engine, ExecError};
use basalt_proto::pb;
use cassandra_protocol::frame::message_batch::{BatchQuerySubj, BatchType, BodyReqBatch};
use cassandra_protocol::frame::message_error::ErrorBody;
use cassandra_protocol::frame::message_result::{BodyResResultSetKeyspace, ResResultBody};
use cassandra_protocol::query::{QueryParams, QueryValues};
use std::sync::Arc;

/// What a request gives back: a result, or an error to answer with.
pub type Outcome = Result<ResResultBody, ErrorBody>;

pub struct Handler {
    pub engine: Arc<Engine>,
    /// Server events, for connections that REGISTER.
    pub events: tokio::sync::broadcast::Sender<Arc<cassandra_protocol::frame::events::ServerEvent>>,
}

/// The keyspace and table a DDL text names (for AlreadyExists).
fn subject(text: &str, session: Option<&str>) -> response::Subject {
    use basalt_table::cql::ast::Statement;
    match basalt_table::cql::parser::parse(text) {
        Ok(Statement::CreateKeyspace(k)) => (k.name, String::new()),
        Ok(Statement::CreateTable(t)) => (
            t.table
                .keyspace
                .clone()
                .or(session.map(str::to_string))
                .unwrap_or_default(),
            t.table.name,
        ),
        _ => (String::new(), String::new()),
    }
}

fn values(params: &QueryParams) -> (Vec<pb::CqlValue>, Vec<String>) {
    match &params.values {
        None => (Vec::new(), Vec::new()),
        Some(QueryValues::SimpleValues(v)) => (v.iter().map(response::bound).collect(), Vec::new()),
        Some(QueryValues::NamedValues(m)) => {
            let mut names = Vec::with_capacity(m.len());
            let mut vals = Vec::with_capacity(m.len());
            for (k, v) in m {
                names.push(k.clone());
                vals.push(response::bound(v));
            }
            (vals, names)
        }
    }
}

fn request(statement: String, prepared_id: Vec<u8>, params: &QueryParams, keyspace: Option<&str>) -> pb::CqlRequest {
    let (values, value_names) = values(params);
    pb::CqlRequest {
        statement,
        prepared_id,
        values,
        value_names,
        consistency: i16::from(params.consistency) as u16 as u32,
        keyspace: params
            .keyspace
            .clone()
            .or(keyspace.map(str::to_string))
            .unwrap_or_default(),
        // No page size (or a negative one): every row in one page, as Cassandra does.
        page_size: match params.page_size {
            Some(n) if n > 0 => n as u32,
            _ => u32::MAX,
        },
        paging_state: params
            .paging_state
            .as_ref()
            .and_then(|p| p.as_slice())
            .map(<[u8]>::to_vec)
            .unwrap_or_default(),
        timestamp: params.timestamp,
        min_catalog_version: 0,
    }
}

impl Handler {
    /// Runs a request on the Engine; `SetKeyspace` answers carry the new keyspace back for the
    /// connection.
    async fn run(&self, req: pb::CqlRequest) -> Result<Answer, (ExecError, pb::CqlRequest)> {
        let engine = self.engine.clone();
        let kept = pb::CqlRequest {
            statement: req.statement.clone(),
            prepared_id: req.prepared_id.clone(),
            keyspace: req.keyspace.clone(),
            ..Default::default()
        };
        engine.execute(req).await.map_err(|e| (e, kept))
    }

    fn answer(&self, r: Result<Answer, (ExecError, pb::CqlRequest)>) -> Outcome {
        match r {
            Ok(Answer::Void) => Ok(ResResultBody::Void),
            Ok(Answer::SetKeyspace(k)) => Ok(ResResultBody::SetKeyspace(BodyResResultSetKeyspace { body: k })),
            Ok(Answer::SchemaChange(s, _)) => Ok(ResResultBody::SchemaChange(response::schema_change(&s))),
            Ok(Answer::Rows(rows)) => Ok(ResResultBody::Rows(response::rows(rows))),
            Err((e, req)) => {
                let session = (!req.keyspace.is_empty()).then_some(req.keyspace.as_str());
                Err(response::error(&e, &req.prepared_id, || {
                    subject(&req.statement, session)
                }))
            }
        }
    }

    pub async fn query(&self, text: String, params: &QueryParams, keyspace: Option<&str>) -> Outcome {
        let r = self.run(request(text, Vec::new(), params, keyspace)).await;
        self.answer(r)
    }

    pub async fn execute(&self, id: Vec<u8>, params: &QueryParams, keyspace: Option<&str>) -> Outcome {
        let r = self.run(request(String::new(), id, params, keyspace)).await;
        self.answer(r)
    }

    pub async fn prepare(&self, text: String, keyspace: Option<&str>) -> Outcome {
        match self.engine.prepare(&text, keyspace).await {
            Ok(p) => Ok(ResResultBody::Prepared(response::prepared(p))),
            Err(e) => Err(response::error(&e, &[], || subject(&text, keyspace))),
        }
    }

    pub async fn batch(&self, b: BodyReqBatch, keyspace: Option<&str>) -> Outcome {
        let mut text = String::from(match b.batch_type {
            BatchType::Logged => "BEGIN BATCH ",
            BatchType::Unlogged => "BEGIN UNLOGGED BATCH ",
            _ => "BEGIN COUNTER BATCH ",
        });
        let mut all = Vec::new();
        let mut keyspace = b.keyspace.clone().or(keyspace.map(str::to_string));
        for q in &b.queries {
            let statement = match &q.subject {
                BatchQuerySubj::QueryString(s) => s.clone(),
                BatchQuerySubj::PreparedId(id) => {
                    let id = id.clone().into_bytes().unwrap_or_default();
                    match self.engine.prepared_text(&id) {
                        Some((ks, s)) => {
                            keyspace = keyspace.or(ks);
                            s
                        }
                        None => {
                            let e = ExecError::Unprepared {
                                id: id.iter().map(|b| format!("{b:02x}")).collect(),
                            };
                            return Err(response::error(&e, &id, Default::default));
                        }
                    }
                }
            };
            match &q.values {
                QueryValues::SimpleValues(v) => all.extend(v.iter().map(response::bound)),
                QueryValues::NamedValues(m) if m.is_empty() => {}
                QueryValues::NamedValues(_) => {
                    let e = ExecError::invalid("Named values in a BATCH are not supported");
                    return Err(response::error(&e, &[], Default::default));
                }
            }
            text.push_str(statement.trim().trim_end_matches(';'));
            text.push_str("; ");
        }
        text.push_str("APPLY BATCH");
        let req = pb::CqlRequest {
            statement: text,
            values: all,
            consistency: i16::from(b.consistency) as u16 as u32,
            keyspace: keyspace.unwrap_or_default(),
            timestamp: b.timestamp,
            ..Default::default()
        };
        let r = self.run(req).await;
        self.answer(r)
    }
}

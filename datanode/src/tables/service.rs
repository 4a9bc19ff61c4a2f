//! The `Cql` gRPC service: statements and prepared statements for the Rust client and the CLI, and
//! Arrow scans of this node's replicas. Answers are Arrow IPC streams; errors leave through
//! [`basalt_proto::to_status`] with their kind, so the client can tell "retry elsewhere" from
//! "fix the statement".

use crate::tables::exec::{Answer, Engine, ExecError, Rows};
use crate::tables::local::Local;
use basalt_proto::pb;
use basalt_table::CqlType;
use basalt_table::arrow::BatchBuilder;
use basalt_table::read::RangeCommand;
use std::ops::Bound;
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::Stream;

pub struct CqlService {
    pub engine: Arc<Engine>,
    pub local: Arc<Local>,
}

fn status(e: ExecError) -> tonic::Status {
    basalt_proto::to_status(e.kind(), e.to_string(), None)
}

/// Rows as one Arrow IPC stream.
pub fn ipc(columns: &[(String, CqlType)], rows: Vec<Vec<Option<basalt_table::Value>>>) -> Result<Vec<u8>, ExecError> {
    let mut b = BatchBuilder::new(columns);
    for r in rows {
        b.push_row_owned(r)?;
    }
    let batch = b.finish();
    let mut out = Vec::new();
    {
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())?;
        w.write(&batch)?;
        w.finish()?;
    }
    Ok(out)
}

fn rows_pb(rows: Rows) -> Result<pb::CqlRows, ExecError> {
    let specs = rows
        .columns
        .iter()
        .map(|(name, ty)| pb::ColumnSpec {
            keyspace: rows.keyspace.clone(),
            table: rows.table.clone(),
            name: name.clone(),
            cql_type: ty.to_string(),
        })
        .collect();
    let n = rows.rows.len() as u64;
    Ok(pb::CqlRows {
        columns: specs,
        arrow_ipc: ipc(&rows.columns, rows.rows)?,
        row_count: n,
        paging_state: rows.paging_state.unwrap_or_default(),
    })
}

/// The response of an answer.
pub fn response(a: Answer) -> Result<pb::CqlResponse, ExecError> {
    use pb::cql_response::Result as R;
    let (result, version) = match a {
        Answer::Void => (R::Void(true), 0),
        Answer::SetKeyspace(k) => (R::SetKeyspace(k), 0),
        Answer::SchemaChange(s, v) => (R::SchemaChange(s), v),
        Answer::Rows(rows) => (R::Rows(rows_pb(rows)?), 0),
    };
    Ok(pb::CqlResponse {
        result: Some(result),
        warnings: Vec::new(),
        catalog_version: version,
    })
}

type ScanStream = Pin<Box<dyn Stream<Item = Result<pb::ArrowChunk, tonic::Status>> + Send>>;

#[tonic::async_trait]
impl pb::cql_server::Cql for CqlService {
    async fn execute(
        &self,
        req: tonic::Request<pb::CqlRequest>,
    ) -> Result<tonic::Response<pb::CqlResponse>, tonic::Status> {
        let answer = self.engine.execute(req.into_inner()).await.map_err(status)?;
        Ok(tonic::Response::new(response(answer).map_err(status)?))
    }

    async fn prepare(
        &self,
        req: tonic::Request<pb::CqlPrepareRequest>,
    ) -> Result<tonic::Response<pb::CqlPrepareResponse>, tonic::Status> {
        let r = req.into_inner();
        let ks = (!r.keyspace.is_empty()).then_some(r.keyspace.as_str());
        Ok(tonic::Response::new(
            self.engine.prepare(&r.statement, ks).await.map_err(status)?,
        ))
    }

    type ScanStream = ScanStream;

    /// The store's tables with their estimates, pending hints and unhealthy tables.
    async fn table_status(
        &self,
        _req: tonic::Request<pb::TableStatusRequest>,
    ) -> Result<tonic::Response<pb::TableStatusResponse>, tonic::Status> {
        let local = self.local.clone();
        let resp = tokio::task::spawn_blocking(move || super::status::table_status(&local))
            .await
            .map_err(|e| tonic::Status::internal(format!("table status task failed: {e}")))?
            .map_err(|e| basalt_proto::to_status(e.kind(), e.to_string(), None))?;
        Ok(tonic::Response::new(resp))
    }

    /// This replica's partitions in the token range, as Arrow batches (consistency ONE: the client
    /// asks one replica per range).
    async fn scan(
        &self,
        req: tonic::Request<pb::TableScanRequest>,
    ) -> Result<tonic::Response<ScanStream>, tonic::Status> {
        let r = req.into_inner();
        let q = basalt_table::cql::ast::QualifiedName {
            keyspace: Some(r.keyspace.clone()),
            name: r.table.clone(),
        };
        let (table, _) = self.engine.table(&q, None).await.map_err(status)?;
        let mut outputs: Vec<(String, CqlType)> = Vec::new();
        let mut ids = Vec::new();
        let names: Vec<String> = if r.columns.is_empty() {
            let mut cols: Vec<_> = table
                .partition_key()
                .into_iter()
                .chain(table.clustering())
                .cloned()
                .collect();
            let mut rest: Vec<_> = table
                .columns
                .iter()
                .filter(|c| !c.kind.is_primary_key())
                .cloned()
                .collect();
            rest.sort_by(|a, b| a.name.cmp(&b.name));
            cols.extend(rest);
            cols.into_iter().map(|c| c.name).collect()
        } else {
            r.columns.clone()
        };
        for n in &names {
            let c = table.column(n).ok_or_else(|| {
                status(ExecError::UnknownColumn {
                    table: table.qualified_name(),
                    column: n.clone(),
                })
            })?;
            outputs.push((c.name.clone(), c.ty));
            ids.push(c.clone());
        }
        if !r.filters.is_empty() {
            return Err(status(ExecError::Unsupported {
                what: "Scan filters".into(),
            }));
        }
        let batch_rows = if r.batch_rows == 0 { 8192 } else { r.batch_rows as usize };
        let start = r.start_token.map_or(Bound::Unbounded, Bound::Excluded);
        let end = r.end_token.map_or(Bound::Unbounded, Bound::Included);
        let local = self.local.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut resume: Option<(i64, Vec<basalt_table::Value>)> = None;
            let mut builder = BatchBuilder::new(&outputs);
            let now = crate::tables::exec::eval::now_micros() / 1_000_000;
            loop {
                let cmd = RangeCommand {
                    table: table.id,
                    start,
                    end,
                    resume_after: resume.clone(),
                    columns: None,
                    max_partitions: 256,
                    per_partition_limit: None,
                    now,
                };
                use crate::tables::replicas::LocalReplica;
                let page = match local
                    .scan(local.catalog_version(), basalt_table::codec::encode(&cmd))
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(basalt_proto::to_status(e.kind, e.message, None))).await;
                        return;
                    }
                };
                for bytes in &page.partitions {
                    let p = match basalt_table::partition::decode(bytes) {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = tx.send(Err(tonic::Status::data_loss(e.to_string()))).await;
                            return;
                        }
                    };
                    for row in p.live_rows(&table, now) {
                        let values: Vec<Option<basalt_table::Value>> = ids
                            .iter()
                            .map(|c| match c.kind {
                                basalt_table::ColumnKind::PartitionKey { position } => {
                                    p.key.get(position as usize).cloned()
                                }
                                basalt_table::ColumnKind::Clustering { position, .. } => {
                                    row.clustering.get(position as usize).cloned()
                                }
                                _ => row.columns.iter().find(|(id, _)| *id == c.id).and_then(|(_, v)| {
                                    crate::tables::exec::select::live_value(&table, c.id, v).ok().flatten()
                                }),
                            })
                            .collect();
                        if let Err(e) = builder.push_row_owned(values) {
                            let _ = tx.send(Err(status(e.into()))).await;
                            return;
                        }
                        if builder.len() >= batch_rows {
                            let full = std::mem::replace(&mut builder, BatchBuilder::new(&outputs));
                            if send_batch(&tx, full).await.is_err() {
                                return;
                            }
                        }
                    }
                    resume = Some((p.token, p.key.clone()));
                }
                if page.exhausted {
                    break;
                }
            }
            if !builder.is_empty() {
                let _ = send_batch(&tx, builder).await;
            }
        });
        Ok(tonic::Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

async fn send_batch(
    tx: &tokio::sync::mpsc::Sender<Result<pb::ArrowChunk, tonic::Status>>,
    b: BatchBuilder,
) -> Result<(), ()> {
    let batch = b.finish();
    let mut out = Vec::new();
    let written = (|| -> Result<(), arrow_schema::ArrowError> {
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())?;
        w.write(&batch)?;
        w.finish()
    })();
    let item = match written {
        Ok(()) => Ok(pb::ArrowChunk { arrow_ipc: out }),
        Err(e) => Err(tonic::Status::internal(format!("Arrow IPC: {e}"))),
    };
    tx.send(item).await.map_err(|_| ())
}

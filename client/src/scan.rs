//! Full-table scans as a stream of Arrow record batches: [`Client::scan`].
//!
//! Phases:
//! 1. **Plan.** The catalog gives the table (its columns and partition key) and its keyspace's
//!    replication; the ring gives the vnode ranges `(previous token, token]`. Each range is cut into
//!    pieces that do not wrap and is intersected with the requested token bounds ([`plan_pieces`]), so
//!    every token of the request falls in exactly one piece.
//! 2. **Fan out.** At most `parallelism` pieces are in flight; each asks one replica (the `Scan` RPC of
//!    the `Cql` service, consistency ONE) for its rows of the piece, live replicas first, rotated so
//!    that the load spreads over the nodes.
//! 3. **Fail over.** When a replica fails (refused, reset, an error answer other than "invalid"), the
//!    piece goes to the next replica, resuming after what was already passed on: the partition key is
//!    always fetched (and dropped again if not asked for), so the client knows the token of its last row
//!    and how many rows of that token it has passed on, asks the next replica from that token on and
//!    skips that many rows of it. A piece fails when every replica did.
//! 4. **Stream.** Batches flow through a bounded channel (memory: about `2 × parallelism` batches); a
//!    consumer that drops the stream stops the scan. Batches of different pieces arrive in no defined
//!    order; within a piece they are in token order.

use crate::error::{ClientError, Result};
use crate::fs::Client;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use basalt_common::ErrorKind;
use basalt_proto::RemoteError;
use basalt_proto::pb;
use basalt_table::CqlType;
use basalt_table::ring::TokenRange;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Columns to return, in this order (empty: every column, partition key first, then clustering
    /// columns, then the others by name).
    pub columns: Vec<String>,
    /// Rows per batch (0: the server's default, 8192).
    pub batch_rows: u32,
    /// Only tokens after this one (exclusive).
    pub start_token: Option<i64>,
    /// Only tokens up to this one (inclusive).
    pub end_token: Option<i64>,
    /// Token ranges scanned at once (at least 1).
    pub parallelism: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            columns: Vec::new(),
            batch_rows: 0,
            start_token: None,
            end_token: None,
            parallelism: 8,
        }
    }
}

/// A running scan: the schema of its batches, and the batches as a stream.
pub struct TableScan {
    schema: SchemaRef,
    columns: Vec<(String, CqlType)>,
    rx: ReceiverStream<Result<RecordBatch>>,
}

impl TableScan {
    /// The Arrow schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The columns of every batch with their CQL types.
    pub fn columns(&self) -> &[(String, CqlType)] {
        &self.columns
    }
}

impl Stream for TableScan {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}

/// The non-wrapping pieces `(start, end]` of the ring's ranges within `(start_bound, end_bound]`
/// (unbounded sides are the ring's ends), in token order. Every token in the bounds is in exactly one
/// piece; `i64::MIN` is no key's token (the ring's minimum), so `(i64::MIN, x]` covers the low end.
pub fn plan_pieces(ranges: &[TokenRange], start_bound: Option<i64>, end_bound: Option<i64>) -> Vec<(i64, i64)> {
    let lo = start_bound.unwrap_or(i64::MIN);
    let hi = end_bound.unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let mut push = |s: i64, e: i64| {
        let (s, e) = (s.max(lo), e.min(hi));
        if s < e {
            out.push((s, e));
        }
    };
    for r in ranges {
        if r.start < r.end {
            push(r.start, r.end);
        } else {
            // Wraps (or is the whole ring, start == end): (start, MAX] and (MIN, end].
            push(r.start, i64::MAX);
            push(i64::MIN, r.end);
        }
    }
    out.sort();
    out
}

/// What a piece's scan needs besides its bounds.
struct PieceJob {
    request: pb::TableScanRequest,
    /// Columns sent (the asked ones, then the partition key's that were not asked).
    sent: Vec<(String, CqlType)>,
    /// Indexes in `sent` of the partition key components, in key order.
    key_indexes: Vec<usize>,
    /// How many leading columns of `sent` the caller asked for.
    asked: usize,
    schema: SchemaRef,
}

/// Where a piece's output stands: the token of the last row passed on and how many rows of that token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Progress {
    last: Option<(i64, u64)>,
}

impl Client {
    /// Scans `keyspace.table`: every row of the requested token range exactly once (as one replica of
    /// each range has it), as Arrow record batches; see the module doc for the phases.
    pub async fn scan(&self, keyspace: &str, table: &str, opts: ScanOptions) -> Result<TableScan> {
        let catalog = self.catalog().await?;
        let no_table = || ClientError::NoSuchTable {
            keyspace: keyspace.to_string(),
            table: table.to_string(),
        };
        let def = catalog.table(keyspace, table).ok_or_else(no_table)?.clone();
        let replication = catalog.keyspace(keyspace).ok_or_else(no_table)?.replication.clone();
        if let (Some(s), Some(e)) = (opts.start_token, opts.end_token)
            && s >= e
        {
            return Err(ClientError::InvalidArgument(format!(
                "scan token range ({s}, {e}] is empty: the start must be below the end"
            )));
        }
        let names: Vec<String> = if opts.columns.is_empty() {
            let mut cols: Vec<_> = def.partition_key().into_iter().chain(def.clustering()).collect();
            let mut rest: Vec<_> = def.columns.iter().filter(|c| !c.kind.is_primary_key()).collect();
            rest.sort_by(|a, b| a.name.cmp(&b.name));
            cols.extend(rest);
            cols.into_iter().map(|c| c.name.clone()).collect()
        } else {
            opts.columns.clone()
        };
        let mut sent: Vec<(String, CqlType)> = Vec::new();
        for n in &names {
            let c = def.column(n).ok_or_else(|| ClientError::NoSuchColumn {
                table: def.qualified_name(),
                column: n.clone(),
            })?;
            sent.push((c.name.clone(), c.ty));
        }
        let asked = sent.len();
        let mut key_indexes = Vec::new();
        for pk in def.partition_key() {
            match sent.iter().position(|(n, _)| *n == pk.name) {
                Some(i) => key_indexes.push(i),
                None => {
                    sent.push((pk.name.clone(), pk.ty));
                    key_indexes.push(sent.len() - 1);
                }
            }
        }
        let asked_cols: Vec<(String, CqlType)> = sent[..asked].to_vec();
        let schema: SchemaRef = Arc::new(basalt_table::arrow::arrow_schema(&asked_cols));
        let job = Arc::new(PieceJob {
            request: pb::TableScanRequest {
                keyspace: keyspace.to_string(),
                table: table.to_string(),
                columns: sent.iter().map(|(n, _)| n.clone()).collect(),
                start_token: None,
                end_token: None,
                batch_rows: opts.batch_rows,
                filters: Vec::new(),
            },
            sent,
            key_indexes,
            asked,
            schema: schema.clone(),
        });

        let view = self.ring().await?;
        let live: HashSet<String> = match self.cluster_status().await {
            Ok(st) => st
                .datanodes
                .iter()
                .filter(|d| d.live)
                .filter_map(|d| d.info.as_ref().map(|i| i.addr.clone()))
                .collect(),
            Err(_) => HashSet::new(),
        };
        let ranges = view.ring.ranges();
        let pieces: Vec<((i64, i64), Vec<String>)> = plan_pieces(&ranges, opts.start_token, opts.end_token)
            .into_iter()
            .enumerate()
            .map(|(i, (s, e))| {
                let mut addrs: Vec<String> = view
                    .replica_nodes(e, &replication)
                    .into_iter()
                    .map(|n| n.addr.clone())
                    .collect();
                if !addrs.is_empty() {
                    let k = i % addrs.len();
                    addrs.rotate_left(k);
                }
                // Live replicas first, in the rotated order (a stable sort keeps it).
                addrs.sort_by_key(|a| !live.contains(a));
                ((s, e), addrs)
            })
            .collect();

        let parallelism = opts.parallelism.max(1);
        let (tx, rx) = tokio::sync::mpsc::channel(parallelism * 2);
        let client = self.clone();
        tokio::spawn(async move {
            let failed = Arc::new(AtomicBool::new(false));
            let permits = Arc::new(tokio::sync::Semaphore::new(parallelism));
            let mut tasks = tokio::task::JoinSet::new();
            for (bounds, addrs) in pieces {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    break;
                };
                if failed.load(Ordering::Relaxed) || tx.is_closed() {
                    break;
                }
                let (client, job, tx, failed) = (client.clone(), job.clone(), tx.clone(), failed.clone());
                tasks.spawn(async move {
                    let _permit = permit;
                    if let Err(e) = client.scan_piece(&job, bounds, &addrs, &tx).await {
                        failed.store(true, Ordering::Relaxed);
                        let _ = tx.send(Err(e)).await;
                    }
                });
                while tasks.try_join_next().is_some() {}
            }
            while tasks.join_next().await.is_some() {}
        });
        Ok(TableScan {
            schema,
            columns: asked_cols,
            rx: ReceiverStream::new(rx),
        })
    }

    /// One piece, from its replicas in turn (see the module doc's phase 3). `Ok` also when the
    /// consumer went away.
    async fn scan_piece(
        &self,
        job: &PieceJob,
        (start, end): (i64, i64),
        addrs: &[String],
        tx: &tokio::sync::mpsc::Sender<Result<RecordBatch>>,
    ) -> Result<()> {
        let mut progress = Progress::default();
        let mut last: Option<ClientError> = None;
        for addr in addrs {
            let mut req = job.request.clone();
            // From the last token passed on (inclusive), to skip its rows already sent.
            req.start_token = Some(progress.last.map_or(start, |(t, _)| t - 1));
            req.end_token = Some(end);
            let mut skip = progress.last;
            let mut client = self.inner.tables.client(addr)?;
            let mut stream = match client.scan(req).await {
                Ok(r) => r.into_inner(),
                Err(s) => {
                    last = Some(fatal_or_retry(s)?);
                    continue;
                }
            };
            loop {
                let chunk = match stream.message().await {
                    Ok(Some(c)) => c,
                    Ok(None) => return Ok(()),
                    Err(s) => {
                        last = Some(fatal_or_retry(s)?);
                        break;
                    }
                };
                for batch in crate::cql::decode_ipc(&chunk.arrow_ipc)? {
                    let batch = match skip.take() {
                        Some(s) => {
                            let (b, rest) = skip_rows(job, &batch, s)?;
                            skip = rest;
                            b
                        }
                        None => batch,
                    };
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    progress = advance(job, &batch, progress)?;
                    let out = batch
                        .project(&(0..job.asked).collect::<Vec<_>>())
                        .map_err(|e| ClientError::InvalidArgument(format!("scan batch: {e}")))?;
                    let out = RecordBatch::try_new(job.schema.clone(), out.columns().to_vec())
                        .map_err(|e| ClientError::InvalidArgument(format!("scan batch: {e}")))?;
                    if tx.send(Ok(out)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
        Err(ClientError::ScanFailed {
            start,
            end,
            tried: addrs.join(", "),
            last: Box::new(last.unwrap_or_else(|| {
                ClientError::Remote(RemoteError {
                    kind: ErrorKind::Unavailable,
                    message: "no replica of the range in the ring".into(),
                    leader: None,
                    transport: false,
                })
            })),
        })
    }
}

/// A replica's failure: the error to remember when another replica may answer, or the scan's error
/// when none would (the request itself is invalid).
fn fatal_or_retry(s: tonic::Status) -> Result<ClientError> {
    let e = RemoteError::from(s);
    if !e.transport && e.kind == ErrorKind::Invalid {
        return Err(ClientError::Remote(e));
    }
    Ok(ClientError::Remote(e))
}

/// The token of row `row` of a batch of `job.sent` columns.
fn row_token(job: &PieceJob, batch: &RecordBatch, row: usize) -> Result<i64> {
    let mut key = Vec::with_capacity(job.key_indexes.len());
    for &i in &job.key_indexes {
        let col = batch.column(i).slice(row, 1);
        let v = basalt_table::arrow::array_values(&*col, &job.sent[i].1, i)
            .map_err(|e| ClientError::InvalidArgument(format!("scan batch column {}: {e}", job.sent[i].0)))?
            .pop()
            .flatten()
            .ok_or_else(|| {
                ClientError::InvalidArgument(format!("scan row without its key column {}", job.sent[i].0))
            })?;
        key.push(v);
    }
    Ok(basalt_table::token::token_of(&key))
}

/// The progress after passing on `batch`: the token of its last row and how many rows of that token
/// have been passed on in all.
fn advance(job: &PieceJob, batch: &RecordBatch, before: Progress) -> Result<Progress> {
    let n = batch.num_rows();
    let last = row_token(job, batch, n - 1)?;
    let mut count = 1u64;
    let mut r = n - 1;
    while r > 0 {
        r -= 1;
        if row_token(job, batch, r)? != last {
            return Ok(Progress {
                last: Some((last, count)),
            });
        }
        count += 1;
    }
    if let Some((t, c)) = before.last
        && t == last
    {
        count += c;
    }
    Ok(Progress {
        last: Some((last, count)),
    })
}

/// Drops the leading rows of `batch` that were already passed on (up to `skip.1` rows of token
/// `skip.0`); returns the rest and what is still to skip.
fn skip_rows(
    job: &PieceJob,
    batch: &RecordBatch,
    (token, mut left): (i64, u64),
) -> Result<(RecordBatch, Option<(i64, u64)>)> {
    let mut r = 0;
    while r < batch.num_rows() && left > 0 && row_token(job, batch, r)? == token {
        r += 1;
        left -= 1;
    }
    let rest = if r == batch.num_rows() && left > 0 {
        Some((token, left))
    } else {
        None
    };
    Ok((batch.slice(r, batch.num_rows() - r), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use basalt_common::DatanodeId;

    fn range(start: i64, end: i64) -> TokenRange {
        TokenRange {
            start,
            end,
            owner: DatanodeId(1),
        }
    }

    #[test]
    fn pieces_cover_the_ring_once_without_wrapping() {
        // Vnodes at -10, 0, 10: ranges (10, -10] (wraps), (-10, 0], (0, 10].
        let ranges = [range(10, -10), range(-10, 0), range(0, 10)];
        assert_eq!(
            plan_pieces(&ranges, None, None),
            [(i64::MIN, -10), (-10, 0), (0, 10), (10, i64::MAX)]
        );
        // One vnode: the whole ring in two pieces.
        assert_eq!(plan_pieces(&[range(5, 5)], None, None), [(i64::MIN, 5), (5, i64::MAX)]);
    }

    /// A job over one int partition key `k` (and a value column, to show the projection).
    fn job() -> PieceJob {
        let int = CqlType::Native(basalt_table::NativeType::Int);
        let sent = vec![("v".to_string(), int), ("k".to_string(), int)];
        PieceJob {
            request: Default::default(),
            schema: Arc::new(basalt_table::arrow::arrow_schema(&sent[..1])),
            sent,
            key_indexes: vec![1],
            asked: 1,
        }
    }

    fn batch(keys: &[i32]) -> RecordBatch {
        let int = CqlType::Native(basalt_table::NativeType::Int);
        let mut b = basalt_table::arrow::BatchBuilder::new(&[("v".to_string(), int), ("k".to_string(), int)]);
        for (i, k) in keys.iter().enumerate() {
            b.push_row(&[
                Some(basalt_table::Value::Int(i as i32)),
                Some(basalt_table::Value::Int(*k)),
            ])
            .unwrap();
        }
        b.finish()
    }

    fn tok(k: i32) -> i64 {
        basalt_table::token::token_of(&[basalt_table::Value::Int(k)])
    }

    #[test]
    fn progress_counts_the_rows_of_the_last_token() {
        let j = job();
        let p = advance(&j, &batch(&[1, 2, 2]), Progress::default()).unwrap();
        assert_eq!(p.last, Some((tok(2), 2)));
        // A batch that is all the same partition adds to the count.
        let p = advance(&j, &batch(&[2, 2]), p).unwrap();
        assert_eq!(p.last, Some((tok(2), 4)));
        let p = advance(&j, &batch(&[2, 3]), p).unwrap();
        assert_eq!(p.last, Some((tok(3), 1)));
    }

    #[test]
    fn a_resumed_scan_skips_the_rows_already_passed_on() {
        let j = job();
        // Two rows of partition 2 were sent before the replica failed; the next one starts at 2.
        let (rest, left) = skip_rows(&j, &batch(&[2, 2, 2, 3]), (tok(2), 2)).unwrap();
        assert_eq!(left, None);
        assert_eq!(rest.num_rows(), 2);
        assert_eq!(row_token(&j, &rest, 0).unwrap(), tok(2));
        assert_eq!(row_token(&j, &rest, 1).unwrap(), tok(3));
        // A batch shorter than what is to skip carries the rest over.
        let (rest, left) = skip_rows(&j, &batch(&[2]), (tok(2), 2)).unwrap();
        assert_eq!((rest.num_rows(), left), (0, Some((tok(2), 1))));
        // The partition changed on the new replica (fewer rows there): nothing more is skipped.
        let (rest, left) = skip_rows(&j, &batch(&[3]), (tok(2), 2)).unwrap();
        assert_eq!((rest.num_rows(), left), (1, None));
    }

    #[test]
    fn pieces_are_cut_to_the_requested_bounds() {
        let ranges = [range(10, -10), range(-10, 0), range(0, 10)];
        assert_eq!(plan_pieces(&ranges, Some(-5), Some(20)), [(-5, 0), (0, 10), (10, 20)]);
        assert_eq!(plan_pieces(&ranges, Some(0), Some(10)), [(0, 10)]);
        assert_eq!(plan_pieces(&ranges, None, Some(-20)), [(i64::MIN, -20)]);
        assert!(plan_pieces(&ranges, Some(3), Some(3)).is_empty());
    }
}

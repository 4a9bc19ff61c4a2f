//! Tables through CQL: [`Client::cql`] sends a statement to a coordinator (any datanode) and returns
//! its result, rows as Arrow record batches; [`Client::prepare`] and [`Client::execute`] are prepared
//! statements, routed token-aware to a replica of the partition when the partition key is bound.
//!
//! Every statement carries a client-side write timestamp (microseconds, as modern Cassandra drivers
//! do), so a write retried on another coordinator after a transport failure writes the same cells
//! again: idempotent. Reads and writes are retried on the next coordinator; schema statements are not
//! (a second CREATE would answer AlreadyExists for the first one's work).

use crate::error::{ClientError, Result};
use crate::fs::Client;
use arrow_array::RecordBatch;
use basalt_common::{ErrorKind, MAX_RPC_MESSAGE};
use basalt_proto::RemoteError;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb;
use basalt_proto::pb::cql_client::CqlClient;
use basalt_table::ring::RingView;
use basalt_table::{Consistency, CqlType, Replication, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tonic::transport::Endpoint;

/// Options of one statement.
#[derive(Clone, Debug, Default)]
pub struct CqlOptions {
    pub consistency: Consistency,
    /// The session keyspace for unqualified table names (`USE`).
    pub keyspace: Option<String>,
    /// Rows per page; 0 is the server's default.
    pub page_size: u32,
    /// Resume after the page that returned this state.
    pub paging_state: Option<Vec<u8>>,
    /// Write timestamp in microseconds; default: now.
    pub timestamp: Option<i64>,
}

/// A column of a result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultColumn {
    pub keyspace: String,
    pub table: String,
    pub name: String,
    pub ty: CqlType,
}

/// One page of rows.
#[derive(Clone, Debug)]
pub struct ResultPage {
    pub columns: Vec<ResultColumn>,
    pub batches: Vec<RecordBatch>,
    pub row_count: u64,
    /// Set when more rows follow.
    pub paging_state: Option<Vec<u8>>,
}

impl ResultPage {
    /// The rows as values, column by column in `columns` order.
    pub fn rows(&self) -> Result<Vec<Vec<Option<Value>>>> {
        let mut rows = Vec::with_capacity(self.row_count as usize);
        for batch in &self.batches {
            let mut cols = Vec::with_capacity(self.columns.len());
            for (i, c) in self.columns.iter().enumerate() {
                cols.push(
                    basalt_table::arrow::column_values(batch, i, &c.ty)
                        .map_err(|e| ClientError::InvalidArgument(format!("result column {}: {e}", c.name)))?,
                );
            }
            for r in 0..batch.num_rows() {
                rows.push(cols.iter().map(|c| c[r].clone()).collect());
            }
        }
        Ok(rows)
    }
}

/// What a schema change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaChange {
    pub change: String,
    pub target: String,
    pub keyspace: String,
    pub name: String,
}

/// The result of a statement.
#[derive(Clone, Debug)]
pub enum CqlResult {
    Void,
    Rows(ResultPage),
    SetKeyspace(String),
    SchemaChange(SchemaChange),
}

/// A prepared statement.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub id: Vec<u8>,
    pub statement: String,
    pub keyspace: Option<String>,
    pub bind_columns: Vec<ResultColumn>,
    pub result_columns: Vec<ResultColumn>,
    /// Bind marker indexes of the partition key components, in key order.
    pub partition_key_indexes: Vec<usize>,
}

/// The datanodes that coordinate, refreshed from the namenode now and then.
pub(crate) struct Coordinators {
    connector: Connector,
    state: Mutex<CoordState>,
    /// The newest catalog version a schema change of this client answered with: sent with every
    /// statement, so that any coordinator runs it with that schema or newer.
    catalog_version: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct CoordState {
    addrs: Vec<String>,
    fetched: Option<Instant>,
    next: usize,
    channels: HashMap<String, Channel>,
    /// For token-aware routing: the ring and each keyspace's replication, refreshed as `addrs` is.
    routing: Option<(Arc<RingView>, HashMap<String, Replication>, Instant)>,
}

const REFRESH: Duration = Duration::from_secs(10);

impl Coordinators {
    pub fn new(connector: Connector) -> Self {
        Coordinators {
            connector,
            state: Mutex::default(),
            catalog_version: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CoordState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn client(&self, addr: &str) -> Result<CqlClient<Channel>> {
        let mut st = self.lock();
        let channel = match st.channels.get(addr) {
            Some(c) => c.clone(),
            None => {
                let endpoint = Endpoint::from_shared(format!("http://{addr}"))
                    .map_err(|e| ClientError::InvalidArgument(format!("bad datanode address {addr:?}: {e}")))?
                    .connect_timeout(Duration::from_secs(3))
                    .tcp_nodelay(true);
                let c = self.connector.connect_lazy(endpoint);
                st.channels.insert(addr.to_string(), c.clone());
                c
            }
        };
        Ok(CqlClient::new(channel)
            .max_decoding_message_size(MAX_RPC_MESSAGE)
            .max_encoding_message_size(MAX_RPC_MESSAGE))
    }
}

/// Now, in microseconds since the epoch: the client-side write timestamp.
pub fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Whether a statement may be sent again to another coordinator after a transport failure.
fn retryable(statement: &str) -> bool {
    let first = statement
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "BEGIN" | "USE"
    )
}

fn value_pb(v: &Option<Value>) -> pb::CqlValue {
    pb::CqlValue {
        value: Some(match v {
            Some(v) => pb::cql_value::Value::Data(basalt_table::serialize::to_bytes(v)),
            None => pb::cql_value::Value::Null(true),
        }),
    }
}

fn columns_of(specs: Vec<pb::ColumnSpec>) -> Result<Vec<ResultColumn>> {
    specs
        .into_iter()
        .map(|c| {
            let ty = c
                .cql_type
                .parse()
                .map_err(|e| ClientError::InvalidArgument(format!("column {} has type {}: {e}", c.name, c.cql_type)))?;
            Ok(ResultColumn {
                keyspace: c.keyspace,
                table: c.table,
                name: c.name,
                ty,
            })
        })
        .collect()
}

fn result_of(resp: pb::CqlResponse) -> Result<CqlResult> {
    use pb::cql_response::Result as R;
    Ok(match resp.result {
        None | Some(R::Void(_)) => CqlResult::Void,
        Some(R::SetKeyspace(k)) => CqlResult::SetKeyspace(k),
        Some(R::SchemaChange(s)) => CqlResult::SchemaChange(SchemaChange {
            change: s.change,
            target: s.target,
            keyspace: s.keyspace,
            name: s.name,
        }),
        Some(R::Rows(rows)) => {
            let columns = columns_of(rows.columns)?;
            let batches = decode_ipc(&rows.arrow_ipc)?;
            CqlResult::Rows(ResultPage {
                columns,
                batches,
                row_count: rows.row_count,
                paging_state: (!rows.paging_state.is_empty()).then_some(rows.paging_state),
            })
        }
    })
}

/// Record batches of an Arrow IPC stream.
pub fn decode_ipc(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .map_err(|e| ClientError::InvalidArgument(format!("malformed Arrow IPC in a reply: {e}")))?;
    reader
        .map(|b| b.map_err(|e| ClientError::InvalidArgument(format!("malformed Arrow batch in a reply: {e}"))))
        .collect()
}

impl Client {
    /// Datanode addresses to coordinate, in rotation; refreshed from the namenode every 10 s.
    async fn coordinators(&self) -> Result<Vec<String>> {
        let co = &self.inner.tables;
        {
            let st = co.lock();
            if st.fetched.is_some_and(|t| t.elapsed() < REFRESH) && !st.addrs.is_empty() {
                return Ok(rotate(&st.addrs, st.next));
            }
        }
        let status = self.cluster_status().await?;
        let addrs: Vec<String> = status
            .datanodes
            .iter()
            .filter(|d| d.live)
            .filter_map(|d| d.info.as_ref().map(|i| i.addr.clone()))
            .collect();
        let mut st = co.lock();
        st.addrs = addrs;
        st.fetched = Some(Instant::now());
        st.next = st.next.wrapping_add(1);
        if st.addrs.is_empty() {
            return Err(ClientError::Remote(RemoteError {
                kind: ErrorKind::Unavailable,
                message: "no live datanode to coordinate the statement".into(),
                leader: None,
                transport: false,
            }));
        }
        Ok(rotate(&st.addrs, st.next))
    }

    /// The replicas of a partition (primary first) when the ring and the keyspace are known here.
    async fn replica_addrs(&self, keyspace: &str, key: &[Value]) -> Option<Vec<String>> {
        let cached = {
            let st = self.inner.tables.lock();
            st.routing
                .as_ref()
                .filter(|(_, _, t)| t.elapsed() < REFRESH)
                .map(|(r, k, _)| (r.clone(), k.get(keyspace).cloned()))
        };
        let (ring, replication) = match cached {
            Some((ring, Some(rep))) => (ring, rep),
            _ => {
                let ring = Arc::new(self.ring().await.ok()?);
                let catalog = self.catalog().await.ok()?;
                let keyspaces: HashMap<String, Replication> = catalog
                    .keyspaces
                    .values()
                    .map(|k| (k.name.clone(), k.replication.clone()))
                    .collect();
                let rep = keyspaces.get(keyspace).cloned();
                self.inner.tables.lock().routing = Some((ring.clone(), keyspaces, Instant::now()));
                (ring, rep?)
            }
        };
        let token = basalt_table::token::token_of(key);
        let addrs: Vec<String> = ring
            .replica_nodes(token, &replication)
            .into_iter()
            .map(|n| n.addr.clone())
            .collect();
        (!addrs.is_empty()).then_some(addrs)
    }

    /// Sends `req` to a coordinator, trying the next ones on a transport failure when `retry` says so.
    async fn send(&self, req: pb::CqlRequest, retry: bool) -> Result<pb::CqlResponse> {
        check_request_size(&req)?;
        let addrs = self.coordinators().await?;
        {
            let mut st = self.inner.tables.lock();
            st.next = st.next.wrapping_add(1);
        }
        self.send_to(req, addrs, retry).await
    }

    /// Sends `req` to the first of `addrs`, the next ones after a transport failure when `retry`.
    async fn send_to(&self, mut req: pb::CqlRequest, addrs: Vec<String>, retry: bool) -> Result<pb::CqlResponse> {
        use std::sync::atomic::Ordering;
        let seen = &self.inner.tables.catalog_version;
        req.min_catalog_version = seen.load(Ordering::Acquire);
        let mut last = None;
        for addr in addrs.iter().take(if retry { addrs.len() } else { 1 }) {
            let mut c = self.inner.tables.client(addr)?;
            match c.execute(req.clone()).await {
                Ok(r) => {
                    let r = r.into_inner();
                    seen.fetch_max(r.catalog_version, Ordering::AcqRel);
                    return Ok(r);
                }
                Err(s) => {
                    let e = RemoteError::from(s);
                    if !e.transport {
                        return Err(ClientError::Remote(e));
                    }
                    // Forget the node list: it is likely stale.
                    self.inner.tables.lock().fetched = None;
                    last = Some(e);
                }
            }
        }
        Err(ClientError::Remote(last.expect("at least one coordinator was tried")))
    }

    /// Runs one CQL statement with positional bind values.
    pub async fn cql(&self, statement: &str, values: &[Option<Value>], opts: &CqlOptions) -> Result<CqlResult> {
        let req = pb::CqlRequest {
            statement: statement.to_string(),
            values: values.iter().map(value_pb).collect(),
            consistency: opts.consistency.code() as u32,
            keyspace: opts.keyspace.clone().unwrap_or_default(),
            page_size: opts.page_size,
            paging_state: opts.paging_state.clone().unwrap_or_default(),
            timestamp: Some(opts.timestamp.unwrap_or_else(now_micros)),
            ..Default::default()
        };
        result_of(self.send(req, retryable(statement)).await?)
    }

    /// Runs a SELECT and gathers every page.
    pub async fn cql_all(
        &self,
        statement: &str,
        values: &[Option<Value>],
        opts: &CqlOptions,
    ) -> Result<Vec<Vec<Option<Value>>>> {
        let mut opts = opts.clone();
        let mut rows = Vec::new();
        loop {
            match self.cql(statement, values, &opts).await? {
                CqlResult::Rows(page) => {
                    rows.extend(page.rows()?);
                    match page.paging_state {
                        Some(s) => opts.paging_state = Some(s),
                        None => return Ok(rows),
                    }
                }
                _ => return Ok(rows),
            }
        }
    }

    /// Prepares a statement on a coordinator (ids are the same on every coordinator).
    pub async fn prepare(&self, statement: &str, keyspace: Option<&str>) -> Result<Prepared> {
        let addrs = self.coordinators().await?;
        let mut last = None;
        for addr in &addrs {
            let mut c = self.inner.tables.client(addr)?;
            let req = pb::CqlPrepareRequest {
                statement: statement.to_string(),
                keyspace: keyspace.unwrap_or_default().to_string(),
            };
            match c.prepare(req).await {
                Ok(r) => {
                    let r = r.into_inner();
                    return Ok(Prepared {
                        id: r.prepared_id,
                        statement: statement.to_string(),
                        keyspace: keyspace.map(str::to_string),
                        bind_columns: columns_of(r.bind_columns)?,
                        result_columns: columns_of(r.result_columns)?,
                        partition_key_indexes: r.partition_key_indexes.into_iter().map(|i| i as usize).collect(),
                    });
                }
                Err(s) => {
                    let e = RemoteError::from(s);
                    if !e.transport {
                        return Err(ClientError::Remote(e));
                    }
                    last = Some(e);
                }
            }
        }
        Err(ClientError::Remote(last.expect("at least one coordinator was tried")))
    }

    /// Executes a prepared statement.
    pub async fn execute(&self, prepared: &Prepared, values: &[Option<Value>], opts: &CqlOptions) -> Result<CqlResult> {
        if values.len() != prepared.bind_columns.len() {
            return Err(ClientError::InvalidArgument(format!(
                "the statement has {} bind markers, {} values given",
                prepared.bind_columns.len(),
                values.len()
            )));
        }
        let req = pb::CqlRequest {
            // The text too: a coordinator that has not prepared it yet prepares it under the same id.
            statement: prepared.statement.clone(),
            prepared_id: prepared.id.clone(),
            values: values.iter().map(value_pb).collect(),
            consistency: opts.consistency.code() as u32,
            keyspace: opts
                .keyspace
                .clone()
                .or_else(|| prepared.keyspace.clone())
                .unwrap_or_default(),
            page_size: opts.page_size,
            paging_state: opts.paging_state.clone().unwrap_or_default(),
            timestamp: Some(opts.timestamp.unwrap_or_else(now_micros)),
            ..Default::default()
        };
        let retry = retryable(&prepared.statement);
        // Token-aware: with the whole partition key bound, straight to a replica of the partition
        // (it coordinates with one hop less), the others next if it fails.
        let key: Option<Vec<Value>> = (!prepared.partition_key_indexes.is_empty())
            .then(|| {
                prepared
                    .partition_key_indexes
                    .iter()
                    .map(|i| values.get(*i).cloned().flatten())
                    .collect()
            })
            .flatten();
        let keyspace = prepared
            .bind_columns
            .first()
            .map(|c| c.keyspace.clone())
            .unwrap_or_default();
        if let Some(key) = key
            && let Some(addrs) = self.replica_addrs(&keyspace, &key).await
        {
            return result_of(self.send_to(req, addrs, retry).await?);
        }
        result_of(self.send(req, retry).await?)
    }
}

/// A request over the largest message would fail in the transport with an opaque HTTP/2 error: refuse
/// it here, as Invalid (its size bounds the encoded size from above, 16 bytes of framing per value).
fn check_request_size(req: &pb::CqlRequest) -> Result<()> {
    let values: usize = req
        .values
        .iter()
        .map(|v| match &v.value {
            Some(pb::cql_value::Value::Data(d)) => d.len() + 16,
            _ => 16,
        })
        .sum();
    let size = req.statement.len() + req.keyspace.len() + req.paging_state.len() + req.prepared_id.len() + values;
    if size + 1024 > MAX_RPC_MESSAGE {
        return Err(ClientError::InvalidArgument(format!(
            "the statement and its values are {size} bytes, more than the largest request of {MAX_RPC_MESSAGE} bytes"
        )));
    }
    Ok(())
}

fn rotate(addrs: &[String], by: usize) -> Vec<String> {
    let n = addrs.len().max(1);
    (0..addrs.len()).map(|i| addrs[(i + by) % n].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_and_writes_are_retried() {
        assert!(retryable("  select * from t"));
        assert!(retryable("INSERT INTO t (a) VALUES (1)"));
        assert!(retryable("begin batch insert into t (a) values (1); apply batch"));
        assert!(!retryable("CREATE TABLE t (a int PRIMARY KEY)"));
        assert!(!retryable("drop keyspace ks"));
    }

    #[test]
    fn rotation_starts_at_the_next_coordinator() {
        let a: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(rotate(&a, 1), ["b", "c", "a"]);
        assert_eq!(rotate(&a, 3), ["a", "b", "c"]);
    }
}

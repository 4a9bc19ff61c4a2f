//! [`Engine`]: runs statements on this coordinator. One per datanode, shared by the `Cql` gRPC service
//! (and the CQL native protocol server).
//!
//! Phases of a statement: resolve (parse, or look up a prepared statement; bind values; find the table
//! in this node's catalog, refreshing it once from the metadata group if the table or a column is
//! unknown, so a client that just changed the schema elsewhere is not refused), plan (the `mutation`
//! or `select` module), run (the coordinator's writes and reads at the consistency level), answer
//! (rows as one Arrow IPC stream).

use super::error::ExecError;
use super::eval::{Bound, Eval, now_micros};
use super::restrict::Partitions;
use super::select::{self, PagingState, SelectPlan};
use super::{ddl, mutation};
use crate::tables::coordinator::handoff::HintLog;
use crate::tables::coordinator::read::{ReadContext, Resolve, Resolved, read};
use crate::tables::coordinator::write::{WriteContext, write};
use crate::tables::coordinator::{CoordinatorError, Liveness, WriteType};
use crate::tables::replicas::GrpcReplicas;
use crate::tables::schema_view::SchemaView;
use crate::tables::store::TableStore;
use basalt_common::DatanodeId;
use basalt_proto::pb;
use basalt_table::catalog::CatalogView;
use basalt_table::cql::ast::{BatchKind, QualifiedName, Statement};
use basalt_table::partition::{ClusteringComparator, Partition};
use basalt_table::read::ReadCommand;
use basalt_table::{Consistency, CqlType, KeyspaceDef, TableDef, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod scan;

/// Timeouts and limits of the coordinator (Cassandra's names in parentheses).
#[derive(Clone, Copy, Debug)]
pub struct EngineConfig {
    /// (`write_request_timeout`)
    pub write_timeout: Duration,
    /// (`read_request_timeout`)
    pub read_timeout: Duration,
    /// (`range_request_timeout`)
    pub range_timeout: Duration,
    /// (`max_hint_window`)
    pub hint_window: Duration,
    /// Rows per page when the client names none.
    pub default_page_size: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            write_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(5),
            range_timeout: Duration::from_secs(10),
            hint_window: Duration::from_secs(3 * 3600),
            default_page_size: 5000,
        }
    }
}

/// Adds the rows of a reconciled partition to a page (after a clustering resume point); false once
/// the page or the LIMIT is full.
type TakeRows<'a> =
    dyn FnMut(&Partition, &mut Vec<Vec<Option<Value>>>, Option<&[Value]>) -> Result<bool, ExecError> + Send + 'a;

/// A logged batch in the batch log: its partition updates by keyspace, until all are written.
#[derive(serde::Serialize, serde::Deserialize)]
struct LoggedBatch {
    written_at_ms: u64,
    groups: Vec<(String, Vec<Vec<u8>>)>,
}

/// How long a coordinator waits to catch up with the catalog version a client has seen.
const CATALOG_CATCH_UP: Duration = Duration::from_secs(10);

/// Prepared statements kept per coordinator.
const PREPARED_CAP: usize = 10_000;

/// A prepared statement.
struct PreparedEntry {
    statement: Statement,
    text: String,
    keyspace: Option<String>,
}

pub struct Engine {
    pub me: DatanodeId,
    pub schema: Arc<SchemaView>,
    pub replicas: Arc<GrpcReplicas>,
    pub liveness: Arc<Liveness>,
    pub hints: Arc<dyn HintLog>,
    pub config: EngineConfig,
    /// This node's table store: its batch log.
    store: TableStore,
    prepared: Mutex<HashMap<Vec<u8>, Arc<PreparedEntry>>>,
    /// Where the datanodes serve CQL; this node's request counters.
    pub cql: Arc<super::nodes::CqlNodes>,
}

/// What a statement answers.
pub enum Answer {
    Void,
    Rows(Rows),
    SetKeyspace(String),
    SchemaChange(pb::SchemaChangeResult, u64),
}

/// Result rows of one page.
pub struct Rows {
    pub columns: Vec<(String, CqlType)>,
    pub keyspace: String,
    pub table: String,
    pub rows: Vec<Vec<Option<Value>>>,
    pub paging_state: Option<Vec<u8>>,
}

/// The id of a prepared statement: the same on every coordinator (a hash of keyspace and text).
pub fn prepared_id(keyspace: Option<&str>, text: &str) -> Vec<u8> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for b in keyspace.unwrap_or("").bytes().chain([0u8]).chain(text.bytes()) {
        h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        h2 = (h2 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
    }
    [h.to_be_bytes(), h2.to_be_bytes()].concat()
}

/// Reconciles replica answers for read repair.
struct Resolver<'a> {
    table: &'a TableDef,
}

impl Resolve for Resolver<'_> {
    fn resolve(&self, answers: &[(DatanodeId, Vec<u8>)]) -> Result<Resolved, CoordinatorError> {
        let cmp = ClusteringComparator::for_table(self.table);
        let decoded: Vec<Partition> = answers
            .iter()
            .map(|(node, a)| {
                basalt_table::partition::decode(a).map_err(|e| CoordinatorError::Replica {
                    node: *node,
                    kind: e.kind(),
                    message: format!("undecodable answer: {e}"),
                })
            })
            .collect::<Result<_, _>>()?;
        let mut merged = decoded[0].clone();
        for p in &decoded[1..] {
            merged.merge(p.clone(), &cmp);
        }
        let repairs = decoded
            .iter()
            .map(|p| basalt_table::partition::diff(&merged, p).map(|d| basalt_table::partition::encode(&d)))
            .collect();
        Ok(Resolved {
            merged: basalt_table::partition::encode(&merged),
            repairs,
        })
    }
}

fn now_secs() -> i64 {
    now_micros() / 1_000_000
}

impl Engine {
    pub fn new(
        me: DatanodeId,
        schema: Arc<SchemaView>,
        replicas: Arc<GrpcReplicas>,
        liveness: Arc<Liveness>,
        hints: Arc<dyn HintLog>,
        config: EngineConfig,
        store: TableStore,
    ) -> Engine {
        Engine {
            me,
            schema,
            replicas,
            liveness,
            hints,
            config,
            store,
            prepared: Mutex::default(),
            cql: Arc::default(),
        }
    }

    /// The keyspace and text of a statement prepared on this coordinator (the CQL protocol's BATCH
    /// names its prepared statements by id).
    pub fn prepared_text(&self, id: &[u8]) -> Option<(Option<String>, String)> {
        let cache = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(id).map(|e| (e.keyspace.clone(), e.text.clone()))
    }

    /// Finishes the logged batches this coordinator left unfinished (written to the batch log more
    /// than twice the write timeout ago): their partitions are written again (idempotent: same
    /// timestamps), at ONE with hints, then the entry is removed. Returns how many were replayed.
    pub async fn replay_batches(&self) -> usize {
        let store = self.store.clone();
        let Ok(Ok(pending)) = tokio::task::spawn_blocking(move || store.pending_batches()).await else {
            return 0;
        };
        let cutoff = (now_micros() / 1000) as u64 - 2 * self.config.write_timeout.as_millis() as u64;
        let mut done = 0;
        for (id, bytes) in pending {
            let record: LoggedBatch = match basalt_table::codec::decode(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(batch = %id, error = %e, "undecodable batch log entry kept aside");
                    continue;
                }
            };
            if record.written_at_ms > cutoff {
                continue;
            }
            let catalog = self.schema.catalog();
            let mut ok = true;
            for (ks, encoded) in &record.groups {
                let Some(kdef) = catalog.keyspace(ks).cloned() else {
                    continue;
                };
                let parts: Vec<Partition> = encoded
                    .iter()
                    .filter_map(|b| basalt_table::partition::decode(b).ok())
                    .collect();
                if let Err(e) = self
                    .write_partitions(&kdef, parts, Consistency::One, WriteType::BatchLog)
                    .await
                {
                    tracing::warn!(batch = %id, error = %e, "batch log replay failed; will retry");
                    ok = false;
                }
            }
            if ok {
                let store = self.store.clone();
                let _ = tokio::task::spawn_blocking(move || store.remove_batch(id)).await;
                tracing::info!(batch = %id, "logged batch replayed from the batch log");
                done += 1;
            }
        }
        done
    }

    fn write_ctx(&self) -> WriteContext<GrpcReplicas> {
        WriteContext {
            replicas: self.replicas.clone(),
            liveness: self.liveness.clone(),
            hints: self.hints.clone(),
            timeout: self.config.write_timeout,
            hint_window: self.config.hint_window,
        }
    }

    fn read_ctx(&self) -> ReadContext<GrpcReplicas> {
        ReadContext {
            replicas: self.replicas.clone(),
            liveness: self.liveness.clone(),
            hints: self.hints.clone(),
            timeout: self.config.read_timeout,
        }
    }

    /// Prepares `text`: parses it, checks its table, keeps it under its stable id.
    pub async fn prepare(&self, text: &str, keyspace: Option<&str>) -> Result<pb::CqlPrepareResponse, ExecError> {
        let statement = basalt_table::cql::parser::parse(text)?;
        let catalog = self.schema.catalog();
        let lookup = |q: &QualifiedName| {
            let ks = q.keyspace.as_deref().or(keyspace)?;
            catalog.table(ks, &q.name)
        };
        let specs = match basalt_table::cql::bind::bind_specs(&statement, &lookup) {
            Ok(s) => s,
            Err(_) => {
                // The table may be newer than this node's catalog: refresh once.
                let catalog = self.refresh().await?;
                let lookup = |q: &QualifiedName| {
                    let ks = q.keyspace.as_deref().or(keyspace)?;
                    catalog.table(ks, &q.name)
                };
                basalt_table::cql::bind::bind_specs(&statement, &lookup)?
            }
        };
        let catalog = self.schema.catalog();
        let table = statement_table(&statement).and_then(|q| {
            let ks = q.keyspace.as_deref().or(keyspace)?;
            catalog.table(ks, &q.name).cloned()
        });
        let (ks_name, table_name) = table
            .as_ref()
            .map(|t| (t.keyspace.clone(), t.name.clone()))
            .unwrap_or_default();
        let spec = |name: String, ty: &CqlType| pb::ColumnSpec {
            keyspace: ks_name.clone(),
            table: table_name.clone(),
            name,
            cql_type: ty.to_string(),
        };
        let mut pk_indexes = Vec::new();
        if let Some(t) = &table {
            for pk in t.partition_key() {
                match specs.iter().find(|s| s.name == pk.name) {
                    Some(s) => pk_indexes.push(s.index as u32),
                    None => {
                        pk_indexes.clear();
                        break;
                    }
                }
            }
        }
        let result_columns = match (&statement, &table) {
            (Statement::Select(s), Some(t)) => {
                let mut eval = Eval::new(vec![Bound::Null; specs.len()], Vec::new());
                match select::plan(t, s, &mut eval) {
                    Ok(p) => p.outputs.iter().map(|o| spec(o.name.clone(), &o.ty)).collect(),
                    Err(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        let id = prepared_id(keyspace, text);
        {
            let mut cache = self.prepared.lock().unwrap_or_else(|e| e.into_inner());
            // Bounded: past the cap an arbitrary entry goes (its clients re-prepare, as Cassandra's
            // evicted statements are).
            if cache.len() >= PREPARED_CAP
                && !cache.contains_key(&id)
                && let Some(victim) = cache.keys().next().cloned()
            {
                cache.remove(&victim);
            }
            cache.insert(
                id.clone(),
                Arc::new(PreparedEntry {
                    statement,
                    text: text.to_string(),
                    keyspace: keyspace.map(str::to_string),
                }),
            );
        }
        Ok(pb::CqlPrepareResponse {
            prepared_id: id,
            bind_columns: specs.iter().map(|s| spec(s.name.clone(), &s.ty)).collect(),
            partition_key_indexes: pk_indexes,
            result_columns,
        })
    }

    async fn refresh(&self) -> Result<Arc<CatalogView>, ExecError> {
        Ok(self.schema.refresh_latest().await)
    }

    /// Runs one request.
    pub async fn execute(&self, req: pb::CqlRequest) -> Result<Answer, ExecError> {
        match self.execute_once(req.clone()).await {
            // A column this node's catalog does not know may have been added a moment ago through
            // another coordinator: refresh once, then answer for good.
            Err(ExecError::UnknownColumn { .. }) => {
                let before = self.schema.catalog().version();
                if self.refresh().await?.version() > before {
                    return self.execute_once(req).await;
                }
                self.execute_once(req).await
            }
            other => other,
        }
    }

    async fn execute_once(&self, req: pb::CqlRequest) -> Result<Answer, ExecError> {
        if req.min_catalog_version > self.schema.catalog().version() {
            self.schema
                .refresh_at_least(req.min_catalog_version, CATALOG_CATCH_UP)
                .await
                .map_err(|_| ExecError::SchemaLag {
                    version: req.min_catalog_version,
                    secs: CATALOG_CATCH_UP.as_secs(),
                })?;
        }
        let session_ks = (!req.keyspace.is_empty()).then_some(req.keyspace.clone());
        let (statement, keyspace) = if req.prepared_id.is_empty() {
            (Arc::new(basalt_table::cql::parser::parse(&req.statement)?), session_ks)
        } else {
            let entry = self
                .prepared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&req.prepared_id)
                .cloned();
            // Not prepared here (another coordinator prepared it, or this one restarted): the
            // Basalt client sends the text along, which prepares it here under the same id.
            let entry = match entry {
                Some(e) => e,
                None if !req.statement.is_empty()
                    && prepared_id(session_ks.as_deref(), &req.statement) == req.prepared_id =>
                {
                    self.prepare(&req.statement, session_ks.as_deref()).await?;
                    self.prepared
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&req.prepared_id)
                        .cloned()
                        .ok_or_else(|| ExecError::Unprepared {
                            id: req.prepared_id.iter().map(|b| format!("{b:02x}")).collect(),
                        })?
                }
                None => {
                    return Err(ExecError::Unprepared {
                        id: req.prepared_id.iter().map(|b| format!("{b:02x}")).collect(),
                    });
                }
            };
            let _ = &entry.text;
            (
                Arc::new(entry.statement.clone()),
                session_ks.or_else(|| entry.keyspace.clone()),
            )
        };
        let values: Vec<Bound> = req
            .values
            .iter()
            .map(|v| match &v.value {
                Some(pb::cql_value::Value::Data(d)) => Bound::Bytes(d.clone()),
                Some(pb::cql_value::Value::Unset(_)) => Bound::Unset,
                _ => Bound::Null,
            })
            .collect();
        let markers = statement.bind_markers().len();
        if values.len() != markers {
            return Err(ExecError::WrongValueCount {
                markers,
                values: values.len(),
            });
        }
        let mut eval = Eval::new(values, req.value_names.clone());
        self.schema.ensure_ring().await;
        let consistency = Consistency::from_code(req.consistency as u16).unwrap_or(Consistency::One);
        let timestamp = req.timestamp.unwrap_or_else(now_micros);
        let page_size = if req.page_size == 0 {
            self.config.default_page_size
        } else {
            req.page_size
        };
        let ks = keyspace.as_deref();
        match &*statement {
            Statement::Use { keyspace } => {
                let catalog = self.catalog_with_keyspace(keyspace).await?;
                if catalog.keyspace(keyspace).is_none() {
                    return Err(ExecError::UnknownKeyspace {
                        keyspace: keyspace.clone(),
                    });
                }
                Ok(Answer::SetKeyspace(keyspace.clone()))
            }
            Statement::CreateKeyspace(_)
            | Statement::AlterKeyspace(_)
            | Statement::DropKeyspace { .. }
            | Statement::CreateTable(_)
            | Statement::AlterTable(_)
            | Statement::DropTable { .. } => ddl::run(self, &statement, ks, timestamp).await,
            Statement::Truncate { .. } => Err(ExecError::Unsupported {
                what: "TRUNCATE".into(),
            }),
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) => {
                let (keyspace_def, ps) = self.mutation(&statement, ks, &mut eval, timestamp).await?;
                self.write_partitions(&keyspace_def, ps, consistency, WriteType::Simple)
                    .await?;
                Ok(Answer::Void)
            }
            Statement::Batch(b) => {
                if b.kind == BatchKind::Counter {
                    return Err(ExecError::Unsupported {
                        what: "Counter batches".into(),
                    });
                }
                let timestamp = match &b.timestamp {
                    Some(t) => {
                        match eval.required(t, &CqlType::Native(basalt_table::NativeType::BigInt), "[timestamp]")? {
                            Value::BigInt(v) => v,
                            _ => unreachable!("bigint"),
                        }
                    }
                    None => timestamp,
                };
                let mut by_keyspace: Vec<(KeyspaceDef, Vec<Partition>)> = Vec::new();
                for s in &b.statements {
                    if !matches!(s, Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_)) {
                        return Err(ExecError::invalid(
                            "Only INSERT, UPDATE and DELETE are allowed in a BATCH",
                        ));
                    }
                    let (kdef, ps) = self.mutation(s, ks, &mut eval, timestamp).await?;
                    match by_keyspace.iter_mut().find(|(k, _)| k.name == kdef.name) {
                        Some((_, v)) => v.extend(ps),
                        None => by_keyspace.push((kdef, ps)),
                    }
                }
                let write_type = if b.kind == BatchKind::Logged {
                    WriteType::Batch
                } else {
                    WriteType::UnloggedBatch
                };
                let partitions: usize = by_keyspace.iter().map(|(_, ps)| ps.len()).sum();
                // A logged batch over several partitions goes to the batch log first: if this
                // coordinator stops half way, the replay finishes it (Cassandra's atomicity: all of
                // it eventually, never part of it for good).
                let logged = if b.kind == BatchKind::Logged && partitions > 1 {
                    let record = LoggedBatch {
                        written_at_ms: (now_micros() / 1000) as u64,
                        groups: by_keyspace
                            .iter()
                            .map(|(k, ps)| (k.name.clone(), ps.iter().map(basalt_table::partition::encode).collect()))
                            .collect(),
                    };
                    let id = eval.clock.next_timeuuid();
                    let store = self.store.clone();
                    let bytes = basalt_table::codec::encode(&record);
                    tokio::task::spawn_blocking(move || store.put_batch(id, &bytes))
                        .await
                        .map_err(|e| ExecError::invalid(format!("batch log task failed: {e}")))?
                        .map_err(ExecError::BatchLog)?;
                    Some(id)
                } else {
                    None
                };
                for (kdef, ps) in by_keyspace {
                    self.write_partitions(&kdef, ps, consistency, write_type).await?;
                }
                if let Some(id) = logged {
                    let store = self.store.clone();
                    let _ = tokio::task::spawn_blocking(move || store.remove_batch(id)).await;
                }
                Ok(Answer::Void)
            }
            Statement::Select(s) => {
                if let Some(rows) = super::system::select(self, s, ks).await? {
                    return Ok(Answer::Rows(rows));
                }
                let (table, kdef) = self.table(&s.table, ks).await?;
                let plan = select::plan(&table, s, &mut eval)?;
                let paging = if req.paging_state.is_empty() {
                    None
                } else {
                    Some(
                        basalt_table::codec::decode::<PagingState>(&req.paging_state)
                            .map_err(|_| ExecError::BadPagingState)?,
                    )
                };
                let rows = self
                    .select(&table, &kdef, &plan, consistency, page_size, paging)
                    .await?;
                Ok(Answer::Rows(rows))
            }
            Statement::Describe(d) => super::describe::run(self, d, ks).await.map(Answer::Rows),
        }
    }

    /// This node's catalog, refreshed once if it lacks `keyspace`.
    /// The table's keyspace and the partition updates of an INSERT, UPDATE or DELETE (alone or in a
    /// batch); any other statement is refused.
    async fn mutation(
        &self,
        s: &Statement,
        session: Option<&str>,
        eval: &mut Eval,
        timestamp: i64,
    ) -> Result<(KeyspaceDef, Vec<Partition>), ExecError> {
        let not_a_write = || ExecError::invalid("Only INSERT, UPDATE and DELETE write rows");
        let (table, kdef) = self.table(statement_table(s).ok_or_else(not_a_write)?, session).await?;
        let ps = match s {
            Statement::Insert(i) => vec![mutation::insert(&table, i, eval, timestamp, now_secs())?],
            Statement::Update(u) => mutation::update(&table, u, eval, timestamp, now_secs())?,
            Statement::Delete(d) => mutation::delete(&table, d, eval, timestamp, now_secs())?,
            _ => return Err(not_a_write()),
        };
        Ok((kdef, ps))
    }

    async fn catalog_with_keyspace(&self, keyspace: &str) -> Result<Arc<CatalogView>, ExecError> {
        let catalog = self.schema.catalog();
        if catalog.keyspace(keyspace).is_some() {
            return Ok(catalog);
        }
        self.refresh().await
    }

    /// The table a statement names (with its keyspace), refreshing the catalog once if unknown.
    pub async fn table(
        &self,
        q: &QualifiedName,
        session: Option<&str>,
    ) -> Result<(Arc<TableDef>, KeyspaceDef), ExecError> {
        let ks = q.keyspace.as_deref().or(session).ok_or(ExecError::NoKeyspace)?;
        let mut catalog = self.schema.catalog();
        if catalog.table(ks, &q.name).is_none() {
            catalog = self.refresh().await?;
        }
        let kdef = catalog
            .keyspace(ks)
            .cloned()
            .ok_or_else(|| ExecError::UnknownKeyspace {
                keyspace: ks.to_string(),
            })?;
        let table = catalog
            .table(ks, &q.name)
            .cloned()
            .ok_or_else(|| ExecError::UnknownTable {
                table: format!("{ks}.{}", q.name),
            })?;
        Ok((Arc::new(table), kdef))
    }

    /// The replicas of `token`, this node first if it is one, then by rack (closest first).
    fn replicas_of(&self, token: i64, kdef: &KeyspaceDef) -> Result<Vec<DatanodeId>, CoordinatorError> {
        let ring = self.schema.ring();
        let mut nodes = ring.ring.replicas(token, &kdef.replication);
        if nodes.is_empty() {
            return Err(CoordinatorError::EmptyRing);
        }
        self.cql.counters.partition(nodes.contains(&self.me));
        let my_rack = ring.nodes.get(&self.me).map(|n| n.rack.clone()).unwrap_or_default();
        nodes.sort_by_key(|n| {
            let rack = ring.nodes.get(n).map(|r| r.rack.as_str()).unwrap_or("");
            (*n != self.me, rack != my_rack)
        });
        Ok(nodes)
    }

    /// Writes partition updates, each to its replicas at `consistency`, all at once.
    pub async fn write_partitions(
        &self,
        kdef: &KeyspaceDef,
        partitions: Vec<Partition>,
        consistency: Consistency,
        write_type: WriteType,
    ) -> Result<(), ExecError> {
        // One call per distinct partition (a batch may touch one partition several times).
        let mut by_key: Vec<(i64, Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
        for p in partitions {
            let key = basalt_table::token::partition_key_bytes(&p.key);
            let encoded = basalt_table::partition::encode(&p);
            if encoded.len() > basalt_common::MAX_RPC_MESSAGE - 64 * 1024 {
                return Err(ExecError::invalid(format!(
                    "Mutation of {} bytes is too large for the maximum size of {}",
                    encoded.len(),
                    basalt_common::MAX_RPC_MESSAGE - 64 * 1024
                )));
            }
            match by_key.iter_mut().find(|(t, k, _)| *t == p.token && *k == key) {
                Some((_, _, v)) => v.push(encoded),
                None => by_key.push((p.token, key, vec![encoded])),
            }
        }
        let ctx = self.write_ctx();
        let mut calls = Vec::with_capacity(by_key.len());
        for (token, _, encoded) in by_key {
            let replicas = self.replicas_of(token, kdef)?;
            let ctx = &ctx;
            calls.push(async move { write(ctx, &replicas, consistency, write_type, Arc::new(encoded)).await });
        }
        for r in futures::future::join_all(calls).await {
            r?;
        }
        Ok(())
    }

    /// Reads one partition at `consistency`, reconciled.
    pub async fn read_partition(
        &self,
        table: &TableDef,
        kdef: &KeyspaceDef,
        cmd: ReadCommand,
        consistency: Consistency,
    ) -> Result<Partition, ExecError> {
        let replicas = self.replicas_of(cmd.token, kdef)?;
        let encoded = Arc::new(basalt_table::codec::encode(&cmd));
        let out = read(&self.read_ctx(), &replicas, consistency, encoded, &Resolver { table }).await?;
        basalt_table::partition::decode(&out.partition)
            .map_err(|source| ExecError::Undecodable { node: self.me, source })
    }

    /// One page of a SELECT.
    async fn select(
        &self,
        table: &Arc<TableDef>,
        kdef: &KeyspaceDef,
        plan: &SelectPlan,
        consistency: Consistency,
        page_size: u32,
        paging: Option<PagingState>,
    ) -> Result<Rows, ExecError> {
        let now = now_secs();
        let columns: Vec<(String, CqlType)> = match &plan.count {
            Some(name) => vec![(name.clone(), CqlType::Native(basalt_table::NativeType::BigInt))],
            None => plan.outputs.iter().map(|o| (o.name.clone(), o.ty)).collect(),
        };
        let mut rows: Vec<Vec<Option<Value>>> = Vec::new();
        let mut remaining = paging.as_ref().map_or(plan.limit, |p| p.remaining);
        // COUNT(*) reads everything (no paging of its one row).
        let page = if plan.count.is_some() {
            u32::MAX
        } else {
            page_size.max(1)
        };
        let mut counted: i64 = 0;
        let mut next: Option<PagingState> = None;
        let mut take = |p: &Partition,
                        rows: &mut Vec<Vec<Option<Value>>>,
                        after: Option<&[Value]>,
                        key_index: usize|
         -> Result<bool, ExecError> {
            // Returns false when the page (or the LIMIT) is full.
            let mut per_partition = 0u32;
            for r in select::rows_of(plan, table, p, now, after) {
                if !select::passes(plan, table, p, &r)? {
                    continue;
                }
                if plan.per_partition_limit.is_some_and(|l| per_partition >= l) {
                    break;
                }
                if remaining == Some(0) {
                    return Ok(false);
                }
                if plan.count.is_some() {
                    counted += 1;
                } else {
                    rows.push(select::project(plan, table, p, &r, now)?);
                }
                per_partition += 1;
                remaining = remaining.map(|n| n - 1);
                if rows.len() as u32 >= page {
                    next = Some(PagingState {
                        token: p.token,
                        key: p.key.clone(),
                        clustering: Some(r.clustering.clone()),
                        remaining,
                        key_index,
                    });
                    return Ok(false);
                }
            }
            Ok(true)
        };
        match &plan.restrictions.partitions {
            Partitions::Keys(keys) => {
                let start = paging.as_ref().map_or(0, |p| p.key_index);
                for (i, key) in keys.iter().enumerate().skip(start) {
                    let token = basalt_table::token::token_of(key);
                    let cmd = ReadCommand {
                        table: table.id,
                        token,
                        key: key.clone(),
                        slices: plan.restrictions.slices.clone(),
                        columns: None,
                        reversed: plan.reversed,
                        limit: None,
                        now,
                    };
                    let p = self.read_partition(table, kdef, cmd, consistency).await?;
                    let after = paging
                        .as_ref()
                        .filter(|s| s.key_index == i && &s.key == key)
                        .and_then(|s| s.clustering.as_deref());
                    if !take(&p, &mut rows, after, i)? {
                        break;
                    }
                }
            }
            Partitions::TokenRange { start, end } => {
                self.scan(
                    table,
                    kdef,
                    plan,
                    consistency,
                    *start,
                    *end,
                    paging.as_ref(),
                    &mut |p, rows, after| take(p, rows, after, 0),
                    &mut rows,
                )
                .await?;
            }
        }
        if let Some(name) = &plan.count {
            let _ = name;
            rows = vec![vec![Some(Value::BigInt(counted))]];
            next = None;
        }
        let paging_state = match next {
            Some(s) if s.remaining != Some(0) => Some(basalt_table::codec::encode(&s)),
            _ => None,
        };
        Ok(Rows {
            columns,
            keyspace: table.keyspace.clone(),
            table: table.name.clone(),
            rows,
            paging_state,
        })
    }
}

fn statement_table(s: &Statement) -> Option<&QualifiedName> {
    match s {
        Statement::Insert(i) => Some(&i.table),
        Statement::Update(u) => Some(&u.table),
        Statement::Delete(d) => Some(&d.table),
        Statement::Select(s) => Some(&s.table),
        _ => None,
    }
}

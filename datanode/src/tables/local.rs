//! This datanode's replica of its tables: the `LocalReplica` the replica service and the coordinator
//! call, over the table store, plus the store-backed hint log.
//!
//! A request names the coordinator's catalog version: a replica whose catalog is older refreshes it
//! first (bounded), so a write to a table created a moment ago on another node is not refused.
//!
//! Where store work runs: a write in `periodic` durability (a WAL append in the page cache and a
//! memtable insert) and a partition read (memtable, block cache, page cache) take microseconds and
//! run right on the async worker: handing them to a blocking thread cost two thread switches each,
//! the largest single cost of a replica write in profiles. Writes that wait for an fsync (`batch`
//! durability) and token-range scans (pages of many partitions) run on blocking threads.

use crate::tables::coordinator::handoff::{Hint, HintLog};
use crate::tables::coordinator::{HintSink, Partitions, ReadAnswer};
use crate::tables::replicas::{LocalReplica, ScanPage};
use crate::tables::schema_view::SchemaView;
use crate::tables::store::{HintKey, PartitionRead, TableStore, TableStoreError, TokenScan};
use basalt_common::{DatanodeId, ErrorKind, TableId};
use basalt_proto::RemoteError;
use basalt_table::TableDef;
use basalt_table::read::{RangeCommand, ReadCommand};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// How long a replica waits for its catalog to reach the coordinator's version.
const CATALOG_WAIT: Duration = Duration::from_secs(5);

pub struct Local {
    pub store: TableStore,
    pub schema: Arc<SchemaView>,
}

fn err(kind: ErrorKind, message: String) -> RemoteError {
    RemoteError {
        kind,
        message,
        leader: None,
        transport: false,
    }
}

fn store_err(e: TableStoreError) -> RemoteError {
    err(e.kind(), e.to_string())
}

fn join_err(e: tokio::task::JoinError) -> RemoteError {
    err(ErrorKind::Internal, format!("table store task failed: {e}"))
}

impl Local {
    /// The definition of `table`, refreshing the catalog up to `version` if this node is behind.
    async fn table(schema: &SchemaView, table: TableId, version: u64) -> Result<Arc<TableDef>, RemoteError> {
        if let Some(t) = schema.catalog().table_by_id(table) {
            return Ok(Arc::new(t.clone()));
        }
        if version > schema.catalog().version() {
            let _ = schema.refresh_at_least(version, CATALOG_WAIT).await;
        }
        schema
            .catalog()
            .table_by_id(table)
            .cloned()
            .map(Arc::new)
            .ok_or_else(|| {
                err(
                    ErrorKind::NotFound,
                    format!("table {table} is not in this replica's catalog"),
                )
            })
    }
}

/// Runs a store call, creating the table's column family first if the store lacks it.
fn with_table<T>(
    store: &TableStore,
    def: &TableDef,
    f: impl Fn(&TableStore) -> Result<T, TableStoreError>,
) -> Result<T, TableStoreError> {
    match f(store) {
        Err(TableStoreError::NoSuchTable { .. }) => {
            store.ensure_table(def)?;
            f(store)
        }
        other => other,
    }
}

impl LocalReplica for Local {
    fn catalog_version(&self) -> u64 {
        self.schema.catalog().version()
    }

    fn apply(&self, version: u64, partitions: Partitions) -> BoxFuture<'static, Result<(), RemoteError>> {
        let store = self.store.clone();
        let schema = self.schema.clone();
        Box::pin(async move {
            if partitions.is_empty() {
                return Ok(());
            }
            let decoded: Vec<basalt_table::partition::Partition> = partitions
                .iter()
                .map(|b| basalt_table::partition::decode(b))
                .collect::<Result<_, _>>()
                .map_err(|e| err(ErrorKind::Invalid, format!("undecodable partition update: {e}")))?;
            // One store batch per table (a batch statement may span tables).
            let mut by_table: Vec<(Arc<TableDef>, Vec<basalt_table::partition::Partition>)> = Vec::new();
            for p in decoded {
                match by_table.iter_mut().find(|(t, _)| t.id == p.table) {
                    Some((_, v)) => v.push(p),
                    None => by_table.push((Local::table(&schema, p.table, version).await?, vec![p])),
                }
            }
            let sync = store.syncs_each_write();
            let write = move || {
                for (def, ps) in by_table {
                    with_table(&store, &def, |s| s.apply(&def, &ps)).map_err(store_err)?;
                }
                Ok(())
            };
            if sync {
                tokio::task::spawn_blocking(write).await.map_err(join_err)?
            } else {
                write()
            }
        })
    }

    fn read(
        &self,
        version: u64,
        command: Arc<Vec<u8>>,
        digest_only: bool,
    ) -> BoxFuture<'static, Result<ReadAnswer, RemoteError>> {
        let store = self.store.clone();
        let schema = self.schema.clone();
        Box::pin(async move {
            let cmd: ReadCommand = basalt_table::codec::decode(&command)
                .map_err(|e| err(ErrorKind::Invalid, format!("undecodable read command: {e}")))?;
            let def = Local::table(&schema, cmd.table, version).await?;
            {
                let read = PartitionRead {
                    token: cmd.token,
                    key: cmd.key,
                    slices: cmd.slices.into_iter().map(|s| (s.start, s.end)).collect(),
                    reversed: cmd.reversed,
                    limit: cmd.limit.map(|l| l as usize),
                    columns: cmd.columns,
                    now_secs: cmd.now,
                };
                let p = with_table(&store, &def, |s| s.read(&def, &read)).map_err(store_err)?;
                let digest = p.digest().to_be_bytes().to_vec();
                Ok(ReadAnswer {
                    partition: if digest_only {
                        Vec::new()
                    } else {
                        basalt_table::partition::encode(&p)
                    },
                    digest,
                })
            }
        })
    }

    fn scan(&self, version: u64, command: Vec<u8>) -> BoxFuture<'static, Result<ScanPage, RemoteError>> {
        let store = self.store.clone();
        let schema = self.schema.clone();
        Box::pin(async move {
            let cmd: RangeCommand = basalt_table::codec::decode(&command)
                .map_err(|e| err(ErrorKind::Invalid, format!("undecodable range command: {e}")))?;
            let def = Local::table(&schema, cmd.table, version).await?;
            tokio::task::spawn_blocking(move || {
                let layout = crate::tables::store::KeyLayout::for_table(&def);
                let resume_after = match &cmd.resume_after {
                    Some((token, key)) => Some(
                        layout
                            .partition_prefix(*token, key)
                            .map_err(|e| err(ErrorKind::Invalid, format!("bad resume key: {e}")))?,
                    ),
                    None => None,
                };
                let scan = TokenScan {
                    start: cmd.start,
                    end: cmd.end,
                    resume_after,
                    max_partitions: cmd.max_partitions.max(1) as usize,
                    columns: cmd.columns,
                };
                let page = with_table(&store, &def, |s| s.scan(&def, &scan)).map_err(store_err)?;
                Ok(ScanPage {
                    partitions: page.partitions.iter().map(basalt_table::partition::encode).collect(),
                    exhausted: page.resume.is_none(),
                })
            })
            .await
            .map_err(join_err)?
        })
    }
}

/// The hint log in the table store.
pub struct StoreHints {
    pub store: TableStore,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl HintSink for StoreHints {
    fn hint(&self, target: DatanodeId, partitions: &[Vec<u8>]) {
        for p in partitions {
            if let Err(e) = self.store.put_hint(target, p, now_ms()) {
                tracing::error!(datanode = %target, error = %e, "could not store a hint: the replica will miss this write until repaired");
            }
        }
    }
}

impl HintLog for StoreHints {
    fn targets(&self) -> Vec<DatanodeId> {
        match self.store.count_hints() {
            Ok(v) => v.into_iter().map(|(n, _)| n).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list hints");
                Vec::new()
            }
        }
    }

    fn pending(&self, target: DatanodeId, limit: usize) -> Vec<Hint> {
        match self.store.hints_for(target, limit) {
            Ok(v) => v
                .into_iter()
                .map(|(k, bytes)| Hint {
                    key: k.0.to_vec(),
                    partitions: vec![bytes],
                })
                .collect(),
            Err(e) => {
                tracing::warn!(datanode = %target, error = %e, "cannot read hints");
                Vec::new()
            }
        }
    }

    fn remove(&self, keys: &[Vec<u8>]) {
        let keys: Vec<HintKey> = keys
            .iter()
            .filter_map(|k| <[u8; 24]>::try_from(k.as_slice()).ok().map(HintKey))
            .collect();
        if let Err(e) = self.store.delete_hints(&keys) {
            tracing::warn!(error = %e, "cannot delete delivered hints (they will be sent again)");
        }
    }
}

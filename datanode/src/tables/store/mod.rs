//! This replica's table rows, in RocksDB: one column family per table (`t<id>`), plus `hints` (writes
//! held for replicas that were down) and `batchlog` (logged batches until they are applied).
//!
//! - [`keys`] owns the key layout (token | partition key | kind | clustering), [`entry`] the values,
//!   their merge operator (writes are blind merges, reconciled per cell) and the compaction filter
//!   (TTL expiry and tombstones past `gc_grace_seconds`).
//! - [`TableStore`] is blocking and cheap to clone; async callers use `spawn_blocking`.
//! - Durability is Cassandra's commit log choice ([`Durability`]): every write goes to the WAL;
//!   `Periodic` syncs it every period from a background thread (group commit), `Batch` before the
//!   ack. A process crash (kill -9) loses nothing acknowledged in either mode, as the WAL is in the
//!   page cache; a power loss in `Periodic` can lose up to one period of acknowledged writes.
//! - Bad bytes (a RocksDB corruption error, an undecodable value) give
//!   [`TableStoreError::Corrupt`], an error log line, and mark the table unhealthy ([`TableStore::health`]).

pub mod entry;
mod error;
mod hints;
pub mod keys;
mod read;
pub mod row_codec;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod tests;

pub use entry::Clock;
pub use error::TableStoreError;
pub use hints::HintKey;
pub use read::{PartitionRead, ScanPage, Slice, TokenScan};

use basalt_common::TableId;
use basalt_table::partition::{ClusteringComparator, Partition};
use basalt_table::schema::TableDef;
use entry::{Entry, PurgeFactory, PurgePolicy, Registry};
pub use keys::KeyLayout;
use keys::{KIND_HEADER, KIND_ROW, KIND_STATIC};
use rocksdb::{ColumnFamilyDescriptor, DBWithThreadMode, MultiThreaded, Options, WriteBatch, WriteOptions};
use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering as AtomicOrdering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

type Db = DBWithThreadMode<MultiThreaded>;

const HINTS_CF: &str = "hints";
const BATCHLOG_CF: &str = "batchlog";

/// When an acknowledged write is on stable storage (Cassandra's `commitlog_sync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// The WAL is synced every `period` by a background thread (group commit).
    Periodic { period: Duration },
    /// The WAL is synced before each write is acknowledged.
    Batch,
}

impl Default for Durability {
    fn default() -> Self {
        Durability::Periodic {
            period: Duration::from_millis(10),
        }
    }
}

/// How to open a [`TableStore`].
#[derive(Clone)]
pub struct TableStoreOptions {
    pub durability: Durability,
    /// The clock (seconds since the epoch) compaction purges against.
    pub clock: Clock,
}

impl Default for TableStoreOptions {
    fn default() -> Self {
        TableStoreOptions {
            durability: Durability::default(),
            clock: Arc::new(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0)
            }),
        }
    }
}

/// A datanode's table store. Cheap to clone; every method blocks.
#[derive(Clone)]
pub struct TableStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Db>,
    path: PathBuf,
    registry: Arc<Registry>,
    health: Mutex<BTreeMap<TableId, String>>,
    sync: bool,
    /// Set by every write in periodic durability; the syncer syncs only when it was set.
    dirty: Arc<AtomicBool>,
    hint_seq: AtomicU64,
    /// Held while a column family is created or dropped: check-then-create must not race (the catalog
    /// follower and a write for a table it has not created yet both create it).
    cf_lock: Mutex<()>,
    /// WAL syncs so far (the periodic syncer's, or one per write in batch durability).
    wal_syncs: Arc<AtomicU64>,
    /// Dropping the sender stops the periodic WAL syncer.
    syncer: Mutex<Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.syncer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            drop(stop);
            let _ = thread.join();
        }
        if let Err(e) = self.db.flush_wal(true) {
            tracing::warn!(path = %self.path.display(), error = %e, "final WAL sync of the table store failed");
        }
    }
}

fn cf_name(table: TableId) -> String {
    format!("t{}", table.0)
}

fn table_of_cf(name: &str) -> Option<TableId> {
    name.strip_prefix('t')?.parse().ok().map(TableId)
}

fn table_cf_options(table: TableId, registry: &Arc<Registry>) -> Options {
    let mut o = Options::default();
    o.set_merge_operator_associative("basalt-partition-merge", entry::merge_operator);
    o.set_compaction_filter_factory(PurgeFactory {
        table,
        registry: registry.clone(),
        name: CString::new(format!("basalt-purge-{}", table.0)).expect("no NUL"),
    });
    o
}

fn rocks(op: &'static str) -> impl FnOnce(rocksdb::Error) -> TableStoreError {
    move |source| TableStoreError::Rocks { op, source }
}

impl TableStore {
    /// Opens (or creates) the store in `dir`, with every column family it holds.
    pub fn open(dir: &Path, options: TableStoreOptions) -> Result<TableStore, TableStoreError> {
        let registry = Arc::new(Registry {
            policies: RwLock::new(HashMap::new()),
            clock: options.clock.clone(),
        });
        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        let open_err = |source| TableStoreError::Open {
            path: dir.to_path_buf(),
            source,
        };
        let mut names = if dir.join("CURRENT").exists() {
            Db::list_cf(&db_opts, dir).map_err(open_err)?
        } else {
            Vec::new()
        };
        for n in ["default", HINTS_CF, BATCHLOG_CF] {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        let cfs = names.iter().map(|n| match table_of_cf(n) {
            Some(t) => ColumnFamilyDescriptor::new(n, table_cf_options(t, &registry)),
            None => ColumnFamilyDescriptor::new(n, Options::default()),
        });
        let db = Arc::new(Db::open_cf_descriptors(&db_opts, dir, cfs).map_err(open_err)?);
        let dirty = Arc::new(AtomicBool::new(false));
        let wal_syncs = Arc::new(AtomicU64::new(0));
        let (sync, syncer) = match options.durability {
            Durability::Batch => (true, None),
            Durability::Periodic { period } => {
                let (tx, rx) = mpsc::channel::<()>();
                let db2 = db.clone();
                let dirty = dirty.clone();
                let syncs = wal_syncs.clone();
                let thread = std::thread::Builder::new()
                    .name("table-wal-sync".into())
                    .spawn(move || {
                        while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(period) {
                            if !dirty.swap(false, AtomicOrdering::AcqRel) {
                                continue;
                            }
                            match db2.flush_wal(true) {
                                Ok(()) => {
                                    syncs.fetch_add(1, AtomicOrdering::Relaxed);
                                }
                                Err(e) => tracing::error!(error = %e, "periodic WAL sync of the table store failed"),
                            }
                        }
                    })
                    .map_err(|source| TableStoreError::Thread { source })?;
                (false, Some((tx, thread)))
            }
        };
        Ok(TableStore {
            inner: Arc::new(Inner {
                db,
                path: dir.to_path_buf(),
                registry,
                health: Mutex::new(BTreeMap::new()),
                sync,
                dirty,
                // Unique across restarts: hints of one target written in one millisecond by two
                // processes differ by the start time.
                hint_seq: AtomicU64::new(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos() as u64)
                        .unwrap_or(0),
                ),
                cf_lock: Mutex::new(()),
                wal_syncs,
                syncer: Mutex::new(syncer),
            }),
        })
    }

    fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Whether a write waits for the WAL to reach the disk (`batch` durability); in `periodic` a
    /// write only appends to the WAL in the page cache and the memtable (microseconds).
    pub fn syncs_each_write(&self) -> bool {
        self.inner.sync
    }

    /// WAL syncs so far (for the datanode's metrics).
    pub fn wal_syncs(&self) -> u64 {
        self.inner.wal_syncs.load(AtomicOrdering::Relaxed)
    }

    fn write_opts(&self) -> WriteOptions {
        let mut w = WriteOptions::default();
        w.set_sync(self.inner.sync);
        w
    }

    fn write(&self, batch: WriteBatch, op: &'static str) -> Result<(), TableStoreError> {
        self.db().write_opt(batch, &self.write_opts()).map_err(rocks(op))?;
        if self.inner.sync {
            self.inner.wal_syncs.fetch_add(1, AtomicOrdering::Relaxed);
        } else {
            self.inner.dirty.store(true, AtomicOrdering::Release);
        }
        Ok(())
    }

    /// Creates the table's column family if needed and registers its options for compaction.
    pub fn ensure_table(&self, table: &TableDef) -> Result<(), TableStoreError> {
        let name = cf_name(table.id);
        let _guard = self.inner.cf_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.db().cf_handle(&name).is_none() {
            let opts = table_cf_options(table.id, &self.inner.registry);
            self.db().create_cf(&name, &opts).map_err(rocks("create table"))?;
        }
        let policy = PurgePolicy {
            layout: KeyLayout::for_table(table),
            cmp: ClusteringComparator::for_table(table),
            gc_grace_seconds: table.options.gc_grace_seconds,
        };
        self.inner
            .registry
            .policies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(table.id, Arc::new(policy));
        Ok(())
    }

    /// Drops the table's column family and everything in it.
    pub fn drop_table(&self, table: TableId) -> Result<(), TableStoreError> {
        let name = cf_name(table);
        let _guard = self.inner.cf_lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.db().cf_handle(&name).is_some() {
            self.db().drop_cf(&name).map_err(rocks("drop table"))?;
        }
        self.inner
            .registry
            .policies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&table);
        self.inner
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&table);
        Ok(())
    }

    /// The tables of this store (column families `t<id>`).
    pub fn tables(&self) -> Result<Vec<TableId>, TableStoreError> {
        let names = Db::list_cf(&Options::default(), &self.inner.path).map_err(rocks("list tables"))?;
        let mut t: Vec<_> = names.iter().filter_map(|n| table_of_cf(n)).collect();
        t.sort();
        Ok(t)
    }

    fn cf(&self, table: TableId) -> Result<Arc<rocksdb::BoundColumnFamily<'_>>, TableStoreError> {
        self.db()
            .cf_handle(&cf_name(table))
            .ok_or(TableStoreError::NoSuchTable { table })
    }

    /// Writes partition updates in one atomic batch, as blind merges (no read before write).
    pub fn apply(&self, table: &TableDef, partitions: &[Partition]) -> Result<(), TableStoreError> {
        let cf = self.cf(table.id)?;
        let layout = KeyLayout::for_table(table);
        let key_err = |source| TableStoreError::Key {
            table: table.id,
            source,
        };
        let mut batch = WriteBatch::default();
        for p in partitions {
            let prefix = layout.partition_prefix(p.token, &p.key).map_err(key_err)?;
            if p.deletion.is_some() || !p.range_tombstones.is_empty() {
                let e = Entry::Header {
                    deletion: p.deletion,
                    range_tombstones: p.range_tombstones.clone(),
                };
                batch.merge_cf(
                    &cf,
                    layout.entry(&prefix, KIND_HEADER, &[]).map_err(key_err)?,
                    e.encode(),
                );
            }
            if let Some(s) = &p.static_row {
                batch.merge_cf(
                    &cf,
                    layout.entry(&prefix, KIND_STATIC, &[]).map_err(key_err)?,
                    Entry::Row(s.clone()).encode(),
                );
            }
            for r in &p.rows {
                let key = layout.entry(&prefix, KIND_ROW, &r.clustering).map_err(key_err)?;
                let mut stored = r.clone();
                stored.clustering = Vec::new();
                batch.merge_cf(&cf, key, Entry::Row(stored).encode());
            }
        }
        drop(cf);
        self.write(batch, "apply")
    }

    /// Estimated `(entries, bytes)` of a table, from RocksDB's properties.
    pub fn estimates(&self, table: TableId) -> Result<(u64, u64), TableStoreError> {
        let cf = self.cf(table)?;
        let prop = |name: &str| {
            self.db()
                .property_int_value_cf(&cf, name)
                .map(|v| v.unwrap_or(0))
                .map_err(rocks("estimates"))
        };
        let rows = prop("rocksdb.estimate-num-keys")?;
        let bytes = prop("rocksdb.estimate-live-data-size")? + prop("rocksdb.cur-size-all-mem-tables")?;
        Ok((rows, bytes))
    }

    /// The tables found damaged since start, with the reason.
    pub fn health(&self) -> Vec<(TableId, String)> {
        let h = self.inner.health.lock().unwrap_or_else(|e| e.into_inner());
        h.iter().map(|(t, r)| (*t, r.clone())).collect()
    }

    /// Logs and records a corruption, and returns its error.
    fn corrupt(&self, table: TableId, key: &[u8], detail: String) -> TableStoreError {
        let key = entry::hex(key);
        tracing::error!(%table, %key, %detail, "corrupt table data; table marked unhealthy");
        self.inner
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(table)
            .or_insert_with(|| format!("corrupt entry at key {key}: {detail}"));
        TableStoreError::Corrupt { table, key, detail }
    }

    /// A RocksDB error while reading a table: corruption is recorded as such.
    fn read_error(&self, table: TableId, key: &[u8], e: rocksdb::Error) -> TableStoreError {
        if e.kind() == rocksdb::ErrorKind::Corruption {
            self.corrupt(table, key, e.to_string())
        } else {
            TableStoreError::Rocks { op: "read", source: e }
        }
    }

    /// Compacts a table's whole column family now (tests, and an operator's `compact` command).
    pub fn compact_table(&self, table: TableId) -> Result<(), TableStoreError> {
        let cf = self.cf(table)?;
        self.db().compact_range_cf(&cf, None::<&[u8]>, None::<&[u8]>);
        Ok(())
    }

    /// Flushes the memtables of a table to files.
    pub fn flush_table(&self, table: TableId) -> Result<(), TableStoreError> {
        let cf = self.cf(table)?;
        self.db().flush_cf(&cf).map_err(rocks("flush"))
    }

    /// Syncs the WAL now.
    pub fn sync_wal(&self) -> Result<(), TableStoreError> {
        self.db().flush_wal(true).map_err(rocks("sync wal"))
    }
}

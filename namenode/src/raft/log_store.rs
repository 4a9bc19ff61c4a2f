//! The Raft log in RocksDB.
//!
//! Column family `log`: key = log index (u64 big-endian, so keys sort by index), value = the encoded
//! entry. Column family `meta`: the vote, the last purged log id and the committed log id.
//!
//! Group commit: an append writes its batch without syncing and hands openraft's flush callback to the
//! syncer thread, which takes every callback queued so far, syncs the WAL once and completes them all.
//! Openraft counts an entry as persisted only when its callback fires, so one fsync covers every append
//! that arrived while the previous one ran. Votes, truncations and purges are written with `sync`.

// openraft's StorageError is large; it is their type, returned by every storage trait method.
#![allow(clippy::result_large_err)]

use super::{MemberId, TypeConfig, encode};
use crate::state::codec::{DecodeError, decode_or_upgrade};
use crate::state::legacy;
use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{Entry, ErrorSubject, ErrorVerb, LogId, OptionalSend, StorageError, StorageIOError, Vote};
use rocksdb::{ColumnFamilyDescriptor, DB, Direction, IteratorMode, Options, WriteBatch, WriteOptions};
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::Arc;

const CF_LOG: &str = "log";
const CF_META: &str = "meta";
const KEY_VOTE: &[u8] = b"vote";
const KEY_PURGED: &[u8] = b"last_purged";
const KEY_COMMITTED: &[u8] = b"committed";
/// Memtable size of each column family.
const LOG_MEMTABLE: usize = 8 << 20;

type StorageResult<T> = Result<T, StorageError<MemberId>>;

/// The Raft log, vote and commit index of one member.
#[derive(Clone)]
pub struct LogStore {
    db: Arc<DB>,
    syncer: Arc<Syncer>,
}

/// The group-commit thread. Dropped with the last `LogStore` clone: the channel closes, the thread
/// finishes its batch and is joined, so no thread is inside RocksDB when the database closes or the
/// process exits (RocksDB aborts the process otherwise).
struct Syncer {
    tx: Option<std::sync::mpsc::Sender<LogFlushed<TypeConfig>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Completes flush callbacks in batches, one WAL sync per batch. Ends when every sender is dropped.
fn run_syncer(db: Arc<DB>, rx: std::sync::mpsc::Receiver<LogFlushed<TypeConfig>>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let res = db.flush_wal(true);
        for cb in batch {
            cb.log_io_completed(res.clone().map_err(|e| std::io::Error::other(e.to_string())));
        }
    }
}

/// A log entry of this or the previous format.
fn decode_entry(bytes: &[u8]) -> Result<Entry<TypeConfig>, DecodeError> {
    decode_or_upgrade(bytes, legacy::upgrade_entry)
}

fn io_err(
    subject: ErrorSubject<MemberId>,
    verb: ErrorVerb,
    e: impl std::error::Error + 'static,
) -> StorageError<MemberId> {
    StorageIOError::new(subject, verb, openraft::AnyError::new(&e)).into()
}

fn read_err(e: impl std::error::Error + 'static) -> StorageError<MemberId> {
    io_err(ErrorSubject::Store, ErrorVerb::Read, e)
}

fn write_err(e: impl std::error::Error + 'static) -> StorageError<MemberId> {
    io_err(ErrorSubject::Store, ErrorVerb::Write, e)
}

fn index_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

fn key_index(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[..8]);
    u64::from_be_bytes(b)
}

impl LogStore {
    /// Opens (or creates) the log under `dir`.
    pub fn open(dir: &Path) -> Result<Self, rocksdb::Error> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // The log is written once, read back mostly from the tail and purged behind each snapshot: small
        // memtables keep the namenode's memory near its state (RocksDB's default is 2 x 64 MiB per
        // column family, a large share of a small namespace's footprint).
        let mut cf_opts = Options::default();
        cf_opts.set_write_buffer_size(LOG_MEMTABLE);
        cf_opts.set_max_write_buffer_number(2);
        let cfs = [CF_LOG, CF_META].map(|name| ColumnFamilyDescriptor::new(name, cf_opts.clone()));
        let db = Arc::new(DB::open_cf_descriptors(&opts, dir, cfs)?);
        let (tx, rx) = std::sync::mpsc::channel();
        let sync_db = db.clone();
        let thread = std::thread::Builder::new()
            .name("raft-log-sync".into())
            .spawn(move || run_syncer(sync_db, rx))
            .expect("spawning the log sync thread");
        Ok(LogStore {
            db,
            syncer: Arc::new(Syncer {
                tx: Some(tx),
                thread: Some(thread),
            }),
        })
    }

    fn cf(&self, name: &str) -> &rocksdb::ColumnFamily {
        self.db.cf_handle(name).expect("column family created at open")
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> StorageResult<Option<T>> {
        match self.db.get_cf(self.cf(CF_META), key).map_err(read_err)? {
            None => Ok(None),
            // Votes and log ids are openraft's types, the same in format 2.
            Some(bytes) => decode_or_upgrade::<T, T>(&bytes, |v| v).map(Some).map_err(read_err),
        }
    }

    /// Writes `batch` durably (fsync) on a blocking thread.
    async fn write_synced(&self, batch: WriteBatch) -> StorageResult<()> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut opts = WriteOptions::default();
            opts.set_sync(true);
            db.write_opt(batch, &opts)
        })
        .await
        .map_err(write_err)?
        .map_err(write_err)
    }

    fn put_meta_batch<T: serde::Serialize>(&self, key: &[u8], v: &T) -> WriteBatch {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(CF_META), key, encode(v));
        batch
    }

    fn last_entry_log_id(&self) -> StorageResult<Option<LogId<MemberId>>> {
        let mut it = self.db.iterator_cf(self.cf(CF_LOG), IteratorMode::End);
        match it.next() {
            None => Ok(None),
            Some(Err(e)) => Err(read_err(e)),
            Some(Ok((_, v))) => Ok(Some(decode_entry(&v).map_err(read_err)?.log_id)),
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> StorageResult<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s + 1,
            Bound::Unbounded => 0,
        };
        let mut out = Vec::new();
        let it = self.db.iterator_cf(
            self.cf(CF_LOG),
            IteratorMode::From(&index_key(start), Direction::Forward),
        );
        for item in it {
            let (k, v) = item.map_err(read_err)?;
            let idx = key_index(&k);
            if !range.contains(&idx) {
                break;
            }
            out.push(decode_entry(&v).map_err(read_err)?);
        }
        Ok(out)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> StorageResult<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogId<MemberId>> = self.get_meta(KEY_PURGED)?;
        let last_log_id = self.last_entry_log_id()?.or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<MemberId>) -> StorageResult<()> {
        self.write_synced(self.put_meta_batch(KEY_VOTE, vote)).await
    }

    async fn read_vote(&mut self) -> StorageResult<Option<Vote<MemberId>>> {
        self.get_meta(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId<MemberId>>) -> StorageResult<()> {
        // Not synced: losing it only means re-learning the commit index from the leader (or, for a lone
        // member, re-committing at its next election).
        self.db
            .put_cf(self.cf(CF_META), KEY_COMMITTED, encode(&committed))
            .map_err(write_err)
    }

    async fn read_committed(&mut self) -> StorageResult<Option<LogId<MemberId>>> {
        Ok(self.get_meta::<Option<LogId<MemberId>>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> StorageResult<()>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = WriteBatch::default();
        for entry in entries {
            batch.put_cf(self.cf(CF_LOG), index_key(entry.log_id.index), encode(&entry));
        }
        // Unsynced write (memtable + WAL buffer); durability comes from the syncer's batched WAL sync.
        self.db.write(batch).map_err(write_err)?;
        let tx = self.syncer.tx.as_ref().expect("the sender lives as long as the store");
        if let Err(std::sync::mpsc::SendError(cb)) = tx.send(callback) {
            cb.log_io_completed(Err(std::io::Error::other("the log sync thread has stopped")));
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<MemberId>) -> StorageResult<()> {
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(self.cf(CF_LOG), index_key(log_id.index), index_key(u64::MAX));
        self.write_synced(batch).await
    }

    async fn purge(&mut self, log_id: LogId<MemberId>) -> StorageResult<()> {
        let mut batch = self.put_meta_batch(KEY_PURGED, &log_id);
        batch.delete_range_cf(self.cf(CF_LOG), index_key(0), index_key(log_id.index + 1));
        self.write_synced(batch).await
    }
}

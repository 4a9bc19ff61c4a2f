//! Hints (writes held for a replica that did not acknowledge) and the batch log (logged batches
//! until all their partitions are applied), each in its own column family.
//!
//! Hint key: `target datanode id (u64 BE) | created_at (ms since the epoch, u64 BE) | sequence (u64
//! BE)`, so a target's hints are contiguous and oldest first. Batch log key: the batch id's 16 bytes.
//! Values are opaque bytes (an encoded partition, a batch), written with the store's durability.

use super::{BATCHLOG_CF, HINTS_CF, TableStore, TableStoreError, rocks};
use basalt_common::DatanodeId;
use basalt_table::value::Uuid;
use rocksdb::{IteratorMode, ReadOptions, WriteBatch};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The key of a stored hint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HintKey(pub [u8; 24]);

impl HintKey {
    fn new(target: DatanodeId, created_at_ms: u64, seq: u64) -> HintKey {
        let mut k = [0u8; 24];
        k[..8].copy_from_slice(&target.0.to_be_bytes());
        k[8..16].copy_from_slice(&created_at_ms.to_be_bytes());
        k[16..].copy_from_slice(&seq.to_be_bytes());
        HintKey(k)
    }

    pub fn target(&self) -> DatanodeId {
        DatanodeId(u64::from_be_bytes(self.0[..8].try_into().expect("8")))
    }

    /// When the hint was written, ms since the epoch (the hint window counts from it).
    pub fn created_at_ms(&self) -> u64 {
        u64::from_be_bytes(self.0[8..16].try_into().expect("8"))
    }
}

impl TableStore {
    fn aux_cf(&self, name: &str) -> Arc<rocksdb::BoundColumnFamily<'_>> {
        self.db().cf_handle(name).expect("opened with the store")
    }

    /// Stores a hint for `target`.
    pub fn put_hint(
        &self,
        target: DatanodeId,
        partition: &[u8],
        created_at_ms: u64,
    ) -> Result<HintKey, TableStoreError> {
        let seq = self.inner.hint_seq.fetch_add(1, Ordering::Relaxed);
        let key = HintKey::new(target, created_at_ms, seq);
        let mut b = WriteBatch::default();
        b.put_cf(&self.aux_cf(HINTS_CF), key.0, partition);
        self.write(b, "put hint")?;
        Ok(key)
    }

    /// Up to `limit` hints for `target`, oldest first.
    pub fn hints_for(&self, target: DatanodeId, limit: usize) -> Result<Vec<(HintKey, Vec<u8>)>, TableStoreError> {
        let cf = self.aux_cf(HINTS_CF);
        let mut ro = ReadOptions::default();
        ro.set_iterate_lower_bound(target.0.to_be_bytes().to_vec());
        if let Some(next) = target.0.checked_add(1) {
            ro.set_iterate_upper_bound(next.to_be_bytes().to_vec());
        }
        let mut out = Vec::new();
        for item in self.db().iterator_cf_opt(&cf, ro, IteratorMode::Start).take(limit) {
            let (k, v) = item.map_err(rocks("read hints"))?;
            let Ok(k) = <[u8; 24]>::try_from(&k[..]) else {
                tracing::error!(key = %super::entry::hex(&k), "malformed hint key skipped");
                continue;
            };
            out.push((HintKey(k), v.to_vec()));
        }
        Ok(out)
    }

    /// Deletes replayed (or expired) hints.
    pub fn delete_hints(&self, keys: &[HintKey]) -> Result<(), TableStoreError> {
        let cf = self.aux_cf(HINTS_CF);
        let mut b = WriteBatch::default();
        for k in keys {
            b.delete_cf(&cf, k.0);
        }
        drop(cf);
        self.write(b, "delete hints")
    }

    /// How many hints are stored, per target.
    pub fn count_hints(&self) -> Result<Vec<(DatanodeId, u64)>, TableStoreError> {
        let cf = self.aux_cf(HINTS_CF);
        let mut out: Vec<(DatanodeId, u64)> = Vec::new();
        for item in self.db().iterator_cf(&cf, IteratorMode::Start) {
            let (k, _) = item.map_err(rocks("count hints"))?;
            let Some(t) = k.get(..8) else { continue };
            let t = DatanodeId(u64::from_be_bytes(t.try_into().expect("8")));
            match out.last_mut() {
                Some((last, n)) if *last == t => *n += 1,
                _ => out.push((t, 1)),
            }
        }
        Ok(out)
    }

    /// Records a logged batch before its partitions are sent.
    pub fn put_batch(&self, id: Uuid, batch: &[u8]) -> Result<(), TableStoreError> {
        let mut b = WriteBatch::default();
        b.put_cf(&self.aux_cf(BATCHLOG_CF), id.0, batch);
        self.write(b, "put batch")
    }

    /// Removes a batch once every partition of it is applied.
    pub fn remove_batch(&self, id: Uuid) -> Result<(), TableStoreError> {
        let mut b = WriteBatch::default();
        b.delete_cf(&self.aux_cf(BATCHLOG_CF), id.0);
        self.write(b, "remove batch")
    }

    /// The batches not yet removed (to replay after a crash).
    pub fn pending_batches(&self) -> Result<Vec<(Uuid, Vec<u8>)>, TableStoreError> {
        let cf = self.aux_cf(BATCHLOG_CF);
        let mut out = Vec::new();
        for item in self.db().iterator_cf(&cf, IteratorMode::Start) {
            let (k, v) = item.map_err(rocks("read batch log"))?;
            match <[u8; 16]>::try_from(&k[..]) {
                Ok(id) => out.push((Uuid(id), v.to_vec())),
                Err(_) => tracing::error!(key = %super::entry::hex(&k), "malformed batch log key skipped"),
            }
        }
        Ok(out)
    }
}

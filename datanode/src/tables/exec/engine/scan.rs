//! Token-range reads of the [`Engine`]: a SELECT without a whole partition key (or with `token(...)`
//! bounds) walks the ring's ranges in token order, a page at a time from the replicas the consistency
//! level needs, merging the replicas' partitions; and the bound arithmetic it cuts ranges with.

use super::{Engine, TakeRows, now_secs};
use crate::tables::coordinator::CoordinatorError;
use crate::tables::exec::error::ExecError;
use crate::tables::exec::select::{PagingState, SelectPlan};
use basalt_common::DatanodeId;
use basalt_table::partition::{ClusteringComparator, Partition};
use basalt_table::read::{RangeCommand, ReadCommand};
use basalt_table::{Consistency, KeyspaceDef, TableDef, Value};
use std::ops::Bound as RBound;
use std::sync::Arc;

impl Engine {
    /// Walks the ring's ranges within `(start, end)` in token order, reading each range's partitions
    /// a page at a time from the replicas the level needs and merging them by partition.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn scan(
        &self,
        table: &Arc<TableDef>,
        kdef: &KeyspaceDef,
        plan: &SelectPlan,
        consistency: Consistency,
        start: RBound<i64>,
        end: RBound<i64>,
        paging: Option<&PagingState>,
        take: &mut TakeRows<'_>,
        rows: &mut Vec<Vec<Option<Value>>>,
    ) -> Result<(), ExecError> {
        let required = consistency
            .required(kdef.replication.factor() as usize)
            .filter(|_| consistency.readable())
            .ok_or(CoordinatorError::BadConsistency {
                consistency,
                operation: "a read",
            })?;
        let ring = self.schema.ring();
        if ring.ring.is_empty() {
            return Err(CoordinatorError::EmptyRing.into());
        }
        let cmp = ClusteringComparator::for_table(table);
        // Ranges (lo, hi] in token order, split where a range wraps.
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        for r in ring.ring.ranges() {
            if r.start < r.end {
                ranges.push((r.start, r.end));
            } else {
                ranges.push((r.start, i64::MAX));
                ranges.push((i64::MIN, r.end));
            }
        }
        ranges.sort();
        // Resume inside the partition the last page ended in.
        let mut resume: Option<(i64, Vec<Value>)> = paging.map(|p| (p.token, p.key.clone()));
        if let Some(p) = paging
            && p.clustering.is_some()
        {
            let cmd = ReadCommand {
                table: table.id,
                token: p.token,
                key: p.key.clone(),
                slices: plan.restrictions.slices.clone(),
                columns: None,
                reversed: plan.reversed,
                limit: None,
                now: now_secs(),
            };
            let part = self.read_partition(table, kdef, cmd, consistency).await?;
            if !take(&part, rows, p.clustering.as_deref())? {
                return Ok(());
            }
        }
        for (lo, hi) in ranges {
            // Clip to the requested range.
            let lo_b = RBound::Excluded(lo);
            let hi_b = RBound::Included(hi);
            let (s, e) = (max_start(lo_b, start), min_end(hi_b, end));
            if empty(s, e) {
                continue;
            }
            if let Some((t, _)) = &resume
                && hi < *t
            {
                continue;
            }
            let replicas = self.replicas_of(hi, kdef)?;
            let alive: Vec<DatanodeId> = replicas
                .iter()
                .copied()
                .filter(|n| self.liveness.is_alive(*n))
                .collect();
            if alive.len() < required {
                return Err(CoordinatorError::Unavailable {
                    consistency,
                    required,
                    alive: alive.len(),
                }
                .into());
            }
            let contacts = &alive[..required];
            let mut cursor: Option<(i64, Vec<Value>)> = resume.clone().filter(|(t, _)| *t > lo && *t <= hi);
            loop {
                let cmd = RangeCommand {
                    table: table.id,
                    start: s,
                    end: e,
                    resume_after: cursor.clone(),
                    columns: None,
                    max_partitions: 128,
                    per_partition_limit: None,
                    now: now_secs(),
                };
                let encoded = basalt_table::codec::encode(&cmd);
                let calls = contacts.iter().map(|n| {
                    let f = self.replicas.scan(*n, encoded.clone());
                    let timeout = self.config.range_timeout;
                    async move { tokio::time::timeout(timeout, f).await }
                });
                let answers = futures::future::join_all(calls).await;
                let mut merged: Vec<Partition> = Vec::new();
                let mut bound: Option<(i64, Vec<u8>)> = None;
                let mut all_exhausted = true;
                for (n, a) in contacts.iter().zip(answers) {
                    let page = match a {
                        Ok(Ok(p)) => p,
                        Ok(Err(e)) => {
                            if e.transport {
                                self.liveness.failed(*n);
                            }
                            return Err(CoordinatorError::ReadTimeout {
                                consistency,
                                received: 0,
                                block_for: required,
                                data_present: false,
                            }
                            .into());
                        }
                        Err(_) => {
                            return Err(CoordinatorError::ReadTimeout {
                                consistency,
                                received: 0,
                                block_for: required,
                                data_present: false,
                            }
                            .into());
                        }
                    };
                    let parts: Vec<Partition> = page
                        .partitions
                        .iter()
                        .map(|b| basalt_table::partition::decode(b))
                        .collect::<Result<_, _>>()
                        .map_err(|source| ExecError::Undecodable { node: *n, source })?;
                    if !page.exhausted {
                        all_exhausted = false;
                        // Only partitions up to the smallest last partition of the non-exhausted
                        // answers are complete across replicas.
                        if let Some(last) = parts.last() {
                            let k = (last.token, basalt_table::token::partition_key_bytes(&last.key));
                            if bound.as_ref().is_none_or(|b| k < *b) {
                                bound = Some(k);
                            }
                        }
                    }
                    for p in parts {
                        let k = (p.token, basalt_table::token::partition_key_bytes(&p.key));
                        match merged
                            .iter_mut()
                            .find(|m| (m.token, basalt_table::token::partition_key_bytes(&m.key)) == k)
                        {
                            Some(m) => m.merge(p, &cmp),
                            None => merged.push(p),
                        }
                    }
                }
                merged.sort_by(|a, b| {
                    (a.token, basalt_table::token::partition_key_bytes(&a.key))
                        .cmp(&(b.token, basalt_table::token::partition_key_bytes(&b.key)))
                });
                if let Some(b) = &bound {
                    merged.retain(|p| (p.token, basalt_table::token::partition_key_bytes(&p.key)) <= *b);
                }
                let last = merged.last().map(|p| (p.token, p.key.clone()));
                for p in &merged {
                    if !take(p, rows, None)? {
                        return Ok(());
                    }
                }
                if all_exhausted || last.is_none() {
                    break;
                }
                cursor = last;
            }
            resume = None;
        }
        Ok(())
    }
}

fn max_start(a: RBound<i64>, b: RBound<i64>) -> RBound<i64> {
    match (a, b) {
        (RBound::Unbounded, x) | (x, RBound::Unbounded) => x,
        (RBound::Included(x), RBound::Included(y)) => RBound::Included(x.max(y)),
        (RBound::Excluded(x), RBound::Excluded(y)) => RBound::Excluded(x.max(y)),
        (RBound::Included(i), RBound::Excluded(e)) | (RBound::Excluded(e), RBound::Included(i)) => {
            if i > e {
                RBound::Included(i)
            } else {
                RBound::Excluded(e)
            }
        }
    }
}

fn min_end(a: RBound<i64>, b: RBound<i64>) -> RBound<i64> {
    match (a, b) {
        (RBound::Unbounded, x) | (x, RBound::Unbounded) => x,
        (RBound::Included(x), RBound::Included(y)) => RBound::Included(x.min(y)),
        (RBound::Excluded(x), RBound::Excluded(y)) => RBound::Excluded(x.min(y)),
        (RBound::Included(i), RBound::Excluded(e)) | (RBound::Excluded(e), RBound::Included(i)) => {
            if i < e {
                RBound::Included(i)
            } else {
                RBound::Excluded(e)
            }
        }
    }
}

fn empty(s: RBound<i64>, e: RBound<i64>) -> bool {
    match (s, e) {
        (RBound::Unbounded, _) | (_, RBound::Unbounded) => false,
        (RBound::Included(a), RBound::Included(b)) => a > b,
        (RBound::Included(a), RBound::Excluded(b)) | (RBound::Excluded(a), RBound::Included(b)) => a >= b,
        (RBound::Excluded(a), RBound::Excluded(b)) => a.saturating_add(1) >= b,
    }
}

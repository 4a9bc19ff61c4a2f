//! Leases: one writer per file. The lease itself (who holds a file open) is in the replicated namespace;
//! when each holder last renewed is the leader's soft state, as in HDFS: renewals are frequent and
//! cheap (no log entry), and a new leader starts every holder's clock afresh when it takes over.
//!
//! A holder silent for the hard limit has crashed or lost the cluster: its files go to lease recovery
//! ([`crate::recovery`]), which finalizes each file's last block at the length its replicas agree on
//! and closes the file. A file left in recovery by a previous leader is recovered again.

use crate::state::namespace::{OpenFile, RECOVERY_HOLDER};
use basalt_common::BPath;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Leases {
    renewals: HashMap<String, Instant>,
    /// Recoveries running now (one per file at a time).
    running: HashSet<BPath>,
    /// Failed recoveries, retried from this time on.
    retry_at: HashMap<BPath, Instant>,
    /// Files recovered since this member became leader.
    recovered: u64,
    /// When this member became leader; `None` while it follows.
    leading_since: Option<Instant>,
    /// Counts leaderships: a recovery started in an earlier one reports into nothing.
    term: u64,
}

impl Leases {
    /// Records that `client` is alive (it renewed, or it just created, appended or added a block).
    pub fn renew(&mut self, client: &str, now: Instant) {
        match self.renewals.get_mut(client) {
            Some(t) => *t = now,
            None => {
                self.renewals.insert(client.to_string(), now);
            }
        }
    }

    /// Follows this member's leadership: a new leader gives every holder a full hard limit from now.
    pub fn set_leading(&mut self, leading: bool, now: Instant) {
        match (leading, self.leading_since) {
            (true, None) => self.leading_since = Some(now),
            (false, Some(_)) => {
                *self = Leases {
                    term: self.term + 1,
                    ..Leases::default()
                }
            }
            _ => {}
        }
    }

    /// The open files whose recovery should start now, marked as running, and the leadership they
    /// start in (to hand back to [`Leases::finished`]).
    pub fn due(&mut self, open: Vec<OpenFile>, now: Instant, hard_limit: Duration) -> (Vec<OpenFile>, u64) {
        let Some(leading_since) = self.leading_since else {
            return (Vec::new(), self.term);
        };
        // Files closed meanwhile (by their writer, or another recovery) need no retry.
        let open_paths: HashSet<&BPath> = open.iter().map(|f| &f.path).collect();
        self.retry_at.retain(|p, _| open_paths.contains(p));
        let mut due = Vec::new();
        for f in open {
            if self.running.contains(&f.path) || self.retry_at.get(&f.path).is_some_and(|t| now < *t) {
                continue;
            }
            let expired = f.lease.holder == RECOVERY_HOLDER || {
                let last = self
                    .renewals
                    .get(&f.lease.holder)
                    .map_or(leading_since, |t| (*t).max(leading_since));
                now.saturating_duration_since(last) >= hard_limit
            };
            if expired {
                self.running.insert(f.path.clone());
                due.push(f);
            }
        }
        (due, self.term)
    }

    /// A recovery started in leadership `term` ended; a failed one is retried once `retry` has passed.
    /// One from an earlier leadership is ignored: this leadership tracks its own recoveries.
    pub fn finished(&mut self, path: &BPath, term: u64, ok: bool, now: Instant, retry: Duration) {
        if term != self.term {
            return;
        }
        self.running.remove(path);
        if ok {
            self.retry_at.remove(path);
            self.recovered += 1;
        } else {
            self.retry_at.insert(path.clone(), now + retry);
        }
    }

    /// (recoveries running, files recovered since this member leads).
    pub fn counts(&self) -> (usize, u64) {
        (self.running.len(), self.recovered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::namespace::Lease;

    fn open(path: &str, holder: &str) -> OpenFile {
        OpenFile {
            path: BPath::parse(path).unwrap(),
            lease: Lease {
                holder: holder.into(),
                since_ms: 0,
                pipeline: Vec::new(),
                last_block_open: false,
            },
        }
    }

    #[test]
    fn expiry_follows_renewals_and_leadership() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let paths = |v: &(Vec<OpenFile>, u64)| v.0.iter().map(|f| f.path.as_str().to_string()).collect::<Vec<_>>();
        let mut l = Leases::default();
        // A follower recovers nothing.
        assert!(l.due(vec![open("/a", "c1")], t0 + s(100), s(10)).0.is_empty());
        l.set_leading(true, t0);
        l.renew("c1", t0 + s(5));
        let files = || vec![open("/a", "c1"), open("/b", "c2"), open("/r", RECOVERY_HOLDER)];
        // Holders unknown to a new leader get a full hard limit from its start; recovery leftovers go now.
        assert_eq!(paths(&l.due(files(), t0 + s(9), s(10))), ["/r"]);
        assert_eq!(paths(&l.due(files(), t0 + s(11), s(10))), ["/b"]);
        assert_eq!(paths(&l.due(files(), t0 + s(15), s(10))), ["/a"]);
        // Running recoveries are not started twice, however long they take.
        assert!(l.due(files(), t0 + s(100), s(10)).0.is_empty());
        assert_eq!(l.counts().0, 3);
        // A failed one is retried after the retry interval from its end; a finished one is counted.
        let p = |s: &str| BPath::parse(s).unwrap();
        l.finished(&p("/b"), 0, false, t0 + s(100), s(5));
        l.finished(&p("/a"), 0, true, t0 + s(100), s(5));
        l.finished(&p("/r"), 0, true, t0 + s(100), s(5));
        let rest = || vec![open("/b", "c2")];
        assert!(l.due(rest(), t0 + s(104), s(10)).0.is_empty());
        assert_eq!(paths(&l.due(rest(), t0 + s(105), s(10))), ["/b"]);
        assert_eq!(l.counts(), (1, 2));
        // A failed recovery of a file closed meanwhile is forgotten.
        l.finished(&p("/b"), 0, false, t0 + s(106), s(5));
        assert!(l.due(Vec::new(), t0 + s(107), s(10)).0.is_empty());
        assert!(l.retry_at.is_empty());
        // Losing leadership forgets everything; a recovery of the old leadership reports into nothing.
        assert_eq!(paths(&l.due(rest(), t0 + s(108), s(10))), ["/b"]);
        l.set_leading(false, t0 + s(108));
        assert_eq!(l.counts(), (0, 0));
        l.set_leading(true, t0 + s(109));
        let (due, term) = l.due(rest(), t0 + s(120), s(10));
        assert_eq!((due.len(), term), (1, 1));
        l.finished(&p("/b"), 0, true, t0 + s(121), s(5));
        assert_eq!(
            l.counts(),
            (1, 0),
            "the old leadership's recovery did not end this one's"
        );
    }
}

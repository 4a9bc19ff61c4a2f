//! Leases: one writer per file. The lease itself (who holds a file open) is in the replicated namespace;
//! when each holder last renewed is the leader's soft state, as in HDFS: renewals are frequent and
//! cheap (no log entry), and a new leader starts every holder's clock afresh when it takes over.
//!
//! A holder silent for the hard limit has crashed or lost the cluster: its files go to lease recovery
//! ([`crate::recovery`]), which finalizes each file's last block at the length its replicas agree on
//! and closes the file. A file left in recovery by a previous leader is recovered again.

use crate::namespace::{OpenFile, RECOVERY_HOLDER};
use basalt_common::BPath;
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
pub struct Leases {
    renewals: HashMap<String, Instant>,
    /// Recoveries started here, and when (a failed one is retried once `retry` has passed).
    recovering: HashMap<BPath, Instant>,
    /// Files recovered since this member became leader.
    recovered: u64,
    /// When this member became leader; `None` while it follows.
    leading_since: Option<Instant>,
}

impl Leases {
    /// Records that `client` is alive (it renewed, or it just created, appended or added a block).
    pub fn renew(&mut self, client: &str, now: Instant) {
        self.renewals.insert(client.to_string(), now);
    }

    /// Follows this member's leadership: a new leader gives every holder a full hard limit from now.
    pub fn set_leading(&mut self, leading: bool, now: Instant) {
        match (leading, self.leading_since) {
            (true, None) => self.leading_since = Some(now),
            (false, Some(_)) => *self = Leases::default(),
            _ => {}
        }
    }

    /// The open files whose recovery should start now, marked as recovering.
    pub fn due(&mut self, open: Vec<OpenFile>, now: Instant, hard_limit: Duration, retry: Duration) -> Vec<OpenFile> {
        let Some(leading_since) = self.leading_since else {
            return Vec::new();
        };
        let mut due = Vec::new();
        for f in open {
            if let Some(started) = self.recovering.get(&f.path)
                && now.saturating_duration_since(*started) < retry
            {
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
                self.recovering.insert(f.path.clone(), now);
                due.push(f);
            }
        }
        due
    }

    /// A recovery ended; a failed one stays marked so it is retried only after the retry interval.
    pub fn finished(&mut self, path: &BPath, ok: bool) {
        if ok {
            self.recovering.remove(path);
            self.recovered += 1;
        }
    }

    /// (files in recovery here, files recovered since this member leads).
    pub fn counts(&self) -> (usize, u64) {
        (self.recovering.len(), self.recovered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::namespace::Lease;

    fn open(path: &str, holder: &str) -> OpenFile {
        OpenFile {
            path: BPath::parse(path).unwrap(),
            lease: Lease {
                holder: holder.into(),
                since_ms: 0,
                pipeline: Vec::new(),
            },
            last: None,
        }
    }

    #[test]
    fn expiry_follows_renewals_and_leadership() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut l = Leases::default();
        // A follower recovers nothing.
        assert!(l.due(vec![open("/a", "c1")], t0 + s(100), s(10), s(30)).is_empty());
        l.set_leading(true, t0);
        l.renew("c1", t0 + s(5));
        let files = || vec![open("/a", "c1"), open("/b", "c2"), open("/r", RECOVERY_HOLDER)];
        // Holders unknown to a new leader get a full hard limit from its start; recovery leftovers go now.
        let due = l.due(files(), t0 + s(9), s(10), s(30));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].path.as_str(), "/r");
        let due = l.due(files(), t0 + s(11), s(10), s(30));
        assert_eq!(due.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["/b"]);
        let due = l.due(files(), t0 + s(15), s(10), s(30));
        assert_eq!(due.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["/a"]);
        // A failed recovery is retried after the retry interval; a finished one is counted.
        l.finished(&BPath::parse("/b").unwrap(), false);
        l.finished(&BPath::parse("/a").unwrap(), true);
        let rest = || vec![open("/b", "c2"), open("/r", RECOVERY_HOLDER)];
        assert!(l.due(rest(), t0 + s(20), s(10), s(30)).is_empty());
        assert_eq!(l.due(rest(), t0 + s(42), s(10), s(30)).len(), 2, "both retried");
        assert_eq!(l.counts().1, 1);
        // Losing leadership forgets everything.
        l.set_leading(false, t0 + s(50));
        assert_eq!(l.counts(), (0, 0));
    }
}

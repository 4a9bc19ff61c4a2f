//! The request dedup window: applied (client, request id) pairs and their results, so that a client
//! retrying a request whose answer it lost (a leader change, a timeout) gets the first result again
//! instead of applying it twice. Entries are kept for at least [`MIN_AGE_MS`] of batch time and at
//! least [`MIN_ENTRIES`] of them, never more than [`MAX_ENTRIES`] (at most ~50 MB: past ~2,000 requests/s
//! the window is shorter than the age, and still far longer than a client's retries, which come within
//! its commit timeout). Part of the replicated state (a new leader must recognise retries too),
//! persisted oldest first. Old entries leave as time passes even when no request comes: the leader
//! proposes an empty batch now and then (`service::proposer`), which moves the clock.
//!
//! An entry costs ~150–200 bytes: results are small by design (outputs carry ids, not statuses), and a
//! client's name is stored once for all its entries.

use super::Response;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// Results are remembered for retries for at least this long (batch time)…
pub const MIN_AGE_MS: u64 = 120_000;
/// …and at least this many, but never more than [`MAX_ENTRIES`].
pub const MIN_ENTRIES: usize = 1 << 14;
pub const MAX_ENTRIES: usize = 1 << 18;

type Key = (Arc<str>, u64);

#[derive(Clone, Debug, Default)]
pub struct Dedup {
    /// Keys with the batch time they were applied at, oldest first: the eviction order of `results`.
    order: VecDeque<(Key, u64)>,
    results: HashMap<Key, Response>,
    /// Client names, each shared by all its entries.
    clients: HashSet<Arc<str>>,
}

impl Dedup {
    /// The first result of a request already applied.
    pub fn get(&self, client: &str, request_id: u64) -> Option<&Response> {
        let client = self.clients.get(client)?;
        self.results.get(&(client.clone(), request_id))
    }

    /// Remembers a result applied at `now_ms`, forgetting what the window no longer needs.
    pub fn insert(&mut self, client: &str, request_id: u64, resp: Response, now_ms: u64) {
        self.push(client, request_id, resp, now_ms);
        self.expire(now_ms);
    }

    /// Appends an entry, sharing the client's name with its other entries.
    fn push(&mut self, client: &str, request_id: u64, resp: Response, at_ms: u64) {
        let name = match self.clients.get(client) {
            Some(c) => c.clone(),
            None => {
                let c: Arc<str> = client.into();
                self.clients.insert(c.clone());
                c
            }
        };
        let key: Key = (name, request_id);
        self.order.push_back((key.clone(), at_ms));
        self.results.insert(key, resp);
    }

    /// Forgets what the window no longer needs at `now_ms`.
    pub fn expire(&mut self, now_ms: u64) {
        let horizon = now_ms.saturating_sub(MIN_AGE_MS);
        while let Some((_, at)) = self.order.front()
            && (self.order.len() > MAX_ENTRIES || (self.order.len() > MIN_ENTRIES && *at < horizon))
        {
            if let Some((old, _)) = self.order.pop_front() {
                self.results.remove(&old);
                // Held by `old` and the name set only: the client's last entry is gone.
                if Arc::strong_count(&old.0) == 2 {
                    self.clients.remove(&old.0);
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// One remembered request, as persisted.
#[derive(Serialize, Deserialize)]
struct Entry<R> {
    client: Arc<str>,
    request_id: u64,
    at_ms: u64,
    response: R,
}

impl Serialize for Dedup {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.order.iter().filter_map(|(key, at)| {
            Some(Entry {
                client: key.0.clone(),
                request_id: key.1,
                at_ms: *at,
                response: self.results.get(key)?,
            })
        }))
    }
}

impl<'de> Deserialize<'de> for Dedup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries: Vec<Entry<Response>> = Vec::deserialize(d)?;
        let mut out = Dedup::default();
        for e in entries {
            out.push(&e.client, e.request_id, e.response, e.at_ms);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Output, cluster::ClusterOutput};

    fn done() -> Response {
        Response(Ok(Output::Cluster(ClusterOutput::Done)))
    }

    #[test]
    fn old_entries_leave_with_time_and_client_names_with_their_last_entry() {
        let mut d = Dedup::default();
        for i in 0..(MIN_ENTRIES as u64 + 10) {
            d.insert(if i < 10 { "early" } else { "late" }, i, done(), 0);
        }
        assert!(d.get("early", 3).is_some());
        assert_eq!(d.clients.len(), 2);
        // Time passes without requests: the oldest entries beyond the minimum go, with their client.
        d.expire(MIN_AGE_MS + 1);
        assert_eq!(d.len(), MIN_ENTRIES);
        assert!(d.get("early", 3).is_none());
        assert_eq!(d.clients.len(), 1);
        // It survives a round trip through the codec, names shared again.
        let back: Dedup = crate::state::codec::decode(&crate::state::codec::encode(&d)).unwrap();
        assert_eq!(back.len(), d.len());
        assert_eq!(back.clients.len(), 1);
        assert!(back.get("late", 20).is_some());
    }

    #[test]
    fn the_window_is_capped() {
        let mut d = Dedup::default();
        for i in 0..(MAX_ENTRIES as u64 + 5) {
            d.insert("c", i, done(), 0);
        }
        assert_eq!(d.len(), MAX_ENTRIES);
        assert!(d.get("c", 0).is_none());
        assert!(d.get("c", MAX_ENTRIES as u64 + 4).is_some());
    }
}

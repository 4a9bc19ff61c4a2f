//! The request dedup window: applied (client, request id) pairs and their results, so that a client
//! retrying a request whose answer it lost (a leader change, a timeout) gets the first result again
//! instead of applying it twice. Entries are kept for at least [`MIN_AGE_MS`] of batch time and at
//! least [`MIN_ENTRIES`] of them, never more than [`MAX_ENTRIES`]. Part of the replicated state (a new
//! leader must recognise retries too), persisted oldest first.

use super::Response;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Results are remembered for retries for at least this long (batch time)…
pub const MIN_AGE_MS: u64 = 120_000;
/// …and at least this many, but never more than [`MAX_ENTRIES`].
pub const MIN_ENTRIES: usize = 65_536;
pub const MAX_ENTRIES: usize = 1 << 20;

type Key = (Arc<str>, u64);

#[derive(Clone, Debug, Default)]
pub struct Dedup {
    /// Keys with the batch time they were applied at, oldest first: the eviction order of `results`.
    order: VecDeque<(Key, u64)>,
    results: HashMap<Key, Response>,
}

impl Dedup {
    /// The first result of a request already applied.
    pub fn get(&self, client: &str, request_id: u64) -> Option<&Response> {
        // Look-ups by borrowed key would need a custom key type; requests are short, so one
        // allocation per retried-or-new request is the price.
        self.results.get(&(Arc::from(client), request_id))
    }

    /// Remembers a result applied at `now_ms`, forgetting what the window no longer needs.
    pub fn insert(&mut self, client: &str, request_id: u64, resp: Response, now_ms: u64) {
        let key: Key = (Arc::from(client), request_id);
        self.order.push_back((key.clone(), now_ms));
        self.results.insert(key, resp);
        let horizon = now_ms.saturating_sub(MIN_AGE_MS);
        while let Some((_, at)) = self.order.front()
            && (self.order.len() > MAX_ENTRIES || (self.order.len() > MIN_ENTRIES && *at < horizon))
        {
            if let Some((old, _)) = self.order.pop_front() {
                self.results.remove(&old);
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
            let key: Key = (e.client, e.request_id);
            out.order.push_back((key.clone(), e.at_ms));
            out.results.insert(key, e.response);
        }
        Ok(out)
    }
}

//! A Porcupine/Knossos-style linearizability checker for namespace histories.
//!
//! Each path is an independent register holding "exists" (initially false). `check` splits a history by
//! path and searches each part with Wing & Gong / Lowe's just-in-time linearization: ops are ordered by call
//! time, the next op to linearize must have been called no later than the earliest return among the ops not
//! yet linearized (a tie counts as concurrent), dead ends backtrack, and visited (linearized set, register) pairs are cached. An `Unknown`
//! outcome (a timeout or unavailability: the caller could not learn what happened; any other error is a
//! test failure, not an outcome) returns at +infinity: it may take effect at any point after its call, or
//! never.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Delete,
    Exists,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    AlreadyExists,
    NotFound,
    Present,
    Absent,
    Unknown,
}

/// One client call. `call` and `ret` are nanoseconds since an arbitrary start; `ret` is ignored when the
/// outcome is `Unknown`.
#[derive(Clone, Debug)]
pub struct Event {
    pub client: usize,
    pub path: String,
    pub op: Op,
    pub call: u64,
    pub ret: u64,
    pub outcome: Outcome,
}

/// A thread-safe recorder that clients push their events into.
pub struct History {
    origin: Instant,
    events: Mutex<Vec<Event>>,
}

impl History {
    pub fn new() -> Self {
        History {
            origin: Instant::now(),
            events: Mutex::new(Vec::new()),
        }
    }

    /// Nanoseconds since this history was created: take it before a call (`call`) and after it (`ret`).
    pub fn start(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    pub fn record(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }

    /// How many recorded operations have a definite outcome (were acknowledged or definitely refused).
    pub fn acknowledged(&self) -> usize {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.outcome != Outcome::Unknown)
            .count()
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

/// Ok if every path's sub-history is linearizable; otherwise an explanation naming the path, the longest
/// linearizable prefix found and the pending ops none of which can follow it.
pub fn check(events: &[Event]) -> Result<(), String> {
    let mut paths: BTreeMap<&str, Vec<&Event>> = BTreeMap::new();
    for e in events {
        if step(false, e).or(step(true, e)).is_none() || (e.outcome != Outcome::Unknown && e.ret < e.call) {
            return Err(format!("malformed event on {:?}: {}", e.path, describe(e)));
        }
        // An unknown read constrains nothing.
        if (e.op, e.outcome) != (Op::Exists, Outcome::Unknown) {
            paths.entry(&e.path).or_default().push(e);
        }
    }
    paths.into_iter().try_for_each(|(path, ops)| check_path(path, ops))
}

/// The register after `e` takes effect on `exists`, or `None` if its outcome is impossible there.
fn step(exists: bool, e: &Event) -> Option<bool> {
    match (e.op, e.outcome) {
        (Op::Create, Outcome::Ok) => (!exists).then_some(true),
        (Op::Create, Outcome::AlreadyExists) => exists.then_some(true),
        (Op::Create, Outcome::Unknown) => Some(true),
        (Op::Delete, Outcome::Ok) => exists.then_some(false),
        (Op::Delete, Outcome::NotFound) => (!exists).then_some(false),
        (Op::Delete, Outcome::Unknown) => Some(false),
        (Op::Exists, Outcome::Present) => exists.then_some(true),
        (Op::Exists, Outcome::Absent) => (!exists).then_some(false),
        (Op::Exists, Outcome::Unknown) => Some(exists),
        _ => None,
    }
}

fn ret(e: &Event) -> u64 {
    if e.outcome == Outcome::Unknown { u64::MAX } else { e.ret }
}

fn is_set(bits: &[u64], i: usize) -> bool {
    bits[i / 64] >> (i % 64) & 1 == 1
}

/// The earliest return among ops not yet linearized: only ops called by then may be linearized next.
fn frontier(ops: &[&Event], done: &[u64]) -> u64 {
    (0..ops.len())
        .filter(|&i| !is_set(done, i))
        .map(|i| ret(ops[i]))
        .min()
        .unwrap_or(u64::MAX)
}

fn check_path(path: &str, mut ops: Vec<&Event>) -> Result<(), String> {
    ops.sort_by_key(|e| (e.call, ret(e)));
    let definite = ops.iter().filter(|e| e.outcome != Outcome::Unknown).count();
    let mut done = vec![0u64; ops.len().div_ceil(64)];
    let (mut exists, mut done_definite, mut from) = (false, 0, 0);
    let mut stack: Vec<(usize, bool)> = Vec::new(); // (linearized op, register before it)
    let mut seen: HashSet<(Vec<u64>, bool)> = HashSet::new();
    let mut best: (Vec<usize>, bool) = (Vec::new(), false);
    // Unknown ops left over at the end never took effect.
    while done_definite < definite {
        let min_ret = frontier(&ops, &done);
        let next = (from..ops.len()).take_while(|&i| ops[i].call <= min_ret).find_map(|i| {
            let after = step(exists, ops[i]).filter(|_| !is_set(&done, i))?;
            let mut key = done.clone();
            key[i / 64] |= 1 << (i % 64);
            seen.insert((key, after)).then_some((i, after))
        });
        if let Some((i, after)) = next {
            stack.push((i, exists));
            done[i / 64] |= 1 << (i % 64);
            done_definite += usize::from(ops[i].outcome != Outcome::Unknown);
            (exists, from) = (after, 0);
            if stack.len() > best.0.len() {
                best = (stack.iter().map(|&(i, _)| i).collect(), exists);
            }
        } else {
            let Some((i, before)) = stack.pop() else {
                return Err(explain(path, &ops, &best.0, best.1));
            };
            done[i / 64] &= !(1 << (i % 64));
            done_definite -= usize::from(ops[i].outcome != Outcome::Unknown);
            (exists, from) = (before, i + 1);
        }
    }
    Ok(())
}

fn describe(e: &Event) -> String {
    let ret = if e.outcome == Outcome::Unknown {
        "?".to_string()
    } else {
        e.ret.to_string()
    };
    format!(
        "client {} {:?} -> {:?} [{}, {}]",
        e.client, e.op, e.outcome, e.call, ret
    )
}

/// Every candidate after the deepest prefix is impossible in its register state (a possible one would have
/// led deeper), so the prefix's tail plus those candidates is a small witness.
fn explain(path: &str, ops: &[&Event], prefix: &[usize], exists: bool) -> String {
    let mut done = vec![0u64; ops.len().div_ceil(64)];
    prefix.iter().for_each(|&i| done[i / 64] |= 1 << (i % 64));
    let skip = prefix.len().saturating_sub(10);
    let mut out = format!(
        "path {path:?} is not linearizable: the longest linearizable prefix orders {} of its {} ops",
        prefix.len(),
        ops.len()
    );
    if skip > 0 {
        out += &format!("\n    ... {skip} earlier ops");
    }
    prefix[skip..]
        .iter()
        .for_each(|&i| out += &format!("\n    {}", describe(ops[i])));
    out += &format!("\n  leaving exists={exists}, in which none of these pending ops can come next:");
    let min_ret = frontier(ops, &done);
    for i in (0..ops.len()).filter(|&i| !is_set(&done, i) && ops[i].call <= min_ret) {
        out += &format!("\n    {}", describe(ops[i]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Op::{Create, Delete, Exists};
    use Outcome::{Absent, AlreadyExists, NotFound, Present, Unknown};

    fn event(client: usize, path: &str, op: Op, call: u64, ret: u64, outcome: Outcome) -> Event {
        let path = path.to_string();
        Event {
            client,
            path,
            op,
            call,
            ret,
            outcome,
        }
    }

    fn ev(client: usize, op: Op, call: u64, ret: u64, outcome: Outcome) -> Event {
        event(client, "/a", op, call, ret, outcome)
    }

    /// The sequential model: the outcome of `op` on `exists`, and the register after it.
    fn apply(op: Op, exists: bool) -> (Outcome, bool) {
        match (op, exists) {
            (Create, false) => (Outcome::Ok, true),
            (Create, true) => (AlreadyExists, true),
            (Delete, false) => (NotFound, false),
            (Delete, true) => (Outcome::Ok, false),
            (Exists, false) => (Absent, false),
            (Exists, true) => (Present, true),
        }
    }

    #[test]
    fn sequential_history_is_linearizable() {
        let h = [
            ev(0, Exists, 0, 10, Absent),
            ev(0, Create, 20, 30, Outcome::Ok),
            ev(1, Exists, 40, 50, Present),
            ev(1, Create, 60, 70, AlreadyExists),
            ev(0, Delete, 80, 90, Outcome::Ok),
            ev(1, Delete, 100, 110, NotFound),
        ];
        check(&h).unwrap();
    }

    #[test]
    fn violations_are_found() {
        let concurrent_creates = [ev(0, Create, 0, 10, Outcome::Ok), ev(1, Create, 5, 15, Outcome::Ok)];
        let err = check(&concurrent_creates).unwrap_err();
        assert!(err.contains("\"/a\"") && err.contains("Create -> Ok [5, 15]"), "{err}");
        let stale_read = [ev(0, Create, 0, 10, Outcome::Ok), ev(1, Exists, 20, 30, Absent)];
        assert!(check(&stale_read).is_err());
        let lost_create = [ev(0, Create, 0, 10, Outcome::Ok), ev(1, Delete, 20, 30, NotFound)];
        assert!(check(&lost_create).is_err());
        let err = check(&[ev(0, Create, 0, 10, Present)]).unwrap_err();
        assert!(err.contains("malformed"), "{err}");
    }

    #[test]
    fn concurrent_read_may_precede_create() {
        let h = [ev(0, Create, 0, 10, Outcome::Ok), ev(1, Exists, 5, 15, Absent)];
        check(&h).unwrap();
        check(&[h[0].clone(), event(1, "/b", Create, 5, 15, Outcome::Ok)]).unwrap();
    }

    #[test]
    fn unknown_ops_may_or_may_not_take_effect() {
        let took_effect = [ev(0, Create, 0, 10, Unknown), ev(1, Exists, 100, 110, Present)];
        check(&took_effect).unwrap();
        check(&[ev(0, Create, 0, 10, Unknown), ev(1, Exists, 100, 110, Absent)]).unwrap();
        let mut twice = took_effect.to_vec();
        twice.push(ev(1, Exists, 200, 210, Absent));
        assert!(check(&twice).is_err(), "an unknown op takes effect at most once");
        check(&[ev(0, Exists, 0, 10, Unknown), ev(1, Create, 20, 30, Outcome::Ok)]).unwrap();
    }

    /// A random sequential run over two paths, op `i` taking effect at `10 * i + 5` inside an interval
    /// widened by up to `widen` each side; unknown outcomes (if enabled) take effect or not at random.
    fn random_history(rng: &mut fastrand::Rng, n: usize, unknowns: bool, widen: u64) -> Vec<Event> {
        let mut state = [false; 2];
        let mut events = Vec::new();
        for i in 0..n {
            let (client, p, op) = (rng.usize(..4), rng.usize(..2), [Create, Delete, Exists][rng.usize(..3)]);
            let (outcome, after) = apply(op, state[p]);
            let unknown = unknowns && rng.u8(..8) == 0;
            if !unknown || rng.bool() {
                state[p] = after;
            }
            let at = 10 * i as u64 + 5;
            let (call, ret) = (at - 1 - rng.u64(..=widen).min(at - 1), at + 1 + rng.u64(..=widen));
            let outcome = if unknown { Unknown } else { outcome };
            events.push(event(client, ["/a", "/b"][p], op, call, ret, outcome));
        }
        events
    }

    #[test]
    fn random_linearizable_histories_pass() {
        for seed in 0..40 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let h = random_history(&mut rng, 150, true, 80);
            check(&h).unwrap_or_else(|err| panic!("seed {seed}: {err}"));
        }
    }

    #[test]
    fn random_flipped_outcome_fails() {
        for seed in 0..40 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut h = random_history(&mut rng, 40, false, 0);
            check(&h).unwrap();
            let e = &mut h[rng.usize(..40)];
            e.outcome = match e.outcome {
                Outcome::Ok if e.op == Create => AlreadyExists,
                AlreadyExists => Outcome::Ok,
                Outcome::Ok => NotFound,
                NotFound => Outcome::Ok,
                Present => Absent,
                _ => Present,
            };
            let flipped = e.clone();
            assert!(check(&h).is_err(), "seed {seed}: flipped {flipped:?} went unnoticed");
        }
    }

    #[test]
    fn recorded_threads_are_linearizable() {
        let (history, register) = (History::new(), Mutex::new(false));
        std::thread::scope(|s| {
            for client in 0..4 {
                let (history, register) = (&history, &register);
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(client as u64);
                    for _ in 0..50 {
                        let (call, op) = (history.start(), [Create, Delete, Exists][rng.usize(..3)]);
                        let mut exists = register.lock().unwrap();
                        let outcome;
                        (outcome, *exists) = apply(op, *exists);
                        drop(exists);
                        history.record(event(client, "/a", op, call, history.start(), outcome));
                    }
                });
            }
        });
        assert_eq!(history.events().len(), 200);
        check(&history.events()).unwrap();
    }
}

//! [`Links`]: the fault table of one test cluster, consulted by every call a node sends.
//!
//! Each node's [`Connector`] carries a [`NodeLinks`] (the table, the sending node and its incarnation);
//! `basalt_proto::link` asks it about each call and open stream. The destination is found from the
//! address the channel was opened to ([`Links::register`]); an address no node registered is never
//! filtered. Rules compose, as TiKV's `transport_simulate` filters do: a call matched by any `Cut` is
//! refused (and open streams over the link fail), each matching `Drop` refuses it with its probability
//! (a seeded RNG), and matching `Delay`s add up. A node never filters calls to itself.
//!
//! Kill and restart (see `Cluster`) use two more marks: a node that is *down* refuses incoming calls
//! and breaks incoming streams while it shuts down, and a node's *incarnation* changes when it is
//! killed, so whatever the dead instance still has running can send nothing, ever again.

use basalt_proto::link::{Connector, LinkFilter, Verdict};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// A node of a test cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// A metadata member, by Raft id (1-based).
    Namenode(u64),
    /// A datanode, by index in the cluster (0-based).
    Datanode(usize),
    /// A client, in creation order (0-based).
    Client(usize),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Namenode(id) => write!(f, "nn{id}"),
            Node::Datanode(i) => write!(f, "dn{i}"),
            Node::Client(i) => write!(f, "client{i}"),
        }
    }
}

/// The nodes one side of a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sel {
    All,
    Namenodes,
    Datanodes,
    Clients,
    Nodes(BTreeSet<Node>),
}

impl Sel {
    fn contains(&self, n: Node) -> bool {
        match self {
            Sel::All => true,
            Sel::Namenodes => matches!(n, Node::Namenode(_)),
            Sel::Datanodes => matches!(n, Node::Datanode(_)),
            Sel::Clients => matches!(n, Node::Client(_)),
            Sel::Nodes(set) => set.contains(&n),
        }
    }
}

impl From<Node> for Sel {
    fn from(n: Node) -> Self {
        Sel::Nodes(BTreeSet::from([n]))
    }
}

impl From<&[Node]> for Sel {
    fn from(ns: &[Node]) -> Self {
        Sel::Nodes(ns.iter().copied().collect())
    }
}

impl<const N: usize> From<[Node; N]> for Sel {
    fn from(ns: [Node; N]) -> Self {
        Sel::Nodes(ns.into_iter().collect())
    }
}

impl From<Vec<Node>> for Sel {
    fn from(ns: Vec<Node>) -> Self {
        Sel::Nodes(ns.into_iter().collect())
    }
}

/// What a rule does to the calls it matches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Cut,
    /// Refuses each call with this probability.
    Drop(f64),
    Delay(Duration),
}

/// A rule: calls from `from` to `to` (and back, when `both_ways`) get `action`; with `method`, only
/// the calls whose gRPC path contains it (`"Heartbeat"`, `"WriteBlock"`, `"AppendEntries"`...).
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub from: Sel,
    pub to: Sel,
    pub both_ways: bool,
    pub action: Action,
    pub method: Option<String>,
}

impl Rule {
    /// `action` on calls from `from` to `to`, one way, every method.
    pub fn new(from: impl Into<Sel>, to: impl Into<Sel>, action: Action) -> Rule {
        Rule {
            from: from.into(),
            to: to.into(),
            both_ways: false,
            action,
            method: None,
        }
    }

    /// The same rule on calls the other way too.
    pub fn both_ways(self) -> Rule {
        Rule {
            both_ways: true,
            ..self
        }
    }

    /// The same rule on the calls of one method only (the gRPC path contains `method`).
    pub fn only(self, method: &str) -> Rule {
        Rule {
            method: Some(method.to_string()),
            ..self
        }
    }

    fn matches(&self, from: Node, to: Node, method: &str) -> bool {
        let nodes = (self.from.contains(from) && self.to.contains(to))
            || (self.both_ways && self.from.contains(to) && self.to.contains(from));
        nodes && self.method.as_deref().is_none_or(|m| method.contains(m))
    }
}

/// Names a rule, to remove it alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleId(u64);

/// The fault table of one cluster (see the module docs). Shared by the cluster and its nodes' connectors.
pub struct Links {
    table: Mutex<Table>,
    changes: watch::Sender<u64>,
}

struct Table {
    addrs: HashMap<String, Node>,
    rules: BTreeMap<RuleId, Rule>,
    next_rule: u64,
    incarnations: HashMap<Node, u64>,
    down: BTreeSet<Node>,
    rng: fastrand::Rng,
    /// Calls refused so far (cut, dropped, down or retired), for failure messages.
    refused: u64,
    /// Calls let through, by link.
    sent: HashMap<(Node, Node), u64>,
}

impl Links {
    /// An empty table whose drops draw from an RNG seeded with `seed`.
    pub fn new(seed: u64) -> Arc<Links> {
        Arc::new(Links {
            table: Mutex::new(Table {
                addrs: HashMap::new(),
                rules: BTreeMap::new(),
                next_rule: 0,
                incarnations: HashMap::new(),
                down: BTreeSet::new(),
                rng: fastrand::Rng::with_seed(seed),
                refused: 0,
                sent: HashMap::new(),
            }),
            changes: watch::Sender::new(0),
        })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn changed(&self) {
        self.changes.send_modify(|v| *v += 1);
    }

    /// Records that `node` listens on `addr` (`host:port`, as peers dial it).
    pub fn register(&self, node: Node, addr: impl Into<String>) {
        self.table().addrs.insert(addr.into(), node);
    }

    /// The connector of the current incarnation of `node`.
    pub fn connector(self: &Arc<Self>, node: Node) -> Connector {
        let incarnation = *self.table().incarnations.entry(node).or_default();
        Connector::filtered(Arc::new(NodeLinks {
            links: self.clone(),
            node,
            incarnation,
        }))
    }

    /// Adds a rule.
    pub fn add(&self, rule: Rule) -> RuleId {
        let id = {
            let mut t = self.table();
            let id = RuleId(t.next_rule);
            t.next_rule += 1;
            t.rules.insert(id, rule);
            id
        };
        self.changed();
        id
    }

    /// No call between a node of `a` and a node of `b`, either way.
    pub fn partition(&self, a: impl Into<Sel>, b: impl Into<Sel>) -> RuleId {
        self.add(Rule::new(a, b, Action::Cut).both_ways())
    }

    /// No call between `node` and any other node, either way.
    pub fn isolate(&self, node: Node) -> RuleId {
        self.partition(node, Sel::All)
    }

    /// No call from a node of `from` to a node of `to` (replies to calls the other way still flow).
    pub fn cut(&self, from: impl Into<Sel>, to: impl Into<Sel>) -> RuleId {
        self.add(Rule::new(from, to, Action::Cut))
    }

    /// Refuses each call from `from` to `to` with probability `fraction` (0..=1).
    pub fn drop_calls(&self, from: impl Into<Sel>, to: impl Into<Sel>, fraction: f64) -> RuleId {
        assert!(
            (0.0..=1.0).contains(&fraction),
            "drop fraction {fraction} is not within 0..=1"
        );
        self.add(Rule::new(from, to, Action::Drop(fraction)))
    }

    /// Holds each call from `from` to `to` for `by` before sending it.
    pub fn delay(&self, from: impl Into<Sel>, to: impl Into<Sel>, by: Duration) -> RuleId {
        self.add(Rule::new(from, to, Action::Delay(by)))
    }

    /// Removes one rule.
    pub fn remove(&self, id: RuleId) {
        self.table().rules.remove(&id);
        self.changed();
    }

    /// Removes every rule.
    pub fn heal(&self) {
        self.table().rules.clear();
        self.changed();
    }

    /// Marks `node` down (every call to it refused, open streams to it broken) or up again.
    pub(crate) fn set_down(&self, node: Node, down: bool) {
        {
            let mut t = self.table();
            if down {
                t.down.insert(node);
            } else {
                t.down.remove(&node);
            }
        }
        self.changed();
    }

    /// Ends the current incarnation of `node`: its connectors refuse everything from now on.
    pub(crate) fn retire(&self, node: Node) {
        *self.table().incarnations.entry(node).or_default() += 1;
        self.changed();
    }

    /// The verdict for a call of `method` from `from` (incarnation `incarnation`) to the node listening
    /// at `to`.
    pub fn verdict(&self, from: Node, incarnation: u64, to: &str, method: &str) -> Verdict {
        let mut t = self.table();
        let verdict = t.verdict(from, incarnation, to, method);
        if matches!(verdict, Verdict::Refuse(_)) {
            t.refused += 1;
        }
        verdict
    }

    /// Whether streams of `method` from `from` (incarnation `incarnation`) to the node at `to` must fail.
    pub fn is_cut(&self, from: Node, incarnation: u64, to: &str, method: &str) -> bool {
        self.table().cut_reason(from, incarnation, to, method).is_some()
    }

    /// How many calls from `from` to `to` were let through so far.
    pub fn sent(&self, from: Node, to: Node) -> u64 {
        self.table().sent.get(&(from, to)).copied().unwrap_or(0)
    }

    /// The rules, down nodes and refusals, one per line (for failure messages).
    pub fn describe(&self) -> String {
        let t = self.table();
        let mut out = format!("links: {} call(s) refused so far\n", t.refused);
        for (id, r) in &t.rules {
            out.push_str(&format!("  rule {}: {r:?}\n", id.0));
        }
        if !t.down.is_empty() {
            out.push_str(&format!("  down: {:?}\n", t.down));
        }
        out
    }
}

impl Table {
    fn cut_reason(&self, from: Node, incarnation: u64, to: &str, method: &str) -> Option<&'static str> {
        if self.incarnations.get(&from).copied().unwrap_or(0) != incarnation {
            return Some("the sending node was killed");
        }
        let to = *self.addrs.get(to)?;
        if to == from {
            return None;
        }
        if self.down.contains(&to) {
            return Some("node down");
        }
        self.rules
            .values()
            .any(|r| r.action == Action::Cut && r.matches(from, to, method))
            .then_some("link cut")
    }

    fn verdict(&mut self, from: Node, incarnation: u64, to_addr: &str, method: &str) -> Verdict {
        if let Some(why) = self.cut_reason(from, incarnation, to_addr, method) {
            return Verdict::Refuse(why.into());
        }
        let Some(to) = self.addrs.get(to_addr).copied().filter(|&to| to != from) else {
            return Verdict::Pass;
        };
        let mut delay = Duration::ZERO;
        for r in self.rules.values() {
            if !r.matches(from, to, method) {
                continue;
            }
            match r.action {
                Action::Cut => {}
                Action::Drop(p) => {
                    if self.rng.f64() < p {
                        return Verdict::Refuse("dropped".into());
                    }
                }
                Action::Delay(d) => delay += d,
            }
        }
        *self.sent.entry((from, to)).or_default() += 1;
        if delay.is_zero() {
            Verdict::Pass
        } else {
            Verdict::Delay(delay)
        }
    }
}

/// One incarnation of one node's view of [`Links`]: the filter inside its connector.
pub struct NodeLinks {
    links: Arc<Links>,
    node: Node,
    incarnation: u64,
}

impl fmt::Debug for NodeLinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeLinks({}#{})", self.node, self.incarnation)
    }
}

impl LinkFilter for NodeLinks {
    fn on_call(&self, to: &str, method: &str) -> Verdict {
        self.links.verdict(self.node, self.incarnation, to, method)
    }

    fn is_cut(&self, to: &str, method: &str) -> bool {
        self.links.is_cut(self.node, self.incarnation, to, method)
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.links.changes.subscribe()
    }
}

#[cfg(test)]
mod tests;

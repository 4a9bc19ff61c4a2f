//! [`Cluster`]: metadata members, datanodes and clients in this process, every call between them
//! through the cluster's [`Links`].
//!
//! Start: bind a loopback listener on port 0 per member, so that every member's address is known
//! before any starts (the bootstrap membership); start the members on their listeners, then each
//! datanode on its own; wait until a leader is out of safe mode with every datanode live. Every node
//! has its own directory under one temp dir, and a connector filtered by [`Links`] as that node.
//!
//! Kill: end the node's incarnation (whatever it still runs can send nothing), mark it down (calls to
//! it are refused and open streams to it break, so its shutdown does not wait on them), shut it down,
//! hold its port (bound, not listening: connections are refused and no other socket takes it), mark it
//! up again. Restart: listen on the held port and start on the same directory.

use crate::links::{Links, Node};
use crate::options::Options;
use crate::wait::wait_until_or;
use basalt_client::{Client, ClientConfig};
use basalt_datanode::{Datanode, DatanodeConfig};
use basalt_namenode::{Namenode, NamenodeConfig};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};

/// Deadline of one node's shutdown.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);
/// Deadline of [`Cluster::start`] and [`Cluster::wait_ready`].
pub const READY_DEADLINE: Duration = Duration::from_secs(30);

/// An in-process test cluster (see the crate docs).
pub struct Cluster {
    opts: Options,
    seed: u64,
    links: Arc<Links>,
    members: Vec<Slot<Namenode>>,
    datanodes: Vec<Slot<Datanode>>,
    clients: AtomicUsize,
    /// Not filtered: the harness's own eyes (cluster status, fsck).
    observer: Client,
    /// `None` once handed to the shutdown.
    dir: Option<tempfile::TempDir>,
}

/// One node's place in the cluster: its address for good, the running instance if up.
struct Slot<T> {
    node: Node,
    addr: SocketAddr,
    running: Option<T>,
    /// The port while the node is down.
    held: Option<TcpSocket>,
}

impl Cluster {
    /// Starts `opts.namenodes` members and `opts.datanodes` datanodes, and waits until the cluster is
    /// ready ([`Self::wait_ready`]).
    pub async fn start(opts: Options) -> Cluster {
        crate::init_logging();
        assert!((1..=5).contains(&opts.namenodes), "1 to 5 metadata members");
        let seed = opts.pick_seed();
        eprintln!("test cluster: link seed {seed} (replay with BASALT_TEST_SEED={seed})");
        let dir = tempfile::Builder::new()
            .prefix("basalt-cluster-")
            .tempdir()
            .expect("temp dir");
        let links = Links::new(seed);
        let mut listeners = Vec::new();
        let mut members = Vec::new();
        for id in 1..=opts.namenodes as u64 {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a member");
            let addr = listener.local_addr().expect("bound address");
            links.register(Node::Namenode(id), addr.to_string());
            members.push(Slot {
                node: Node::Namenode(id),
                addr,
                running: None,
                held: None,
            });
            listeners.push(listener);
        }
        let addrs: Vec<String> = members.iter().map(|m| m.addr.to_string()).collect();
        let observer = Client::connect(ClientConfig::new(addrs.join(","))).expect("observer client");
        let mut c = Cluster {
            opts,
            seed,
            links,
            members,
            datanodes: Vec::new(),
            clients: AtomicUsize::new(0),
            observer,
            dir: Some(dir),
        };
        for (i, listener) in listeners.into_iter().enumerate() {
            let nn = c.start_namenode(i as u64 + 1, listener).await;
            c.members[i].running = Some(nn);
        }
        for _ in 0..c.opts.datanodes {
            c.add_datanode_now().await;
        }
        c.wait_ready().await;
        c
    }

    /// The fault table: cut, drop and delay calls between nodes.
    pub fn links(&self) -> &Arc<Links> {
        &self.links
    }

    /// The seed of the link filters' RNG.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn root(&self) -> PathBuf {
        self.dir.as_ref().expect("cluster shut down").path().to_path_buf()
    }

    /// The data directory of member `id`.
    pub fn namenode_dir(&self, id: u64) -> PathBuf {
        self.root().join(format!("nn{id}"))
    }

    /// The data directory of datanode `i`.
    pub fn datanode_dir(&self, i: usize) -> PathBuf {
        self.root().join(format!("dn{i}"))
    }

    /// Every member's address, comma-separated (what a client is configured with).
    pub fn namenode_addrs(&self) -> String {
        self.members
            .iter()
            .map(|m| m.addr.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The address of member `id`.
    pub fn namenode_addr(&self, id: u64) -> SocketAddr {
        self.member(id).addr
    }

    /// Every member's node, in id order.
    pub fn namenodes(&self) -> Vec<Node> {
        self.members.iter().map(|m| m.node).collect()
    }

    /// Member `id`, running. Panics when it is down.
    pub fn namenode(&self, id: u64) -> &Namenode {
        self.member(id)
            .running
            .as_ref()
            .unwrap_or_else(|| panic!("nn{id} is down"))
    }

    /// Datanode `i`, running. Panics when it is down.
    pub fn datanode(&self, i: usize) -> &Datanode {
        self.datanodes[i]
            .running
            .as_ref()
            .unwrap_or_else(|| panic!("dn{i} is down"))
    }

    /// Number of datanodes, running or not.
    pub fn datanode_count(&self) -> usize {
        self.datanodes.len()
    }

    fn member(&self, id: u64) -> &Slot<Namenode> {
        &self.members[id as usize - 1]
    }

    /// A new client of the whole group: node `Client(k)` for the k-th client made (from 0), reading
    /// replicas over the network (no short-circuit), so every byte crosses a link.
    pub fn client(&self) -> Client {
        self.client_with(|_| {})
    }

    /// [`Self::client`] with its settings adjusted by `adjust` (e.g. fewer members, shorter timeouts).
    pub fn client_with(&self, adjust: impl FnOnce(&mut ClientConfig)) -> Client {
        let node = Node::Client(self.clients.fetch_add(1, Ordering::Relaxed));
        let mut cfg = ClientConfig::new(self.namenode_addrs());
        cfg.short_circuit = false;
        cfg.connector = self.links.connector(node);
        adjust(&mut cfg);
        Client::connect(cfg).expect("client")
    }

    /// The member a majority of the group names leader (and which leads, by its own metrics), if any.
    /// A member cut off from the others may still believe it leads: it is not the leader here.
    pub fn leader(&self) -> Option<u64> {
        let mut votes: BTreeMap<u64, usize> = BTreeMap::new();
        for nn in self.members.iter().filter_map(|m| m.running.as_ref()) {
            if let Some(l) = nn.raft().metrics().borrow().current_leader {
                *votes.entry(l).or_default() += 1;
            }
        }
        let (leader, n) = votes.into_iter().max_by_key(|(_, n)| *n)?;
        let leads = self
            .member(leader)
            .running
            .as_ref()
            .is_some_and(|nn| nn.raft().metrics().borrow().state == openraft::ServerState::Leader);
        (n > self.members.len() / 2 && leads).then_some(leader)
    }

    /// Waits until there is a leader ([`Self::leader`]) satisfying `ok`, and returns it.
    pub async fn wait_leader(&self, what: &str, ok: impl Fn(u64) -> bool) -> u64 {
        self.wait_until(what, READY_DEADLINE, async || self.leader().is_some_and(&ok))
            .await;
        self.leader().expect("a leader")
    }

    /// Waits until every running member has the same last log index and applied index, and there is a
    /// leader.
    pub async fn wait_converged(&self) {
        self.wait_until("one log on every running member", READY_DEADLINE, async || {
            let logs: Vec<_> = self
                .members
                .iter()
                .filter_map(|m| m.running.as_ref())
                .map(|nn| {
                    let m = nn.raft().metrics().borrow().clone();
                    (m.last_log_index, m.last_applied.map(|l| l.index))
                })
                .collect();
            self.leader().is_some() && logs.windows(2).all(|w| w[0] == w[1])
        })
        .await;
    }

    /// Waits until a majority names a leader ([`Self::leader`]), it is out of safe mode, it counts
    /// every running datanode live, and every running datanode's table ring holds every running
    /// datanode (so any of them coordinates table statements with the whole ring).
    pub async fn wait_ready(&self) {
        let want = self.datanodes.iter().filter(|d| d.running.is_some()).count();
        let ready = async || {
            let rings_whole = self
                .datanodes
                .iter()
                .filter_map(|d| d.running.as_ref())
                .all(|dn| dn.schema().ring().ring.nodes().len() >= want);
            rings_whole
                && self.leader().is_some()
                && self
                    .observer
                    .cluster_status()
                    .await
                    .is_ok_and(|st| !st.safe_mode && st.datanodes.iter().filter(|d| d.live).count() >= want)
        };
        self.wait_until(
            "a writable leader, every datanode live and on every datanode's ring",
            READY_DEADLINE,
            ready,
        )
        .await;
    }

    /// Whether the leader counts datanode `i` live (`None`: no answer, or it does not know the node).
    pub async fn datanode_live(&self, i: usize) -> Option<bool> {
        let addr = self.datanodes[i].addr.to_string();
        let st = self.observer.cluster_status().await.ok()?;
        st.datanodes
            .iter()
            .find(|d| d.info.as_ref().is_some_and(|info| info.addr == addr))
            .map(|d| d.live)
    }

    /// Whether `fsck /` finds every block fully replicated, none corrupt or missing.
    pub async fn fsck_healthy(&self) -> bool {
        self.observer
            .fsck("/")
            .await
            .is_ok_and(|r| r.under_replicated == 0 && r.corrupt == 0 && r.missing == 0)
    }

    /// [`crate::wait_until`], with the cluster's state in the panic message.
    pub async fn wait_until(&self, what: &str, timeout: Duration, cond: impl AsyncFnMut() -> bool) {
        wait_until_or(what, timeout, cond, || self.describe()).await
    }

    /// Every node (address, up or down; each member's Raft view) and the link rules, for failure
    /// messages.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "cluster in {} (link seed {})\n",
            self.dir.as_ref().map_or("?".into(), |d| d.path().display().to_string()),
            self.seed
        );
        for m in &self.members {
            match &m.running {
                Some(nn) => {
                    let r = nn.raft().metrics().borrow().clone();
                    out.push_str(&format!(
                        "  {} {} up: {:?} term {} leader {:?} last log {:?} applied {:?}\n",
                        m.node,
                        m.addr,
                        r.state,
                        r.current_term,
                        r.current_leader,
                        r.last_log_index,
                        r.last_applied.map(|l| l.index)
                    ));
                }
                None => out.push_str(&format!("  {} {} down\n", m.node, m.addr)),
            }
        }
        for d in &self.datanodes {
            let state = d
                .running
                .as_ref()
                .map_or("down".to_string(), |dn| format!("up as {}", dn.id()));
            out.push_str(&format!("  {} {} {state}\n", d.node, d.addr));
        }
        out.push_str(&self.links.describe());
        out
    }

    async fn start_namenode(&self, id: u64, listener: TcpListener) -> Namenode {
        let addr = listener.local_addr().expect("bound address");
        let o = &self.opts;
        let mut c = NamenodeConfig::new(self.namenode_dir(id), addr);
        c.id = id;
        if self.members.len() > 1 {
            c.peers = self.members.iter().map(|m| (m.node_id(), m.addr.to_string())).collect();
        }
        c.default_replication = o.replication;
        c.default_block_size = o.block_size;
        c.dead_interval = o.dead_interval;
        c.raft_heartbeat = o.raft_heartbeat;
        c.lease_hard_limit = o.lease_hard_limit;
        c.snapshot_interval = o.snapshot_interval;
        (o.namenode_config)(&mut c);
        Namenode::start_on(c, listener, self.links.connector(Node::Namenode(id)))
            .await
            .unwrap_or_else(|e| panic!("starting nn{id}: {e}"))
    }

    async fn start_datanode(&self, i: usize, listener: TcpListener) -> Datanode {
        let o = &self.opts;
        let mut c = DatanodeConfig::new(self.datanode_dir(i));
        c.listen = listener.local_addr().expect("bound address");
        c.namenodes = self.members.iter().map(|m| m.addr.to_string()).collect();
        c.heartbeat_interval = o.heartbeat;
        c.ack_timeout = o.ack_timeout;
        (o.datanode_config)(&mut c);
        Datanode::start_on(c, listener, self.links.connector(Node::Datanode(i)))
            .await
            .unwrap_or_else(|e| panic!("starting dn{i}: {e}"))
    }

    async fn add_datanode_now(&mut self) -> usize {
        let i = self.datanodes.len();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a datanode");
        let addr = listener.local_addr().expect("bound address");
        self.links.register(Node::Datanode(i), addr.to_string());
        let dn = self.start_datanode(i, listener).await;
        self.datanodes.push(Slot {
            node: Node::Datanode(i),
            addr,
            running: Some(dn),
            held: None,
        });
        i
    }

    /// Starts one more datanode (a new directory) and returns its index, without waiting for the
    /// namenode to count it live (see [`Self::wait_live`]).
    pub async fn add_datanode(&mut self) -> usize {
        self.add_datanode_now().await
    }

    /// Waits until the leader counts datanode `i` live.
    pub async fn wait_live(&self, i: usize) {
        self.wait_until(&format!("dn{i} live"), READY_DEADLINE, async || {
            self.datanode_live(i).await == Some(true)
        })
        .await
    }

    /// Stops member `id` (see the module docs); its directory and address stay for a restart.
    pub async fn kill_namenode(&mut self, id: u64) {
        let slot = &mut self.members[id as usize - 1];
        let nn = slot.running.take().unwrap_or_else(|| panic!("nn{id} is down already"));
        kill(&self.links, slot, nn.shutdown()).await;
    }

    /// Starts member `id` again on its directory and address (killing it first if it runs).
    pub async fn restart_namenode(&mut self, id: u64) {
        if self.member(id).running.is_some() {
            self.kill_namenode(id).await;
        }
        let listener = listen_again(&mut self.members[id as usize - 1]).await;
        let nn = self.start_namenode(id, listener).await;
        self.members[id as usize - 1].running = Some(nn);
    }

    /// Stops datanode `i` (see the module docs); its directory and address stay for a restart.
    pub async fn kill_datanode(&mut self, i: usize) {
        let slot = &mut self.datanodes[i];
        let dn = slot.running.take().unwrap_or_else(|| panic!("dn{i} is down already"));
        kill(&self.links, slot, dn.shutdown()).await;
    }

    /// Starts datanode `i` again on its directory and address (killing it first if it runs).
    pub async fn restart_datanode(&mut self, i: usize) {
        if self.datanodes[i].running.is_some() {
            self.kill_datanode(i).await;
        }
        let listener = listen_again(&mut self.datanodes[i]).await;
        let dn = self.start_datanode(i, listener).await;
        self.datanodes[i].running = Some(dn);
    }

    /// Stops every node (datanodes first) and removes the cluster's directory.
    pub async fn shutdown(mut self) {
        for i in 0..self.datanodes.len() {
            if self.datanodes[i].running.is_some() {
                self.kill_datanode(i).await;
            }
        }
        for id in 1..=self.members.len() as u64 {
            if self.member(id).running.is_some() {
                self.kill_namenode(id).await;
            }
        }
    }
}

impl Slot<Namenode> {
    fn node_id(&self) -> u64 {
        match self.node {
            Node::Namenode(id) => id,
            other => unreachable!("a member slot holds {other}"),
        }
    }
}

/// The kill sequence of the module docs, around `shutdown` (the node's own graceful stop).
async fn kill<T>(links: &Links, slot: &mut Slot<T>, shutdown: impl Future<Output = ()>) {
    links.retire(slot.node);
    links.set_down(slot.node, true);
    if tokio::time::timeout(SHUTDOWN_DEADLINE, shutdown).await.is_err() {
        panic!("{} did not stop within {SHUTDOWN_DEADLINE:?}", slot.node);
    }
    slot.held = hold(slot.addr)
        .inspect_err(|e| tracing::warn!(node = %slot.node, error = %e, "could not hold the port"))
        .ok();
    links.set_down(slot.node, false);
}

/// A socket bound to `addr` without listening: connections to it are refused, and the kernel hands
/// the port to no other socket.
fn hold(addr: SocketAddr) -> std::io::Result<TcpSocket> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

/// A listener on the slot's address again: the held port, or a fresh bind if it could not be held.
async fn listen_again<T>(slot: &mut Slot<T>) -> TcpListener {
    let listener = match slot.held.take() {
        Some(socket) => socket.listen(1024),
        None => TcpListener::bind(slot.addr).await,
    };
    listener.unwrap_or_else(|e| panic!("{} cannot listen on {} again: {e}", slot.node, slot.addr))
}

impl Drop for Cluster {
    /// A cluster not shut down (a failed test): every node is cut off at once, then stopped in the
    /// background; after a panic the directory is kept (and named) for a look at the data.
    fn drop(&mut self) {
        let Some(dir) = self.dir.take() else { return };
        let nns: Vec<Namenode> = self.members.iter_mut().filter_map(|m| m.running.take()).collect();
        let dns: Vec<Datanode> = self.datanodes.iter_mut().filter_map(|d| d.running.take()).collect();
        for node in self
            .members
            .iter()
            .map(|m| m.node)
            .chain(self.datanodes.iter().map(|d| d.node))
        {
            self.links.retire(node);
            self.links.set_down(node, true);
        }
        let dir = if std::thread::panicking() {
            eprintln!("test cluster files kept in {}", dir.keep().display());
            None
        } else {
            Some(dir)
        };
        if nns.is_empty() && dns.is_empty() {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for dn in dns {
                    dn.shutdown().await;
                }
                for nn in nns {
                    nn.shutdown().await;
                }
                drop(dir);
            });
        }
    }
}

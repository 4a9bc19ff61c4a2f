//! [`Options`]: the shape and timings of a test cluster.

use basalt_datanode::DatanodeConfig;
use basalt_namenode::NamenodeConfig;
use std::time::Duration;

/// What [`Cluster::start`](crate::Cluster::start) builds. `Default`: one metadata member, three
/// datanodes, replication 3, 128 KiB blocks, timings short enough for tests.
#[derive(Clone, Debug)]
pub struct Options {
    /// Metadata members (Raft ids 1..=n), 1 to 5.
    pub namenodes: usize,
    pub datanodes: usize,
    /// Default replication factor of files.
    pub replication: u32,
    /// Default block size of files.
    pub block_size: u64,
    /// A datanode silent this long is dead.
    pub dead_interval: Duration,
    /// Datanode heartbeat interval.
    pub heartbeat: Duration,
    /// Raft heartbeat interval (elections time out after 3–6 of them).
    pub raft_heartbeat: Duration,
    /// How long a pipeline datanode waits for its downstream's acknowledgement.
    pub ack_timeout: Duration,
    /// A writer silent this long loses its lease.
    pub lease_hard_limit: Duration,
    /// Log entries between snapshots.
    pub snapshot_interval: u64,
    /// Seed of the link filters' RNG; `None`: `BASALT_TEST_SEED` if set, else random (printed either way).
    pub seed: Option<u64>,
    /// Last word on each member's settings (applied after the fields above).
    pub namenode_config: fn(&mut NamenodeConfig),
    /// Last word on each datanode's settings.
    pub datanode_config: fn(&mut DatanodeConfig),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namenodes: 1,
            datanodes: 3,
            replication: 3,
            block_size: 128 * 1024,
            dead_interval: Duration::from_secs(30),
            heartbeat: Duration::from_millis(200),
            raft_heartbeat: Duration::from_millis(100),
            ack_timeout: Duration::from_secs(60),
            lease_hard_limit: Duration::from_secs(60),
            snapshot_interval: 50,
            seed: None,
            namenode_config: |_| {},
            datanode_config: |_| {},
        }
    }
}

impl Options {
    /// The seed to use: the one given, else `BASALT_TEST_SEED`, else a random one.
    pub(crate) fn pick_seed(&self) -> u64 {
        self.seed.unwrap_or_else(|| {
            std::env::var("BASALT_TEST_SEED")
                .ok()
                .map(|s| s.parse().expect("BASALT_TEST_SEED must be a u64"))
                .unwrap_or_else(|| fastrand::u64(..))
        })
    }
}

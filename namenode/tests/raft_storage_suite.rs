//! openraft's storage conformance suite against the RocksDB log store and the namespace state machine.

use basalt_namenode::raft::TypeConfig;
use basalt_namenode::raft::log_store::LogStore;
use basalt_namenode::raft::state_machine::StateMachineStore;
use openraft::StorageError;
use openraft::testing::{StoreBuilder, Suite};
use tempfile::TempDir;

struct Builder;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for Builder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError<u64>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = LogStore::open(&dir.path().join("log")).expect("open log");
        let sm = StateMachineStore::open(&dir.path().join("snapshots")).expect("open state machine");
        Ok((dir, log, sm))
    }
}

#[test]
fn log_store_and_state_machine_conform() {
    Suite::test_all(Builder).expect("storage suite");
}

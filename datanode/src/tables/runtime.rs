//! [`TableRuntime`]: the tables side of a running datanode, started with it and stopped with it.
//!
//! Start-up: open the table store (`<data dir>/tables`, every column family it has); build this
//! node's replica, the channels to the other replicas, the coordinator's engine; start the hinted
//! handoff loop and the catalog follower, which creates a column family for every table the catalog
//! gains and drops the ones it loses (so a dropped table's rows go with it).

use crate::config::DatanodeConfig;
use crate::error::DatanodeError;
use crate::tables::coordinator::Liveness;
use crate::tables::coordinator::handoff::{self, HandoffConfig, HintLog};
use crate::tables::exec::{Engine, EngineConfig};
use crate::tables::local::{Local, StoreHints};
use crate::tables::replicas::{AddressBook, GrpcReplicas, ReplicaService};
use crate::tables::schema_view::SchemaView;
use crate::tables::service::CqlService;
use crate::tables::store::{TableStore, TableStoreOptions};
use basalt_common::{DatanodeId, MAX_RPC_MESSAGE};
use basalt_proto::link::Connector;
use basalt_proto::pb::cql_server::CqlServer;
use basalt_proto::pb::table_replica_server::TableReplicaServer;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

impl AddressBook for SchemaView {
    fn addr(&self, node: DatanodeId) -> Option<String> {
        self.ring().nodes.get(&node).map(|n| n.addr.clone())
    }
}

pub struct TableRuntime {
    pub store: TableStore,
    pub engine: Arc<Engine>,
    pub local: Arc<Local>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for TableRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableRuntime").finish_non_exhaustive()
    }
}

impl TableRuntime {
    pub async fn start(
        me: DatanodeId,
        config: &DatanodeConfig,
        schema: Arc<SchemaView>,
        connector: Connector,
        shutdown: watch::Receiver<bool>,
    ) -> Result<TableRuntime, DatanodeError> {
        let dir = config.data_dir.join("tables");
        let options = TableStoreOptions {
            durability: config.table_store_durability(),
            ..Default::default()
        };
        let store = tokio::task::spawn_blocking(move || TableStore::open(&dir, options))
            .await
            .map_err(|source| DatanodeError::Task { source })??;
        let local = Arc::new(Local {
            store: store.clone(),
            schema: schema.clone(),
        });
        let replicas = Arc::new(GrpcReplicas::new(me, local.clone(), schema.clone(), connector));
        let liveness = Arc::new(Liveness::default());
        let hints: Arc<dyn HintLog> = Arc::new(StoreHints { store: store.clone() });
        let engine = Arc::new(Engine::new(
            me,
            schema.clone(),
            replicas.clone(),
            liveness.clone(),
            hints.clone(),
            EngineConfig {
                write_timeout: config.table_write_timeout,
                read_timeout: config.table_read_timeout,
                hint_window: config.table_hint_window,
                ..EngineConfig::default()
            },
            store.clone(),
        ));
        let handoff = tokio::spawn(handoff::run(
            replicas,
            liveness,
            hints,
            HandoffConfig {
                interval: Duration::from_millis(500),
                batch: 256,
                timeout: config.table_write_timeout,
            },
            shutdown.clone(),
        ));
        let follower = tokio::spawn(follow_catalog(schema, store.clone(), shutdown.clone()));
        let batches = tokio::spawn(replay_batches(engine.clone(), shutdown));
        Ok(TableRuntime {
            store,
            engine,
            local,
            tasks: vec![handoff, follower, batches],
        })
    }

    pub fn replica_service(&self) -> TableReplicaServer<ReplicaService> {
        TableReplicaServer::new(ReplicaService {
            local: self.local.clone(),
            cql: self.engine.cql.clone(),
            schema: self.engine.schema.clone(),
        })
        .max_decoding_message_size(MAX_RPC_MESSAGE)
        .max_encoding_message_size(MAX_RPC_MESSAGE)
    }

    pub fn cql_service(&self) -> CqlServer<CqlService> {
        CqlServer::new(CqlService {
            engine: self.engine.clone(),
            local: self.local.clone(),
        })
        .max_decoding_message_size(MAX_RPC_MESSAGE)
        .max_encoding_message_size(MAX_RPC_MESSAGE)
    }

    /// Waits for the background loops (after the shutdown signal).
    pub async fn stop(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Replays unfinished logged batches now and then (and soon after a restart).
async fn replay_batches(engine: Arc<Engine>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        engine.replay_batches().await;
    }
}

/// Keeps the store's column families in step with the catalog.
async fn follow_catalog(schema: Arc<SchemaView>, store: TableStore, mut shutdown: watch::Receiver<bool>) {
    let mut rx = schema.subscribe_catalog();
    let mut known: BTreeSet<basalt_common::TableId> = BTreeSet::new();
    loop {
        let catalog = rx.borrow_and_update().clone();
        if catalog.version() > 0 {
            let store = store.clone();
            let defs: Vec<basalt_table::TableDef> = catalog.snapshot().tables.values().cloned().collect();
            let before = known.clone();
            let result = tokio::task::spawn_blocking(move || {
                let mut now = BTreeSet::new();
                for d in &defs {
                    if !before.contains(&d.id) {
                        store.ensure_table(d)?;
                    }
                    now.insert(d.id);
                }
                for t in store.tables()? {
                    if !now.contains(&t) {
                        tracing::info!(table = %t, "table dropped from the catalog: dropping its rows");
                        store.drop_table(t)?;
                    }
                }
                Ok::<_, crate::tables::store::TableStoreError>(now)
            })
            .await;
            match result {
                Ok(Ok(now)) => known = now,
                Ok(Err(e)) => tracing::error!(error = %e, "cannot follow the catalog in the table store"),
                Err(e) => tracing::error!(error = %e, "catalog follower task failed"),
            }
        }
        tokio::select! {
            r = rx.changed() => if r.is_err() { return },
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

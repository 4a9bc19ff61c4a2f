//! [`Datanode`]: start-up, the running handle, and graceful shutdown.
//!
//! Start-up phases: validate the config; create the data directory and lock it; load (or create) the
//! identity; open the block store (discarding `tmp/`, scanning `current/`); bind the listener (or take
//! one already bound); open the table store (`tables/`) and start the table runtime (hinted handoff,
//! batch log replay, the catalog follower); serve `DataTransfer`, `TableReplica`, `Cql` and `Shuffle` on
//! the one listener, and HTTP (WebHDFS data, `/metrics`) on its own listener when `http` is set; start
//! the block scanner, the expiry of parked replicas and one link per namenode.
//! Shutdown reverses it: stop the links, stop accepting and let in-flight streams finish (bounded),
//! stop the table loops, then release the directory lock.

use crate::config::DatanodeConfig;
use crate::context::Context;
use crate::dir_lock::DirLock;
use crate::error::DatanodeError;
use crate::identity::load_or_create_id;
use crate::nn_link::{LinkInfo, Reports};
use crate::store::{BlockStore, Layout};
use crate::tables::runtime::TableRuntime;
use crate::transfer::DataTransferService;
use crate::transfer::downstream::{CONNECTION_WINDOW, MAX_FRAME, STREAM_WINDOW};
use basalt_common::{DatanodeId, MAX_RPC_MESSAGE};
use basalt_host::{host_id, hostname};
use basalt_proto::link::Connector;
use basalt_proto::pb::DatanodeInfo;
use basalt_proto::pb::data_transfer_server::DataTransferServer;
use basalt_proto::pb::shuffle_server::ShuffleServer;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;

/// How long shutdown waits for in-flight streams before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running datanode.
#[derive(Debug)]
pub struct Datanode {
    id: DatanodeId,
    local_addr: SocketAddr,
    advertise: String,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    scanner: JoinHandle<()>,
    expiry: JoinHandle<()>,
    ctx: Arc<Context>,
    tables: TableRuntime,
    /// The CQL native protocol server, when `cql` is set: its bound address and accept loop.
    cql: Option<(SocketAddr, JoinHandle<()>)>,
    /// The HTTP server, when `http` is set.
    http: Option<crate::http::HttpServer>,
    _lock: DirLock,
}

impl Datanode {
    /// Starts a datanode listening on `config.listen` (port 0 picks a free port: see
    /// [`Self::local_addr`]); everything runs in background tasks until [`Datanode::shutdown`].
    pub async fn start(config: DatanodeConfig) -> Result<Datanode, DatanodeError> {
        Self::start_with(config, None, Connector::default()).await
    }

    /// Starts a datanode serving on an already bound `listener` (`config.listen` is not bound), its
    /// outgoing channels (namenode links, downstream datanodes) opened through `connector`.
    pub async fn start_on(
        config: DatanodeConfig,
        listener: TcpListener,
        connector: Connector,
    ) -> Result<Datanode, DatanodeError> {
        Self::start_with(config, Some(listener), connector).await
    }

    async fn start_with(
        config: DatanodeConfig,
        listener: Option<TcpListener>,
        connector: Connector,
    ) -> Result<Datanode, DatanodeError> {
        config.validate()?;
        let data_dir = config.data_dir.clone();
        let (lock, id, store, host_id) = tokio::task::spawn_blocking(move || {
            basalt_host::create_dir_durable(&data_dir)?;
            let lock = DirLock::acquire(&Layout::new(&data_dir).lock_file(), &data_dir)?;
            let id = load_or_create_id(&data_dir)?;
            let store = BlockStore::open(&data_dir)?;
            Ok::<_, DatanodeError>((lock, id, store, host_id()))
        })
        .await
        .map_err(|source| DatanodeError::Task { source })??;

        let listener = match listener {
            Some(l) => l,
            None => TcpListener::bind(config.listen)
                .await
                .map_err(|source| DatanodeError::Bind {
                    addr: config.listen,
                    source,
                })?,
        };
        let local_addr = listener.local_addr().map_err(|source| DatanodeError::Bind {
            addr: config.listen,
            source,
        })?;
        let advertise = config
            .advertise
            .clone()
            .unwrap_or_else(|| default_advertise(local_addr));

        let reports = Reports::default();
        let ctx = Context::new(
            id,
            host_id.clone(),
            store,
            reports,
            config.chunk_size,
            config.ack_timeout,
            connector.clone(),
        );
        let (shutdown, shutdown_rx) = watch::channel(false);
        let tables = TableRuntime::start(id, &config, ctx.schema.clone(), connector, shutdown_rx.clone()).await?;
        ctx.metrics.watch(&ctx, tables.store.clone());
        let shuffle = crate::shuffle::ShuffleService::new(&config.data_dir);
        let server = tokio::spawn(serve(ctx.clone(), &tables, shuffle, listener, shutdown_rx.clone()));
        let cql = match config.cql_listen {
            Some(addr) => {
                let l = TcpListener::bind(addr)
                    .await
                    .map_err(|source| DatanodeError::Bind { addr, source })?;
                let bound = l.local_addr().map_err(|source| DatanodeError::Bind { addr, source })?;
                let limits = crate::tables::cql_server::CqlServerConfig {
                    max_frame_size: config.cql_max_frame_size as usize,
                    max_connections: config.cql_max_connections as usize,
                    max_in_flight: config.cql_max_in_flight as usize,
                    users: match &config.cql_users {
                        Some(path) => Some(Arc::new(crate::tables::cql_server::auth::Users::read(path)?)),
                        None => None,
                    },
                };
                tables.engine.cql.set_own(bound);
                let task = crate::tables::cql_server::start(l, tables.engine.clone(), limits, shutdown_rx.clone());
                tracing::info!(%id, cql = %bound, "CQL native protocol server started");
                Some((bound, task))
            }
            None => None,
        };
        let http = match config.http_listen {
            Some(at) => Some(
                crate::http::start(
                    at,
                    crate::http::router(ctx.clone(), &config.namenodes)?,
                    shutdown_rx.clone(),
                )
                .await?,
            ),
            None => None,
        };
        let scanner = tokio::spawn(crate::scanner::run_scanner(
            ctx.clone(),
            crate::scanner::ScanConfig {
                bytes_per_sec: config.scan_rate,
                pause: config.scan_pause,
            },
            shutdown_rx.clone(),
        ));

        let expiry = tokio::spawn(expire_parked(ctx.store.clone(), config.rbw_expiry, shutdown_rx.clone()));

        let host = advertise.rsplit_once(':').map_or(advertise.as_str(), |(h, _)| h);
        let info = Arc::new(LinkInfo {
            info: DatanodeInfo {
                id: id.0,
                addr: advertise.clone(),
                rack: config.rack.clone(),
                host_id,
                host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            },
            interval: config.heartbeat_interval,
            cql_addr: cql.as_ref().map(|(a, _)| a.to_string()).unwrap_or_default(),
            http_addr: http.as_ref().map(|h| default_advertise(h.addr)).unwrap_or_default(),
        });
        ctx.start_links(info, shutdown_rx.clone(), &config.namenodes);
        tracing::info!(%id, %local_addr, %advertise, namenodes = config.namenodes.len(), "datanode started");
        Ok(Datanode {
            id,
            local_addr,
            advertise,
            shutdown,
            server,
            scanner,
            expiry,
            ctx,
            tables,
            cql,
            http,
            _lock: lock,
        })
    }

    /// Starts a datanode, runs it until `shutdown` completes, then stops it gracefully.
    pub async fn run_until(config: DatanodeConfig, shutdown: impl Future<Output = ()>) -> Result<(), DatanodeError> {
        let datanode = Datanode::start(config).await?;
        shutdown.await;
        datanode.shutdown().await;
        Ok(())
    }

    /// The address the data transfer service is bound to (with the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address the HTTP server is bound to, when it runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|h| h.addr)
    }

    /// The address the CQL server is bound to, when it runs.
    pub fn cql_addr(&self) -> Option<SocketAddr> {
        self.cql.as_ref().map(|(a, _)| *a)
    }

    /// The address told to namenodes.
    pub fn advertise_addr(&self) -> &str {
        &self.advertise
    }

    pub fn id(&self) -> DatanodeId {
        self.id
    }

    /// The block store (for tests and tools).
    pub fn store(&self) -> &BlockStore {
        &self.ctx.store
    }

    /// The table store: this node's replica of the table rows (for tests and tools).
    pub fn table_store(&self) -> &crate::tables::store::TableStore {
        &self.tables.store
    }

    /// The catalog and ring as this datanode knows them.
    pub fn schema(&self) -> &std::sync::Arc<crate::tables::schema_view::SchemaView> {
        &self.ctx.schema
    }

    /// Stops the namenode links and the server; in-flight streams get [`SHUTDOWN_GRACE`] to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for link in self.ctx.take_links() {
            let _ = link.await;
        }
        let _ = self.scanner.await;
        let _ = self.expiry.await;
        self.tables.stop().await;
        if let Some((_, task)) = self.cql {
            let _ = task.await;
        }
        if let Some(http) = self.http {
            let _ = http.task.await;
        }
        let mut server = self.server;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "data transfer server failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "data transfer server task failed"),
            Err(_) => {
                tracing::warn!("in-flight transfers did not finish in time; cutting them");
                server.abort();
            }
        }
        tracing::info!(id = %self.id, "datanode stopped");
    }
}

fn serve(
    ctx: Arc<Context>,
    tables: &TableRuntime,
    shuffle: crate::shuffle::ShuffleService,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) -> impl Future<Output = Result<(), tonic::transport::Error>> + use<> {
    let replica = tables.replica_service();
    let cql = tables.cql_service();
    let rpc = ctx.metrics.rpc.layer();
    let service = DataTransferServer::new(DataTransferService::new(ctx))
        .max_decoding_message_size(MAX_RPC_MESSAGE)
        .max_encoding_message_size(MAX_RPC_MESSAGE);
    let incoming = TcpListenerStream::new(listener).map(|conn| {
        if let Ok(stream) = &conn {
            let _ = stream.set_nodelay(true);
        }
        conn
    });
    tonic::transport::Server::builder()
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_frame_size(MAX_FRAME)
        .layer(rpc)
        .add_service(service)
        .add_service(replica)
        .add_service(cql)
        .add_service(
            ShuffleServer::new(shuffle)
                .max_decoding_message_size(MAX_RPC_MESSAGE)
                .max_encoding_message_size(MAX_RPC_MESSAGE),
        )
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
}

/// Removes parked replicas older than `max_age`, checking a few times per `max_age` (at most every minute).
async fn expire_parked(store: BlockStore, max_age: Duration, mut shutdown: watch::Receiver<bool>) {
    let period = (max_age / 4).clamp(Duration::from_millis(10), Duration::from_secs(60));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            _ = tick.tick() => {}
        }
        let store = store.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || store.expire_parked(max_age)).await {
            tracing::warn!(error = %e, "parked replica expiry failed");
        }
    }
}

/// The bound address, or `hostname:port` when bound to a wildcard address.
fn default_advertise(bound: SocketAddr) -> String {
    if bound.ip().is_unspecified() {
        format!("{}:{}", hostname().as_deref().unwrap_or("unknown-host"), bound.port())
    } else {
        bound.to_string()
    }
}

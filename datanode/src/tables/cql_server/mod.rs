//! The CQL native protocol (v4) server of a datanode: what lets unmodified Cassandra drivers and
//! cqlsh use Basalt tables. A second thin layer over the same [`Engine`] as the `Cql` gRPC
//! service, not a second query engine.
//!
//! - [`frame`]: reading and checking request frames (header checks before any allocation; the
//!   envelope and bodies decoded by `cassandra-protocol`).
//! - [`auth`]: AllowAll, or PasswordAuthenticator with the users of a file.
//! - [`connection`]: one client connection: handshake, multiplexed requests, `USE`, shutdown.
//! - [`events`]: SCHEMA_CHANGE and TOPOLOGY_CHANGE events for registered connections.
//! - [`handler`]: a request (QUERY, PREPARE, EXECUTE, BATCH) as an Engine call.
//! - [`response`]: answers and errors as CQL response bodies.
//!
//! The system tables drivers read are the Engine's ([`crate::tables::exec::system`]).

pub mod auth;
pub mod connection;
pub mod events;
pub mod frame;
pub mod handler;
pub mod response;

use crate::tables::exec::Engine;
use handler::Handler;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

/// Limits of the CQL server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CqlServerConfig {
    /// Largest frame accepted, header included; a larger one closes its connection with a protocol
    /// error.
    pub max_frame_size: usize,
    /// Requests of one connection running at once; one more is answered Overloaded.
    pub max_in_flight: usize,
    /// Connections served at once; one more has its first request answered Overloaded, then is
    /// closed.
    pub max_connections: usize,
    /// Who may connect (PasswordAuthenticator); `None`: anyone (AllowAllAuthenticator).
    pub users: Option<Arc<auth::Users>>,
}

impl Default for CqlServerConfig {
    fn default() -> Self {
        CqlServerConfig {
            max_frame_size: 256 << 20,
            max_in_flight: 1024,
            max_connections: 4096,
            users: None,
        }
    }
}

/// Connections over the limit being answered Overloaded at once (more are closed unanswered).
const MAX_REFUSALS: usize = 64;

/// Serves CQL on `listener` until `shutdown` is set; each connection in its own task.
pub fn start(
    listener: TcpListener,
    engine: Arc<Engine>,
    config: CqlServerConfig,
    shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let (events, _) = tokio::sync::broadcast::channel(events::EVENT_BACKLOG);
    let handler = Arc::new(Handler {
        engine: engine.clone(),
        events: events.clone(),
    });
    let watcher = tokio::spawn(events::watch(engine, events, shutdown.clone()));
    tokio::spawn(async move {
        accept_loop(listener, handler, config, shutdown).await;
        let _ = watcher.await;
    })
}

async fn accept_loop(
    listener: TcpListener,
    handler: Arc<Handler>,
    config: CqlServerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "CQL accept failed");
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = config.max_connections, "CQL connection refused: too many connections");
            // Bounded too: one refusal at a time, each given a second to send its first frame.
            if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                let max_frame = config.max_frame_size;
                tokio::spawn(async move {
                    connection::refuse(stream, max_frame).await;
                    drop(refusal);
                });
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let (rd, wr) = stream.into_split();
            connection::serve(rd, wr, handler, config, shutdown).await;
            drop(permit);
        });
    }
}

//! The namenode's HTTP server (`http` in the config, `basalt local`: 127.0.0.1:9870): one axum router
//! on the same runtime as the gRPC services, over the same [`Core`].
//!
//! Each feature owns a module that adds its routes to [`router`]: WebHDFS under `/webhdfs/v1`, the web
//! UI, `/metrics`. Handlers call the services' own operations, so a request over HTTP is checked and
//! answered as the same request over gRPC would be.

use crate::error::NamenodeError;
use crate::scheduler::JobScheduler;
use crate::service::Core;
use axum::Router;
use axum::http::StatusCode;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

pub(crate) mod ui;

/// The namenode's routes.
// Called once at start; the error is the role's own (large for its Raft variants).
#[allow(clippy::result_large_err)]
pub(crate) fn router(core: Arc<Core>, sched: Arc<JobScheduler>) -> Result<Router, NamenodeError> {
    let webhdfs = webhdfs(&core)?;
    Ok(Router::new()
        .merge(core.metrics.registry.routes())
        .merge(ui::routes(core.clone(), sched))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page on this namenode\n") })
        .with_state(core)
        .merge(webhdfs))
}

/// WebHDFS (`/webhdfs/v1`, see `basalt_webhdfs`): a long-lived client connected to this member's
/// metadata group (the bootstrap peers, or this member alone; the client finds the leader), acting
/// as each request's caller.
#[allow(clippy::result_large_err)]
fn webhdfs(core: &Arc<Core>) -> Result<Router, NamenodeError> {
    let members: Vec<String> = if core.config.peers.is_empty() {
        vec![core.advertise.clone()]
    } else {
        core.config.peers.values().cloned().collect()
    };
    let members = members.join(",");
    let mut config = basalt_client::ClientConfig::new(members.clone());
    config.connector = core.connector.clone();
    let client =
        basalt_client::Client::connect(config).map_err(|source| NamenodeError::WebHdfsClient { members, source })?;
    let users = core.clone();
    Ok(basalt_webhdfs::namenode_routes(basalt_webhdfs::NamenodeGateway {
        client,
        rpc_addr: core.advertise.clone(),
        may_impersonate: Box::new(move |user| {
            let core = users.clone();
            Box::pin(async move { core.users.caller(user).await.is_ok_and(|c| c.superuser) })
        }),
    }))
}

pub(crate) use basalt_proto::http::HttpServer;

/// Binds `addr` and serves `router` until `stop` turns true (requests in flight then finish).
pub(crate) async fn start(
    addr: SocketAddr,
    router: Router,
    stop: watch::Receiver<bool>,
) -> Result<HttpServer, NamenodeError> {
    basalt_proto::http::serve(addr, router, stop)
        .await
        .map_err(|source| NamenodeError::Bind { addr, source })
}

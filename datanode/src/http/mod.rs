//! The datanode's HTTP server (`http` in the config): one axum router on the same runtime as the gRPC
//! services, told to the namenodes at registration so that they can send clients here.
//!
//! Each feature owns a module that adds its routes to [`router`]: WebHDFS data transfer (the namenode
//! redirects CREATE, APPEND and OPEN here) and `/metrics`.

use crate::context::Context;
use crate::error::DatanodeError;
use axum::Router;
use axum::http::StatusCode;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// The datanode's routes.
pub(crate) fn router(ctx: Arc<Context>, namenodes: &[String]) -> Result<Router, DatanodeError> {
    let webhdfs = webhdfs(&ctx, namenodes)?;
    Ok(Router::new()
        .merge(ctx.metrics.registry.routes())
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page on this datanode\n") })
        .with_state(ctx)
        .merge(webhdfs))
}

/// WebHDFS data transfer (see `basalt_webhdfs::datanode`): a long-lived client connected to this
/// datanode's namenodes, acting as each request's caller; replicas on this host are read
/// short-circuit.
fn webhdfs(ctx: &Arc<Context>, namenodes: &[String]) -> Result<Router, DatanodeError> {
    let namenodes = namenodes.join(",");
    let mut config = basalt_client::ClientConfig::new(namenodes.clone());
    config.connector = ctx.connector.clone();
    let client =
        basalt_client::Client::connect(config).map_err(|source| DatanodeError::WebHdfsClient { namenodes, source })?;
    Ok(basalt_webhdfs::datanode_routes(basalt_webhdfs::DatanodeGateway {
        client,
    }))
}

pub(crate) use basalt_proto::http::HttpServer;

/// Binds `addr` and serves `router` until `stop` turns true (requests in flight then finish).
pub(crate) async fn start(
    addr: SocketAddr,
    router: Router,
    stop: watch::Receiver<bool>,
) -> Result<HttpServer, DatanodeError> {
    basalt_proto::http::serve(addr, router, stop)
        .await
        .map_err(|source| DatanodeError::Bind { addr, source })
}

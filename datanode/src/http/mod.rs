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
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The datanode's routes.
pub(crate) fn router(ctx: Arc<Context>) -> Router {
    Router::new()
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page on this datanode\n") })
        .with_state(ctx)
}

/// A running HTTP server: its bound address and its task.
#[derive(Debug)]
pub(crate) struct HttpServer {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
}

/// Binds `addr` and serves `router` until `stop` turns true (requests in flight then finish).
pub(crate) async fn start(
    addr: SocketAddr,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> Result<HttpServer, DatanodeError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| DatanodeError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| DatanodeError::Bind { addr, source })?;
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "HTTP server failed");
        }
    });
    Ok(HttpServer { addr: bound, task })
}

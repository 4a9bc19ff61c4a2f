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
pub(crate) fn router(core: Arc<Core>, sched: Arc<JobScheduler>) -> Router {
    Router::new()
        .merge(core.metrics.registry.routes())
        .merge(ui::routes(core.clone(), sched))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page on this namenode\n") })
        .with_state(core)
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

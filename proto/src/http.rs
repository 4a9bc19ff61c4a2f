//! Serving a role's HTTP router (WebHDFS, the web UI, `/metrics`) beside its gRPC services: bind, serve
//! on the same runtime, stop gracefully when the role's shutdown signal turns true.

use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running HTTP server: its bound address and its task.
#[derive(Debug)]
pub struct HttpServer {
    pub addr: SocketAddr,
    pub task: JoinHandle<()>,
}

/// Binds `addr` (port 0: any free port) and serves `router` until `stop` turns true; requests in
/// flight then finish. The error is the bind's.
pub async fn serve(
    addr: SocketAddr,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<HttpServer> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        // With the peer's address (axum's `ConnectInfo`): WebHDFS sends a caller to a datanode on
        // its own host.
        let served = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
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

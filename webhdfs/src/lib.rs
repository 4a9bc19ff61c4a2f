//! WebHDFS, Hadoop's REST API for files (`/webhdfs/v1/<path>?op=...`), for unmodified HDFS clients
//! (HdfsCLI, fsspec, curl): a gateway over the client library, like Hadoop's HttpFS, served on the
//! namenode's and the datanodes' own HTTP ports. A request becomes [`basalt_client::Client`] calls as
//! its caller (`user.name`), so it is checked and answered exactly as over gRPC.
//!
//! - [`namenode_routes`]: metadata ops, and `307` redirects of the data ops to a datanode
//!   ([`namenode`]).
//! - [`datanode_routes`]: the data ops, bodies streamed both ways in bounded memory ([`datanode`]).
//! - Pure parts, unit-tested: [`op`] (op names and methods), [`params`] (typed parameters),
//!   [`request`] (path, op, caller), [`url`] (paths in URLs), [`json`] (Hadoop's JSON bodies),
//!   [`checksum`] (GETFILECHECKSUM), [`error`] (the `RemoteException` body and status codes).
//! - [`compat`]: the permission calls of the client that WebHDFS makes.

pub mod checksum;
pub mod compat;
pub mod datanode;
pub mod error;
pub mod json;
pub mod namenode;
pub mod op;
pub mod params;
pub mod request;
pub mod url;

pub use datanode::DatanodeGateway;
pub use error::WebHdfsError;
pub use namenode::NamenodeGateway;

use axum::Router;
use axum::routing::any;
use std::sync::Arc;

/// The namenode's WebHDFS routes.
pub fn namenode_routes(gateway: NamenodeGateway) -> Router {
    let gw = Arc::new(gateway);
    Router::new()
        .route(url::PREFIX, any(namenode::handle))
        .route(&format!("{}/", url::PREFIX), any(namenode::handle))
        .route(&format!("{}/{{*path}}", url::PREFIX), any(namenode::handle))
        .with_state(gw)
}

/// A datanode's WebHDFS routes.
pub fn datanode_routes(gateway: DatanodeGateway) -> Router {
    let gw = Arc::new(gateway);
    Router::new()
        .route(url::PREFIX, any(datanode::handle))
        .route(&format!("{}/", url::PREFIX), any(datanode::handle))
        .route(&format!("{}/{{*path}}", url::PREFIX), any(datanode::handle))
        .with_state(gw)
}

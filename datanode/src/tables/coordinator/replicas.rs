//! [`Replicas`]: how a coordinator reaches one replica, local or remote. The coordinator's logic
//! (consistency, hints, digests, repair) is written against this trait; the datanode implements it
//! with its own table store for itself and the `TableReplica` gRPC service for the others, and tests
//! can put faults in between.

use basalt_common::DatanodeId;
use basalt_proto::RemoteError;
use futures::future::BoxFuture;
use std::sync::Arc;

/// Encoded partitions (`basalt_table::partition::encode`), shared by every replica's call.
pub type Partitions = Arc<Vec<Vec<u8>>>;

/// A replica's answer to a read.
#[derive(Clone, Debug)]
pub struct ReadAnswer {
    /// The encoded partition; empty for a digest-only read.
    pub partition: Vec<u8>,
    pub digest: Vec<u8>,
}

pub trait Replicas: Send + Sync + 'static {
    /// Applies `partitions` on `node`, atomically there.
    fn apply(&self, node: DatanodeId, partitions: Partitions) -> BoxFuture<'static, Result<(), RemoteError>>;

    /// Reads from `node` with an encoded `basalt_table::read::ReadCommand`.
    fn read(
        &self,
        node: DatanodeId,
        command: Arc<Vec<u8>>,
        digest_only: bool,
    ) -> BoxFuture<'static, Result<ReadAnswer, RemoteError>>;

    /// Whether `node` answers at all (an empty apply), for the liveness of down nodes.
    fn probe(&self, node: DatanodeId) -> BoxFuture<'static, Result<(), RemoteError>> {
        self.apply(node, Arc::new(Vec::new()))
    }
}

/// Where a coordinator keeps hints for replicas that missed a write.
pub trait HintSink: Send + Sync + 'static {
    /// Stores durably that `target` must still get `partitions`.
    fn hint(&self, target: DatanodeId, partitions: &[Vec<u8>]);
}

//! Cached gRPC channels to datanodes.

use crate::error::{ClientError, Result};
use basalt_common::MAX_RPC_MESSAGE;
use basalt_proto::link::{Channel, Connector};
use basalt_proto::pb::data_transfer_client::DataTransferClient;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tonic::transport::Endpoint;

pub type DnClient = DataTransferClient<Channel>;

pub struct DatanodePool {
    connector: Connector,
    channels: Mutex<HashMap<String, Channel>>,
}

impl DatanodePool {
    pub fn new(connector: Connector) -> Self {
        DatanodePool {
            connector,
            channels: Mutex::default(),
        }
    }

    pub fn client(&self, addr: &str) -> Result<DnClient> {
        let mut channels = self.channels.lock().expect("pool lock poisoned");
        let channel = match channels.get(addr) {
            Some(c) => c.clone(),
            None => {
                let endpoint = Endpoint::from_shared(format!("http://{addr}"))
                    .map_err(|e| ClientError::InvalidArgument(format!("bad datanode address {addr:?}: {e}")))?
                    .connect_timeout(Duration::from_secs(3))
                    .tcp_nodelay(true)
                    // Bulk data: large flow-control windows and frames (h2 defaults are 64 KiB and
                    // 16 KiB, which stall 1 MiB packets and cost a frame header per 16 KiB).
                    .initial_stream_window_size(8 << 20)
                    .initial_connection_window_size(16 << 20)
                    .max_frame_size(1 << 20);
                let c = self.connector.connect_lazy(endpoint);
                channels.insert(addr.to_string(), c.clone());
                c
            }
        };
        Ok(DataTransferClient::new(channel)
            .max_decoding_message_size(MAX_RPC_MESSAGE)
            .max_encoding_message_size(MAX_RPC_MESSAGE))
    }
}

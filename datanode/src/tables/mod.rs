//! Partitioned tables on a datanode (Cassandra's model); `store` keeps this replica's rows in RocksDB.

pub mod store;

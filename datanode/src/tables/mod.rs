//! Tables on a datanode: its replica of the table rows (the RocksDB [`store`]), and the coordinator of
//! reads and writes at a consistency level.

pub mod coordinator;
pub mod exec;
pub mod replicas;
pub mod store;

//! Tables on a datanode: the coordinator of reads and writes at a consistency level.

pub mod coordinator;
pub mod exec;
pub mod replicas;

//! The datanode side of the namenode protocol: one [`link`] per namenode member (register, full block
//! report, heartbeats, incremental reports, reconnect), the incremental report queues ([`reports`]) and
//! the execution of commands received in heartbeat replies ([`commands`]).

mod commands;
mod link;
mod reports;

pub(crate) use link::{LinkInfo, namenode_channel, run_link};
pub use reports::{Batch, ReportQueue, ReportedBlock, Reports};

//! The in-process fault suite: one test binary (its tests run in parallel, each with its own cluster;
//! one link step for all of them).

mod cells;
mod cql_support;
mod ha;
mod known_bugs;
mod links;
mod pipeline;
mod restart;
mod rows;
mod snapshot;
mod tables;
mod timeouts;
mod types;

//! End-to-end tests against real `basalt` processes (one test binary; see `harness`).

mod corruption;
mod cql_clients;
mod errors;
mod faults;
mod files;
mod ha;
mod harness;
mod healing;
mod jobs;
mod jobs_faults;
mod linearizability;
mod local;
mod metrics;
mod permission_cases;
mod permissions;
mod pytest;
mod restart;
mod shell;
mod table_store;
mod tables;
mod upgrade;
mod web;
mod webhdfs_clients;

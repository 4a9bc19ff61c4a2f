//! End-to-end tests against real `basalt` processes (one test binary; see `harness`).

mod errors;
mod files;
mod harness;
mod restart;
mod shell;

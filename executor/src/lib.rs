//! The Basalt executor: runs the tasks of MapReduce-style jobs over partitions (file splits, token
//! ranges) next to the data, writes shuffle output for the datanode on its host to serve, and holds no
//! state of its own.
//!
//! Not built yet: jobs arrive with the compute issues. This crate exists so the workspace layout is fixed
//! from the start; it takes its dependencies (`common`, `proto`, the jobs crate) with its first code, in
//! the usual direction (`common` ← `proto` ← role crates ← `basalt`).

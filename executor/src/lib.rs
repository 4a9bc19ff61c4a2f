//! The Basalt executor: runs the tasks of MapReduce-style jobs over partitions (file splits, token
//! ranges) next to the data, writes shuffle output for the datanode on its host to serve, and holds no
//! state of its own.
//!
//! Not built yet: jobs arrive with the compute issues. This crate exists so the workspace layout and the
//! dependency direction (`common` ← `proto` ← role crates ← `basalt`) are fixed from the start.

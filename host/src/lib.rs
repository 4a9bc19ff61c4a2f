//! What every Basalt process needs from the machine it runs on, in one place so that the roles agree:
//!
//! - [`durable`]: crash-safe file replacement (temp file, fsync, rename, directory fsync; the temp file
//!   is removed if anything fails) and durable directory creation.
//! - [`identity`]: the machine's identity ([`host_id`]: equal ids share a filesystem, which is how a
//!   client knows it may read a datanode's block files directly) and its hostname.
//! - [`users`]: OS users and groups (a client's default identity, the namenode's default superuser and
//!   its `os` group mapping).
//!
//! It sits beside `proto` in the dependency order: `common` has no IO, and the role crates (namenode,
//! datanode, client) never depend on each other, so what they share that does IO lives here.

pub mod durable;
pub mod identity;
pub mod users;

pub use durable::{PathIoError, create_dir_durable, fsync_dir, write_atomic};
pub use identity::{host_id, hostname};
pub use users::{os_groups, os_user};

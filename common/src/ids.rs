//! Newtype identifiers. Each is a `u64` on the wire; the type keeps them from being mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(
    /// A block of a file; replicas on datanodes are named `blk_<id>`.
    BlockId,
    "blk_"
);
id_type!(
    /// Generation stamp of a block: bumped when a pipeline is recovered so stale replicas are recognisable.
    GenStamp,
    "gs"
);
id_type!(
    /// A datanode's identity, chosen at its first start and kept in its data directory.
    DatanodeId,
    "dn-"
);
id_type!(
    /// An inode (file or directory) of the namespace.
    InodeId,
    "inode-"
);

impl DatanodeId {
    /// Short hexadecimal form for listings.
    pub fn short(&self) -> String {
        format!("{:016x}", self.0)
    }
}
id_type!(
    /// A table of the catalog; its rows live in the column family `t<id>` on each replica.
    TableId,
    "tbl-"
);
id_type!(
    /// A column of a table, stable across renames; a dropped then re-added name gets a new id, so
    /// cells of the dropped column never come back.
    ColumnId,
    "col-"
);

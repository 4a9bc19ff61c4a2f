//! Newtype identifiers of the jobs feature.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A job, numbered by the metadata group from 1 in submission order.
    JobId,
    u64,
    "job_"
);
id_type!(
    /// A stage of a job: 0 is the map stage, 1 the reduce stage after the shuffle.
    StageId,
    u32,
    "s"
);
id_type!(
    /// A partition of a stage (one task each): a map task's input split, a reduce task's key range.
    Partition,
    u32,
    "p"
);
id_type!(
    /// One try of a task, from 1.
    AttemptId,
    u32,
    "a"
);
id_type!(
    /// An executor process, chosen at random when it starts (executors keep no state).
    ExecutorId,
    u64,
    "exec-"
);

/// One attempt of one task: what a launch, a report and a cancel name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AttemptRef {
    pub job: JobId,
    pub stage: StageId,
    pub partition: Partition,
    pub attempt: AttemptId,
}

impl fmt::Display for AttemptRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}/{}", self.job, self.stage, self.partition, self.attempt)
    }
}

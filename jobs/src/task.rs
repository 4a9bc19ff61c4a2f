//! What an executor is told to run and what it reports back. A descriptor is complete: the executor
//! needs nothing else from the scheduler to run it (a job binary in task mode, later, receives the
//! same descriptor).

use crate::ids::{AttemptId, AttemptRef, Partition};
use crate::spec::{InputFormat, MapOp, Partitioner, ReduceOp, Split};
use basalt_common::DatanodeId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One task attempt to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDescriptor {
    pub attempt: AttemptRef,
    pub kind: TaskKind,
    /// Environment of streaming commands (`-cmdenv`), and `-D` settings.
    #[serde(default)]
    pub env: Vec<(String, String)>,
    #[serde(default)]
    pub conf: Vec<(String, String)>,
    /// Basalt files copied into the task's working directory first.
    #[serde(default)]
    pub files: Vec<String>,
    /// Kill the attempt after this long (0: no limit).
    pub timeout_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskKind {
    Map {
        split: Split,
        format: InputFormat,
        op: MapOp,
        output: MapOutput,
    },
    Reduce {
        /// Every map task's output (its partition `attempt.partition` is this task's input).
        inputs: Vec<MapOutputLoc>,
        op: ReduceOp,
        /// Where the attempt writes its part file.
        temp_path: String,
    },
    Commit {
        output_dir: String,
        /// (temporary path, final path) of each part file, in partition order.
        parts: Vec<(String, String)>,
    },
}

/// Where a map task's records go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MapOutput {
    /// Partitioned, sorted and combined runs, written to the shuffle service of datanode `datanode`.
    Shuffle {
        datanode: DatanodeId,
        addr: String,
        partitions: u32,
        partitioner: Partitioner,
        combine: Combine,
    },
    /// A map-only job: the records are the output, written to `temp_path`.
    File { temp_path: String },
}

/// The map-side combiner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Combine {
    None,
    /// Values are decimal counts, summed.
    Sum,
    /// A streaming command over each partition's sorted lines.
    Streaming {
        command: String,
    },
}

/// Where one map task's shuffle output lives: which datanode, which attempt wrote it, and the size of
/// each reduce partition's run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapOutputLoc {
    pub partition: Partition,
    pub attempt: AttemptId,
    pub datanode: DatanodeId,
    pub addr: String,
    pub sizes: Vec<u64>,
}

/// What an attempt made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskResult {
    Map(MapOutputLoc),
    /// A part file at its temporary path.
    Written {
        temp_path: String,
    },
    Committed,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskOutcome {
    Succeeded(TaskResult),
    Failed {
        error: String,
        /// The last lines the task's command wrote on stderr (streaming).
        #[serde(default)]
        stderr_tail: Vec<String>,
        /// A reduce task could not read this map task's output: it must be recomputed.
        #[serde(default)]
        fetch_failed: Option<Partition>,
    },
}

/// Sizes an attempt measured.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStats {
    pub input_bytes: u64,
    pub records_in: u64,
    pub records_out: u64,
    pub shuffle_written: u64,
    pub shuffle_read: u64,
    pub output_bytes: u64,
}

/// An attempt's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReport {
    pub attempt: AttemptRef,
    pub outcome: TaskOutcome,
    #[serde(default)]
    pub stats: TaskStats,
    /// `GROUP:COUNTER` → value (streaming `reporter:counter:` lines, built-in counters).
    #[serde(default)]
    pub counters: BTreeMap<String, i64>,
}

/// A part file's final name: `part-NNNNN`.
pub fn part_name(partition: Partition) -> String {
    format!("part-{:05}", partition.0)
}

/// Where an attempt writes its part file before the commit: `OUT/_temporary/part-NNNNN.aN`.
pub fn temp_part_path(output_dir: &str, partition: Partition, attempt: AttemptId) -> String {
    format!(
        "{}/_temporary/{}.{}",
        output_dir.trim_end_matches('/'),
        part_name(partition),
        attempt
    )
}

/// The final path of a part file.
pub fn final_part_path(output_dir: &str, partition: Partition) -> String {
    format!("{}/{}", output_dir.trim_end_matches('/'), part_name(partition))
}

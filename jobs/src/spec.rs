//! The job spec: what a client submits and the metadata group records. It is complete on its own (the
//! input splits are computed at submission, as Hadoop's job client does), so the planner is a pure
//! function of it and a new leader re-plans a job from its record alone.

use basalt_common::{DatanodeId, ErrorKind};
use serde::{Deserialize, Serialize};

/// Most reduce partitions a job may ask for.
pub const MAX_PARTITIONS: u32 = 10_000;
/// Size of a TeraSort record and of its key.
pub const TERASORT_RECORD: usize = 100;
pub const TERASORT_KEY: usize = 10;

/// A job as submitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// A name for listings (`wordcount`, `streaming`, ...).
    pub name: String,
    /// The input paths as given (files or directories), for display.
    pub inputs: Vec<String>,
    /// How the input is cut into records.
    pub input_format: InputFormat,
    /// One map task per split.
    pub splits: Vec<Split>,
    /// The output directory (must not exist at submission; `part-NNNNN` files and `_SUCCESS` at the end).
    pub output: String,
    pub map: MapOp,
    /// The reduce stage after the shuffle; `None`: a map-only job (map tasks write the part files).
    pub reduce: Option<ReduceSpec>,
    /// Environment of streaming commands (`-cmdenv K=V`).
    #[serde(default)]
    pub env: Vec<(String, String)>,
    /// Files (Basalt paths) copied into each task's working directory before it runs (`-file`, `-files`).
    #[serde(default)]
    pub files: Vec<String>,
    /// Job settings (`-D key=value`); also given to streaming commands as Hadoop does (dots → `_`).
    #[serde(default)]
    pub conf: Vec<(String, String)>,
    /// Attempts of a task before the job fails (Hadoop's `mapreduce.map.maxattempts`, default 4).
    pub max_attempts: u32,
    /// A task attempt running longer than this is killed and failed (0: no limit).
    pub task_timeout_ms: u64,
    /// Who submitted it.
    #[serde(default)]
    pub user: String,
}

/// How input bytes become records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputFormat {
    /// Text lines (`\n`, a trailing `\r` dropped); a line belongs to the split where it starts.
    Lines,
    /// Fixed-size records (TeraSort: 100 bytes, the key their first 10); a record belongs to the split
    /// where it starts.
    Records { size: u32 },
}

/// A contiguous byte range of one input file: one block, with the datanodes holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub path: String,
    pub offset: u64,
    pub length: u64,
    /// The whole file's length (a reader finishing its last line stops there).
    pub file_length: u64,
    /// Datanodes holding a replica of the block, at submission.
    pub hosts: Vec<DatanodeId>,
}

/// The operator of the map stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MapOp {
    /// Words split on whitespace → (word, 1), combined map-side.
    WordCount,
    /// Lines containing `pattern` (a plain substring), as they are.
    Grep { pattern: String },
    /// Each record as (its key, the rest): TeraSort.
    Identity,
    /// Hadoop Streaming: lines on the command's stdin, `key\tvalue` lines from its stdout.
    Streaming {
        command: String,
        #[serde(default)]
        combiner: Option<String>,
    },
}

/// The reduce stage: a shuffle into `partitions`, then `op` over each partition's sorted records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReduceSpec {
    pub partitions: u32,
    pub partitioner: Partitioner,
    pub op: ReduceOp,
}

/// Which reduce partition a key goes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Partitioner {
    /// A stable hash of the key (FNV-1a), modulo the partitions.
    Hash,
    /// Sorted split points (`partitions - 1` of them): partition i holds keys in `[bounds[i-1],
    /// bounds[i])`, so part files are in key order (TeraSort's total order partitioner).
    Range { bounds: Vec<Vec<u8>> },
}

/// The operator of the reduce stage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReduceOp {
    /// Values are decimal counts: `key\tsum` lines (word count).
    Sum,
    /// Records written as they are, key then value (TeraSort).
    Identity,
    /// Hadoop Streaming: sorted `key\tvalue` lines on stdin; its stdout lines are the output.
    Streaming { command: String },
}

/// Why a spec is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SpecError {
    #[error("the output directory must be an absolute path (got {path:?})")]
    OutputNotAbsolute { path: String },
    #[error("a job needs at least one input path")]
    NoInput,
    #[error("reduce partitions must be within 1..={MAX_PARTITIONS} (got {got}); use 0 reduce tasks for map-only")]
    Partitions { got: u32 },
    #[error("the range partitioner of {partitions} partitions needs {} sorted bounds (got {got})", partitions - 1)]
    RangeBounds { partitions: u32, got: usize },
    #[error("max attempts must be within 1..=100 (got {got})")]
    MaxAttempts { got: u32 },
    #[error("the {role} command is empty")]
    EmptyCommand { role: String },
    #[error("grep needs a non-empty pattern")]
    EmptyPattern,
    #[error("record size must be within 1..=1MiB (got {got})")]
    RecordSize { got: u32 },
    #[error("split {index} of {path} is empty or past the end of the file")]
    BadSplit { index: usize, path: String },
}

impl SpecError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            SpecError::OutputNotAbsolute { .. }
            | SpecError::NoInput
            | SpecError::Partitions { .. }
            | SpecError::RangeBounds { .. }
            | SpecError::MaxAttempts { .. }
            | SpecError::EmptyCommand { .. }
            | SpecError::EmptyPattern
            | SpecError::RecordSize { .. }
            | SpecError::BadSplit { .. } => ErrorKind::Invalid,
        }
    }
}

impl JobSpec {
    /// A spec with the defaults Hadoop uses (4 attempts, a 10-minute task timeout), no splits yet.
    pub fn new(name: &str, inputs: Vec<String>, output: &str, map: MapOp, reduce: Option<ReduceSpec>) -> Self {
        JobSpec {
            name: name.to_string(),
            inputs,
            input_format: InputFormat::Lines,
            splits: Vec::new(),
            output: output.to_string(),
            map,
            reduce,
            env: Vec::new(),
            files: Vec::new(),
            conf: Vec::new(),
            max_attempts: 4,
            task_timeout_ms: 600_000,
            user: String::new(),
        }
    }

    /// Checks everything a planner and a task runner rely on.
    pub fn validate(&self) -> Result<(), SpecError> {
        if !self.output.starts_with('/') {
            return Err(SpecError::OutputNotAbsolute {
                path: self.output.clone(),
            });
        }
        if self.inputs.is_empty() {
            return Err(SpecError::NoInput);
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err(SpecError::MaxAttempts { got: self.max_attempts });
        }
        if let InputFormat::Records { size } = self.input_format
            && !(1..=1 << 20).contains(&size)
        {
            return Err(SpecError::RecordSize { got: size });
        }
        for (index, s) in self.splits.iter().enumerate() {
            if s.length == 0 || s.offset + s.length > s.file_length {
                return Err(SpecError::BadSplit {
                    index,
                    path: s.path.clone(),
                });
            }
        }
        match &self.map {
            MapOp::Grep { pattern } if pattern.is_empty() => return Err(SpecError::EmptyPattern),
            MapOp::Streaming { command, combiner } => {
                if command.trim().is_empty() {
                    return Err(SpecError::EmptyCommand { role: "mapper".into() });
                }
                if combiner.as_ref().is_some_and(|c| c.trim().is_empty()) {
                    return Err(SpecError::EmptyCommand {
                        role: "combiner".into(),
                    });
                }
            }
            _ => {}
        }
        if let Some(r) = &self.reduce {
            if !(1..=MAX_PARTITIONS).contains(&r.partitions) {
                return Err(SpecError::Partitions { got: r.partitions });
            }
            if let Partitioner::Range { bounds } = &r.partitioner
                && (bounds.len() + 1 != r.partitions as usize || !bounds.is_sorted())
            {
                return Err(SpecError::RangeBounds {
                    partitions: r.partitions,
                    got: bounds.len(),
                });
            }
            if let ReduceOp::Streaming { command } = &r.op
                && command.trim().is_empty()
            {
                return Err(SpecError::EmptyCommand { role: "reducer".into() });
            }
        }
        Ok(())
    }

    /// Partitions of the last stage (what becomes `part-NNNNN` files).
    pub fn output_partitions(&self) -> u32 {
        match &self.reduce {
            Some(r) => r.partitions,
            None => self.splits.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> JobSpec {
        let mut s = JobSpec::new(
            "wc",
            vec!["/in".into()],
            "/out",
            MapOp::WordCount,
            Some(ReduceSpec {
                partitions: 2,
                partitioner: Partitioner::Hash,
                op: ReduceOp::Sum,
            }),
        );
        s.splits.push(Split {
            path: "/in".into(),
            offset: 0,
            length: 10,
            file_length: 10,
            hosts: vec![],
        });
        s
    }

    #[test]
    fn validation_names_the_problem() {
        assert_eq!(spec().validate(), Ok(()));
        let mut s = spec();
        s.output = "out".into();
        assert!(matches!(s.validate(), Err(SpecError::OutputNotAbsolute { .. })));
        let mut s = spec();
        s.reduce.as_mut().unwrap().partitions = 0;
        assert_eq!(s.validate(), Err(SpecError::Partitions { got: 0 }));
        let mut s = spec();
        s.reduce.as_mut().unwrap().partitioner = Partitioner::Range { bounds: vec![] };
        assert!(matches!(s.validate(), Err(SpecError::RangeBounds { .. })));
        let mut s = spec();
        s.splits[0].length = 11;
        assert!(matches!(s.validate(), Err(SpecError::BadSplit { index: 0, .. })));
        let mut s = spec();
        s.map = MapOp::Streaming {
            command: " ".into(),
            combiner: None,
        };
        assert_eq!(s.validate(), Err(SpecError::EmptyCommand { role: "mapper".into() }));
    }
}

//! The planner: a job spec → stages cut at the shuffle → one task per partition.
//!
//! | stage | tasks | preferred datanodes | output |
//! |---|---|---|---|
//! | 0 map | one per input split | the split's replicas | a shuffle (sorted runs per reduce partition, on the datanode of the executor's host), or part files for a map-only job |
//! | 1 reduce (if any) | one per reduce partition | none | part files |
//! | last: commit | one | none | the part files renamed into place, `_SUCCESS` |
//!
//! The commit stage is a task like the others (run by an executor, retried the same way), so a job's
//! output is published by the same machinery that made it.

use crate::ids::{Partition, StageId};
use crate::spec::JobSpec;
use basalt_common::DatanodeId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StageKind {
    Map,
    Reduce,
    Commit,
}

impl StageKind {
    pub fn name(self) -> &'static str {
        match self {
            StageKind::Map => "map",
            StageKind::Reduce => "reduce",
            StageKind::Commit => "commit",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskPlan {
    pub partition: Partition,
    /// Datanodes whose host holds the task's input (empty: anywhere is as good).
    pub preferred: Vec<DatanodeId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagePlan {
    pub id: StageId,
    pub kind: StageKind,
    pub tasks: Vec<TaskPlan>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub stages: Vec<StagePlan>,
}

impl Plan {
    /// The stage that writes the part files (reduce, or map for a map-only job).
    pub fn output_stage(&self) -> usize {
        self.stages.len() - 2
    }
}

/// Plans a (validated) spec.
pub fn plan(spec: &JobSpec) -> Plan {
    let mut stages = vec![StagePlan {
        id: StageId(0),
        kind: StageKind::Map,
        tasks: spec
            .splits
            .iter()
            .enumerate()
            .map(|(i, s)| TaskPlan {
                partition: Partition(i as u32),
                preferred: s.hosts.clone(),
            })
            .collect(),
    }];
    if let Some(r) = &spec.reduce {
        stages.push(StagePlan {
            id: StageId(1),
            kind: StageKind::Reduce,
            tasks: (0..r.partitions)
                .map(|p| TaskPlan {
                    partition: Partition(p),
                    preferred: Vec::new(),
                })
                .collect(),
        });
    }
    stages.push(StagePlan {
        id: StageId(stages.len() as u32),
        kind: StageKind::Commit,
        tasks: vec![TaskPlan {
            partition: Partition(0),
            preferred: Vec::new(),
        }],
    });
    Plan { stages }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{MapOp, Partitioner, ReduceOp, ReduceSpec, Split};

    fn spec(reduces: Option<u32>) -> JobSpec {
        let mut s = JobSpec::new(
            "t",
            vec!["/in".into()],
            "/out",
            MapOp::WordCount,
            reduces.map(|partitions| ReduceSpec {
                partitions,
                partitioner: Partitioner::Hash,
                op: ReduceOp::Sum,
            }),
        );
        for i in 0..3u64 {
            s.splits.push(Split {
                path: "/in".into(),
                offset: i * 10,
                length: 10,
                file_length: 30,
                hosts: vec![DatanodeId(i + 1)],
            });
        }
        s
    }

    #[test]
    fn stages_are_cut_at_the_shuffle() {
        let p = plan(&spec(Some(2)));
        let kinds: Vec<StageKind> = p.stages.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [StageKind::Map, StageKind::Reduce, StageKind::Commit]);
        assert_eq!(p.stages[0].tasks.len(), 3);
        assert_eq!(p.stages[0].tasks[1].preferred, vec![DatanodeId(2)]);
        assert_eq!(p.stages[1].tasks.len(), 2);
        assert_eq!(p.output_stage(), 1);
        let p = plan(&spec(None));
        assert_eq!(p.stages.len(), 2);
        assert_eq!(p.output_stage(), 0);
        assert_eq!(p.stages[1].id, StageId(1));
    }
}

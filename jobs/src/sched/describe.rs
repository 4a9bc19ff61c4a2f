//! The descriptor of one attempt: everything an executor needs to run it, from the job's spec, the
//! plan and the results of earlier stages.

use super::{ExecutorInfo, JobRun, TaskState};
use crate::ids::{AttemptRef, Partition};
use crate::plan::StageKind;
use crate::task::{Combine, MapOutput, TaskDescriptor, TaskKind, TaskResult, final_part_path, temp_part_path};

/// The full descriptor of attempt `a` of a task of `run`, to run on the executor `info` describes.
pub(super) fn describe(run: &JobRun, a: AttemptRef, info: &ExecutorInfo) -> TaskDescriptor {
    let spec = &run.spec;
    let si = a.stage.0 as usize;
    let kind = match run.plan.stages[si].kind {
        StageKind::Map => {
            let output = match &spec.reduce {
                Some(r) => MapOutput::Shuffle {
                    datanode: info.datanode,
                    addr: info.datanode_addr.clone(),
                    partitions: r.partitions,
                    partitioner: r.partitioner.clone(),
                    combine: match &spec.map {
                        crate::spec::MapOp::WordCount => Combine::Sum,
                        crate::spec::MapOp::Streaming {
                            combiner: Some(command),
                            ..
                        } => Combine::Streaming {
                            command: command.clone(),
                        },
                        _ => Combine::None,
                    },
                },
                None => MapOutput::File {
                    temp_path: temp_part_path(&spec.output, a.partition, a.attempt),
                },
            };
            TaskKind::Map {
                split: spec.splits[a.partition.0 as usize].clone(),
                format: spec.input_format,
                op: spec.map.clone(),
                output,
            }
        }
        StageKind::Reduce => TaskKind::Reduce {
            inputs: run.map_outputs.clone(),
            op: spec
                .reduce
                .as_ref()
                .expect("a reduce stage has a reduce spec")
                .op
                .clone(),
            temp_path: temp_part_path(&spec.output, a.partition, a.attempt),
        },
        StageKind::Commit => {
            let out_stage = run.plan.output_stage();
            let parts = run.tasks[out_stage]
                .iter()
                .enumerate()
                .filter_map(|(p, t)| match &t.state {
                    TaskState::Done {
                        result: TaskResult::Written { temp_path },
                    } => Some((temp_path.clone(), final_part_path(&spec.output, Partition(p as u32)))),
                    _ => None,
                })
                .collect();
            TaskKind::Commit {
                output_dir: spec.output.clone(),
                parts,
            }
        }
    };
    TaskDescriptor {
        attempt: a,
        kind,
        env: spec.env.clone(),
        conf: spec.conf.clone(),
        files: spec.files.clone(),
        timeout_ms: spec.task_timeout_ms,
    }
}

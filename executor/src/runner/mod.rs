//! One task attempt, run on its own OS thread (IO goes through the runtime's handle).
//!
//! Phases of every attempt: make its working directory and copy the job's files into it; run the
//! task; remove the directory; report. By kind:
//! - **map**: read the split (whole lines or records that start in it); run the operator (built-in,
//!   or the streaming mapper as a child process); then either partition by key, sort each partition,
//!   combine it (word count's sum, or the streaming combiner) and write the runs to the shuffle
//!   service of this host's datanode, or (map-only) write the records as a part file at the
//!   attempt's temporary path;
//! - **reduce**: fetch this partition's run of every map output (a failed fetch reports which map
//!   output must be recomputed), merge the sorted runs, run the reducer, write the part file at the
//!   attempt's temporary path;
//! - **commit**: rename every part file from its temporary path into place (a part already in place
//!   from an earlier commit attempt is kept), write `_SUCCESS`, remove `_temporary`.

pub mod error;
mod input;
pub mod ops;
mod shuffle_io;
pub mod streaming;

use basalt_client::{Client, CreateOptions};
use basalt_jobs::ids::AttemptRef;
use basalt_jobs::records::{Record, merge, partition_of, put_record};
use basalt_jobs::spec::{MapOp, ReduceOp, Split};
use basalt_jobs::task::{
    Combine, MapOutput, MapOutputLoc, TaskDescriptor, TaskKind, TaskOutcome, TaskReport, TaskResult, TaskStats,
};
use error::TaskError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What an attempt runs with.
pub struct TaskEnv {
    pub rt: tokio::runtime::Handle,
    pub client: Client,
    /// The executor's work dir (each attempt gets a directory below it).
    pub work_dir: PathBuf,
    pub cancel: Arc<AtomicBool>,
}

/// What the phases accumulate.
#[derive(Default)]
struct Progress {
    stats: TaskStats,
    counters: BTreeMap<String, i64>,
}

impl Progress {
    fn count(&mut self, name: &str, n: u64) {
        *self.counters.entry(format!("Map-Reduce Framework:{name}")).or_insert(0) += n as i64;
    }

    fn add(&mut self, counters: BTreeMap<String, i64>) {
        for (k, v) in counters {
            *self.counters.entry(k).or_insert(0) += v;
        }
    }
}

/// Runs attempt `t` to its end.
pub fn run(env: &TaskEnv, t: &TaskDescriptor) -> TaskReport {
    let a = t.attempt;
    let cwd = env
        .work_dir
        .join(a.job.to_string())
        .join(format!("{}-{}-{}", a.stage, a.partition, a.attempt));
    let mut p = Progress::default();
    let result = prepare(env, t, &cwd).and_then(|()| run_kind(env, t, &cwd, &mut p));
    let _ = std::fs::remove_dir_all(&cwd);
    let outcome = match result {
        Ok(r) => TaskOutcome::Succeeded(r),
        Err(e) => {
            tracing::info!(attempt = %a, error = %e, "task attempt failed");
            TaskOutcome::Failed {
                error: e.to_string(),
                stderr_tail: e.stderr_tail(),
                fetch_failed: e.fetch_failed(),
            }
        }
    };
    TaskReport {
        attempt: a,
        outcome,
        stats: p.stats,
        counters: p.counters,
    }
}

fn check(env: &TaskEnv) -> Result<(), TaskError> {
    if env.cancel.load(Ordering::Acquire) {
        return Err(TaskError::Cancelled);
    }
    Ok(())
}

/// The working directory, with the job's files in it.
fn prepare(env: &TaskEnv, t: &TaskDescriptor, cwd: &Path) -> Result<(), TaskError> {
    std::fs::create_dir_all(cwd).map_err(TaskError::local(cwd))?;
    for f in &t.files {
        let name = f.rsplit('/').next().unwrap_or(f);
        let bytes = env
            .rt
            .block_on(env.client.read_all(f))
            .map_err(TaskError::fs("fetching job file", f))?;
        let local = cwd.join(name);
        std::fs::write(&local, bytes).map_err(TaskError::local(&local))?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o755)).map_err(TaskError::local(&local))?;
    }
    Ok(())
}

fn run_kind(env: &TaskEnv, t: &TaskDescriptor, cwd: &Path, p: &mut Progress) -> Result<TaskResult, TaskError> {
    let deadline = (t.timeout_ms > 0).then(|| Instant::now() + Duration::from_millis(t.timeout_ms));
    match &t.kind {
        TaskKind::Map {
            split,
            format,
            op,
            output,
        } => {
            let data = input::read_split(env, split, *format)?;
            p.stats.input_bytes = data.len() as u64;
            check(env)?;
            let records = match op {
                MapOp::Streaming { command, .. } => {
                    let vars = hadoop_env(t, Some(split));
                    let env_vars = streaming::task_env(&t.conf, &vars, &t.env);
                    p.count("Map input records", basalt_jobs::lines::lines(&data).count() as u64);
                    let out = streaming::Run {
                        role: "mapper",
                        command,
                        cwd,
                        env: &env_vars,
                        cancel: &env.cancel,
                        deadline,
                    }
                    .run(ops::stdin_lines(&data))?;
                    p.add(out.counters);
                    ops::records_from_lines(&out.stdout)
                }
                op => {
                    let (records, n) = ops::map_builtin(op, *format, &data);
                    p.count("Map input records", n);
                    records
                }
            };
            p.stats.records_in = records.len() as u64;
            p.count("Map output records", records.len() as u64);
            check(env)?;
            match output {
                MapOutput::File { temp_path } => {
                    let bytes = format_map_only(op, &records);
                    write_file(env, temp_path, &bytes, p)?;
                    Ok(TaskResult::Written {
                        temp_path: temp_path.clone(),
                    })
                }
                MapOutput::Shuffle {
                    datanode,
                    addr,
                    partitions,
                    partitioner,
                    combine,
                } => {
                    let mut parts: Vec<Vec<Record>> = vec![Vec::new(); *partitions as usize];
                    for r in records {
                        parts[partition_of(partitioner, *partitions, &r.0) as usize].push(r);
                    }
                    let mut runs = Vec::with_capacity(parts.len());
                    for mut part in parts {
                        part.sort_by(|a, b| a.0.cmp(&b.0));
                        let part = combined(env, t, cwd, combine, part, deadline, p)?;
                        let mut run = Vec::new();
                        for (k, v) in &part {
                            put_record(&mut run, k, v);
                        }
                        runs.push(run);
                    }
                    check(env)?;
                    let sizes = shuffle_io::write_runs(env, addr, &t.attempt, runs)?;
                    p.stats.shuffle_written = sizes.iter().sum();
                    Ok(TaskResult::Map(MapOutputLoc {
                        partition: t.attempt.partition,
                        attempt: t.attempt.attempt,
                        datanode: *datanode,
                        addr: addr.clone(),
                        sizes,
                    }))
                }
            }
        }
        TaskKind::Reduce { inputs, op, temp_path } => {
            let mut runs = Vec::with_capacity(inputs.len());
            for loc in inputs {
                check(env)?;
                if loc.sizes.get(t.attempt.partition.0 as usize) == Some(&0) {
                    continue;
                }
                let (records, bytes) = shuffle_io::fetch_run(env, &t.attempt, 0, loc)?;
                p.stats.shuffle_read += bytes;
                runs.push(records);
            }
            let n: u64 = runs.iter().map(|r| r.len() as u64).sum();
            p.stats.records_in = n;
            p.count("Reduce input records", n);
            let merged = merge(runs);
            let bytes = match op {
                ReduceOp::Sum => ops::to_lines(&ops::sum_sorted(merged)?),
                ReduceOp::Identity => {
                    let mut out = Vec::new();
                    for (k, v) in merged {
                        out.extend_from_slice(&k);
                        out.extend_from_slice(&v);
                    }
                    out
                }
                ReduceOp::Streaming { command } => {
                    let input = ops::to_lines(&merged.collect::<Vec<_>>());
                    let vars = hadoop_env(t, None);
                    let env_vars = streaming::task_env(&t.conf, &vars, &t.env);
                    let out = streaming::Run {
                        role: "reducer",
                        command,
                        cwd,
                        env: &env_vars,
                        cancel: &env.cancel,
                        deadline,
                    }
                    .run(input)?;
                    p.add(out.counters);
                    ops::to_lines(&ops::records_from_lines(&out.stdout))
                }
            };
            check(env)?;
            write_file(env, temp_path, &bytes, p)?;
            Ok(TaskResult::Written {
                temp_path: temp_path.clone(),
            })
        }
        TaskKind::Commit { output_dir, parts } => {
            commit(env, output_dir, parts)?;
            Ok(TaskResult::Committed)
        }
    }
}

/// The map-side combine of one sorted partition.
fn combined(
    env: &TaskEnv,
    t: &TaskDescriptor,
    cwd: &Path,
    combine: &Combine,
    part: Vec<Record>,
    deadline: Option<Instant>,
    p: &mut Progress,
) -> Result<Vec<Record>, TaskError> {
    match combine {
        Combine::None => Ok(part),
        Combine::Sum => ops::sum_sorted(part),
        Combine::Streaming { command } if !part.is_empty() => {
            let vars = hadoop_env(t, None);
            let env_vars = streaming::task_env(&t.conf, &vars, &t.env);
            let out = streaming::Run {
                role: "combiner",
                command,
                cwd,
                env: &env_vars,
                cancel: &env.cancel,
                deadline,
            }
            .run(ops::to_lines(&part))?;
            p.add(out.counters);
            let mut records = ops::records_from_lines(&out.stdout);
            records.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(records)
        }
        Combine::Streaming { .. } => Ok(part),
    }
}

/// A map-only task's output: lines, or the records as they were (fixed-size input).
fn format_map_only(op: &MapOp, records: &[Record]) -> Vec<u8> {
    match op {
        MapOp::Identity if records.iter().all(|(_, v)| !v.is_empty()) => {
            records.iter().flat_map(|(k, v)| k.iter().chain(v)).copied().collect()
        }
        _ => ops::to_lines(records),
    }
}

/// Hadoop's task variables.
fn hadoop_env(t: &TaskDescriptor, split: Option<&Split>) -> Vec<(&'static str, String)> {
    let a: &AttemptRef = &t.attempt;
    let is_map = split.is_some();
    let kind = if is_map { "m" } else { "r" };
    let job = format!("job_{}", a.job.0);
    let task = format!("task_{}_{kind}_{:06}", a.job.0, a.partition.0);
    let mut v = vec![
        ("mapreduce_job_id", job),
        ("mapreduce_task_id", task.clone()),
        (
            "mapreduce_task_attempt_id",
            format!("attempt_{}_{}", &task[5..], a.attempt.0),
        ),
        ("mapreduce_task_partition", a.partition.0.to_string()),
        ("mapreduce_task_ismap", is_map.to_string()),
    ];
    if let Some(s) = split {
        v.extend([
            ("mapreduce_map_input_file", s.path.clone()),
            ("map_input_file", s.path.clone()),
            ("mapreduce_map_input_start", s.offset.to_string()),
            ("mapreduce_map_input_length", s.length.to_string()),
        ]);
    }
    v
}

/// Writes a part file at an attempt's temporary path (replacing what an earlier try left).
fn write_file(env: &TaskEnv, path: &str, bytes: &[u8], p: &mut Progress) -> Result<(), TaskError> {
    let opts = CreateOptions {
        overwrite: true,
        create_parent: true,
        ..Default::default()
    };
    env.rt
        .block_on(env.client.write_all(path, bytes, opts))
        .map_err(TaskError::fs("writing", path))?;
    p.stats.output_bytes = bytes.len() as u64;
    p.count("Output bytes", bytes.len() as u64);
    Ok(())
}

/// Publishes the part files: renames, `_SUCCESS`, and `_temporary` removed. Safe to run again.
fn commit(env: &TaskEnv, output_dir: &str, parts: &[(String, String)]) -> Result<(), TaskError> {
    let c = &env.client;
    env.rt.block_on(async {
        c.mkdirs(output_dir, true)
            .await
            .map_err(TaskError::fs("creating", output_dir))?;
        for (temp, dest) in parts {
            if c.exists(temp).await.map_err(TaskError::fs("checking", temp))? {
                if c.exists(dest).await.map_err(TaskError::fs("checking", dest))? {
                    c.delete(dest, false).await.map_err(TaskError::fs("replacing", dest))?;
                }
                c.rename(temp, dest).await.map_err(TaskError::fs("renaming", temp))?;
            } else if !c.exists(dest).await.map_err(TaskError::fs("checking", dest))? {
                return Err(TaskError::PartMissing {
                    temp: temp.clone(),
                    dest: dest.clone(),
                });
            }
        }
        let tmp = format!("{}/_temporary", output_dir.trim_end_matches('/'));
        if c.exists(&tmp).await.map_err(TaskError::fs("checking", &tmp))? {
            c.delete(&tmp, true).await.map_err(TaskError::fs("removing", &tmp))?;
        }
        let success = format!("{}/_SUCCESS", output_dir.trim_end_matches('/'));
        let opts = CreateOptions {
            overwrite: true,
            ..Default::default()
        };
        c.write_all(&success, b"", opts)
            .await
            .map_err(TaskError::fs("writing", &success))
    })
}

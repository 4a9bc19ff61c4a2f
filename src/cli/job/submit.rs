//! Submission, as Hadoop's job client does it: the input splits (one per block, with the block's
//! replicas) and, for a sort, the range partitioner's bounds from a sample of the input are computed
//! here; the output directory must not exist. Then the job is submitted and, unless detached, watched
//! until it ends.

use super::SubmitOpts;
use super::show;
use anyhow::{Context, Result, bail};
use basalt_client::Client;
use basalt_common::DatanodeId;
use basalt_jobs::lines::{LineSplit, record_range};
use basalt_jobs::records::range_bounds;
use basalt_jobs::spec::{InputFormat, JobSpec, Partitioner, Split, TERASORT_KEY};
use basalt_jobs::status::JobState;
use std::process::ExitCode;
use std::time::Duration;

/// Records read from each split for the sort's sample (and at most this many splits).
const SAMPLE_PER_SPLIT: u64 = 20;
const SAMPLE_SPLITS: usize = 100;

/// The files of the inputs (a directory's files, names starting `_` or `.` skipped, as Hadoop does).
async fn input_files(client: &Client, inputs: &[String]) -> Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for input in inputs {
        let st = client.stat(input).await.with_context(|| format!("input {input}"))?;
        if st.is_dir {
            let mut entries = client.list(input).await.with_context(|| format!("listing {input}"))?;
            entries.sort_by(|a, b| a.path.cmp(&b.path));
            for e in entries {
                let name = e.path.rsplit('/').next().unwrap_or("");
                if !e.is_dir && !name.starts_with('_') && !name.starts_with('.') {
                    out.push((e.path, e.length));
                }
            }
        } else {
            out.push((st.path, st.length));
        }
    }
    Ok(out)
}

/// One split per block of every input file.
pub async fn splits(client: &Client, inputs: &[String]) -> Result<Vec<Split>> {
    let mut out = Vec::new();
    for (path, length) in input_files(client, inputs).await? {
        if length == 0 {
            continue;
        }
        let blocks = client
            .block_locations(&path)
            .await
            .with_context(|| format!("blocks of {path}"))?;
        for b in blocks {
            let len = b.block.as_ref().map_or(0, |x| x.length);
            if len == 0 {
                continue;
            }
            out.push(Split {
                path: path.clone(),
                offset: b.offset,
                length: len.min(length - b.offset),
                file_length: length,
                hosts: b.locations.iter().map(|l| DatanodeId(l.id)).collect(),
            });
        }
    }
    Ok(out)
}

/// Keys sampled from the start of each split (TeraSort's input sampler).
async fn sample_keys(client: &Client, splits: &[Split], size: u64) -> Result<Vec<Vec<u8>>> {
    let mut keys = Vec::new();
    let step = splits.len().div_ceil(SAMPLE_SPLITS).max(1);
    for s in splits.iter().step_by(step) {
        let range = record_range(
            &LineSplit {
                offset: s.offset,
                length: s.length,
                file_length: s.file_length,
            },
            size,
        );
        let end = range.end.min(range.start + SAMPLE_PER_SPLIT * size);
        if end <= range.start {
            continue;
        }
        let mut r = client
            .open(&s.path)
            .await
            .with_context(|| format!("sampling {}", s.path))?;
        r.set_position(range.start);
        let mut buf = vec![0; (end - range.start) as usize];
        let mut filled = 0;
        while filled < buf.len() {
            let n = r
                .read(&mut buf[filled..])
                .await
                .with_context(|| format!("sampling {}", s.path))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        for rec in buf[..filled].chunks(size as usize) {
            keys.push(rec[..TERASORT_KEY.min(rec.len())].to_vec());
        }
    }
    Ok(keys)
}

pub async fn submit_and_wait(client: &Client, mut spec: JobSpec, opts: &SubmitOpts) -> Result<ExitCode> {
    if !spec.output.starts_with('/') {
        bail!("the output directory must be an absolute path (got {:?})", spec.output);
    }
    if client
        .exists(&spec.output)
        .await
        .context("checking the output directory")?
    {
        bail!("output directory {} already exists", spec.output);
    }
    spec.max_attempts = opts.max_attempts;
    spec.user = std::env::var("USER").unwrap_or_default();
    spec.splits = splits(client, &spec.inputs).await?;
    if let (Some(r), InputFormat::Records { size }) = (spec.reduce.as_mut(), spec.input_format)
        && let Partitioner::Range { bounds } = &mut r.partitioner
    {
        let sample = sample_keys(client, &spec.splits, size as u64).await?;
        *bounds = range_bounds(sample, r.partitions);
    }
    spec.validate()?;
    let job = client.submit_job(&spec).await.context("submitting the job")?;
    if opts.detach {
        println!("{job}");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "{job} submitted: {} map tasks, {} reduce tasks",
        spec.splits.len(),
        spec.reduce.as_ref().map_or(0, |r| r.partitions)
    );
    let mut last = String::new();
    loop {
        let st = client
            .job_status(job)
            .await
            .with_context(|| format!("status of {job}"))?;
        let line = show::progress_line(&st);
        if line != last {
            eprintln!("{line}");
            last = line;
        }
        match st.summary.state {
            JobState::Running => tokio::time::sleep(Duration::from_millis(200)).await,
            JobState::Succeeded => {
                println!("{job} succeeded: output in {}", spec.output);
                return Ok(ExitCode::SUCCESS);
            }
            JobState::Failed => bail!(
                "{job} failed: {}",
                st.summary.error.unwrap_or_else(|| "no error recorded".into())
            ),
            JobState::Killed => bail!("{job} was killed"),
        }
    }
}

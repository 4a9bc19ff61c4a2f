//! `basalt job`: submit MapReduce jobs (word count, grep, TeraSort-style sort, Hadoop Streaming), watch,
//! list and kill them. A submitted job runs on the cluster's executors whether or not the command
//! waits; by default it waits, showing progress, and exits non-zero when the job fails.

mod show;
mod streaming;
mod submit;

use anyhow::{Context, Result};
use basalt_jobs::JobId;
use basalt_jobs::spec::{InputFormat, JobSpec, MapOp, Partitioner, ReduceOp, ReduceSpec, TERASORT_RECORD};
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Count words (split on whitespace): `word<TAB>count` lines in OUT/part-NNNNN.
    Wordcount {
        input: String,
        output: String,
        #[command(flatten)]
        opts: SubmitOpts,
    },
    /// Lines of IN containing PATTERN (a plain substring), map-only.
    Grep {
        pattern: String,
        input: String,
        output: String,
        #[command(flatten)]
        opts: SubmitOpts,
    },
    /// Sort 100-byte TeraSort records by their 10-byte keys; part files in key order (range partitions
    /// from a sample of the input).
    Sort {
        input: String,
        output: String,
        #[command(flatten)]
        opts: SubmitOpts,
    },
    /// Hadoop Streaming with Hadoop's flags: -input P [-input P2] -output P -mapper CMD [-combiner CMD]
    /// [-reducer CMD] [-numReduceTasks N] [-file F]... [-files F,G] [-cmdenv K=V]... [-D k=v]...
    #[command(allow_hyphen_values = true, disable_help_flag = true)]
    Streaming {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Every job: id, name, state, time, output.
    List,
    /// One job: stages, tasks done/running/failed, node-local share, bytes, counters.
    Status { id: String },
    /// Kill a running job: its task attempts are cancelled everywhere.
    Kill { id: String },
}

#[derive(Args, Debug, Clone)]
pub struct SubmitOpts {
    /// Reduce tasks (partitions of the output).
    #[arg(long, short = 'r', default_value_t = 2)]
    pub reduces: u32,
    /// Attempts of a task before the job fails.
    #[arg(long, default_value_t = 4)]
    pub max_attempts: u32,
    /// Return once the job is submitted (print its id) instead of waiting for it.
    #[arg(long)]
    pub detach: bool,
}

/// Parses `job_7` or `7`.
pub fn parse_job_id(s: &str) -> Result<JobId> {
    let n = s.strip_prefix("job_").unwrap_or(s);
    n.parse()
        .map(JobId)
        .with_context(|| format!("{s:?} is not a job id (e.g. job_7)"))
}

pub async fn run(namenode: &str, cmd: JobCommand) -> Result<ExitCode> {
    let client = super::client(namenode)?;
    match cmd {
        JobCommand::Wordcount { input, output, opts } => {
            let reduce = ReduceSpec {
                partitions: opts.reduces,
                partitioner: Partitioner::Hash,
                op: ReduceOp::Sum,
            };
            let spec = JobSpec::new("wordcount", vec![input], &output, MapOp::WordCount, Some(reduce));
            submit::submit_and_wait(&client, spec, &opts).await
        }
        JobCommand::Grep {
            pattern,
            input,
            output,
            opts,
        } => {
            let spec = JobSpec::new("grep", vec![input], &output, MapOp::Grep { pattern }, None);
            submit::submit_and_wait(&client, spec, &opts).await
        }
        JobCommand::Sort { input, output, opts } => {
            let reduce = ReduceSpec {
                partitions: opts.reduces,
                partitioner: Partitioner::Range { bounds: Vec::new() },
                op: ReduceOp::Identity,
            };
            let mut spec = JobSpec::new("sort", vec![input], &output, MapOp::Identity, Some(reduce));
            spec.input_format = InputFormat::Records {
                size: TERASORT_RECORD as u32,
            };
            submit::submit_and_wait(&client, spec, &opts).await
        }
        JobCommand::Streaming { args } => {
            let (spec, opts) = streaming::parse(&args)?;
            let spec = streaming::ship_files(&client, spec, &args).await?;
            submit::submit_and_wait(&client, spec, &opts).await
        }
        JobCommand::List => {
            let jobs = client.list_jobs().await.context("listing jobs")?;
            show::list(&jobs);
            Ok(ExitCode::SUCCESS)
        }
        JobCommand::Status { id } => {
            let job = parse_job_id(&id)?;
            let st = client
                .job_status(job)
                .await
                .with_context(|| format!("status of {job}"))?;
            show::status(&st);
            Ok(ExitCode::SUCCESS)
        }
        JobCommand::Kill { id } => {
            let job = parse_job_id(&id)?;
            client.kill_job(job).await.with_context(|| format!("killing {job}"))?;
            println!("{job} killed");
            Ok(ExitCode::SUCCESS)
        }
    }
}

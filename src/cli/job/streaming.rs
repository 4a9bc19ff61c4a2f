//! `basalt job streaming`: Hadoop Streaming's command line, with Hadoop's own (single-dash) flag
//! spelling so existing scripts carry over. `-file`/`-files` name local files: they are uploaded to
//! `/tmp/basalt-jobs/<unique>/` on Basalt and copied into every task's working directory.

use super::SubmitOpts;
use anyhow::{Context, Result, bail};
use basalt_client::{Client, CreateOptions};
use basalt_jobs::spec::{JobSpec, MapOp, Partitioner, ReduceOp, ReduceSpec};

const USAGE: &str = "usage: basalt job streaming -input P [-input P2] -output P -mapper CMD [-combiner CMD] \
                     [-reducer CMD] [-numReduceTasks N] [-file F]... [-files F,G] [-cmdenv K=V]... [-D k=v]...";

/// The spec (without splits) and submit options from Hadoop Streaming's arguments.
pub fn parse(args: &[String]) -> Result<(JobSpec, SubmitOpts)> {
    let mut inputs = Vec::new();
    let (mut output, mut mapper, mut combiner, mut reducer) = (None, None, None, None);
    let mut reduces: Option<u32> = None;
    let mut env = Vec::new();
    let mut conf: Vec<(String, String)> = Vec::new();
    let mut detach = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "-input" => inputs.push(value("-input")?),
            "-output" => output = Some(value("-output")?),
            "-mapper" => mapper = Some(value("-mapper")?),
            "-combiner" => combiner = Some(value("-combiner")?),
            "-reducer" => reducer = Some(value("-reducer")?),
            "-numReduceTasks" => {
                let v = value("-numReduceTasks")?;
                reduces = Some(
                    v.parse()
                        .with_context(|| format!("-numReduceTasks {v:?} is not a number"))?,
                );
            }
            // Local files: shipped by `ship_files`, which reads the same arguments.
            "-file" | "-files" => {
                value(flag)?;
            }
            "-cmdenv" => {
                let v = value("-cmdenv")?;
                let (k, val) = v.split_once('=').with_context(|| format!("-cmdenv {v:?} is not K=V"))?;
                env.push((k.to_string(), val.to_string()));
            }
            "-D" => {
                let v = value("-D")?;
                let (k, val) = v
                    .split_once('=')
                    .with_context(|| format!("-D {v:?} is not key=value"))?;
                conf.push((k.to_string(), val.to_string()));
            }
            "-detach" | "--detach" => detach = true,
            "-h" | "-help" | "--help" => bail!("{USAGE}"),
            other if other.starts_with("-D") && other.contains('=') => {
                let (k, val) = other[2..].split_once('=').expect("checked");
                conf.push((k.to_string(), val.to_string()));
            }
            other => bail!("unknown streaming option {other:?}\n{USAGE}"),
        }
    }
    let get = |k: &str| conf.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    if reduces.is_none()
        && let Some(v) = get("mapreduce.job.reduces")
    {
        reduces = Some(
            v.parse()
                .with_context(|| format!("mapreduce.job.reduces {v:?} is not a number"))?,
        );
    }
    if inputs.is_empty() {
        bail!("-input is required\n{USAGE}");
    }
    let output = output.with_context(|| format!("-output is required\n{USAGE}"))?;
    let mapper = mapper.with_context(|| format!("-mapper is required\n{USAGE}"))?;
    // Hadoop's default reducer is the identity: `cat` passes the sorted lines through.
    let reducer = reducer.unwrap_or_else(|| "cat".to_string());
    let reduces = reduces.unwrap_or(1);
    let reduce = (reduces > 0 && reducer != "NONE").then_some(ReduceSpec {
        partitions: reduces,
        partitioner: Partitioner::Hash,
        op: ReduceOp::Streaming { command: reducer },
    });
    let map = MapOp::Streaming {
        command: mapper,
        combiner: combiner.filter(|_| reduces > 0),
    };
    let mut spec = JobSpec::new("streaming", inputs, &output, map, reduce);
    spec.env = env;
    if let Some(v) = get("mapreduce.task.timeout") {
        spec.task_timeout_ms = v
            .parse()
            .with_context(|| format!("mapreduce.task.timeout {v:?} is not milliseconds"))?;
    }
    let max_attempts = match get("mapreduce.map.maxattempts").or_else(|| get("mapreduce.reduce.maxattempts")) {
        Some(v) => v
            .parse()
            .with_context(|| format!("max attempts {v:?} is not a number"))?,
        None => 4,
    };
    if let Some(name) = get("mapreduce.job.name") {
        spec.name = name;
    }
    spec.conf = conf;
    let opts = SubmitOpts {
        reduces,
        max_attempts,
        detach,
    };
    Ok((spec, opts))
}

/// Uploads the `-file` / `-files` local files and lists them in the spec.
pub async fn ship_files(client: &Client, mut spec: JobSpec, args: &[String]) -> Result<JobSpec> {
    let mut local = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "-file" => local.extend(it.next().cloned()),
            "-files" => local.extend(it.next().into_iter().flat_map(|v| v.split(',').map(str::to_string))),
            "-input" | "-output" | "-mapper" | "-combiner" | "-reducer" | "-numReduceTasks" | "-cmdenv" | "-D" => {
                it.next();
            }
            _ => {}
        }
    }
    if local.is_empty() {
        return Ok(spec);
    }
    let dir = format!("/tmp/basalt-jobs/{:016x}", fastrand::u64(..));
    for f in local {
        let bytes = std::fs::read(&f).with_context(|| format!("-file {f}"))?;
        let name = std::path::Path::new(&f)
            .file_name()
            .and_then(|n| n.to_str())
            .with_context(|| format!("-file {f} has no file name"))?;
        let dest = format!("{dir}/{name}");
        let opts = CreateOptions {
            create_parent: true,
            ..Default::default()
        };
        client
            .write_all(&dest, &bytes, opts)
            .await
            .with_context(|| format!("uploading {f} to {dest}"))?;
        spec.files.push(dest);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn hadoop_flags_parse() {
        let (spec, opts) = parse(&args(&[
            "-D",
            "mapreduce.task.timeout=5000",
            "-input",
            "/a",
            "-input",
            "/b",
            "-output",
            "/o",
            "-mapper",
            "python3 m.py --x 'two words'",
            "-combiner",
            "uniq -c",
            "-reducer",
            "wc -l",
            "-numReduceTasks",
            "3",
            "-cmdenv",
            "K=V=W",
            "-file",
            "m.py",
        ]))
        .unwrap();
        assert_eq!(spec.inputs, ["/a", "/b"]);
        assert_eq!(spec.task_timeout_ms, 5000);
        assert_eq!(spec.env, [("K".to_string(), "V=W".to_string())]);
        assert_eq!(opts.reduces, 3);
        assert!(
            matches!(spec.map, MapOp::Streaming { ref command, combiner: Some(_) } if command.contains("'two words'"))
        );
        assert_eq!(spec.reduce.unwrap().partitions, 3);
        let (spec, _) = parse(&args(&[
            "-input",
            "/a",
            "-output",
            "/o",
            "-mapper",
            "cat",
            "-numReduceTasks",
            "0",
        ]))
        .unwrap();
        assert!(spec.reduce.is_none(), "map-only");
        assert!(parse(&args(&["-input", "/a", "-mapper", "cat"])).is_err());
        assert!(parse(&args(&["-input", "/a", "-output", "/o", "-mapper", "cat", "-bogus"])).is_err());
    }
}

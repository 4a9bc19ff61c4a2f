//! Hadoop Streaming: a command run as Hadoop runs it (`sh -c COMMAND`, so quoted words stay together),
//! its input lines on stdin (written from a thread while its stdout is read), `key\tvalue` lines from
//! stdout, and on stderr `reporter:counter:GROUP,COUNTER,N` and `reporter:status:MESSAGE` lines (the
//! rest is kept as the stderr tail shown with a failure). A watchdog kills the command's whole process
//! group when the attempt is cancelled or its deadline passes. A non-zero exit fails the attempt.

use super::error::TaskError;
use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Lines of stderr kept for the error of a failed attempt.
pub const STDERR_TAIL: usize = 20;

/// What a command produced.
#[derive(Debug, Default)]
pub struct Output {
    /// Its stdout, whole.
    pub stdout: Vec<u8>,
    pub counters: BTreeMap<String, i64>,
    pub status: Option<String>,
}

/// One command run.
pub struct Run<'a> {
    pub role: &'static str,
    pub command: &'a str,
    pub cwd: &'a Path,
    pub env: &'a [(String, String)],
    pub cancel: &'a AtomicBool,
    pub deadline: Option<Instant>,
}

impl Run<'_> {
    /// Runs the command with `input` on its stdin.
    pub fn run(&self, input: Vec<u8>) -> Result<Output, TaskError> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(self.command)
            .current_dir(self.cwd)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|source| TaskError::Spawn {
                role: self.role,
                command: self.command.to_string(),
                source,
            })?;
        let pid = child.id() as i32;
        let mut stdin = child.stdin.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let mut out = child.stdout.take().expect("piped");
        let done = AtomicBool::new(false);
        let killed = AtomicBool::new(false);
        let (read, status, (tail, counters, report)) = std::thread::scope(|s| {
            // A command that exits without reading everything (e.g. `head`) closes the pipe: not an
            // error here, its exit status decides.
            s.spawn(move || {
                let _ = stdin.write_all(&input);
            });
            let reader = s.spawn(move || read_stderr(stderr));
            s.spawn(|| {
                while !done.load(Ordering::Acquire) {
                    if self.cancel.load(Ordering::Acquire) || self.deadline.is_some_and(|d| Instant::now() >= d) {
                        killed.store(true, Ordering::Release);
                        // SAFETY: kill(2) of the command's own process group.
                        unsafe { libc::kill(-pid, libc::SIGKILL) };
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            });
            let mut stdout = Vec::new();
            let read = out.read_to_end(&mut stdout).map(|_| stdout);
            let status = child.wait();
            done.store(true, Ordering::Release);
            (read, status, reader.join().unwrap_or_default())
        });
        if killed.load(Ordering::Acquire) {
            if self.cancel.load(Ordering::Acquire) {
                return Err(TaskError::Cancelled);
            }
            return Err(TaskError::CommandFailed {
                role: self.role,
                command: self.command.to_string(),
                status: "timed out and was killed".into(),
                stderr_tail: tail,
            });
        }
        let status = status.map_err(TaskError::local(self.cwd))?;
        let stdout = read.map_err(TaskError::local(self.cwd))?;
        if !status.success() {
            return Err(TaskError::CommandFailed {
                role: self.role,
                command: self.command.to_string(),
                status: format!("failed ({status})"),
                stderr_tail: tail,
            });
        }
        Ok(Output {
            stdout,
            counters,
            status: report,
        })
    }
}

type StderrSummary = (Vec<String>, BTreeMap<String, i64>, Option<String>);

/// Reads stderr to its end: counters, the last status, and the last lines of everything else.
fn read_stderr(stderr: impl Read) -> StderrSummary {
    let mut tail = VecDeque::new();
    let mut counters = BTreeMap::new();
    let mut status = None;
    for line in BufReader::new(stderr).split(b'\n').map_while(Result::ok) {
        let line = String::from_utf8_lossy(&line).trim_end_matches('\r').to_string();
        if let Some(c) = line.strip_prefix("reporter:counter:") {
            let mut parts = c.rsplitn(2, ',');
            if let (Some(n), Some(name)) = (parts.next(), parts.next())
                && let (Ok(n), Some((group, counter))) = (n.trim().parse::<i64>(), name.split_once(','))
            {
                *counters.entry(format!("{group}:{counter}")).or_insert(0) += n;
                continue;
            }
        }
        if let Some(s) = line.strip_prefix("reporter:status:") {
            status = Some(s.to_string());
            continue;
        }
        tail.push_back(line);
        if tail.len() > STDERR_TAIL {
            tail.pop_front();
        }
    }
    (tail.into(), counters, status)
}

/// The Hadoop task environment: `-D` settings with dots as underscores (as Hadoop exports the job
/// configuration), the task's own variables, then `-cmdenv` (which wins).
pub fn task_env(
    conf: &[(String, String)],
    task: &[(&str, String)],
    cmdenv: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = conf
        .iter()
        .map(|(k, v)| (k.replace(['.', '-'], "_"), v.clone()))
        .collect();
    env.extend(task.iter().map(|(k, v)| (k.to_string(), v.clone())));
    env.extend(cmdenv.iter().cloned());
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cmd: &str, input: &str) -> Result<Output, TaskError> {
        let cancel = AtomicBool::new(false);
        let dir = std::env::temp_dir();
        Run {
            role: "mapper",
            command: cmd,
            cwd: &dir,
            env: &[("GREETING".into(), "hi there".into())],
            cancel: &cancel,
            deadline: Some(Instant::now() + Duration::from_secs(20)),
        }
        .run(input.as_bytes().to_vec())
    }

    #[test]
    fn lines_in_lines_out_with_counters_and_env() {
        let out = run(
            r#"echo "reporter:counter:G,lines,2" >&2; echo "reporter:status:busy" >&2; wc -l; echo "$GREETING""#,
            "a\nb\n",
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout)
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["2", "hi", "there"]
        );
        assert_eq!(out.counters["G:lines"], 2);
        assert_eq!(out.status.as_deref(), Some("busy"));
    }

    #[test]
    fn a_failing_command_reports_its_stderr_tail() {
        let e = run("for i in $(seq 1 30); do echo line $i >&2; done; exit 3", "").unwrap_err();
        let tail = e.stderr_tail();
        assert_eq!(tail.len(), STDERR_TAIL);
        assert_eq!(tail.last().map(String::as_str), Some("line 30"));
        assert!(e.to_string().contains("exit status: 3"), "{e}");
    }

    #[test]
    fn a_hanging_command_is_killed_at_its_deadline() {
        let cancel = AtomicBool::new(false);
        let dir = std::env::temp_dir();
        let started = Instant::now();
        let e = Run {
            role: "reducer",
            command: "sleep 30 | cat",
            cwd: &dir,
            env: &[],
            cancel: &cancel,
            deadline: Some(Instant::now() + Duration::from_millis(300)),
        }
        .run(Vec::new())
        .unwrap_err();
        assert!(e.to_string().contains("timed out"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn the_environment_follows_hadoop() {
        let env = task_env(
            &[("mapreduce.job.name".into(), "x".into())],
            &[("mapreduce_task_partition", "3".into())],
            &[("A".into(), "1".into())],
        );
        assert_eq!(env[0], ("mapreduce_job_name".into(), "x".into()));
        assert_eq!(env[1], ("mapreduce_task_partition".into(), "3".into()));
        assert_eq!(env[2], ("A".into(), "1".into()));
    }
}

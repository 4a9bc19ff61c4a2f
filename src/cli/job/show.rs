//! How jobs are printed: the list, one job's status, the progress line while waiting.

use crate::cli::format::date_time;
use basalt_common::units::format_bytes;
use basalt_jobs::status::{JobState, JobStatusView, JobSummary};

fn elapsed(s: &JobSummary) -> String {
    let end = if s.finished_ms > 0 {
        s.finished_ms
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    };
    format!("{:.1}s", end.saturating_sub(s.submitted_ms) as f64 / 1000.0)
}

pub fn list(jobs: &[JobSummary]) {
    println!(
        "{:<10} {:<12} {:<10} {:>9}  {:<20} OUTPUT",
        "ID", "NAME", "STATE", "ELAPSED", "SUBMITTED"
    );
    for j in jobs {
        println!(
            "{:<10} {:<12} {:<10} {:>9}  {:<20} {}",
            j.id.to_string(),
            j.name,
            j.state.name(),
            elapsed(j),
            date_time(j.submitted_ms),
            j.output
        );
    }
}

pub fn status(st: &JobStatusView) {
    let s = &st.summary;
    println!("{} {}: {} after {}", s.id, s.name, s.state.name(), elapsed(s));
    let user = if s.user.is_empty() { "-" } else { &s.user };
    println!("  user {user}, input {}, output {}", s.inputs.join(","), s.output);
    if let Some(e) = &s.error {
        println!("  error: {e}");
    }
    println!(
        "  {:<6} {:<7} {:>6} {:>6} {:>8} {:>7} {:>16} {:>10} {:>12} {:>12} {:>10}",
        "STAGE",
        "KIND",
        "TASKS",
        "DONE",
        "RUNNING",
        "FAILED",
        "NODE-LOCAL",
        "INPUT",
        "SHUFFLE-OUT",
        "SHUFFLE-IN",
        "OUTPUT"
    );
    for v in &st.stages {
        let t = &v.stats;
        let local = if t.with_preference == 0 {
            "-".to_string()
        } else {
            format!(
                "{}/{} ({:.0}%)",
                t.node_local,
                t.with_preference,
                100.0 * t.node_local as f64 / t.with_preference as f64
            )
        };
        println!(
            "  {:<6} {:<7} {:>6} {:>6} {:>8} {:>7} {:>16} {:>10} {:>12} {:>12} {:>10}",
            v.stage.0,
            v.kind.name(),
            t.tasks,
            t.done,
            t.running,
            t.failed_attempts,
            local,
            format_bytes(t.input_bytes),
            format_bytes(t.shuffle_written),
            format_bytes(t.shuffle_read),
            format_bytes(t.output_bytes)
        );
    }
    if !st.counters.is_empty() {
        println!("  counters:");
        for (k, v) in &st.counters {
            println!("    {k} = {v}");
        }
    }
}

/// One line: each stage's done/total, with running tasks.
pub fn progress_line(st: &JobStatusView) -> String {
    let stages: Vec<String> = st
        .stages
        .iter()
        .map(|v| {
            format!(
                "{} {}/{} ({} running)",
                v.kind.name(),
                v.stats.done,
                v.stats.tasks,
                v.stats.running
            )
        })
        .collect();
    let state = match st.summary.state {
        JobState::Running => String::new(),
        s => format!(" [{}]", s.name()),
    };
    format!("{}: {}{state}", st.summary.id, stages.join(", "))
}

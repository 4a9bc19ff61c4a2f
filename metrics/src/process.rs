//! Process metrics from `/proc/self` (Linux; elsewhere nothing is reported): CPU seconds, resident
//! memory, open file descriptors, threads and the start time, read at every scrape.

use crate::readings::{Readings, Readout};

/// The reader of this process's `/proc/self`.
#[derive(Debug, Default)]
pub(crate) struct Process;

/// What `/proc/self/stat` says about this process.
#[derive(Debug, PartialEq)]
pub(crate) struct Stat {
    pub cpu_seconds: f64,
    pub threads: u64,
    pub rss_pages: u64,
}

/// Parses `/proc/self/stat`: fields after the command name (which may hold spaces and parentheses,
/// hence the last `)`), utime and stime in clock ticks, num_threads, rss in pages.
pub(crate) fn parse_stat(stat: &str, ticks_per_sec: f64) -> Option<Stat> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): field N is f[N - 3].
    let num = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        cpu_seconds: (num(14)? + num(15)?) as f64 / ticks_per_sec,
        threads: num(20)?,
        rss_pages: num(24)?,
    })
}

impl Readings for Process {
    fn read(&self, out: &mut Readout) {
        // SAFETY: sysconf only reads a constant of the system.
        let (ticks, page) = unsafe { (libc::sysconf(libc::_SC_CLK_TCK), libc::sysconf(libc::_SC_PAGESIZE)) };
        let stat = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(&s, ticks.max(1) as f64));
        if let Some(s) = stat {
            out.counter(
                "process_cpu_seconds",
                "CPU time of this process (user + system), seconds.",
                &[],
                s.cpu_seconds,
            );
            out.gauge("process_threads", "Threads of this process.", &[], s.threads as f64);
            out.gauge(
                "process_resident_memory_bytes",
                "Resident memory of this process.",
                &[],
                (s.rss_pages * page.max(1) as u64) as f64,
            );
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            out.gauge(
                "process_open_fds",
                "Open file descriptors of this process.",
                &[],
                fds.count() as f64,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_found_after_a_command_name_with_spaces() {
        let line =
            "4242 (basalt (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 17 0 100 123456 789 18446744073709551615";
        assert_eq!(
            parse_stat(line, 100.0),
            Some(Stat {
                cpu_seconds: 3.0,
                threads: 17,
                rss_pages: 789
            })
        );
        assert_eq!(parse_stat("garbage", 100.0), None);
    }

    #[test]
    fn this_process_is_read() {
        let mut out = Readout::default();
        Process.read(&mut out);
        let text = format!("{out:?}");
        assert!(text.contains("process_resident_memory_bytes"), "{text}");
        assert!(text.contains("process_open_fds"), "{text}");
    }
}

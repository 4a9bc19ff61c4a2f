//! Unix times in milliseconds as UTC calendar dates, for people (`basalt fs ls`, the web UI).

/// Days since 1970-01-01 as (year, month, day) of the proleptic Gregorian calendar (Howard Hinnant's
/// `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD HH:MM` (UTC), with `:SS` when `seconds`.
pub fn format_utc(ms: u64, seconds: bool) -> String {
    let secs = ms / 1000;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let (h, min, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if seconds {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::format_utc;

    #[test]
    fn dates() {
        assert_eq!(format_utc(0, false), "1970-01-01 00:00");
        assert_eq!(format_utc(951_782_400_000, true), "2000-02-29 00:00:00");
        assert_eq!(format_utc(1_767_225_599_000, true), "2025-12-31 23:59:59");
    }
}

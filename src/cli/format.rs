//! Output formatting shared by the commands: permissions, dates, sizes.

pub use basalt_common::mode::mode_string;

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix time in milliseconds.
pub fn date_time(ms: u64) -> String {
    basalt_common::units::format_utc(ms, false)
}

/// Bytes, human-readable when asked.
pub fn size(bytes: u64, human: bool) -> String {
    if human {
        basalt_common::units::format_bytes(bytes)
    } else {
        bytes.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(mode_string(true, 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(false, 0o644), "-rw-r--r--");
        assert_eq!(mode_string(true, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(true, 0o1770), "drwxrwx--T");
        assert_eq!(date_time(0), "1970-01-01 00:00");
        assert_eq!(date_time(1_795_996_800_000), "2026-11-30 00:00");
        assert_eq!(size(2048, true), "2.0 KiB");
    }
}

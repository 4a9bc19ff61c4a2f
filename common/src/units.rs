//! Human-readable byte sizes: `64MiB`, `1G`, `512k` in; `1.5 GiB` out.

/// Formats `bytes` with binary prefixes and one decimal (`0 B`, `1023 B`, `1.0 KiB`, `64.0 MiB`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Error parsing a size string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid size {input:?}: expected a number with an optional unit (B, K, KiB, M, MiB, G, GiB, T, TiB)")]
pub struct SizeError {
    pub input: String,
}

/// Parses a size such as `4096`, `64k`, `64KiB`, `1.5G`. Units are binary (k = 1024).
pub fn parse_bytes(s: &str) -> Result<u64, SizeError> {
    let err = || SizeError { input: s.to_string() };
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(err()),
    };
    if num.contains('.') {
        let v: f64 = num.parse().map_err(|_| err())?;
        let total = v * mult as f64;
        if !total.is_finite() || total < 0.0 || total > u64::MAX as f64 {
            return Err(err());
        }
        Ok(total as u64)
    } else {
        let v: u64 = num.parse().map_err(|_| err())?;
        v.checked_mul(mult).ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(format_bytes(64 << 20), "64.0 MiB");
        assert_eq!(format_bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn parses() {
        assert_eq!(parse_bytes("4096").unwrap(), 4096);
        assert_eq!(parse_bytes("64k").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("64KiB").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("2 MiB").unwrap(), 2 << 20);
        assert!(parse_bytes("x").is_err());
        assert!(parse_bytes("10Q").is_err());
        assert!(parse_bytes("99999999999999999999T").is_err());
    }
}

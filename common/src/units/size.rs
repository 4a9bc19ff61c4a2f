//! Byte sizes. Units are binary whatever the spelling (`k`, `KB` and `KiB` are all 1024).

use super::{Quantity, UnitError, parse_scaled};

const BINARY: [(&str, u64); 5] = [
    ("PiB", 1 << 50),
    ("TiB", 1 << 40),
    ("GiB", 1 << 30),
    ("MiB", 1 << 20),
    ("KiB", 1 << 10),
];

/// Formats `bytes` with binary prefixes and one decimal (`0 B`, `1023 B`, `1.0 KiB`, `64.0 MiB`): for
/// people, rounded. [`format_bytes_exact`] is the form that reads back.
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

/// `bytes` in the largest binary unit that holds it exactly (`64MiB`, `1536KiB`, `1000B`, `0B`);
/// [`parse_bytes`] reads it back.
pub fn format_bytes_exact(bytes: u64) -> String {
    match BINARY.iter().find(|(_, m)| bytes != 0 && bytes.is_multiple_of(*m)) {
        Some((unit, m)) => format!("{}{unit}", bytes / m),
        None => format!("{bytes}B"),
    }
}

/// Parses a size such as `4096`, `64k`, `64KiB`, `1.5G`, `2 MiB`.
pub fn parse_bytes(s: &str) -> Result<u64, UnitError> {
    let total = parse_scaled(s, Quantity::Size, |unit| {
        Some(match unit {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            "t" | "tb" | "tib" => 1 << 40,
            "p" | "pb" | "pib" => 1 << 50,
            _ => return None,
        })
    })?;
    u64::try_from(total).map_err(|_| UnitError {
        quantity: Quantity::Size,
        input: s.to_string(),
        problem: super::Problem::TooLarge,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Problem;
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(format_bytes(64 << 20), "64.0 MiB");
        assert_eq!(format_bytes(3 << 30), "3.0 GiB");
        assert_eq!(format_bytes_exact(0), "0B");
        assert_eq!(format_bytes_exact(1000), "1000B");
        assert_eq!(format_bytes_exact(64 << 20), "64MiB");
        assert_eq!(format_bytes_exact(1536 << 10), "1536KiB");
        assert_eq!(format_bytes_exact(u64::MAX), format!("{}B", u64::MAX));
    }

    #[test]
    fn parses() {
        assert_eq!(parse_bytes("4096").unwrap(), 4096);
        assert_eq!(parse_bytes("64k").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("64KiB").unwrap(), 64 << 10);
        assert_eq!(parse_bytes("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse_bytes("2 MiB").unwrap(), 2 << 20);
        assert_eq!(parse_bytes(".5k").unwrap(), 512);
        assert_eq!(parse_bytes("16EiB").map_err(|e| e.problem), Err(Problem::UnknownUnit));
        assert_eq!(parse_bytes(&format!("{}", u64::MAX)).unwrap(), u64::MAX);
    }

    #[test]
    fn rejects_without_panicking() {
        for (input, problem) in [
            ("x", Problem::NotANumber),
            ("", Problem::NotANumber),
            ("nan", Problem::NotANumber),
            ("inf", Problem::NotANumber),
            ("1.2.3k", Problem::NotANumber),
            ("+5", Problem::NotANumber),
            ("-1", Problem::Negative),
            ("-0.5MiB", Problem::Negative),
            ("10Q", Problem::UnknownUnit),
            ("1e9", Problem::UnknownUnit),
            ("99999999999999999999T", Problem::TooLarge),
            ("18446744073709551616", Problem::TooLarge),
            ("16384P", Problem::TooLarge),
            ("999999999999999999999999999999999999999999", Problem::TooLarge),
        ] {
            assert_eq!(parse_bytes(input).map_err(|e| e.problem), Err(problem), "{input:?}");
        }
        assert_eq!(
            parse_bytes("-1").unwrap_err().to_string(),
            "invalid size \"-1\": must not be negative"
        );
    }

    proptest::proptest! {
        #[test]
        fn exact_form_reads_back(bytes: u64, shift in 0u32..50) {
            let v = bytes >> shift << shift;
            proptest::prop_assert_eq!(parse_bytes(&format_bytes_exact(v)), Ok(v));
        }
    }
}

//! Durations: a number and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`/`min`, `h`, `d`); a bare number is
//! refused, since its unit would be a guess.

use super::{Problem, Quantity, UnitError, parse_scaled};
use std::time::Duration;

const NANOS_PER_SEC: u128 = 1_000_000_000;
const UNITS: [(&str, u128); 7] = [
    ("d", 86_400 * NANOS_PER_SEC),
    ("h", 3_600 * NANOS_PER_SEC),
    ("m", 60 * NANOS_PER_SEC),
    ("s", NANOS_PER_SEC),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// Parses `500ms`, `30s`, `1.5h`, `2 d`.
pub fn parse_duration(s: &str) -> Result<Duration, UnitError> {
    let nanos = parse_scaled(s, Quantity::Duration, |unit| {
        let unit = match unit {
            "µs" => "us",
            "sec" | "secs" => "s",
            "min" | "mins" => "m",
            u => u,
        };
        UNITS.iter().find(|(u, _)| *u == unit).map(|(_, n)| *n)
    })?;
    let secs = u64::try_from(nanos / NANOS_PER_SEC).map_err(|_| UnitError {
        quantity: Quantity::Duration,
        input: s.to_string(),
        problem: Problem::TooLarge,
    })?;
    Ok(Duration::new(secs, (nanos % NANOS_PER_SEC) as u32))
}

/// `d` in the largest unit that holds it exactly (`30s`, `1500ms`, `5m`, `1h`, `0s`); [`parse_duration`]
/// reads it back.
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    let (unit, per) = UNITS
        .iter()
        .find(|(_, per)| nanos.is_multiple_of(*per))
        .unwrap_or(&UNITS[UNITS.len() - 1]);
    format!("{}{unit}", nanos / per)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("500ms").unwrap(), ms(500));
        assert_eq!(parse_duration("30s").unwrap(), ms(30_000));
        assert_eq!(parse_duration("0.5s").unwrap(), ms(500));
        assert_eq!(parse_duration("5m").unwrap(), ms(300_000));
        assert_eq!(parse_duration("5 min").unwrap(), ms(300_000));
        assert_eq!(parse_duration("1.5h").unwrap(), ms(5_400_000));
        assert_eq!(parse_duration("1d").unwrap(), ms(86_400_000));
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("10µs").unwrap(), Duration::from_micros(10));
        assert_eq!(parse_duration("7ns").unwrap(), Duration::from_nanos(7));
        assert_eq!(
            parse_duration("1.0000000009s").unwrap(),
            Duration::new(1, 0),
            "below 1 ns is dropped"
        );
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        assert_eq!(
            parse_duration(&format!("{}s", u64::MAX)).unwrap(),
            Duration::from_secs(u64::MAX)
        );
    }

    #[test]
    fn rejects_without_panicking() {
        for (input, problem) in [
            ("30", Problem::MissingUnit),
            ("0", Problem::MissingUnit),
            ("30x", Problem::UnknownUnit),
            ("1e3s", Problem::UnknownUnit),
            ("-1s", Problem::Negative),
            ("-0.5ms", Problem::Negative),
            ("nan", Problem::NotANumber),
            ("NaNs", Problem::NotANumber),
            ("inf", Problem::NotANumber),
            ("infinity", Problem::NotANumber),
            ("", Problem::NotANumber),
            ("s", Problem::NotANumber),
            ("1..2s", Problem::NotANumber),
            ("18446744073709551616s", Problem::TooLarge),
            ("999999999999999999999999d", Problem::TooLarge),
            ("9999999999999999999999999999999999999999s", Problem::TooLarge),
        ] {
            assert_eq!(parse_duration(input).map_err(|e| e.problem), Err(problem), "{input:?}");
        }
        assert_eq!(
            parse_duration("30").unwrap_err().to_string(),
            "invalid duration \"30\": expected a number and a unit: ns, us, ms, s, m, h, d (e.g. 500ms, 30s)"
        );
    }

    #[test]
    fn formats_exactly() {
        let ms = Duration::from_millis;
        assert_eq!(format_duration(Duration::ZERO), "0s");
        assert_eq!(format_duration(ms(1500)), "1500ms");
        assert_eq!(format_duration(ms(90_000)), "90s");
        assert_eq!(format_duration(ms(300_000)), "5m");
        assert_eq!(format_duration(ms(3_600_000)), "1h");
        assert_eq!(format_duration(Duration::new(1, 1)), "1000000001ns");
    }

    proptest::proptest! {
        #[test]
        fn exact_form_reads_back(secs: u64, nanos in 0u32..1_000_000_000) {
            let d = Duration::new(secs, nanos);
            proptest::prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}

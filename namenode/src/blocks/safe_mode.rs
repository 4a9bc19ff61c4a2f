//! Safe mode: after a start the namenode refuses namespace changes until datanodes have reported
//! enough of the known blocks, so it never acts on a half-known block map. Once left, it stays off.

/// Safe mode state and its exit rule.
#[derive(Clone, Debug)]
pub struct SafeMode {
    on: bool,
    threshold: f64,
    reported: u64,
    total: u64,
}

impl SafeMode {
    /// Starts in safe mode; leaves it once `threshold` (0..=1) of blocks have a live replica.
    pub fn new(threshold: f64) -> Self {
        SafeMode {
            on: true,
            threshold: threshold.clamp(0.0, 1.0),
            reported: 0,
            total: 0,
        }
    }

    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Updates the counts; returns true when this update turned safe mode off.
    pub fn update(&mut self, reported: u64, total: u64) -> bool {
        self.reported = reported;
        self.total = total;
        if self.on && (total == 0 || reported as f64 >= self.threshold * total as f64) {
            self.on = false;
            return true;
        }
        false
    }

    /// How far the reports have come, while safe mode is on.
    pub fn status(&self) -> Option<SafeModeStatus> {
        self.on.then_some(SafeModeStatus {
            reported: self.reported,
            total: self.total,
            threshold: self.threshold,
        })
    }
}

/// Safe mode's progress, as an error tells it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SafeModeStatus {
    /// Blocks with a live replica reported.
    pub reported: u64,
    /// Blocks the namespace holds.
    pub total: u64,
    /// Share of `total` that must be reported (0..=1).
    pub threshold: f64,
}

impl std::fmt::Display for SafeModeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} blocks reported (needs {:.1}%); retry shortly",
            self.reported,
            self.total,
            self.threshold * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_at_threshold_and_stays_off() {
        let mut sm = SafeMode::new(0.9);
        assert!(sm.is_on());
        assert!(!sm.update(8, 10));
        assert!(sm.is_on());
        assert!(sm.update(9, 10));
        assert!(!sm.is_on());
        sm.update(0, 10);
        assert!(!sm.is_on());
        assert_eq!(sm.status(), None);
        let mut empty = SafeMode::new(1.0);
        assert_eq!(
            empty.status().map(|s| s.to_string()).as_deref(),
            Some("0 of 0 blocks reported (needs 100.0%); retry shortly")
        );
        assert!(empty.update(0, 0));
    }
}

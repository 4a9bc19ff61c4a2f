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

    /// One line for errors and status: how far the reports have come.
    pub fn describe(&self) -> String {
        format!(
            "the namenode is in safe mode: {} of {} blocks reported (needs {:.1}%); retry shortly",
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
        let mut empty = SafeMode::new(1.0);
        assert!(empty.update(0, 0));
    }
}

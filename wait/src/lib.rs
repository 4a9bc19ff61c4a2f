//! Helpers shared by the test suites of every crate (a dev-dependency, never linked into a role).
//!
//! Tests wait on observable state with a deadline, never on a fixed sleep (STYLE.md, practice 4):
//! [`wait_for`] polls a probe until it yields a value, [`wait_until`] until a condition holds; both
//! fail naming what they waited for, and [`try_wait_for`] lets a caller add its own context (logs).

use std::fmt::Display;
use std::time::{Duration, Instant};

/// First poll interval; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(10);
const MAX_POLL: Duration = Duration::from_millis(200);

/// The deadline passed before the awaited state was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub Duration);

impl Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "timed out after {:?}", self.0)
    }
}

/// Polls `probe` (at once, then with backoff from 10 to 200 ms) until it returns `Some`; `Err` once
/// `timeout` has passed without one.
pub async fn try_wait_for<T>(timeout: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> Result<T, TimedOut> {
    let start = Instant::now();
    let mut delay = FIRST_POLL;
    loop {
        if let Some(v) = probe().await {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(TimedOut(timeout));
        }
        tokio::time::sleep(delay).await; // poll interval (backoff), deadline above
        delay = (delay * 2).min(MAX_POLL);
    }
}

/// [`try_wait_for`], panicking with `what` on timeout.
pub async fn wait_for<T>(what: impl Display, timeout: Duration, probe: impl AsyncFnMut() -> Option<T>) -> T {
    match try_wait_for(timeout, probe).await {
        Ok(v) => v,
        Err(e) => panic!("{e} waiting for {what}"),
    }
}

/// Polls `cond` until it holds; panics with `what` after `timeout`. A synchronous condition is written
/// `|| std::future::ready(cond)`.
pub async fn wait_until(what: impl Display, timeout: Duration, mut cond: impl AsyncFnMut() -> bool) {
    wait_for(what, timeout, async || cond().await.then_some(())).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::ready;

    #[tokio::test]
    async fn returns_the_first_value_and_times_out_with_the_deadline() {
        let mut n = 0;
        let v = wait_for("three polls", Duration::from_secs(5), || {
            n += 1;
            ready((n == 3).then_some(n))
        })
        .await;
        assert_eq!(v, 3);
        let e = try_wait_for(Duration::from_millis(30), || ready(None::<()>)).await;
        assert_eq!(e, Err(TimedOut(Duration::from_millis(30))));
    }

    #[tokio::test]
    #[should_panic(expected = "waiting for the impossible")]
    async fn wait_until_names_what_it_waited_for() {
        wait_until("the impossible", Duration::from_millis(20), || ready(false)).await;
    }
}

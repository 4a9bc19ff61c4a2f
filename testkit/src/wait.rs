//! Waiting on observable state with a deadline, never for a fixed time.

use std::time::{Duration, Instant};

/// Polls `cond` (with a short backoff, 5 ms up to 100 ms) until it holds; panics after `timeout`,
/// naming `what`.
pub async fn wait_until(what: &str, timeout: Duration, cond: impl AsyncFnMut() -> bool) {
    wait_until_or(what, timeout, cond, String::new).await
}

/// [`wait_until`], adding `context()` (e.g. the cluster's state) to the panic message.
pub async fn wait_until_or(
    what: &str,
    timeout: Duration,
    mut cond: impl AsyncFnMut() -> bool,
    context: impl FnOnce() -> String,
) {
    let start = Instant::now();
    let mut poll = Duration::from_millis(5);
    while !cond().await {
        if start.elapsed() >= timeout {
            panic!("timed out after {timeout:?} waiting for {what}\n{}", context());
        }
        tokio::time::sleep(poll).await; // the poll interval; the deadline is above
        poll = (poll * 2).min(Duration::from_millis(100));
    }
}

//! Waiting on observable state with a deadline, never for a fixed time: [`basalt_wait`]'s loop, with
//! the cluster's state added to the message when it gives up.

use std::time::Duration;

/// Polls `cond` until it holds; panics after `timeout`, naming `what`.
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
    if let Err(e) = basalt_wait::try_wait_for(timeout, async || cond().await.then_some(())).await {
        panic!("{e} waiting for {what}\n{}", context());
    }
}

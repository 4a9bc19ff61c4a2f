//! The machine's identity. A datanode advertises its [`host_id`] and a client compares it with its own:
//! equal ids mean one machine, so the client may read the datanode's block files directly
//! (short-circuit). Both sides must therefore compute it the same way, which is why it lives here.

/// This machine's identity: `/etc/machine-id`, else the hostname; empty when neither is known (an
/// empty id never matches, so no short-circuit read is attempted).
pub fn host_id() -> String {
    std::fs::read_to_string("/etc/machine-id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(hostname)
        .unwrap_or_default()
}

/// The hostname from `gethostname(2)`, if the system has one.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its full length, which is what we pass.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    (rc == 0 && end > 0).then(|| String::from_utf8_lossy(&buf[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_id_is_stable_and_known_here() {
        assert_eq!(host_id(), host_id());
        assert!(!host_id().is_empty(), "a test machine has a machine id or a hostname");
        assert!(hostname().is_some_and(|h| !h.is_empty()));
    }
}

//! Who is calling: the user name a client sends with every namenode call, as gRPC metadata
//! `basalt-user` (unsecured HDFS's identity: the client says who it is; nothing authenticates it).
//!
//! A metadata value is visible ASCII, so a name is sent percent-encoded: bytes outside `!`..=`~`, and
//! `%` itself, become `%XX`. Plain names (the usual case) go as they are.

use tonic::metadata::{AsciiMetadataValue, MetadataMap};

/// The metadata entry naming the caller.
pub const USER_KEY: &str = "basalt-user";

/// Why a request's caller could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    #[error("the request carries no {USER_KEY} metadata (the caller's user name): upgrade the client")]
    Missing,
    #[error("the request's {USER_KEY} metadata is not a percent-encoded UTF-8 user name")]
    Malformed,
    #[error("the request's {USER_KEY} metadata names no user (empty)")]
    Empty,
}

/// The metadata value naming `user`.
pub fn user_value(user: &str) -> AsciiMetadataValue {
    let mut out = String::with_capacity(user.len());
    for b in user.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.parse().expect("visible ASCII is a valid metadata value")
}

/// Sets the caller of an outgoing request.
pub fn set_user(meta: &mut MetadataMap, user: &AsciiMetadataValue) {
    meta.insert(USER_KEY, user.clone());
}

/// The caller a request names.
pub fn user_of(meta: &MetadataMap) -> Result<String, CallerError> {
    let raw = meta.get(USER_KEY).ok_or(CallerError::Missing)?;
    let raw = raw.to_str().map_err(|_| CallerError::Malformed)?;
    let mut bytes = Vec::with_capacity(raw.len());
    let mut it = raw.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex = [it.next(), it.next()];
            let [Some(h), Some(l)] = hex else {
                return Err(CallerError::Malformed);
            };
            let s = std::str::from_utf8(&[h, l])
                .map_err(|_| CallerError::Malformed)?
                .to_string();
            bytes.push(u8::from_str_radix(&s, 16).map_err(|_| CallerError::Malformed)?);
        } else {
            bytes.push(b);
        }
    }
    let user = String::from_utf8(bytes).map_err(|_| CallerError::Malformed)?;
    if user.is_empty() {
        return Err(CallerError::Empty);
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for user in ["alice", "hdfs", "bob@EXAMPLE.COM", "a b", "100%", "zoë", "tab\there"] {
            let mut meta = MetadataMap::new();
            set_user(&mut meta, &user_value(user));
            assert_eq!(user_of(&meta).as_deref(), Ok(user));
        }
        assert_eq!(user_value("alice").to_str().unwrap(), "alice");
    }

    #[test]
    fn missing_or_bad_values_are_refused() {
        let mut meta = MetadataMap::new();
        assert_eq!(user_of(&meta), Err(CallerError::Missing));
        meta.insert(USER_KEY, "".parse().unwrap());
        assert_eq!(user_of(&meta), Err(CallerError::Empty));
        meta.insert(USER_KEY, "bad%4".parse().unwrap());
        assert_eq!(user_of(&meta), Err(CallerError::Malformed));
        meta.insert(USER_KEY, "%FF".parse().unwrap());
        assert_eq!(user_of(&meta), Err(CallerError::Malformed));
    }
}

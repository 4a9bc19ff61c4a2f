//! Authentication of CQL connections: `AllowAllAuthenticator` (no users configured: STARTUP is
//! answered READY), or `PasswordAuthenticator` (users from the `cql-users` file: STARTUP is
//! answered AUTHENTICATE, and the client's SASL PLAIN token must name a user and its password).
//!
//! The users file: one `name:password` per line; blank lines and lines starting with `#` are
//! skipped. It is read once at start.

use std::collections::HashMap;
use std::path::Path;

/// The authenticator class drivers are told (they pick their SASL mechanism by it).
pub const PASSWORD_AUTHENTICATOR: &str = "org.apache.cassandra.auth.PasswordAuthenticator";

/// A malformed users file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: expected name:password")]
pub struct BadUsersLine {
    pub line: usize,
}

/// Who may connect.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Users(HashMap<String, String>);

impl Users {
    /// Parses a users file.
    pub fn parse(text: &str) -> Result<Users, BadUsersLine> {
        let mut users = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            match line.split_once(':') {
                Some((name, password)) if !name.is_empty() => {
                    users.insert(name.to_string(), password.to_string());
                }
                _ => return Err(BadUsersLine { line: i + 1 }),
            }
        }
        Ok(Users(users))
    }

    /// Reads and parses a users file.
    pub fn read(path: &Path) -> Result<Users, UsersFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| UsersFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Users::parse(&text).map_err(|source| UsersFileError::Malformed {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The user a SASL PLAIN token (`authzid \0 authcid \0 password`) authenticates, if any.
    pub fn authenticate(&self, token: &[u8]) -> Result<String, String> {
        let mut parts = token.split(|b| *b == 0);
        let (Some(_authzid), Some(name), Some(password), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("Malformed SASL PLAIN token".into());
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let known = self.0.get(&name).map(String::as_bytes);
        // Compared in time independent of where they differ (and compared even for unknown names).
        let want = known.unwrap_or(b"");
        let same =
            want.len() == password.len() && want.iter().zip(password).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if known.is_some() && same {
            Ok(name)
        } else {
            Err(format!("Provided username {name} and/or password are incorrect"))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UsersFileError {
    #[error("CQL users file {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("CQL users file {path}: {source}")]
    Malformed {
        path: std::path::PathBuf,
        source: BadUsersLine,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_file_and_sasl_plain_tokens() {
        let users = Users::parse("# who may connect\nalice:s3cret:with:colons\n\nbob:\n").unwrap();
        assert_eq!(users.authenticate(b"\0alice\0s3cret:with:colons"), Ok("alice".into()));
        assert_eq!(users.authenticate(b"\0bob\0"), Ok("bob".into()));
        assert!(users.authenticate(b"\0alice\0s3cret").is_err());
        assert!(users.authenticate(b"\0carol\0").is_err());
        assert!(users.authenticate(b"alice\0s3cret").is_err());
        assert!(users.authenticate(b"\0alice\0a\0b").is_err());
        assert_eq!(Users::parse("ok:1\nnocolon\n"), Err(BadUsersLine { line: 2 }));
        assert_eq!(Users::parse(":pw\n"), Err(BadUsersLine { line: 1 }));
    }
}

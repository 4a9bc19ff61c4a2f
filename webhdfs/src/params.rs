//! The query of a WebHDFS request: parameter names in any case (as Hadoop takes them), values
//! percent-decoded, typed getters that fail with the parameter's name and value.

use crate::error::{Result, WebHdfsError};
use std::collections::HashMap;

/// Hadoop's caller when a request names none (`user.name` absent).
pub const DEFAULT_USER: &str = "dr.who";

/// The parameters of one request.
#[derive(Clone, Debug, Default)]
pub struct Params {
    /// Lower-cased name → value; the first occurrence of a name wins.
    values: HashMap<String, String>,
}

impl Params {
    /// Parses a raw query string (without the `?`).
    pub fn parse(query: &str) -> Params {
        let mut values = HashMap::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            values.entry(k.to_ascii_lowercase()).or_insert_with(|| v.into_owned());
        }
        Params { values }
    }

    /// The raw value of `name` (lower case), if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Every parameter (for forwarding in a redirect), sorted by name.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        let mut v: Vec<_> = self.values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        v.sort();
        v
    }

    pub fn required(&self, name: &'static str) -> Result<&str> {
        self.get(name).ok_or(WebHdfsError::MissingParam { param: name })
    }

    /// A boolean in any case (`true`, `True`, `FALSE`); absent: `default`.
    pub fn bool(&self, name: &'static str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(bad(name, v, "is not a boolean (true or false)")),
        }
    }

    /// A non-negative integer; absent: `None`.
    pub fn u64(&self, name: &'static str) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| bad(name, v, "should be an integer >= 0")),
        }
    }

    /// A positive integer (block size, buffer size); absent: `None`.
    pub fn positive(&self, name: &'static str) -> Result<Option<u64>> {
        match self.u64(name)? {
            Some(0) => Err(bad(name, "0", "should be > 0")),
            v => Ok(v),
        }
    }

    /// A replication factor in 1..=512; absent: `None`.
    pub fn replication(&self) -> Result<Option<u32>> {
        let Some(v) = self.get("replication") else {
            return Ok(None);
        };
        match v.parse::<u32>() {
            Ok(r) if (1..=512).contains(&r) => Ok(Some(r)),
            _ => Err(bad("replication", v, "should be an integer in 1..=512")),
        }
    }

    /// A permission as Hadoop writes it: octal digits, at most 0o1777; absent: `None`.
    pub fn permission(&self) -> Result<Option<u32>> {
        let Some(v) = self.get("permission") else {
            return Ok(None);
        };
        match u32::from_str_radix(v, 8) {
            Ok(m) if !v.is_empty() && v.len() <= 4 && m <= 0o1777 => Ok(Some(m)),
            _ => Err(bad("permission", v, "should be an octal permission in 0..=1777")),
        }
    }

    /// A time in milliseconds since the epoch, where -1 (Hadoop's default) means "leave unchanged".
    pub fn time_ms(&self, name: &'static str) -> Result<Option<u64>> {
        match self.get(name) {
            None | Some("-1") => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| bad(name, v, "should be milliseconds since the epoch, or -1")),
        }
    }

    /// The caller named by `user.name` (Hadoop's `dr.who` when absent).
    pub fn user(&self) -> Result<&str> {
        let user = self.get("user.name").unwrap_or(DEFAULT_USER);
        check_user("user.name", user)
    }

    /// The user the caller acts as (`doas`), if any.
    pub fn doas(&self) -> Result<Option<&str>> {
        self.get("doas").map(|u| check_user("doas", u)).transpose()
    }
}

/// Hadoop's user names: non-empty, no whitespace, ':' or '/' (they would break the owner:group text).
fn check_user<'a>(param: &'static str, user: &'a str) -> Result<&'a str> {
    let ok = !user.is_empty()
        && user.len() <= 256
        && !user
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '/');
    if ok {
        Ok(user)
    } else {
        Err(bad(param, user, "is not a valid user name"))
    }
}

fn bad(param: &'static str, value: &str, reason: &'static str) -> WebHdfsError {
    WebHdfsError::BadParam {
        param,
        value: value.chars().take(200).collect(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_values_decoded() {
        let p = Params::parse("OP=LISTSTATUS&User.Name=alice&destination=%2Fa%20b%2Bc&x=1+2&op=other");
        assert_eq!(p.get("op"), Some("LISTSTATUS"));
        assert_eq!(p.user().unwrap(), "alice");
        assert_eq!(p.get("destination"), Some("/a b+c"));
        assert_eq!(p.get("x"), Some("1 2"));
        assert_eq!(Params::parse("").user().unwrap(), DEFAULT_USER);
    }

    #[test]
    fn booleans_in_any_case() {
        let p = Params::parse("a=True&b=FALSE&c=true&d=yes");
        assert!(p.bool("a", false).unwrap());
        assert!(!p.bool("b", true).unwrap());
        assert!(p.bool("c", false).unwrap());
        assert!(p.bool("missing", true).unwrap());
        assert!(matches!(
            p.bool("d", false),
            Err(WebHdfsError::BadParam { param: "d", .. })
        ));
    }

    #[test]
    fn numbers_and_permissions_are_checked() {
        let p = Params::parse("offset=-1&length=10&blocksize=0&replication=0&permission=755");
        assert!(p.u64("offset").is_err());
        assert_eq!(p.u64("length").unwrap(), Some(10));
        assert_eq!(p.u64("absent").unwrap(), None);
        assert!(p.positive("blocksize").is_err());
        assert!(p.replication().is_err());
        assert_eq!(p.permission().unwrap(), Some(0o755));
        for bad in ["permission=8", "permission=17777", "permission=", "permission=abc"] {
            assert!(Params::parse(bad).permission().is_err(), "{bad}");
        }
        assert_eq!(Params::parse("permission=1777").permission().unwrap(), Some(0o1777));
        assert_eq!(Params::parse("replication=3").replication().unwrap(), Some(3));
        assert_eq!(
            Params::parse("modificationtime=-1")
                .time_ms("modificationtime")
                .unwrap(),
            None
        );
        assert_eq!(Params::parse("accesstime=5").time_ms("accesstime").unwrap(), Some(5));
    }

    #[test]
    fn user_names_are_checked() {
        assert!(Params::parse("user.name=").user().is_err());
        assert!(Params::parse("user.name=a%20b").user().is_err());
        assert!(Params::parse("doas=a:b").doas().is_err());
        assert_eq!(Params::parse("doas=carol").doas().unwrap(), Some("carol"));
        assert!(matches!(
            Params::parse("op=X").required("destination"),
            Err(WebHdfsError::MissingParam { param: "destination" })
        ));
    }
}

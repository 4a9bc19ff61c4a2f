//! Absolute, normalized namespace paths.
//!
//! A [`BPath`] always starts with `/`, has no empty, `.` or `..` components, no trailing slash (except
//! the root itself) and no NUL bytes. Repeated slashes collapse (`//a///b/` is `/a/b`), as in HDFS.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest accepted path, in bytes.
pub const MAX_PATH_LEN: usize = 8000;
/// Longest accepted path component, in bytes.
pub const MAX_COMPONENT_LEN: usize = 255;

/// Why a string is not a valid path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("invalid path {path:?}: must be absolute (start with '/')")]
    NotAbsolute { path: String },
    #[error("invalid path {path:?}: '.' and '..' components are not allowed")]
    DotComponent { path: String },
    #[error("invalid path {path:?}: contains a NUL byte")]
    Nul { path: String },
    #[error("invalid path: {len} bytes is longer than the limit of {MAX_PATH_LEN}")]
    TooLong { len: usize },
    #[error("invalid path {path:?}: a component is longer than {MAX_COMPONENT_LEN} bytes")]
    ComponentTooLong { path: String },
}

/// A normalized absolute path in the Basalt namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BPath(String);

impl BPath {
    /// The root directory `/`.
    pub fn root() -> Self {
        BPath("/".to_string())
    }

    /// Parses and normalizes `s`.
    pub fn parse(s: &str) -> Result<Self, PathError> {
        if s.len() > MAX_PATH_LEN {
            return Err(PathError::TooLong { len: s.len() });
        }
        if !s.starts_with('/') {
            return Err(PathError::NotAbsolute { path: s.to_string() });
        }
        if s.contains('\0') {
            return Err(PathError::Nul { path: s.to_string() });
        }
        let mut out = String::with_capacity(s.len());
        for comp in s.split('/').filter(|c| !c.is_empty()) {
            if comp == "." || comp == ".." {
                return Err(PathError::DotComponent { path: s.to_string() });
            }
            if comp.len() > MAX_COMPONENT_LEN {
                return Err(PathError::ComponentTooLong { path: s.to_string() });
            }
            out.push('/');
            out.push_str(comp);
        }
        if out.is_empty() {
            out.push('/');
        }
        Ok(BPath(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The components from the root down; empty for the root.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// The last component; `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        if self.is_root() {
            None
        } else {
            self.0.rsplit('/').next()
        }
    }

    /// The parent directory; `None` for the root.
    pub fn parent(&self) -> Option<BPath> {
        if self.is_root() {
            return None;
        }
        let idx = self.0.rfind('/').expect("normalized path has a slash");
        Some(if idx == 0 {
            BPath::root()
        } else {
            BPath(self.0[..idx].to_string())
        })
    }

    /// This path with one more component. `name` must be a single valid component.
    pub fn join(&self, name: &str) -> Result<BPath, PathError> {
        if name.is_empty() || name.contains('/') {
            return BPath::parse(&format!("{}/{}", self.0.trim_end_matches('/'), name));
        }
        let joined = if self.is_root() {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.0)
        };
        BPath::parse(&joined)
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &BPath) -> bool {
        other.is_root()
            || self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }
}

impl fmt::Display for BPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for BPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes() {
        assert_eq!(BPath::parse("/").unwrap().as_str(), "/");
        assert_eq!(BPath::parse("//a///b/").unwrap().as_str(), "/a/b");
        assert_eq!(BPath::parse("/a/b").unwrap().file_name(), Some("b"));
        assert_eq!(BPath::parse("/a").unwrap().parent().unwrap(), BPath::root());
        assert_eq!(BPath::parse("/a/b/c").unwrap().parent().unwrap().as_str(), "/a/b");
        assert_eq!(BPath::root().parent(), None);
        assert_eq!(BPath::root().join("x").unwrap().as_str(), "/x");
    }

    #[test]
    fn rejects_bad_paths() {
        assert!(matches!(BPath::parse("a/b"), Err(PathError::NotAbsolute { .. })));
        assert!(matches!(BPath::parse(""), Err(PathError::NotAbsolute { .. })));
        assert!(matches!(BPath::parse("/a/../b"), Err(PathError::DotComponent { .. })));
        assert!(matches!(BPath::parse("/a/./b"), Err(PathError::DotComponent { .. })));
        assert!(matches!(BPath::parse("/a\0b"), Err(PathError::Nul { .. })));
        assert!(matches!(
            BPath::parse(&format!("/{}", "x".repeat(300))),
            Err(PathError::ComponentTooLong { .. })
        ));
        assert!(matches!(
            BPath::parse(&format!("/{}", "x/".repeat(5000))),
            Err(PathError::TooLong { .. })
        ));
    }

    #[test]
    fn prefix_is_component_wise() {
        let ab = BPath::parse("/a/b").unwrap();
        assert!(ab.starts_with(&BPath::parse("/a").unwrap()));
        assert!(ab.starts_with(&ab));
        assert!(ab.starts_with(&BPath::root()));
        assert!(!BPath::parse("/a/bc").unwrap().starts_with(&ab));
    }

    proptest! {
        #[test]
        fn parse_is_idempotent(s in "(/[a-z.]{0,4}){0,6}/?") {
            if let Ok(p) = BPath::parse(&s) {
                let again = BPath::parse(p.as_str()).unwrap();
                prop_assert_eq!(&again, &p);
                prop_assert!(p.as_str().starts_with('/'));
                prop_assert!(p.is_root() || !p.as_str().ends_with('/'));
                prop_assert!(!p.as_str().contains("//"));
            }
        }

        #[test]
        fn parent_and_name_rebuild_path(comps in proptest::collection::vec("[a-zA-Z0-9_-]{1,8}", 1..6)) {
            let p = BPath::parse(&format!("/{}", comps.join("/"))).unwrap();
            let rebuilt = p.parent().unwrap().join(p.file_name().unwrap()).unwrap();
            prop_assert_eq!(rebuilt, p.clone());
            prop_assert_eq!(p.components().count(), comps.len());
        }

        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,40}") {
            let _ = BPath::parse(&s);
        }
    }
}

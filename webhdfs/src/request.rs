//! What every WebHDFS handler first takes from a request: the namespace path, the parameters, the op
//! (checked against the HTTP method), the caller (`user.name`, `doas`) and the peer's address.

use crate::error::{Result, WebHdfsError};
use crate::op::Op;
use crate::params::Params;
use crate::url::namespace_path;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use basalt_common::BPath;
use std::net::{IpAddr, SocketAddr};

/// A parsed WebHDFS request (its body, if any, stays with the handler).
#[derive(Debug)]
pub struct WebRequest {
    pub op: Op,
    pub path: BPath,
    pub params: Params,
    /// The `user.name` of the request.
    pub user: String,
    /// The `doas` of the request, when it names someone else than `user`.
    pub doas: Option<String>,
    /// The caller's IP address, when the server knows it.
    pub peer: Option<IpAddr>,
}

/// Largest request headers accepted (Hadoop's `hadoop.http.max.request.header.size` default). A head
/// past hyper's own buffer (~400 KiB) is refused by hyper with 431 before this.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest URI accepted (path and query). hyper refuses one of 64 KiB or more with 414 itself.
pub const MAX_URI: usize = 32 * 1024;

impl WebRequest {
    pub fn parse(parts: &Parts) -> Result<WebRequest> {
        let uri_len = parts.uri.path().len() + parts.uri.query().map_or(0, str::len);
        if uri_len > MAX_URI {
            return Err(WebHdfsError::UriTooLong {
                bytes: uri_len,
                limit: MAX_URI,
            });
        }
        let header_len: usize = parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
        if header_len > MAX_HEAD {
            return Err(WebHdfsError::HeadersTooLarge {
                bytes: header_len,
                limit: MAX_HEAD,
            });
        }
        let params = Params::parse(parts.uri.query().unwrap_or(""));
        let op = Op::parse(params.required("op")?, &parts.method)?;
        let path = namespace_path(parts.uri.path())?;
        let user = params.user()?.to_string();
        let doas = params.doas()?.filter(|d| *d != user).map(str::to_string);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(WebRequest {
            op,
            path,
            params,
            user,
            doas,
            peer,
        })
    }

    /// The user the request acts as: `doas` when `may_impersonate(user)`, else `user`; a `doas` by
    /// anyone else is refused.
    pub fn effective_user(&self, may_impersonate: impl FnOnce(&str) -> bool) -> Result<&str> {
        match &self.doas {
            None => Ok(&self.user),
            Some(d) if may_impersonate(&self.user) => Ok(d),
            Some(d) => Err(WebHdfsError::DoAsRefused {
                user: self.user.clone(),
                doas: d.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: &str, uri: &str) -> Parts {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    #[test]
    fn a_request_is_parsed_and_checked() {
        let r = WebRequest::parse(&parts("GET", "/webhdfs/v1/a/b?op=liststatus&user.name=alice")).unwrap();
        assert_eq!(
            (r.op, r.path.as_str(), r.user.as_str()),
            (Op::ListStatus, "/a/b", "alice")
        );
        assert_eq!(r.effective_user(|_| false).unwrap(), "alice");
        let no_op = WebRequest::parse(&parts("GET", "/webhdfs/v1/a")).unwrap_err();
        assert!(matches!(no_op, WebHdfsError::MissingParam { param: "op" }));
        let bad_path = WebRequest::parse(&parts("GET", "/webhdfs/v1/a/../b?op=OPEN")).unwrap_err();
        assert!(matches!(bad_path, WebHdfsError::BadPath { .. }));
    }

    #[test]
    fn oversized_heads_are_refused() {
        let long = format!("/webhdfs/v1/?op=LISTSTATUS&pad={}", "x".repeat(MAX_URI));
        assert!(matches!(
            WebRequest::parse(&parts("GET", &long)),
            Err(WebHdfsError::UriTooLong { .. })
        ));
        let mut big = parts("GET", "/webhdfs/v1/?op=LISTSTATUS");
        big.headers.insert("x-big", "a".repeat(MAX_HEAD).parse().unwrap());
        let e = WebRequest::parse(&big).unwrap_err();
        assert_eq!(e.exception().status.as_u16(), 431);
    }

    #[test]
    fn doas_needs_a_superuser() {
        let r = WebRequest::parse(&parts(
            "GET",
            "/webhdfs/v1/?op=GETHOMEDIRECTORY&user.name=bob&doas=carol",
        ))
        .unwrap();
        assert!(matches!(
            r.effective_user(|_| false),
            Err(WebHdfsError::DoAsRefused { .. })
        ));
        assert_eq!(r.effective_user(|u| u == "bob").unwrap(), "carol");
        // doas of oneself is no impersonation.
        let same = WebRequest::parse(&parts("GET", "/webhdfs/v1/?op=GETHOMEDIRECTORY&user.name=bob&doas=bob")).unwrap();
        assert_eq!(same.effective_user(|_| false).unwrap(), "bob");
    }
}

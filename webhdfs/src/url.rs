//! The path part of a WebHDFS URL (`/webhdfs/v1/<path>`, percent-encoded) and the URLs of redirects.

use crate::error::{Result, WebHdfsError};
use basalt_common::BPath;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Where the REST API lives on an HTTP server.
pub const PREFIX: &str = "/webhdfs/v1";

/// Characters escaped in a path written into a URL: all but unreserved ones and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The namespace path of a request's URI path (`/webhdfs/v1/a%20b` is `/a b`).
pub fn namespace_path(uri_path: &str) -> Result<BPath> {
    let rest = uri_path.strip_prefix(PREFIX).ok_or_else(|| WebHdfsError::BadPath {
        reason: format!("URL path does not start with {PREFIX}"),
    })?;
    let decoded = percent_decode_str(rest)
        .decode_utf8()
        .map_err(|_| WebHdfsError::BadPath {
            reason: "the path is not UTF-8".into(),
        })?;
    let path = if decoded.is_empty() { "/" } else { &decoded };
    BPath::parse(path).map_err(|e| WebHdfsError::BadPath { reason: e.to_string() })
}

/// `http://{host}/webhdfs/v1{path}?{params}`, every part escaped.
pub fn url(host: &str, path: &BPath, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        query.append_pair(k, v);
    }
    format!(
        "http://{host}{PREFIX}{}?{}",
        utf8_percent_encode(path.as_str(), PATH),
        query.finish()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decoded_and_checked() {
        assert_eq!(namespace_path("/webhdfs/v1").unwrap().as_str(), "/");
        assert_eq!(namespace_path("/webhdfs/v1/").unwrap().as_str(), "/");
        assert_eq!(namespace_path("/webhdfs/v1/a%20b//c/").unwrap().as_str(), "/a b/c");
        assert_eq!(namespace_path("/webhdfs/v1/x+y").unwrap().as_str(), "/x+y");
        assert!(namespace_path("/webhdfs/v1/a/../b").is_err());
        assert!(namespace_path("/webhdfs/v1/a%00").is_err());
        assert!(namespace_path("/webhdfs/v1/%ff").is_err());
        assert!(namespace_path("/other").is_err());
    }

    #[test]
    fn redirect_urls_escape_path_and_params() {
        let p = BPath::parse("/d/a b+c").unwrap();
        let u = url(
            "127.0.0.1:9864",
            &p,
            &[("op", "CREATE"), ("user.name", "al ice"), ("x", "a&b")],
        );
        assert_eq!(
            u,
            "http://127.0.0.1:9864/webhdfs/v1/d/a%20b%2Bc?op=CREATE&user.name=al+ice&x=a%26b"
        );
        assert_eq!(namespace_path("/webhdfs/v1/d/a%20b%2Bc").unwrap(), p);
    }
}

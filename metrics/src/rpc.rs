//! gRPC request metrics: a tower layer for tonic servers ([`RpcLayer`]) that counts every request by
//! service, method and status class, and times it until the response head (for a streaming method:
//! until the stream is answered, not until it ends).
//!
//! The status is the `grpc-status` response header: tonic sends it there for every error of a unary
//! call (a trailers-only response); a response without it is counted `ok` (its status, if any, comes
//! in the trailers: a stream that fails midway counts as answered). Methods a server does not know
//! (`Unimplemented`) are counted as `unknown`, so clients cannot grow the label set.

use crate::{Counter, Family, Histogram, Metrics, exponential_buckets};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

type MethodLabels = [(&'static str, String); 2];
type CodeLabels = [(&'static str, String); 3];

/// The request counters and latency histograms of one process's gRPC servers.
#[derive(Clone, Debug)]
pub struct RpcMetrics {
    requests: Family<CodeLabels, Counter>,
    latency: Family<MethodLabels, Histogram, fn() -> Histogram>,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl RpcMetrics {
    /// Registers `basalt_rpc_requests_total{service,method,status}` and
    /// `basalt_rpc_duration_seconds{service,method}` in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let rpc = RpcMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
        };
        metrics.register(
            "rpc_requests",
            "gRPC requests served, by service, method and status class (ok, client_error, server_error).",
            rpc.requests.clone(),
        );
        metrics.register(
            "rpc_duration_seconds",
            "Time from a gRPC request to its response head, by service and method.",
            rpc.latency.clone(),
        );
        rpc
    }

    /// The layer to put on a tonic server (`Server::builder().layer(rpc.layer())`).
    pub fn layer(&self) -> RpcLayer {
        RpcLayer(self.clone())
    }

    fn record(&self, path: &str, grpc_status: Option<&[u8]>, seconds: f64) {
        let code = grpc_status
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(0);
        let (service, method) = split_path(path, code);
        self.requests
            .get_or_create(&[
                ("service", service.clone()),
                ("method", method.clone()),
                ("status", status_class(code).to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&[("service", service), ("method", method)])
            .observe(seconds);
    }
}

/// gRPC's `Unimplemented`.
const UNIMPLEMENTED: u32 = 12;

/// `/basalt.ClientProtocol/Create` → (`ClientProtocol`, `Create`); what is not a known method of a
/// service is (`unknown`, `unknown`).
pub(crate) fn split_path(path: &str, code: u32) -> (String, String) {
    let unknown = || ("unknown".to_string(), "unknown".to_string());
    if code == UNIMPLEMENTED {
        return unknown();
    }
    let Some((service, method)) = path.trim_start_matches('/').split_once('/') else {
        return unknown();
    };
    let service = service.rsplit('.').next().unwrap_or(service);
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return unknown();
    }
    (service.to_string(), method.to_string())
}

/// The class of a gRPC status code: the caller's fault or the server's.
pub(crate) fn status_class(code: u32) -> &'static str {
    match code {
        0 => "ok",
        // Cancelled, InvalidArgument, NotFound, AlreadyExists, PermissionDenied, FailedPrecondition,
        // OutOfRange, Unauthenticated.
        1 | 3 | 5 | 6 | 7 | 9 | 11 | 16 => "client_error",
        _ => "server_error",
    }
}

/// The tower layer of [`RpcMetrics`].
#[derive(Clone, Debug)]
pub struct RpcLayer(RpcMetrics);

impl<S> tower_layer::Layer<S> for RpcLayer {
    type Service = RpcService<S>;
    fn layer(&self, inner: S) -> RpcService<S> {
        RpcService {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// A service that records each request it passes on.
#[derive(Clone, Debug)]
pub struct RpcService<S> {
    inner: S,
    metrics: RpcMetrics,
}

impl<S, B, R> tower_service::Service<http::Request<B>> for RpcService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let path = req.uri().path().to_string();
        let started = Instant::now();
        let answer = self.inner.call(req);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let answered = answer.await;
            let status = match &answered {
                Ok(resp) => resp.headers().get("grpc-status").map(|v| v.as_bytes()),
                Err(_) => Some(&b"13"[..]),
            };
            metrics.record(&path, status, started.elapsed().as_secs_f64());
            answered
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_service::Service;

    #[test]
    fn paths_and_codes_become_bounded_labels() {
        assert_eq!(
            split_path("/basalt.ClientProtocol/Create", 0),
            ("ClientProtocol".into(), "Create".into())
        );
        assert_eq!(
            split_path("/x.Y/Z", UNIMPLEMENTED),
            ("unknown".into(), "unknown".into())
        );
        assert_eq!(split_path("/nothing", 0), ("unknown".into(), "unknown".into()));
        assert_eq!(status_class(0), "ok");
        assert_eq!(status_class(5), "client_error");
        assert_eq!(status_class(14), "server_error");
    }

    /// A service answering every request with the grpc-status in its URI's query (none: no header).
    #[derive(Clone)]
    struct Answer;
    impl Service<http::Request<()>> for Answer {
        type Response = http::Response<()>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<http::Response<()>, Self::Error>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, req: http::Request<()>) -> Self::Future {
            let mut resp = http::Response::new(());
            if let Some(code) = req.uri().query() {
                resp.headers_mut().insert("grpc-status", code.parse().unwrap());
            }
            std::future::ready(Ok(resp))
        }
    }

    #[tokio::test]
    async fn the_layer_counts_requests_by_method_and_status() {
        let metrics = Metrics::new();
        let rpc = RpcMetrics::register(&metrics);
        let mut svc = tower_layer::Layer::layer(&rpc.layer(), Answer);
        for uri in [
            "/basalt.ClientProtocol/Mkdirs",
            "/basalt.ClientProtocol/Mkdirs",
            "/basalt.ClientProtocol/Mkdirs?5",
        ] {
            svc.call(http::Request::builder().uri(uri).body(()).unwrap())
                .await
                .unwrap();
        }
        let text = metrics.encode();
        assert!(
            text.contains(r#"basalt_rpc_requests_total{service="ClientProtocol",method="Mkdirs",status="ok"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"basalt_rpc_requests_total{service="ClientProtocol",method="Mkdirs",status="client_error"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"basalt_rpc_duration_seconds_count{service="ClientProtocol",method="Mkdirs"} 3"#),
            "{text}"
        );
    }
}

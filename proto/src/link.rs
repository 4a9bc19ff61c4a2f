//! Outgoing gRPC channels, and the one hook tests use to put faults on them.
//!
//! Every node (namenode member, datanode, client) opens its channels through a [`Connector`]. The
//! default connector opens plain tonic channels: a call goes straight to tonic, nothing is added.
//! A connector made by [`Connector::filtered`] asks its [`LinkFilter`] about every call leaving the
//! node: send it, send it late, or fail it with `Unavailable` as a broken connection would; and a
//! stream opened over a link that is cut later fails at once (the filter's [`LinkFilter::changes`]
//! wakes it). The filter table belongs to whoever built the connector: the in-process test cluster
//! (`basalt-testkit`) makes one per cluster, so there is no global fault state.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::watch;
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::{Bytes, Service, StdError, http};
use tonic::transport::Endpoint;

/// What happens to a call, as decided by a [`LinkFilter`] when it leaves the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Pass,
    /// Send it after this long.
    Delay(Duration),
    /// Fail it with `Unavailable` (no Basalt error kind: a transport failure), saying why.
    Refuse(String),
}

/// Decides the fate of the calls one node sends. `to` is the `host:port` the channel was opened to;
/// `method` the call's gRPC path (`/basalt.DataTransfer/WriteBlock`), or empty for the connection itself.
pub trait LinkFilter: Send + Sync + fmt::Debug + 'static {
    /// The verdict for a call about to leave for `to`.
    fn on_call(&self, to: &str, method: &str) -> Verdict;
    /// Whether calls of `method` to `to` are cut now: open streams fail at their next frame.
    fn is_cut(&self, to: &str, method: &str) -> bool;
    /// Changes whenever [`Self::is_cut`] may have changed its answer.
    fn changes(&self) -> watch::Receiver<u64>;
}

/// How a node opens its outgoing channels. Cheap to clone; the default adds nothing to any call.
#[derive(Clone, Default)]
pub struct Connector {
    filter: Option<Arc<dyn LinkFilter>>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            None => f.write_str("Connector(plain)"),
            Some(filter) => f.debug_tuple("Connector").field(filter).finish(),
        }
    }
}

impl Connector {
    /// A connector whose channels ask `filter` about every call.
    pub fn filtered(filter: Arc<dyn LinkFilter>) -> Self {
        Connector { filter: Some(filter) }
    }

    /// Connects now (as [`Endpoint::connect`]). Over a cut link the channel connects lazily instead,
    /// and its first call fails through the filter like any other.
    pub async fn connect(&self, endpoint: Endpoint) -> Result<Channel, tonic::transport::Error> {
        let link = self.link(&endpoint);
        let inner = match &link {
            Some(link) if link.filter.is_cut(&link.to, "") => endpoint.connect_lazy(),
            _ => endpoint.connect().await?,
        };
        Ok(Channel { inner, link })
    }

    /// A channel that connects on its first call (as [`Endpoint::connect_lazy`]).
    pub fn connect_lazy(&self, endpoint: Endpoint) -> Channel {
        Channel {
            link: self.link(&endpoint),
            inner: endpoint.connect_lazy(),
        }
    }

    fn link(&self, endpoint: &Endpoint) -> Option<Link> {
        let filter = self.filter.clone()?;
        let uri = endpoint.uri();
        let to = uri.authority().map_or_else(|| uri.to_string(), |a| a.to_string());
        Some(Link { filter, to: to.into() })
    }
}

/// A gRPC channel opened by a [`Connector`]: a tonic channel, plus the filter of its link if any.
#[derive(Clone, Debug)]
pub struct Channel {
    inner: tonic::transport::Channel,
    link: Option<Link>,
}

#[derive(Clone, Debug)]
struct Link {
    filter: Arc<dyn LinkFilter>,
    to: Arc<str>,
}

impl Link {
    fn refused(&self, why: &str) -> Status {
        Status::unavailable(format!("{}: {why}", self.to))
    }

    fn wrap(&self, body: Body, method: &Arc<str>) -> Body {
        Body::new(LinkBody {
            changes: wait_for_change(self.filter.changes()),
            inner: body,
            link: self.clone(),
            method: method.clone(),
            failed: false,
        })
    }
}

impl Service<http::Request<Body>> for Channel {
    type Response = http::Response<Body>;
    type Error = StdError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StdError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: http::Request<Body>) -> ResponseFuture {
        let Some(link) = self.link.clone() else {
            return ResponseFuture(Kind::Plain(self.inner.call(req)));
        };
        let method: Arc<str> = req.uri().path().into();
        let delay = match link.filter.on_call(&link.to, &method) {
            Verdict::Pass => None,
            Verdict::Delay(d) => Some(d),
            Verdict::Refuse(why) => return ResponseFuture::failed(link.refused(&why)),
        };
        let req = req.map(|b| link.wrap(b, &method));
        // `poll_ready` reserved a slot in this handle: the call takes the handle along, leaving a clone.
        let mut inner = self.inner.clone();
        std::mem::swap(&mut inner, &mut self.inner);
        ResponseFuture(Kind::Filtered(Box::pin(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
                if link.filter.is_cut(&link.to, &method) {
                    return Err(link.refused("link cut").into());
                }
            }
            let resp = inner.call(req).await?;
            Ok(resp.map(|b| link.wrap(b, &method)))
        })))
    }
}

/// The future of a call over a [`Channel`].
pub struct ResponseFuture(Kind);

type BoxResponse = Pin<Box<dyn Future<Output = Result<http::Response<Body>, StdError>> + Send>>;

enum Kind {
    Plain(tonic::transport::channel::ResponseFuture),
    Filtered(BoxResponse),
}

impl ResponseFuture {
    fn failed(status: Status) -> Self {
        ResponseFuture(Kind::Filtered(Box::pin(std::future::ready(Err(status.into())))))
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<Body>, StdError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Kind::Plain(f) => Pin::new(f).poll(cx).map_err(Into::into),
            Kind::Filtered(f) => f.as_mut().poll(cx),
        }
    }
}

type Change = Pin<Box<dyn Future<Output = watch::Receiver<u64>> + Send>>;

/// Resolves (handing the receiver back) when the filter table changes; never, once it is gone.
fn wait_for_change(mut rx: watch::Receiver<u64>) -> Change {
    Box::pin(async move {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        rx
    })
}

/// A request or response body over a filtered link: fails at the first frame after the link is cut.
struct LinkBody {
    inner: Body,
    link: Link,
    method: Arc<str>,
    changes: Change,
    failed: bool,
}

impl tonic::codegen::Body for LinkBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Status>>> {
        let this = &mut *self;
        if this.failed {
            return Poll::Ready(None);
        }
        // Registered for the next change, so a stream idly waiting for data notices a cut at once.
        while let Poll::Ready(rx) = this.changes.as_mut().poll(cx) {
            this.changes = wait_for_change(rx);
        }
        if this.link.filter.is_cut(&this.link.to, &this.method) {
            this.failed = true;
            return Poll::Ready(Some(Err(this.link.refused("link cut"))));
        }
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

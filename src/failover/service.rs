use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tower::Service;

use super::breaker::BreakerState;
use super::future::ResponseFuture;
use super::hosts::Hosts;
use crate::action::header::action;
use crate::action::{Idempotent, is_read_only_action};
use crate::error::Error;

/// Sends each attempt to a healthy endpoint of the request's ring, and the
/// next attempt to the next endpoint when the host failed.
///
/// Made by [`FailoverLayer`](super::FailoverLayer). A call goes to the
/// first endpoint of its ring, its own first, whose breaker admits it. When
/// the attempt fails for the host's sake (no connection, a TLS failure, a
/// reset, a timeout before the response head, a 502/503/504 page without an
/// envelope) the same call goes on to the next admitted endpoint at once,
/// each endpoint at most once; an API error, any envelope, is the host
/// answering: it is returned and counts as a success. When every breaker of
/// the ring is open, the call goes to its own endpoint anyway.
///
/// Writes follow the retry policy's rule: only a read-only action
/// ([`is_read_only_action`]) or a request marked [`Idempotent`] is sent to
/// another host after a failure that may have reached the host; any request
/// is after a refused connection, which sent nothing.
///
/// Each attempt is a clone of the request (hence `B: Clone`) whose URI
/// scheme and authority and whose `Host` header name the endpoint, sent
/// through a clone of the inner service (hence `S: Clone`).
///
/// # Where it goes
///
/// ```text
/// RetryLayer(RetryPolicy)     replays a call whose endpoints all failed
///   FailoverLayer             picks the endpoint of each attempt
///     SignLayer               signs each attempt for its own Host
///       EnvelopeLayer         tells an API error from a gateway's page
///         transport
/// ```
///
/// ```
/// use tower::ServiceExt;
/// use tower_tencentcloud::failover::Failover;
/// use tower_tencentcloud::action::ActionRequest;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Stands in for a transport: the primary refuses, the backup answers.
/// let transport = tower::service_fn(|request: http::Request<http_body_util::Full<bytes::Bytes>>| async move {
///     match request.headers()["host"].to_str().unwrap() {
///         "127.0.0.1:1" => Err(tower_tencentcloud::Error::from(tower_tencentcloud::BoxError::from(
///             std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
///         ))),
///         _ => Ok(http::Response::new(())),
///     }
/// });
/// let layer = tower_tencentcloud::failover::FailoverLayer::new()
///     .ring(["http://127.0.0.1:1".parse().unwrap(), "http://127.0.0.1:2".parse().unwrap()]);
/// let service: Failover<_> = tower::Layer::layer(&layer, transport);
/// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
///     .endpoint("http://127.0.0.1:1")
///     .build()
///     .unwrap();
/// service.oneshot(request).await.unwrap();
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Failover<S> {
    inner: S,
    hosts: Arc<Hosts>,
}

impl<S> Failover<S> {
    pub(crate) fn new(inner: S, hosts: Arc<Hosts>) -> Self {
        Self { inner, hosts }
    }

    /// The state of the breaker of `host` now; see
    /// [`FailoverLayer::breaker_state`](super::FailoverLayer::breaker_state).
    pub fn breaker_state(&self, host: &str) -> Option<BreakerState> {
        self.hosts.state(host)
    }

    define_inner_service_accessors!();
}

impl<S, B> Service<Request<B>> for Failover<S>
where
    S: Service<Request<B>, Error = Error> + Clone,
    B: Clone,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let replay_safe = request.extensions().get::<Idempotent>().is_some()
            || action(request.headers()).is_some_and(is_read_only_action);
        // The ready service takes the first attempt; the clone left behind
        // is polled for readiness before it takes the next call.
        let clone = self.inner.clone();
        let inner = mem::replace(&mut self.inner, clone);
        ResponseFuture::new(inner, self.hosts.clone(), request, replay_safe)
    }
}

use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower::Service;

use super::{DEFAULT_MAX_BODY_SIZE, EnvelopeBody, EnvelopeLayer, ResponseFuture};
use crate::error::{BoxError, Error, TransportError};

/// Reads each response body of the inner service and decides success or a
/// typed [`Error`].
///
/// Made by [`EnvelopeLayer`]. Success keeps the status, the headers and the
/// body bytes as they were, and adds the [`RequestId`](crate::RequestId) to
/// the response's extensions. `text/event-stream` and
/// `application/octet-stream` responses pass through unread.
///
/// ```
/// use tower_tencentcloud::Envelope;
/// # let client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let service = Envelope::new(client).max_body_size(1 << 20);
/// ```
#[derive(Debug, Clone)]
pub struct Envelope<S> {
    inner: S,
    max_body_size: usize,
}

impl<S> Envelope<S> {
    /// Wraps `inner` with the default body limit.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }

    /// See [`EnvelopeLayer::max_body_size`].
    pub fn max_body_size(mut self, limit: usize) -> Self {
        self.max_body_size = limit;
        self
    }

    /// A layer that wraps services with `Envelope`.
    pub fn layer() -> EnvelopeLayer {
        EnvelopeLayer::new()
    }

    define_inner_service_accessors!();
}

impl<S, B, RB> Service<Request<B>> for Envelope<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
    RB: http_body::Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    type Response = Response<EnvelopeBody<RB>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, RB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|err| Error::Transport(TransportError::new(err)))
    }

    #[inline]
    fn call(&mut self, request: Request<B>) -> Self::Future {
        ResponseFuture::new(self.inner.call(request), self.max_body_size)
    }
}

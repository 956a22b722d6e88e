use std::task::{Context, Poll};

use http::{Request, Response};
use tower::Service;

use super::{DEFAULT_MAX_EVENT_SIZE, ResponseFuture, SseBody, SseLayer};

/// Wraps every response body of the inner service in an [`SseBody`], which
/// checks the events of `text/event-stream` bodies for errors.
///
/// Made by [`SseLayer`]. The inner service's errors pass unchanged, and so
/// do the heads of its responses.
///
/// ```
/// use tower_tencentcloud::sse::Sse;
/// # let client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let service = Sse::new(client).max_event_size(64 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct Sse<S> {
    inner: S,
    max_event_size: usize,
}

impl<S> Sse<S> {
    /// Wraps `inner` with the default event limit.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
        }
    }

    /// See [`SseLayer::max_event_size`].
    pub fn max_event_size(mut self, limit: usize) -> Self {
        self.max_event_size = limit;
        self
    }

    /// A layer that wraps services with `Sse`.
    pub fn layer() -> SseLayer {
        SseLayer::new()
    }

    define_inner_service_accessors!();
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Sse<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<SseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        ResponseFuture::new(self.inner.call(request), self.max_event_size)
    }
}

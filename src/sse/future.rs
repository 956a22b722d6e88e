use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use super::SseBody;
use crate::action::media_type::is_event_stream;

pin_project! {
    /// The future of [`Sse`](super::Sse): the inner service's response,
    /// its body wrapped in an [`SseBody`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        max_event_size: usize,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, max_event_size: usize) -> Self {
        Self {
            inner,
            max_event_size,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<SseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (parts, body) = ready!(this.inner.poll(cx))?.into_parts();
        let body = if is_event_stream(&parts.headers) {
            SseBody::event_stream(body, &parts, *this.max_event_size)
        } else {
            SseBody::other(body, &parts, *this.max_event_size)
        };
        Poll::Ready(Ok(Response::from_parts(parts, body)))
    }
}

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::header::CONTENT_TYPE;
use http::{HeaderMap, Response};
use pin_project_lite::pin_project;

use super::SseBody;

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

/// `true` when the Content-Type is `text/event-stream`, whatever its
/// parameters and case.
fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/event-stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_media_type_decides_whatever_its_parameters_and_case() {
        let stream = |content_type: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
            is_event_stream(&headers)
        };
        assert!(stream("text/event-stream"));
        assert!(stream(" Text/Event-Stream ; charset=utf-8"));
        assert!(!stream("application/octet-stream"));
        assert!(!stream("application/json"));
        assert!(!stream("text/event-streams"));
        assert!(!is_event_stream(&HeaderMap::new()));
    }
}

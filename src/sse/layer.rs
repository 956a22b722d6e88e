use tower::Layer;

use super::Sse;

/// The default [`SseLayer::max_event_size`]: 1 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 1024 * 1024;

/// Applies [`Sse`] to a service: the events of every `text/event-stream`
/// response are checked for errors as they pass.
///
/// Put it above [`EnvelopeLayer`](crate::EnvelopeLayer), which passes event
/// streams through unread and turns an error envelope that comes instead of
/// a stream into [`Error::Api`](crate::Error::Api) before any body:
///
/// ```
/// use tower::ServiceBuilder;
/// use tower::retry::RetryLayer;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::retry::RetryPolicy;
/// use tower_tencentcloud::sign::{Credentials, SignLayer};
/// use tower_tencentcloud::sse::SseLayer;
/// # let transport = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
/// # });
///
/// let client = ServiceBuilder::new()
///     .layer(RetryLayer::new(RetryPolicy::default()))
///     .layer(SignLayer::new(Credentials::new("AKIDexample", "secret")))
///     .layer(SseLayer::new().max_event_size(256 * 1024))
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SseLayer {
    max_event_size: usize,
}

impl SseLayer {
    /// A layer with the default limit of [`DEFAULT_MAX_EVENT_SIZE`].
    pub fn new() -> Self {
        Self {
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
        }
    }

    /// The longest event (all its lines, line ends included), or line
    /// outside an event, in bytes; a longer one ends the body with
    /// [`EventTooLarge`](super::EventTooLarge), and no more
    /// than the limit plus one chunk is held in memory.
    pub fn max_event_size(mut self, limit: usize) -> Self {
        self.max_event_size = limit;
        self
    }
}

impl Default for SseLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for SseLayer {
    type Service = Sse<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sse::new(inner).max_event_size(self.max_event_size)
    }
}

//! The SSE layer's own error.

use std::fmt;

/// A server-sent event, or one of its lines, is longer than
/// [`SseLayer::max_event_size`](super::SseLayer::max_event_size); the
/// stream was read no further.
///
/// Reaches callers inside [`Error::Layer`](crate::Error::Layer), which
/// carries the response's status and RequestId.
///
/// ```
/// use tower_tencentcloud::sse::EventTooLarge;
///
/// # fn check(err: &tower_tencentcloud::Error) {
/// if let Some(too_large) = err.as_layer().and_then(|err| err.downcast_ref::<EventTooLarge>()) {
///     eprintln!("an event exceeded {} bytes", too_large.limit());
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTooLarge {
    limit: usize,
}

impl EventTooLarge {
    pub(crate) fn new(limit: usize) -> Self {
        Self { limit }
    }

    /// The limit that was exceeded, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Display for EventTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server-sent event exceeds the limit of {} bytes",
            self.limit
        )
    }
}

impl std::error::Error for EventTooLarge {}

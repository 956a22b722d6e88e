use tower::Layer;

use super::{Envelope, TypedEnvelopeLayer};

/// The default [`EnvelopeLayer::max_body_size`]: 32 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 32 * 1024 * 1024;

/// Applies [`Envelope`] to a service: every response body is read and
/// decided to be success or a typed [`Error`](crate::Error).
///
/// ```
/// use tower::ServiceBuilder;
/// use tower_tencentcloud::EnvelopeLayer;
/// # let client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let service = ServiceBuilder::new()
///     .layer(EnvelopeLayer::new().max_body_size(8 * 1024 * 1024))
///     .service(client);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct EnvelopeLayer {
    max_body_size: usize,
}

impl EnvelopeLayer {
    /// A layer with the default limit of [`DEFAULT_MAX_BODY_SIZE`].
    pub fn new() -> Self {
        Self {
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }

    /// The largest body, in bytes, that is read; a larger one is
    /// [`Error::BodyTooLarge`](crate::Error::BodyTooLarge) without being read further.
    pub fn max_body_size(mut self, limit: usize) -> Self {
        self.max_body_size = limit;
        self
    }

    /// The same layer for calls whose fields deserialize into `T`: see
    /// [`TypedEnvelopeLayer`].
    ///
    /// ```
    /// use tower_tencentcloud::EnvelopeLayer;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct DescribeZones {
    ///     #[serde(rename = "TotalCount")]
    ///     total_count: u32,
    /// }
    ///
    /// let layer = EnvelopeLayer::new().max_body_size(1 << 20).typed::<DescribeZones>();
    /// ```
    pub fn typed<T>(self) -> TypedEnvelopeLayer<T> {
        TypedEnvelopeLayer::new().max_body_size(self.max_body_size)
    }
}

impl Default for EnvelopeLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Envelope::new(inner).max_body_size(self.max_body_size)
    }
}

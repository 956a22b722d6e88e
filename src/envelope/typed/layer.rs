use std::fmt;
use std::marker::PhantomData;

use tower::Layer;

use super::TypedEnvelope;
use crate::envelope::DEFAULT_MAX_BODY_SIZE;

/// Applies [`TypedEnvelope`] to a service: every response body is decided
/// to be success or a typed [`Error`](crate::Error), and a success's fields
/// are deserialized into `T`, in the same pass over the body.
///
/// [`EnvelopeLayer::typed`](crate::EnvelopeLayer::typed) makes one too.
///
/// ```
/// use serde::Deserialize;
/// use tower::ServiceBuilder;
/// use tower_tencentcloud::envelope::TypedEnvelopeLayer;
/// # let client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// #[derive(Deserialize)]
/// struct DescribeZones {
///     #[serde(rename = "TotalCount")]
///     total_count: u32,
/// }
///
/// let service = ServiceBuilder::new()
///     .layer(TypedEnvelopeLayer::<DescribeZones>::new().max_body_size(8 * 1024 * 1024))
///     .service(client);
/// ```
pub struct TypedEnvelopeLayer<T> {
    max_body_size: usize,
    // A layer neither owns nor sends a `T`.
    fields: PhantomData<fn() -> T>,
}

impl<T> TypedEnvelopeLayer<T> {
    /// A layer with the default limit of [`DEFAULT_MAX_BODY_SIZE`].
    pub fn new() -> Self {
        Self {
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            fields: PhantomData,
        }
    }

    /// See [`EnvelopeLayer::max_body_size`](crate::EnvelopeLayer::max_body_size).
    pub fn max_body_size(mut self, limit: usize) -> Self {
        self.max_body_size = limit;
        self
    }
}

impl<T> Default for TypedEnvelopeLayer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for TypedEnvelopeLayer<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TypedEnvelopeLayer<T> {}

impl<T> fmt::Debug for TypedEnvelopeLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedEnvelopeLayer")
            .field("type", &std::any::type_name::<T>())
            .field("max_body_size", &self.max_body_size)
            .finish()
    }
}

impl<S, T> Layer<S> for TypedEnvelopeLayer<T> {
    type Service = TypedEnvelope<S, T>;

    fn layer(&self, inner: S) -> Self::Service {
        TypedEnvelope::new(inner).max_body_size(self.max_body_size)
    }
}

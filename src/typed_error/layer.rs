use tower::Layer;

use super::TypedError;

/// Applies [`TypedError`] to a service: its errors, boxed or not, become
/// [`Error`](crate::Error)s.
///
/// Place it right above the middleware that boxes errors, below the retry
/// policy and the sign layer that read them.
///
/// ```
/// use tower::ServiceBuilder;
/// use tower::timeout::TimeoutLayer;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::typed_error::TypedErrorLayer;
/// # let transport = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let service = ServiceBuilder::new()
///     .layer(TypedErrorLayer::new())
///     .layer(TimeoutLayer::new(std::time::Duration::from_secs(10)))
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TypedErrorLayer {
    _priv: (),
}

impl TypedErrorLayer {
    /// The layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for TypedErrorLayer {
    type Service = TypedError<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TypedError::new(inner)
    }
}

//! [`CallLayer`] and [`AttemptLayer`].

use tower::Layer;

use super::{Attempt, Call};

/// Wraps a service in [`Call`]: a span per call (`cvm/DescribeInstances`),
/// and with feature `metrics` the call's metrics. Goes above tower's
/// `RetryLayer`, so that the call span holds every attempt.
///
/// ```
/// use tower::ServiceBuilder;
/// use tower::retry::RetryLayer;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::retry::RetryPolicy;
/// use tower_tencentcloud::trace::{AttemptLayer, CallLayer};
/// # let transport = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let client = ServiceBuilder::new()
///     .layer(CallLayer::new())
///     .layer(RetryLayer::new(RetryPolicy::default()))
///     .layer(AttemptLayer::new())
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CallLayer {
    _private: (),
}

impl CallLayer {
    /// A call layer; it has no settings.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for CallLayer {
    type Service = Call<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Call::new(inner)
    }
}

/// Wraps a service in [`Attempt`]: a span per attempt (an HTTP client span,
/// `POST`), child of the call span, and with feature `metrics` the
/// attempt's metrics. Goes below tower's `RetryLayer` and above the rate
/// limiter, so that each replay gets a span and the wait for a token is in
/// it; see [`CallLayer`] for the whole stack.
///
/// ```
/// use tower::ServiceBuilder;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::trace::AttemptLayer;
/// # let transport = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let client = ServiceBuilder::new()
///     .layer(AttemptLayer::new())
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AttemptLayer {
    _private: (),
}

impl AttemptLayer {
    /// An attempt layer; it has no settings.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for AttemptLayer {
    type Service = Attempt<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Attempt::new(inner)
    }
}

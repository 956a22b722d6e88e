use std::sync::Arc;

use tower::Layer;

use super::{Clock, Credentials, Sign};

/// Applies [`Sign`] to a service: every request is signed with
/// TC3-HMAC-SHA256 as of the [`Clock`]'s time.
///
/// Place it below the retry layer, so that every attempt is signed afresh,
/// and above [`EnvelopeLayer`](crate::EnvelopeLayer), so that it sees the
/// typed [`Error`](crate::Error) of each attempt and learns from
/// `AuthFailure.SignatureExpire`.
///
/// ```
/// use tower::ServiceBuilder;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::sign::{Credentials, SignLayer};
/// # let transport = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret-key");
/// let service = ServiceBuilder::new()
///     .layer(SignLayer::new(credentials))
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// ```
#[derive(Debug, Clone)]
pub struct SignLayer {
    credentials: Arc<Credentials>,
    clock: Clock,
}

impl SignLayer {
    /// A layer signing with `credentials` as of the system clock.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials: Arc::new(credentials),
            clock: Clock::new(),
        }
    }

    /// Signs as of `clock` instead: one shared with other signers, so that
    /// they learn the server's time together, or one with a time source
    /// that a test controls.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

impl<S> Layer<S> for SignLayer {
    type Service = Sign<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sign::from_parts(inner, self.credentials.clone(), self.clock.clone())
    }
}

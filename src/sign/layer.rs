use std::fmt;
use std::sync::Arc;

use tower::Layer;

use super::{Clock, Credentials, Sign};
use crate::credentials::{CredentialsCache, ProvideCredentials};

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
#[derive(Clone)]
pub struct SignLayer {
    provider: Arc<dyn ProvideCredentials>,
    clock: Clock,
}

impl SignLayer {
    /// A layer signing with `credentials` as of the system clock.
    pub fn new(credentials: Credentials) -> Self {
        Self::from_provider(Arc::new(credentials))
    }

    /// A layer signing with what `provider` answers, behind a
    /// [`CredentialsCache`] with its defaults: fetched ahead of expiry,
    /// in the background, one fetch at a time.
    ///
    /// A request waits only when no valid credentials are in hand (the
    /// first one, or after an expiry); if none can be had, the call fails
    /// with [`Error::Layer`](crate::Error::Layer) holding a
    /// [`CredentialsError`](crate::credentials::CredentialsError), unsent.
    ///
    /// ```
    /// use tower_tencentcloud::credentials::EnvironmentProvider;
    /// use tower_tencentcloud::sign::SignLayer;
    ///
    /// let layer = SignLayer::with_provider(EnvironmentProvider::new());
    /// ```
    pub fn with_provider(provider: impl ProvideCredentials) -> Self {
        Self::with_cache(CredentialsCache::new(provider))
    }

    /// A layer signing with what `cache` holds: one configured, or shared
    /// with other layers or code that reads its
    /// [`expiry`](CredentialsCache::expiry).
    pub fn with_cache(cache: CredentialsCache) -> Self {
        Self::from_provider(Arc::new(cache))
    }

    fn from_provider(provider: Arc<dyn ProvideCredentials>) -> Self {
        Self {
            provider,
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

impl fmt::Debug for SignLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignLayer")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for SignLayer {
    type Service = Sign<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Sign::from_parts(inner, self.provider.clone(), self.clock.clone())
    }
}

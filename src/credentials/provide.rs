//! [`ProvideCredentials`]: where a signer gets its credentials from.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::{Credentials, CredentialsError};

/// A source of credentials: fixed ones, the environment, a profile file,
/// the CVM metadata server, STS.
///
/// Each call answers one consistent snapshot. Sources of temporary
/// credentials fetch anew on every call; put them behind a
/// [`CredentialsCache`](super::CredentialsCache) (which
/// [`SignLayer::with_provider`](crate::sign::SignLayer::with_provider)
/// does) so that they are fetched once per lifetime.
///
/// ```
/// use tower_tencentcloud::credentials::{CredentialsFuture, ProvideCredentials};
/// use tower_tencentcloud::sign::Credentials;
///
/// /// Credentials from a vault of one's own.
/// struct Vault;
///
/// impl ProvideCredentials for Vault {
///     fn provide_credentials(&self) -> CredentialsFuture {
///         CredentialsFuture::new(async {
///             // ... ask the vault ...
///             Ok(Credentials::new("AKIDEXAMPLE", "secret-key"))
///         })
///     }
/// }
/// ```
pub trait ProvideCredentials: Send + Sync + 'static {
    /// The credentials to sign the next request with.
    fn provide_credentials(&self) -> CredentialsFuture;
}

/// Fixed credentials provide themselves.
impl ProvideCredentials for Credentials {
    fn provide_credentials(&self) -> CredentialsFuture {
        CredentialsFuture::ready(Ok(self.clone()))
    }
}

impl<P: ProvideCredentials + ?Sized> ProvideCredentials for Arc<P> {
    fn provide_credentials(&self) -> CredentialsFuture {
        (**self).provide_credentials()
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send>>;

/// The future of [`ProvideCredentials::provide_credentials`]: either
/// ready at once, without an allocation (fixed or cached credentials), or
/// a boxed fetch.
#[must_use = "futures do nothing unless polled"]
pub struct CredentialsFuture(Inner);

enum Inner {
    Ready(Option<Result<Credentials, CredentialsError>>),
    Pending(BoxFuture),
}

impl CredentialsFuture {
    /// An answer at hand.
    pub fn ready(result: Result<Credentials, CredentialsError>) -> Self {
        Self(Inner::Ready(Some(result)))
    }

    /// An answer to wait for.
    pub fn new(
        future: impl Future<Output = Result<Credentials, CredentialsError>> + Send + 'static,
    ) -> Self {
        Self(Inner::Pending(Box::pin(future)))
    }

    /// The answer if it is at hand, else the future back.
    pub(crate) fn into_ready(self) -> Result<Result<Credentials, CredentialsError>, Self> {
        match self.0 {
            Inner::Ready(Some(result)) => Ok(result),
            inner => Err(Self(inner)),
        }
    }
}

impl Future for CredentialsFuture {
    type Output = Result<Credentials, CredentialsError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Inner::Ready(result) => Poll::Ready(
                result
                    .take()
                    .expect("CredentialsFuture polled after completion"),
            ),
            Inner::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for CredentialsFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ready = matches!(self.0, Inner::Ready(_));
        f.debug_struct("CredentialsFuture")
            .field("ready", &ready)
            .finish()
    }
}

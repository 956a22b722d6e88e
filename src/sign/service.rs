use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tower::Service;

use super::{Clock, Credentials, ResponseFuture, SignLayer, SignableBody, clock, sign_request};
use crate::Error;

/// Signs each request with TC3-HMAC-SHA256, then calls the inner service.
///
/// Made by [`SignLayer`]. Every call is signed as of the [`Clock`]'s time,
/// so a replayed request gets a fresh timestamp and signature. When the
/// inner service fails with `AuthFailure.SignatureExpire`, the clock learns
/// the server's time from the response's `Date` header; the error is passed
/// on for the retry layer to decide
/// ([`RetryClass::ClockSkew`](crate::RetryClass::ClockSkew)).
///
/// A request that cannot be signed is not sent: the call fails with
/// [`Error::Layer`].
///
/// ```
/// use tower_tencentcloud::sign::{Credentials, Sign};
/// # let envelope = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, tower_tencentcloud::Error>(http::Response::new(String::new()))
/// # });
///
/// let service = Sign::new(envelope, Credentials::new("AKIDEXAMPLE", "secret-key"));
/// ```
#[derive(Debug, Clone)]
pub struct Sign<S> {
    inner: S,
    credentials: Arc<Credentials>,
    clock: Clock,
}

impl<S> Sign<S> {
    /// Wraps `inner`, signing with `credentials` as of the system clock.
    pub fn new(inner: S, credentials: Credentials) -> Self {
        Self::from_parts(inner, Arc::new(credentials), Clock::new())
    }

    pub(crate) fn from_parts(inner: S, credentials: Arc<Credentials>, clock: Clock) -> Self {
        Self {
            inner,
            credentials,
            clock,
        }
    }

    /// See [`SignLayer::clock`].
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// A layer that wraps services with `Sign`.
    pub fn layer(credentials: Credentials) -> SignLayer {
        SignLayer::new(credentials)
    }

    /// The clock requests are signed with.
    pub fn get_clock(&self) -> &Clock {
        &self.clock
    }

    define_inner_service_accessors!();
}

impl<S, B> Service<Request<B>> for Sign<S>
where
    S: Service<Request<B>, Error = Error>,
    B: SignableBody,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // One reading serves both, so that the offset learned from the
        // response is measured against the time this request was signed at.
        let sent = self.clock.local_now();
        let timestamp = clock::unix_seconds(self.clock.corrected(sent));
        match sign_request(&mut request, &self.credentials, timestamp) {
            Ok(()) => {
                tracing::trace!(timestamp, "signed request");
                ResponseFuture::signed(self.inner.call(request), self.clock.clone(), sent)
            }
            Err(err) => {
                tracing::debug!(error = %err, "request not signed");
                ResponseFuture::unsigned(err)
            }
        }
    }
}

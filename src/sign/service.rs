use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tower::Service;

use super::future::State;
use super::{Clock, Credentials, ResponseFuture, SignLayer, SignableBody, clock, sign_request};
use crate::credentials::ProvideCredentials;
use crate::error::Error;

/// Signs each request with TC3-HMAC-SHA256, then calls the inner service.
///
/// Made by [`SignLayer`]. Every call is signed as of the [`Clock`]'s time,
/// so a replayed request gets a fresh timestamp and signature. When the
/// inner service fails with `AuthFailure.SignatureExpire`, the clock learns
/// the server's time from the response's `Date` header; the error is passed
/// on for the retry layer to decide
/// ([`RetryClass::ClockSkew`](crate::RetryClass::ClockSkew)).
///
/// Each request is signed with one snapshot of the credentials. With a
/// provider, the snapshot is taken at once while valid credentials are in
/// hand; otherwise the call waits for them, which needs a clone of the
/// inner service. A request that cannot be signed, for want of credentials
/// or otherwise, is not sent: the call fails with [`Error::Layer`].
///
/// ```
/// use tower_tencentcloud::sign::{Credentials, Sign};
/// # let envelope = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, tower_tencentcloud::Error>(http::Response::new(String::new()))
/// # });
///
/// let service = Sign::new(envelope, Credentials::new("AKIDEXAMPLE", "secret-key"));
/// ```
#[derive(Clone)]
pub struct Sign<S> {
    inner: S,
    provider: Arc<dyn ProvideCredentials>,
    clock: Clock,
}

impl<S> Sign<S> {
    /// Wraps `inner`, signing with `credentials` as of the system clock.
    pub fn new(inner: S, credentials: Credentials) -> Self {
        Self::from_parts(inner, Arc::new(credentials), Clock::new())
    }

    pub(crate) fn from_parts(
        inner: S,
        provider: Arc<dyn ProvideCredentials>,
        clock: Clock,
    ) -> Self {
        Self {
            inner,
            provider,
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

impl<S: fmt::Debug> fmt::Debug for Sign<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sign")
            .field("inner", &self.inner)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<Request<B>> for Sign<S>
where
    S: Service<Request<B>, Error = Error> + Clone,
    B: SignableBody,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self.provider.provide_credentials().into_ready() {
            Ok(Ok(credentials)) => ResponseFuture::new(sign_and_call(
                &mut self.inner,
                request,
                &credentials,
                &self.clock,
            )),
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "no credentials: request not sent");
                ResponseFuture::new(State::failed(err.into()))
            }
            Err(credentials) => {
                // The ready service goes with the request; a fresh clone
                // stays to be made ready for the next one.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::new(State::waiting(
                    credentials,
                    inner,
                    request,
                    self.clock.clone(),
                ))
            }
        }
    }
}

/// Signs `request` with `credentials` as of now, and sends it.
pub(super) fn sign_and_call<S, B>(
    inner: &mut S,
    mut request: Request<B>,
    credentials: &Credentials,
    clock: &Clock,
) -> State<S, B>
where
    S: Service<Request<B>, Error = Error>,
    B: SignableBody,
{
    // One reading serves both, so that the offset learned from the
    // response is measured against the time this request was signed at.
    let sent = clock.local_now();
    let timestamp = clock::unix_seconds(clock.corrected(sent));
    match sign_request(&mut request, credentials, timestamp) {
        Ok(()) => {
            tracing::trace!(timestamp, "signed request");
            State::signed(inner.call(request), clock.clone(), sent)
        }
        Err(err) => {
            tracing::debug!(error = %err, "request not signed");
            State::failed(err.into())
        }
    }
}

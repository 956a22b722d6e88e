use std::mem;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tokio::time::Instant;
use tower::{Layer, Service};

use super::future::{Feedback, Reservation, ResponseFuture, refusal};
use super::rates::Rates;
use super::shared::{Budget, LeaseFuture};
use super::state::Admission;
use super::{AdaptiveRateLimitLayer, RateKey};
use crate::error::Error;

/// Paces requests per endpoint, region and action at a rate learned from
/// throttled answers.
///
/// Made by [`AdaptiveRateLimitLayer`], whose documentation has the
/// settings. A request whose [`RateKey`] has never been throttled goes out
/// at once. The first throttle (an [`Error`] whose
/// [`retry_class`](Error::retry_class) is
/// [`Throttled`](crate::RetryClass::Throttled)) starts measuring the rate
/// the API accepts for that key; the next one cuts the rate to `beta` of
/// what was measured, and requests then wait for tokens of a bucket filled
/// at that rate. Every answer that is not a throttle, error or not, raises
/// the rate along a CUBIC curve (less the headroom): quickly back towards
/// the rate that was throttled, slowly past it, then faster and faster
/// beyond in case the limit has risen; the next throttle cuts it again. A
/// throttle of a request sent before the latest cut is not cut for twice.
/// Failures without an answer (transport, body, signing) teach nothing.
///
/// A request that carries a [`Deadline`](crate::action::Deadline) before the
/// instant its token comes is not sent: it ends at once with a copy of the
/// key's last throttle (the API's own `RequestLimitExceeded`, or 429 page,
/// with the RequestId of the call it answered), whose
/// [`retry_class`](Error::retry_class) is
/// [`Throttled`](crate::RetryClass::Throttled), and its token is given back.
///
/// The wait is a sleep on tokio's clock (a test with a paused clock runs at
/// once), taken in the response future before the inner service is called.
/// Dropping the future while it waits gives its token back. A request that
/// has to wait is sent through a clone of the inner service, which is why
/// `S: Clone`; it is polled for readiness again once the wait is over.
///
/// # Where it goes
///
/// ```text
/// RetryLayer(RetryPolicy)        every attempt, the retries too, waits for a token
///   AdaptiveRateLimitLayer
///     SignLayer                  signs after the wait, so the timestamp is fresh
///       EnvelopeLayer            turns RequestLimitExceeded into a typed Error
///         transport
/// ```
///
/// It must sit above [`EnvelopeLayer`](crate::EnvelopeLayer) to see feedback
/// as typed errors (the API answers them with HTTP 200), and above
/// [`SignLayer`](crate::sign::SignLayer) so that a request is signed after
/// its wait, not before. Below the retry layer, each retry is paced like any
/// request, and the retry policy's backoff comes on top; above it, retries
/// would hit the limit unpaced, and the limiter would see a throttle only
/// once the retries had given up.
///
/// ```
/// use tower::ServiceExt;
/// use tower_tencentcloud::ratelimit::AdaptiveRateLimit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_tencentcloud::Error> {
/// # let signed_client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, tower_tencentcloud::Error>(http::Response::new(String::new()))
/// # });
/// let client = AdaptiveRateLimit::new(signed_client);
/// let request = http::Request::post("https://cvm.tencentcloudapi.com/")
///     .header("x-tc-action", "DescribeZones")
///     .body(String::from("{}"))
///     .unwrap();
/// let response = client.oneshot(request).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AdaptiveRateLimit<S> {
    inner: S,
    rates: Arc<Rates>,
    shared: Option<Arc<Budget>>,
}

impl<S> AdaptiveRateLimit<S> {
    /// Wraps `inner`, with the default settings and rates of its own.
    pub fn new(inner: S) -> Self {
        AdaptiveRateLimitLayer::new().layer(inner)
    }

    pub(crate) fn from_rates(inner: S, rates: Arc<Rates>, shared: Option<Arc<Budget>>) -> Self {
        Self {
            inner,
            rates,
            shared,
        }
    }

    /// A layer that wraps services with `AdaptiveRateLimit`.
    pub fn layer() -> AdaptiveRateLimitLayer {
        AdaptiveRateLimitLayer::new()
    }

    /// See [`AdaptiveRateLimitLayer::rate`].
    pub fn rate(&self, key: &RateKey) -> Option<f64> {
        self.rates.get(key).and_then(|state| state.rate())
    }

    define_inner_service_accessors!();
}

impl<S, B> Service<Request<B>> for AdaptiveRateLimit<S>
where
    S: Service<Request<B>, Error = Error> + Clone,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let key = RateKey::from_request(&request);
        if let Some(budget) = &self.shared {
            // As for a wait below: the future calls the instance made ready.
            let clone = self.inner.clone();
            let ready = mem::replace(&mut self.inner, clone);
            let lease = LeaseFuture::new(budget.clone(), key.clone());
            let feedback = Feedback::new(self.rates.clone(), key, None, 0);
            return ResponseFuture::leasing(lease, ready, request, feedback);
        }
        let Some(state) = self.rates.get(&key) else {
            let feedback = Feedback::new(self.rates.clone(), key, None, 0);
            return ResponseFuture::sent(self.inner.call(request), feedback);
        };
        match state.admit(Instant::now()) {
            Admission::Now { generation } => {
                let feedback = Feedback::new(self.rates.clone(), key, Some(state), generation);
                ResponseFuture::sent(self.inner.call(request), feedback)
            }
            Admission::At {
                deadline,
                generation,
            } => {
                if let Some(error) = refusal(&state, &request, deadline) {
                    state.release(generation, Instant::now());
                    let feedback = Feedback::new(self.rates.clone(), key, None, generation);
                    return ResponseFuture::refused(error, feedback);
                }
                // The future calls the instance that was made ready; this
                // service keeps a fresh clone for the next poll_ready.
                let clone = self.inner.clone();
                let ready = mem::replace(&mut self.inner, clone);
                let reservation = Reservation::new(state.clone(), generation);
                let feedback = Feedback::new(self.rates.clone(), key, Some(state), generation);
                ResponseFuture::waiting(ready, request, deadline, reservation, feedback)
            }
        }
    }
}

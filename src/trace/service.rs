//! [`Call`] and [`Attempt`].

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower::Service;

use super::attributes;
#[cfg(feature = "metrics")]
use super::future::AttemptMetrics;
use super::future::{AttemptFuture, AttemptState, CallFuture, CallState};
use super::tally::Tally;
use super::{AttemptLayer, CallLayer};
use crate::action::telemetry::recording;
use crate::error::Error;

#[cfg(feature = "metrics")]
use std::time::Instant;

/// Opens a span per call and, with feature `metrics`, records the call's
/// metrics; made by [`CallLayer`], whose documentation shows where it goes.
///
/// The span is named `{service}/{action}` (from the
/// [`ServiceName`](crate::action::ServiceName) extension and `X-TC-Action`),
/// and its fields are listed in [the module's documentation](super). It
/// puts a private tally into the request's extensions, which the retry
/// policy's clones carry to every [`Attempt`] below.
///
/// ```
/// use tower::ServiceExt;
/// use tower_tencentcloud::action::ActionRequest;
/// use tower_tencentcloud::trace::Call;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// # let client = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
/// #     Ok::<_, tower_tencentcloud::Error>(http::Response::new(String::new()))
/// # });
/// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones").build()?;
/// let response = Call::new(client).oneshot(request).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Call<S> {
    inner: S,
}

impl<S> Call<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    /// A layer that wraps services with `Call`.
    pub fn layer() -> CallLayer {
        CallLayer::new()
    }

    define_inner_service_accessors!();
}

impl<S, B, RB> Service<Request<B>> for Call<S>
where
    S: Service<Request<B>, Response = Response<RB>, Error = Error>,
    RB: Body,
{
    type Response = Response<RB>;
    type Error = Error;
    type Future = CallFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Request<B>) -> Self::Future {
        if unobserved() {
            return CallFuture::unrecorded(self.inner.call(request));
        }
        self.call_observed(request)
    }
}

impl<S> Call<S> {
    /// A call somebody may listen to, out of line so that the path of one
    /// nobody listens to stays small enough to inline.
    #[inline(never)]
    fn call_observed<B, RB>(&mut self, mut request: Request<B>) -> CallFuture<S::Future>
    where
        S: Service<Request<B>, Response = Response<RB>, Error = Error>,
    {
        let span = attributes::call_span(&request);
        let recording = recording();
        // A subscriber that filters this span out.
        if span.is_disabled() && !recording {
            return CallFuture::unrecorded(self.inner.call(request));
        }
        #[cfg(feature = "metrics")]
        let tally = Tally::new(recording.then(|| super::metrics::Labels::of(&request)));
        #[cfg(not(feature = "metrics"))]
        let tally = Tally::new();
        request.extensions_mut().insert(tally.clone());
        let state = Box::new(CallState {
            span,
            tally,
            #[cfg(feature = "metrics")]
            started: recording.then(Instant::now),
        });
        // The first attempt is made here: its span's parent is this one.
        let entered = state.span.enter();
        let future = self.inner.call(request);
        drop(entered);
        CallFuture::recorded(future, state)
    }
}

/// Opens a span per attempt and, with feature `metrics`, records the
/// attempt's metrics; made by [`AttemptLayer`].
///
/// Below [`Call`] and tower's `RetryLayer`, it numbers the attempts of a
/// call (`http.request.resend_count`) and counts retries by the retry class
/// of the failure they replay. The span is entered whenever the inner
/// future is polled, so that the rate limiter below records its wait in it.
///
/// ```
/// use tower::ServiceExt;
/// use tower_tencentcloud::trace::Attempt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_tencentcloud::Error> {
/// # let client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, tower_tencentcloud::Error>(http::Response::new(String::new()))
/// # });
/// let request = http::Request::post("https://cvm.tencentcloudapi.com/")
///     .header("x-tc-action", "DescribeZones")
///     .body(String::from("{}"))
///     .unwrap();
/// let response = Attempt::new(client).oneshot(request).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Attempt<S> {
    inner: S,
}

impl<S> Attempt<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    /// A layer that wraps services with `Attempt`.
    pub fn layer() -> AttemptLayer {
        AttemptLayer::new()
    }

    define_inner_service_accessors!();
}

impl<S, B, RB> Service<Request<B>> for Attempt<S>
where
    S: Service<Request<B>, Response = Response<RB>, Error = Error>,
{
    type Response = Response<RB>;
    type Error = Error;
    type Future = AttemptFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Request<B>) -> Self::Future {
        // Without a subscriber there is no call span whose tally to count.
        if unobserved() {
            return AttemptFuture::unrecorded(self.inner.call(request));
        }
        self.call_observed(request)
    }
}

impl<S> Attempt<S> {
    /// An attempt somebody may listen to, out of line as [`Call`]'s.
    #[inline(never)]
    fn call_observed<B, RB>(&mut self, request: Request<B>) -> AttemptFuture<S::Future>
    where
        S: Service<Request<B>, Response = Response<RB>, Error = Error>,
    {
        let span = attributes::attempt_span(&request);
        let recording = recording();
        // A call span above may count the attempts while a subscriber
        // filters this one out.
        let tally = request.extensions().get::<Tally>().cloned();
        if span.is_disabled() && !recording && tally.is_none() {
            return AttemptFuture::unrecorded(self.inner.call(request));
        }
        let (before, last_failure) = match &tally {
            Some(tally) => {
                let (before, last) = tally.start_attempt();
                (Some(before), last)
            }
            None => (None, None),
        };
        attributes::record_resends(&span, before);
        // Without metrics, nobody counts retries by their reason.
        #[cfg(not(feature = "metrics"))]
        let _ = last_failure;
        #[cfg(feature = "metrics")]
        let metrics = recording.then(|| AttemptMetrics {
            labels: match tally.as_ref().and_then(Tally::labels) {
                Some(labels) => labels.clone(),
                None => super::metrics::Labels::of(&request),
            },
            started: Instant::now(),
            retried: last_failure.filter(|_| before.is_some_and(|before| before > 0)),
        });
        let state = Box::new(AttemptState {
            span,
            tally,
            #[cfg(feature = "metrics")]
            metrics,
        });
        let entered = state.span.enter();
        let future = self.inner.call(request);
        drop(entered);
        AttemptFuture::recorded(future, state)
    }
}

/// Whether nobody can listen: no subscriber takes `INFO` (one atomic
/// load), and no metrics recorder is installed.
#[inline]
fn unobserved() -> bool {
    !tracing::level_enabled!(tracing::Level::INFO) && !recording()
}

//! [`Call`] and [`Attempt`].

use std::task::{Context, Poll};

use http::{Request, Response};
use http_body::Body;
use tower::Service;

use super::attributes;
use super::future::{AttemptFuture, CallFuture};
use super::tally::Tally;
use super::{AttemptLayer, CallLayer};
use crate::error::Error;

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
    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let span = attributes::call_span(&request);
        #[cfg(feature = "metrics")]
        let tally = Some(Tally::new(super::metrics::Labels::of(&request)));
        // Without metrics, only a span that is recorded needs the count.
        #[cfg(not(feature = "metrics"))]
        let tally = (!span.is_disabled()).then(Tally::new);
        if let Some(tally) = &tally {
            request.extensions_mut().insert(tally.clone());
        }
        // The first attempt is made here: its span's parent is this one.
        let entered = span.enter();
        let future = self.inner.call(request);
        drop(entered);
        CallFuture::new(future, span, tally)
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
        let tally = request.extensions().get::<Tally>().cloned();
        let (before, last_failure) = match &tally {
            Some(tally) => {
                let (before, last) = tally.start_attempt();
                (Some(before), last)
            }
            None => (None, None),
        };
        let span = attributes::attempt_span(&request, before);
        // Without metrics, nobody counts retries by their reason.
        #[cfg(not(feature = "metrics"))]
        let _ = last_failure;
        #[cfg(feature = "metrics")]
        let metrics = {
            let labels = match &tally {
                Some(tally) => tally.labels().clone(),
                None => super::metrics::Labels::of(&request),
            };
            let retried = last_failure.filter(|_| before.is_some_and(|before| before > 0));
            (labels, retried)
        };
        let entered = span.enter();
        let future = self.inner.call(request);
        drop(entered);
        AttemptFuture::new(
            future,
            span,
            tally,
            #[cfg(feature = "metrics")]
            metrics,
            #[cfg(not(feature = "metrics"))]
            (),
        )
    }
}

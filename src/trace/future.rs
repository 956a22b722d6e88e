//! [`CallFuture`] and [`AttemptFuture`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use http_body::Body;
use pin_project_lite::pin_project;
use tracing::Span;

use super::attributes;
use super::tally::Tally;
use crate::error::Error;
#[cfg(feature = "metrics")]
use crate::retry_class::RetryClass;

#[cfg(feature = "metrics")]
use std::time::Instant;

/// When a call or an attempt began; nothing without metrics, where the
/// subscriber times spans itself.
struct Started(#[cfg(feature = "metrics")] Instant);

impl Started {
    fn now() -> Self {
        Self(
            #[cfg(feature = "metrics")]
            Instant::now(),
        )
    }
}

/// An attempt's labels, and the class of the failure it replays.
#[cfg(feature = "metrics")]
pub(crate) type AttemptMetrics = (super::metrics::Labels, Option<RetryClass>);
/// Nothing to keep without metrics.
#[cfg(not(feature = "metrics"))]
pub(crate) type AttemptMetrics = ();

pin_project! {
    /// The future of [`Call`](super::Call): the inner future inside the
    /// call's span, which is filled with the outcome.
    pub struct CallFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        tally: Option<Tally>,
        started: Started,
    }
}

impl<F> CallFuture<F> {
    #[inline]
    pub(crate) fn new(inner: F, span: Span, tally: Option<Tally>) -> Self {
        Self {
            inner,
            span,
            tally,
            started: Started::now(),
        }
    }
}

impl<F, RB> Future for CallFuture<F>
where
    F: Future<Output = Result<Response<RB>, Error>>,
    RB: Body,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        // Returned as polled, so that the result is not moved once more.
        let poll = this.inner.poll(cx);
        if let Poll::Ready(result) = &poll {
            attributes::record_result(this.span, result);
            if let Some(tally) = this.tally.as_ref() {
                this.span
                    .record("tencentcloud.attempts", i64::from(tally.attempts()));
                #[cfg(feature = "metrics")]
                super::metrics::call_done(tally.labels(), this.started.0.elapsed(), result);
            }
        }
        poll
    }
}

impl<F> fmt::Debug for CallFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of [`Attempt`](super::Attempt): the inner future inside
    /// the attempt's span, which is filled with the outcome.
    pub struct AttemptFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        tally: Option<Tally>,
        metrics: AttemptMetrics,
        started: Started,
    }
}

impl<F> AttemptFuture<F> {
    #[inline]
    pub(crate) fn new(inner: F, span: Span, tally: Option<Tally>, metrics: AttemptMetrics) -> Self {
        Self {
            inner,
            span,
            tally,
            metrics,
            started: Started::now(),
        }
    }
}

impl<F, RB> Future for AttemptFuture<F>
where
    F: Future<Output = Result<Response<RB>, Error>>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let poll = this.inner.poll(cx);
        if let Poll::Ready(result) = &poll {
            attributes::record_result(this.span, result);
            if let (Some(tally), Err(error)) = (this.tally.as_ref(), result) {
                tally.failed(error.retry_class());
            }
            #[cfg(feature = "metrics")]
            {
                let (labels, retried) = this.metrics;
                super::metrics::attempt_done(labels, this.started.0.elapsed(), result, *retried);
            }
        }
        poll
    }
}

impl<F> fmt::Debug for AttemptFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptFuture")
            .field("span", &self.span)
            .finish_non_exhaustive()
    }
}

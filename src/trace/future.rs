//! [`CallFuture`] and [`AttemptFuture`].
//!
//! When nobody listens (the span is disabled, no metrics recorder is
//! installed) a future is the inner future and a null pointer: nothing is
//! timed, looked up or moved besides the inner future itself. What a
//! recorded call or attempt needs lives behind that pointer, so that the
//! futures stay small for the layers above.

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

/// What a recorded call keeps while it runs.
pub(crate) struct CallState {
    pub(crate) span: Span,
    pub(crate) tally: Tally,
    /// When the call began, if a recorder takes its duration.
    #[cfg(feature = "metrics")]
    pub(crate) started: Option<Instant>,
}

/// An attempt's metrics: when it began, and the class of the failure it
/// replays.
#[cfg(feature = "metrics")]
pub(crate) struct AttemptMetrics {
    pub(crate) labels: super::metrics::Labels,
    pub(crate) started: Instant,
    pub(crate) retried: Option<RetryClass>,
}

/// What a recorded attempt keeps while it runs.
pub(crate) struct AttemptState {
    pub(crate) span: Span,
    pub(crate) tally: Option<Tally>,
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<AttemptMetrics>,
}

pin_project! {
    /// The future of [`Call`](super::Call): the inner future inside the
    /// call's span, which is filled with the outcome.
    pub struct CallFuture<F> {
        #[pin]
        inner: F,
        // `None` when nobody listens.
        state: Option<Box<CallState>>,
    }
}

impl<F> CallFuture<F> {
    /// The inner future alone, for a call nobody listens to.
    #[inline]
    pub(crate) fn unrecorded(inner: F) -> Self {
        Self { inner, state: None }
    }

    #[inline]
    pub(crate) fn recorded(inner: F, state: Box<CallState>) -> Self {
        Self {
            inner,
            state: Some(state),
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
        let Some(state) = this.state.as_deref() else {
            return this.inner.poll(cx);
        };
        let _entered = state.span.enter();
        // Returned as polled, so that the result is not moved once more.
        let poll = this.inner.poll(cx);
        if let Poll::Ready(result) = &poll {
            call_done(state, result);
        }
        poll
    }
}

/// Fills the call span with the outcome and records the call's metrics.
fn call_done<RB: Body>(state: &CallState, result: &Result<Response<RB>, Error>) {
    attributes::record_result(&state.span, result);
    let tally = &state.tally;
    if !state.span.is_disabled() {
        state
            .span
            .record("tencentcloud.attempts", i64::from(tally.attempts()));
    }
    #[cfg(feature = "metrics")]
    if let (Some(labels), Some(started)) = (tally.labels(), state.started) {
        super::metrics::call_done(labels, started.elapsed(), result);
    }
}

impl<F> fmt::Debug for CallFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("CallFuture");
        if let Some(state) = &self.state {
            debug.field("span", &state.span);
        }
        debug.finish_non_exhaustive()
    }
}

pin_project! {
    /// The future of [`Attempt`](super::Attempt): the inner future inside
    /// the attempt's span, which is filled with the outcome.
    pub struct AttemptFuture<F> {
        #[pin]
        inner: F,
        // `None` when nobody listens.
        state: Option<Box<AttemptState>>,
    }
}

impl<F> AttemptFuture<F> {
    /// The inner future alone, for an attempt nobody listens to.
    #[inline]
    pub(crate) fn unrecorded(inner: F) -> Self {
        Self { inner, state: None }
    }

    #[inline]
    pub(crate) fn recorded(inner: F, state: Box<AttemptState>) -> Self {
        Self {
            inner,
            state: Some(state),
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
        let Some(state) = this.state.as_deref() else {
            return this.inner.poll(cx);
        };
        let _entered = state.span.enter();
        let poll = this.inner.poll(cx);
        if let Poll::Ready(result) = &poll {
            attempt_done(state, result);
        }
        poll
    }
}

/// Fills the attempt span with the outcome, notes a failure's class for the
/// next attempt, and records the attempt's metrics.
fn attempt_done<RB>(state: &AttemptState, result: &Result<Response<RB>, Error>) {
    attributes::record_result(&state.span, result);
    if let (Some(tally), Err(error)) = (&state.tally, result) {
        tally.failed(error.retry_class());
    }
    #[cfg(feature = "metrics")]
    if let Some(metrics) = &state.metrics {
        super::metrics::attempt_done(
            &metrics.labels,
            metrics.started.elapsed(),
            result,
            metrics.retried,
        );
    }
}

impl<F> fmt::Debug for AttemptFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("AttemptFuture");
        if let Some(state) = &self.state {
            debug.field("span", &state.span);
        }
        debug.finish_non_exhaustive()
    }
}

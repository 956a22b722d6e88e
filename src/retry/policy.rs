//! [`RetryPolicy`]: which failures are retried, after how long, how often.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use http::{Request, Response};
use tokio::time::Instant;
use tower::retry::Policy;

use super::backoff::ExponentialBackoff;
use super::budget::{RetryBudget, TokenBucket};
use super::give_up::give_up;
use super::idempotency::{self, IdempotencyRule};
use super::retry_after::retry_after;
use super::{Attempts, RetryDelay};
use crate::action::{Deadline, header};
use crate::{Error, RetryClass, StopReason};

/// A caller's classification, replacing [`Error::retry_class`].
type Classifier = Arc<dyn Fn(&Error) -> RetryClass + Send + Sync>;

/// The retry policy for [`tower::retry::Retry`], placed above
/// [`EnvelopeLayer`](crate::EnvelopeLayer) so that it decides on typed
/// [`Error`]s.
///
/// | [`RetryClass`] of the error | retried |
/// |---|---|
/// | `Throttled` | always, up to [`max_throttled_retries`](Self::max_throttled_retries) times, without spending the budget: the API refused the request before running it |
/// | `Transient` | only when safe to replay: the `X-TC-Action` is read-only (see [`is_read_only_action`](crate::action::is_read_only_action)), or the request carries [`Idempotent`](super::Idempotent) |
/// | `ClockSkew` | once, without delay: the signing layer has corrected its clock |
/// | `Never` | no |
///
/// Each retry waits a delay drawn uniformly between zero and
/// `base * 2^retry`, capped ("full jitter"), on tokio's clock; a retry of a
/// failure that may have run must be paid for by the [`RetryBudget`] shared
/// by every clone of the policy. When the failed response carries
/// `Retry-After` (seconds, or an HTTP date), the next attempt waits at least
/// that long; a `Retry-After` beyond the backoff's cap ends the retries
/// rather than hammer sooner than asked. A [`Deadline`] in the request's
/// extensions ends them when the wait would pass it. No delay follows the
/// last attempt, and dropping the response future cancels the wait. The
/// delays need tokio's timer: drive the service on a tokio runtime with time
/// enabled (as `#[tokio::main]` makes).
///
/// | setting | default |
/// |---|---|
/// | [`max_attempts`](Self::max_attempts) | 4, the first included, throttled ones not counted |
/// | [`max_throttled_retries`](Self::max_throttled_retries) | 8 |
/// | [`throttled_backoff`](Self::throttled_backoff) | base 1 s, cap 20 s |
/// | [`transient_backoff`](Self::transient_backoff) | base 100 ms, cap 5 s |
/// | [`budget`](Self::budget) | [`RetryBudget::new`]: retries of failures add at most 20% to the requests, at least 5 per second, at most 10 saved |
///
/// Under a sustained rate limit, put
/// [`AdaptiveRateLimitLayer`](crate::ratelimit::AdaptiveRateLimitLayer)
/// below the retry layer: it paces every attempt just under the limit, so
/// that few are throttled at all. Without it, each throttled call retries
/// on its own backoff.
///
/// A response that succeeds keeps the [`RequestId`](crate::RequestId) of its own attempt and
/// gains an [`Attempts`] extension. An error is returned as the last attempt
/// produced it, with the attempt count and the reason the policy stopped in
/// [`Error::retry_stopped`], which its `Display` ends with.
///
/// Every retry emits a `DEBUG` event with the action, the error code, the
/// RequestId, the attempt that failed and the delay.
///
/// ```
/// use std::time::Duration;
///
/// use http::{Request, Response};
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower::retry::RetryLayer;
/// use tower_tencentcloud::{EnvelopeLayer, RequestId};
/// use tower_tencentcloud::retry::{Attempts, RetryPolicy};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Stands in for an HTTP client: throttled once, then answers.
/// let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
/// let client = tower::service_fn(move |_: Request<String>| {
///     let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
///     async move {
///         let body = if call == 0 {
///             r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"a"}}"#
///         } else {
///             r#"{"Response":{"TotalCount":0,"RequestId":"b"}}"#
///         };
///         Ok::<_, std::convert::Infallible>(Response::new(body.to_owned()))
///     }
/// });
///
/// let policy = RetryPolicy::default()
///     .max_attempts(3)
///     .throttled_backoff(Duration::from_millis(10), Duration::from_millis(50));
/// let service = ServiceBuilder::new()
///     .layer(RetryLayer::new(policy))
///     .layer(EnvelopeLayer::new())
///     .service(client);
///
/// let request = Request::builder()
///     .header("X-TC-Action", "DescribeInstances")
///     .body(String::from("{}"))
///     .unwrap();
/// let response = service.oneshot(request).await.unwrap();
/// assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 2);
/// assert_eq!(response.extensions().get::<RequestId>().unwrap(), "b");
/// # }
/// ```
#[derive(Clone)]
pub struct RetryPolicy {
    settings: Arc<Settings>,
    budget: Arc<TokenBucket>,
    // The fields below belong to one request: tower's `Retry` clones the
    // policy for every call and consults only that clone afterwards.
    attempts: u32,
    throttled_retries: u32,
    clock_skew_retried: bool,
}

#[derive(Clone)]
struct Settings {
    max_attempts: u32,
    max_throttled_retries: u32,
    throttled_backoff: ExponentialBackoff,
    transient_backoff: ExponentialBackoff,
    classifier: Option<Classifier>,
    idempotency_rule: Option<IdempotencyRule>,
}

impl RetryPolicy {
    /// A policy with the defaults listed above.
    pub fn new() -> Self {
        Self {
            settings: Arc::new(Settings {
                max_attempts: 4,
                max_throttled_retries: 8,
                throttled_backoff: ExponentialBackoff::new(
                    Duration::from_secs(1),
                    Duration::from_secs(20),
                ),
                transient_backoff: ExponentialBackoff::new(
                    Duration::from_millis(100),
                    Duration::from_secs(5),
                ),
                classifier: None,
                idempotency_rule: None,
            }),
            budget: Arc::new(TokenBucket::new(RetryBudget::new(), Instant::now())),
            attempts: 0,
            throttled_retries: 0,
            clock_skew_retried: false,
        }
    }

    /// The most attempts made for one call, the first included, not
    /// counting those that were throttled; 1 disables the retries of
    /// failures, and 0 counts as 1.
    ///
    /// An attempt refused by a rate limit ran nothing, so it does not use up
    /// the attempts meant for failures that may have run;
    /// [`max_throttled_retries`](Self::max_throttled_retries) bounds those.
    /// A call thus makes at most `max_attempts + max_throttled_retries`
    /// attempts.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.settings_mut().max_attempts = attempts.max(1);
        self
    }

    /// The most retries of one call after throttling; 0 never retries a
    /// throttle.
    ///
    /// ```
    /// use tower_tencentcloud::retry::RetryPolicy;
    ///
    /// // No retries at all.
    /// let policy = RetryPolicy::default().max_attempts(1).max_throttled_retries(0);
    /// ```
    pub fn max_throttled_retries(mut self, retries: u32) -> Self {
        self.settings_mut().max_throttled_retries = retries;
        self
    }

    /// The backoff after throttling: retry `n` (from 0) waits up to
    /// `base * 2^n`, never more than `cap`.
    pub fn throttled_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.settings_mut().throttled_backoff = ExponentialBackoff::new(base, cap);
        self
    }

    /// The backoff after a transient failure: retry `n` (from 0) waits up to
    /// `base * 2^n`, never more than `cap`.
    pub fn transient_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.settings_mut().transient_backoff = ExponentialBackoff::new(base, cap);
        self
    }

    /// Replaces the retry budget with a new, full one.
    ///
    /// Clones made before this call keep sharing the old budget, so set it
    /// before the policy is handed to [`RetryLayer`](tower::retry::RetryLayer).
    pub fn budget(mut self, budget: RetryBudget) -> Self {
        self.budget = Arc::new(TokenBucket::new(budget, Instant::now()));
        self
    }

    /// Classifies errors with `classifier` instead of
    /// [`Error::retry_class`].
    ///
    /// The decisions that follow a class stay the same: a closure that calls
    /// `retry_class` and changes a few cases is the usual shape.
    ///
    /// ```
    /// use tower_tencentcloud::{Error, RetryClass};
    /// use tower_tencentcloud::retry::RetryPolicy;
    ///
    /// // This service reports a busy backend as ResourceUnavailable.Busy.
    /// let policy = RetryPolicy::default().classifier(|error: &Error| {
    ///     match error.code() {
    ///         Some(code) if code == "ResourceUnavailable.Busy" => RetryClass::Transient,
    ///         _ => error.retry_class(),
    ///     }
    /// });
    /// ```
    pub fn classifier<F>(mut self, classifier: F) -> Self
    where
        F: Fn(&Error) -> RetryClass + Send + Sync + 'static,
    {
        self.settings_mut().classifier = Some(Arc::new(classifier));
        self
    }

    /// Decides with `rule` which requests are safe to replay after a
    /// transient failure, instead of looking for a read-only action name.
    ///
    /// A request marked [`Idempotent`](super::Idempotent) stays safe to
    /// replay whatever the rule says.
    ///
    /// ```
    /// use tower_tencentcloud::action::{header, is_read_only_action};
    /// use tower_tencentcloud::retry::RetryPolicy;
    ///
    /// // Writes sent by this client always carry a ClientToken, echoed in a header.
    /// let policy = RetryPolicy::default().idempotent_if(|head: &http::request::Parts| {
    ///     head.headers.contains_key("x-client-token")
    ///         || header::action(&head.headers).is_some_and(is_read_only_action)
    /// });
    /// ```
    pub fn idempotent_if<F>(mut self, rule: F) -> Self
    where
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
    {
        self.settings_mut().idempotency_rule = Some(Arc::new(rule));
        self
    }

    fn settings_mut(&mut self) -> &mut Settings {
        Arc::make_mut(&mut self.settings)
    }

    fn retry_class(&self, error: &Error) -> RetryClass {
        match &self.settings.classifier {
            Some(classifier) => classifier(error),
            None => error.retry_class(),
        }
    }

    /// The backoff the next attempt waits on, `None` for at once, or `Err`
    /// with the reason not to retry at all.
    fn backoff_for<B>(
        &self,
        class: RetryClass,
        request: &Request<B>,
    ) -> Result<Option<ExponentialBackoff>, StopReason> {
        let settings = &self.settings;
        match class {
            RetryClass::Never => Err(StopReason::NotRetryable),
            RetryClass::ClockSkew if self.clock_skew_retried => Err(StopReason::ClockSkewAgain),
            RetryClass::ClockSkew => Ok(None),
            RetryClass::Throttled => Ok(Some(settings.throttled_backoff)),
            RetryClass::Transient
                if idempotency::is_replay_safe(request, settings.idempotency_rule.as_ref()) =>
            {
                Ok(Some(settings.transient_backoff))
            }
            RetryClass::Transient => Err(StopReason::NotReplaySafe),
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let custom = |set: bool| if set { "custom" } else { "default" };
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.settings.max_attempts)
            .field(
                "max_throttled_retries",
                &self.settings.max_throttled_retries,
            )
            .field("throttled_backoff", &self.settings.throttled_backoff)
            .field("transient_backoff", &self.settings.transient_backoff)
            .field("classifier", &custom(self.settings.classifier.is_some()))
            .field(
                "idempotency_rule",
                &custom(self.settings.idempotency_rule.is_some()),
            )
            .field("budget", &self.budget)
            .field("attempts", &self.attempts)
            .field("throttled_retries", &self.throttled_retries)
            .finish()
    }
}

impl<B, RB> Policy<Request<B>, Response<RB>, Error> for RetryPolicy
where
    B: Clone,
{
    type Future = RetryDelay;

    fn retry(
        &mut self,
        request: &mut Request<B>,
        result: &mut Result<Response<RB>, Error>,
    ) -> Option<RetryDelay> {
        self.attempts = self.attempts.saturating_add(1);
        if self.attempts == 1 {
            // Every call pays into the budget once, failed or not, so that
            // retries are a share of the traffic.
            self.budget.deposit(Instant::now());
        }
        let error = match result {
            Ok(response) => {
                response
                    .extensions_mut()
                    .insert(Attempts::new(self.attempts));
                return None;
            }
            Err(error) => error,
        };

        let class = self.retry_class(error);
        let backoff = match self.backoff_for(class, request) {
            Ok(backoff) => backoff,
            Err(reason) => {
                give_up(request, error, self.attempts, reason);
                return None;
            }
        };
        let throttled = class == RetryClass::Throttled;
        if throttled && self.throttled_retries >= self.settings.max_throttled_retries {
            give_up(
                request,
                error,
                self.attempts,
                StopReason::ThrottledRetriesExhausted,
            );
            return None;
        }
        if !throttled && self.attempts - self.throttled_retries >= self.settings.max_attempts {
            give_up(request, error, self.attempts, StopReason::AttemptsExhausted);
            return None;
        }

        let mut delay = Duration::ZERO;
        if let Some(backoff) = backoff {
            // The retries of this class so far, which the ceiling doubles with.
            let retry = if throttled {
                self.throttled_retries
            } else {
                self.attempts - 1 - self.throttled_retries
            };
            delay = backoff.delay(retry);
            if let Some(asked) = retry_after(error) {
                if asked > backoff.cap() {
                    give_up(
                        request,
                        error,
                        self.attempts,
                        StopReason::RetryAfterBeyondCap,
                    );
                    return None;
                }
                delay = delay.max(asked);
            }
        }
        let now = Instant::now();
        if let Some(deadline) = request.extensions().get::<Deadline>()
            && deadline.is_before(now + delay)
        {
            give_up(request, error, self.attempts, StopReason::DeadlineReached);
            return None;
        }
        // Checked last, so that a retry not made costs nothing.
        if (!throttled || self.budget.covers_throttled()) && !self.budget.try_withdraw(now) {
            give_up(request, error, self.attempts, StopReason::BudgetExhausted);
            return None;
        }
        self.clock_skew_retried |= class == RetryClass::ClockSkew;
        self.throttled_retries += u32::from(throttled);

        tracing::debug!(
            action = header::action(request.headers()),
            code = error.code().map(tracing::field::display),
            request_id = error.request_id().map(tracing::field::display),
            attempt = self.attempts,
            ?delay,
            ?class,
            %error,
            "retrying",
        );
        Some(RetryDelay::new(delay))
    }

    fn clone_request(&mut self, request: &Request<B>) -> Option<Request<B>> {
        // Cloned even when no retry is possible, so that `retry` still sees
        // the outcome and can report the attempt count.
        Some(request.clone())
    }
}

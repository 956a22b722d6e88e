//! The retry budget: how many retries may be added to the traffic, and the
//! token bucket that enforces it across every clone of a policy.

use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;

/// How many retries of failures a [`RetryPolicy`](super::RetryPolicy) may
/// add to the traffic, so that an outage is not made worse by a storm of
/// retries.
///
/// The budget pays for the retries of failures that may have run
/// (`Transient`, `ClockSkew`), whose replays add load to a backend already
/// failing. Retries of throttled requests are not paid for by default: the
/// API refused them before running them, and the answer to a sustained
/// limit is to slow down (the backoff, and
/// [`AdaptiveRateLimitLayer`](crate::ratelimit::AdaptiveRateLimitLayer)
/// below the retry layer), not to fail a busy client; their number per call
/// is bounded by
/// [`max_throttled_retries`](super::RetryPolicy::max_throttled_retries).
/// [`covers_throttled`](Self::covers_throttled) makes them pay too.
///
/// The budget is a token bucket. Every request puts [`ratio`](Self::ratio)
/// of a token in when its first attempt ends, whatever the outcome; every
/// retry takes one whole token out, and is not made when there is none.
/// Tokens also trickle in at [`min_per_second`](Self::min_per_second)
/// whatever the traffic, so that a quiet client can still retry, and no
/// more than [`max_tokens`](Self::max_tokens) are ever saved, so that a long
/// healthy stretch cannot be spent as a burst when an outage begins. The
/// bucket starts full.
///
/// Over any stretch of `t` seconds in which `n` requests are sent, retries
/// thus number at most `ratio * n + min_per_second * t + max_tokens`.
///
/// | setting | default |
/// |---|---|
/// | [`ratio`](Self::ratio) | 0.2: retries add at most 20% to the requests |
/// | [`min_per_second`](Self::min_per_second) | 5 |
/// | [`max_tokens`](Self::max_tokens) | 10 |
/// | [`covers_throttled`](Self::covers_throttled) | `false`: throttled retries are free |
///
/// Every clone of a policy shares one bucket; policies built separately
/// have their own.
///
/// ```
/// use tower_tencentcloud::retry::{RetryBudget, RetryPolicy};
///
/// let policy = RetryPolicy::default()
///     .budget(RetryBudget::new().ratio(0.1).min_per_second(1).max_tokens(20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryBudget {
    ratio: f64,
    min_per_second: u32,
    max_tokens: u32,
    covers_throttled: bool,
}

impl RetryBudget {
    /// The default budget: 20% of the requests, at least 5 retries per
    /// second, at most 10 saved, throttled retries free.
    pub const fn new() -> Self {
        Self {
            ratio: 0.2,
            min_per_second: 5,
            max_tokens: 10,
            covers_throttled: false,
        }
    }

    /// Whether retries of throttled requests spend tokens too (and are not
    /// made when there is none), as in earlier versions.
    ///
    /// Without [`AdaptiveRateLimitLayer`](crate::ratelimit::AdaptiveRateLimitLayer),
    /// a client of many concurrent callers that must never send more than
    /// the budget allows may want it; under a sustained limit it fails most
    /// calls of a busy batch.
    ///
    /// ```
    /// use tower_tencentcloud::retry::{RetryBudget, RetryPolicy};
    ///
    /// let policy = RetryPolicy::default().budget(RetryBudget::new().covers_throttled(true));
    /// ```
    pub fn covers_throttled(mut self, covers: bool) -> Self {
        self.covers_throttled = covers;
        self
    }

    /// The share of the requests that retries may add (0.2 allows one retry
    /// for every five requests).
    ///
    /// # Panics
    ///
    /// If `ratio` is negative, NaN or infinite.
    pub fn ratio(mut self, ratio: f64) -> Self {
        assert!(
            ratio.is_finite() && ratio >= 0.0,
            "retry budget ratio must be a finite, non-negative number, got {ratio}"
        );
        self.ratio = ratio;
        self
    }

    /// Retries allowed per second whatever the traffic: the floor that lets a
    /// client sending few requests retry them.
    pub fn min_per_second(mut self, retries: u32) -> Self {
        self.min_per_second = retries;
        self
    }

    /// The most retries that can be saved up; also what a new bucket holds.
    ///
    /// Deposits are capped too, so 0 disables retries altogether.
    pub fn max_tokens(mut self, tokens: u32) -> Self {
        self.max_tokens = tokens;
        self
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new()
    }
}

/// The state behind a [`RetryBudget`], shared by the clones of a policy.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    budget: RetryBudget,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled_at: Instant,
}

/// Sums of ratios such as 0.2 can fall a hair short of a whole token.
const ROUNDING_SLACK: f64 = 1e-9;

impl TokenBucket {
    pub(crate) fn new(budget: RetryBudget, now: Instant) -> Self {
        Self {
            budget,
            state: Mutex::new(BucketState {
                tokens: f64::from(budget.max_tokens),
                refilled_at: now,
            }),
        }
    }

    /// Whether throttled retries are paid for.
    pub(crate) fn covers_throttled(&self) -> bool {
        self.budget.covers_throttled
    }

    /// Credits a request whose first attempt has ended.
    pub(crate) fn deposit(&self, now: Instant) {
        self.update(now, |tokens| *tokens += self.budget.ratio);
    }

    /// Takes the token a retry costs; `false` (and nothing taken) when the
    /// bucket holds less than one.
    pub(crate) fn try_withdraw(&self, now: Instant) -> bool {
        self.update(now, |tokens| {
            let allowed = *tokens >= 1.0 - ROUNDING_SLACK;
            if allowed {
                *tokens = (*tokens - 1.0).max(0.0);
            }
            allowed
        })
    }

    #[cfg(test)]
    fn tokens(&self, now: Instant) -> f64 {
        self.update(now, |tokens| *tokens)
    }

    /// Runs `f` on the balance after crediting the floor for the time
    /// elapsed, then applies the cap.
    fn update<T>(&self, now: Instant, f: impl FnOnce(&mut f64) -> T) -> T {
        // Nothing in here can panic midway, so a poisoned lock still holds a
        // consistent balance.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let max = f64::from(self.budget.max_tokens);
        let elapsed = now.saturating_duration_since(state.refilled_at);
        let floor = elapsed.as_secs_f64() * f64::from(self.budget.min_per_second);
        state.tokens = (state.tokens + floor).min(max);
        state.refilled_at = state.refilled_at.max(now);
        let out = f(&mut state.tokens);
        state.tokens = state.tokens.min(max);
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn bucket(budget: RetryBudget) -> (TokenBucket, Instant) {
        let now = Instant::now();
        (TokenBucket::new(budget, now), now)
    }

    fn withdraw_all(bucket: &TokenBucket, now: Instant) -> u32 {
        let mut taken = 0;
        while bucket.try_withdraw(now) {
            taken += 1;
        }
        taken
    }

    #[test]
    fn starts_full_and_empties() {
        let (bucket, now) = bucket(RetryBudget::new().min_per_second(0).max_tokens(3));
        assert_eq!(bucket.tokens(now), 3.0);
        assert_eq!(withdraw_all(&bucket, now), 3);
        assert!(!bucket.try_withdraw(now));
        assert_eq!(bucket.tokens(now), 0.0);
    }

    #[test]
    fn deposits_of_a_fifth_buy_a_retry_every_five_requests() {
        let (bucket, now) = bucket(RetryBudget::new().min_per_second(0).max_tokens(10));
        withdraw_all(&bucket, now);
        for request in 1..=4 {
            bucket.deposit(now);
            assert!(
                !bucket.try_withdraw(now),
                "retry allowed after {request} requests"
            );
        }
        bucket.deposit(now);
        assert!(bucket.try_withdraw(now));
        assert!(!bucket.try_withdraw(now));
    }

    #[test]
    fn floor_refills_with_time_up_to_the_cap() {
        let (bucket, start) = bucket(RetryBudget::new().min_per_second(5).max_tokens(10));
        assert_eq!(withdraw_all(&bucket, start), 10);
        let later = start + Duration::from_millis(400);
        assert_eq!(withdraw_all(&bucket, later), 2);
        let much_later = later + Duration::from_secs(3600);
        assert_eq!(bucket.tokens(much_later), 10.0);
    }

    #[test]
    fn deposits_never_exceed_the_cap() {
        let (bucket, now) = bucket(
            RetryBudget::new()
                .ratio(1.0)
                .min_per_second(0)
                .max_tokens(2),
        );
        for _ in 0..100 {
            bucket.deposit(now);
        }
        assert_eq!(withdraw_all(&bucket, now), 2);
    }

    #[test]
    fn a_clock_that_goes_back_credits_nothing() {
        let (bucket, start) = bucket(RetryBudget::new().min_per_second(5).max_tokens(10));
        let later = start + Duration::from_secs(1);
        withdraw_all(&bucket, later);
        assert!(!bucket.try_withdraw(start));
        assert!(!bucket.try_withdraw(later));
        assert!(bucket.try_withdraw(later + Duration::from_millis(200)));
    }

    #[test]
    fn sustained_failure_keeps_retries_to_the_share() {
        let budget = RetryBudget::new()
            .ratio(0.2)
            .min_per_second(5)
            .max_tokens(10);
        let (bucket, start) = bucket(budget);
        // 1,000 requests over 10 seconds, each failing and wanting 3 retries.
        let mut retries = 0;
        for request in 0..1000u32 {
            let now = start + Duration::from_millis(u64::from(request) * 10);
            bucket.deposit(now);
            for _ in 0..3 {
                retries += u32::from(bucket.try_withdraw(now));
            }
        }
        let bound = 0.2 * 1000.0 + 5.0 * 10.0 + 10.0;
        assert!(f64::from(retries) <= bound, "{retries} retries");
        assert!(retries >= 200, "the budget starved: {retries} retries");
    }

    #[test]
    #[should_panic(expected = "ratio")]
    fn a_negative_ratio_is_refused() {
        let _ = RetryBudget::new().ratio(-0.1);
    }
}

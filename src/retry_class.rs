//! [`RetryClass`]: what waiting and sending a request again can achieve.

/// What waiting and sending the same request again can achieve.
///
/// | class | codes |
/// |---|---|
/// | `Throttled` | `RequestLimitExceeded`, `RequestLimitExceeded.*`, a curated list of rate limits filed under other prefixes (`LimitExceeded.TooManyRequests`, `FailedOperation.FrequencyLimit`, ...), HTTP 429 without an envelope |
/// | `Transient` | `InternalError`, `InternalError.*`, `ServiceUnavailable`, `ServiceUnavailable.*`, HTTP 502/503/504 without an envelope, transport and body read failures |
/// | `ClockSkew` | `AuthFailure.SignatureExpire`: the signer's clock is off; worth one retry once the signer has corrected it |
/// | `Never` | everything else, notably quotas (`LimitExceeded.*`), `AuthFailure.*`, `InvalidParameter*`, `ResourceNotFound*`, `DryRunOperation` |
///
/// The rate-limit list was built by reading every code the services declare,
/// never by substring: `InvalidParameterValue.BindInfrequentaccessFirst` and
/// `ResourceInUse.RatelimitRuleExistError` are not rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetryClass {
    /// The API refused the request before running it: a replay is always safe.
    Throttled,
    /// The request may or may not have run: replay only what is safe to repeat.
    Transient,
    /// The request was signed with a clock too far from the server's. It was
    /// refused before running, so a replay is safe, but only useful once
    /// the signer has corrected its clock: retry it once, at once.
    ClockSkew,
    /// Sending it again gives the same answer.
    Never,
}

/// What each class means, for every layer that acts on one: the retry
/// policy, the rate limiter and the signer ask these, so that a new class
/// is defined here alone.
impl RetryClass {
    /// `true` unless `Never`.
    pub fn is_retryable(self) -> bool {
        !matches!(self, Self::Never)
    }

    /// `true` when the API refused the request before running it, so that
    /// a replay is safe whatever the action: `Throttled` and `ClockSkew`.
    ///
    /// ```
    /// use tower_tencentcloud::RetryClass;
    ///
    /// assert!(RetryClass::Throttled.was_refused_unrun());
    /// assert!(!RetryClass::Transient.was_refused_unrun());
    /// ```
    pub fn was_refused_unrun(self) -> bool {
        matches!(self, Self::Throttled | Self::ClockSkew)
    }

    /// `true` when the API asks the client to slow down: what the rate
    /// limiter learns its rate from.
    pub fn asks_to_slow_down(self) -> bool {
        matches!(self, Self::Throttled)
    }

    /// `true` when the signer's clock is off: what the signer corrects its
    /// clock from.
    pub fn is_clock_skew(self) -> bool {
        matches!(self, Self::ClockSkew)
    }
}

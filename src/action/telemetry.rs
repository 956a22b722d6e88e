//! The names of the telemetry that more than one room writes: the span
//! field of the rate limiter's wait, and every metric name, defined once
//! like the header names.
//!
//! [`trace`](crate::trace) declares the span fields and documents the
//! metrics; the rate limiter and the credential providers record theirs
//! under these names.
//!
//! ```
//! use tower_tencentcloud::action::telemetry;
//!
//! assert_eq!(telemetry::CALLS, "tencentcloud_calls_total");
//! ```

/// Span field: the seconds an attempt waited in the rate limiter, recorded
/// by the limiter into the current (attempt) span.
pub const RATE_LIMIT_WAIT_FIELD: &str = "tencentcloud.ratelimit.wait";

/// Histogram, seconds: a call, retries and their waits included.
pub const CALL_DURATION: &str = "tencentcloud_call_duration_seconds";
/// Histogram, seconds: one attempt, its rate-limiter wait included.
pub const ATTEMPT_DURATION: &str = "tencentcloud_attempt_duration_seconds";
/// Counter: calls, by outcome and error category.
pub const CALLS: &str = "tencentcloud_calls_total";
/// Counter: attempts after the first, by the retry class of the failure
/// they replay.
pub const RETRIES: &str = "tencentcloud_retries_total";
/// Counter: attempts the API answered with a throttle.
pub const THROTTLED: &str = "tencentcloud_throttled_total";
/// Histogram, bytes: the body of a successful answer, when its size is known.
pub const RESPONSE_SIZE: &str = "tencentcloud_response_size_bytes";
/// Histogram, seconds: how long an attempt that had to wait waited in the
/// rate limiter.
pub const RATE_LIMIT_WAIT: &str = "tencentcloud_ratelimit_wait_seconds";
/// Gauge, requests per second: the rate the limiter lets an action through
/// at, once it paces it.
pub const RATE_LIMIT_RATE: &str = "tencentcloud_ratelimit_rate";
/// Counter: refreshes of temporary credentials, by outcome; see
/// [`credentials_refreshed`].
pub const CREDENTIAL_REFRESHES: &str = "tencentcloud_credential_refreshes_total";

/// Counts a refresh of temporary credentials in [`CREDENTIAL_REFRESHES`],
/// labelled `outcome="ok"` or `outcome="error"`: for the credential
/// providers to call (feature `metrics`).
///
/// ```
/// tower_tencentcloud::action::telemetry::credentials_refreshed(true);
/// ```
#[cfg(feature = "metrics")]
pub fn credentials_refreshed(ok: bool) {
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(CREDENTIAL_REFRESHES, "outcome" => outcome).increment(1);
}

/// The longest service or action name kept as a label value.
#[cfg(feature = "metrics")]
pub(crate) const MAX_LABEL_LEN: usize = 64;

/// A label value of a service or an action: `value` when it looks like a
/// name (ASCII letters, digits, `-`, `_`, at most [`MAX_LABEL_LEN`]); else
/// `other`, and `unknown` when absent, so that a stray header cannot mint
/// label values.
#[cfg(feature = "metrics")]
pub(crate) fn bounded(value: Option<&str>) -> metrics::SharedString {
    use metrics::SharedString;
    match value {
        None => SharedString::const_str("unknown"),
        Some(value)
            if !value.is_empty()
                && value.len() <= MAX_LABEL_LEN
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            SharedString::from_shared(std::sync::Arc::from(value))
        }
        Some(_) => SharedString::const_str("other"),
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;

    #[test]
    fn labels_are_names_or_other() {
        assert_eq!(&*bounded(Some("DescribeInstances")), "DescribeInstances");
        assert_eq!(&*bounded(None), "unknown");
        assert_eq!(&*bounded(Some("")), "other");
        assert_eq!(&*bounded(Some("a b")), "other");
        assert_eq!(&*bounded(Some("ins-1\n")), "other");
        assert_eq!(&*bounded(Some(&"A".repeat(MAX_LABEL_LEN + 1))), "other");
        assert_eq!(
            bounded(Some(&"A".repeat(MAX_LABEL_LEN))).len(),
            MAX_LABEL_LEN
        );
    }
}

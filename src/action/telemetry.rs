//! The names of the telemetry that more than one room writes: the span
//! field of the rate limiter's wait, and every metric name, defined once
//! like the header names.
//!
//! [`trace`](crate::trace) declares the span fields and documents the
//! metrics; the rate limiter and the credential providers record theirs
//! under these names, and every room that records asks first whether a
//! recorder listens (`recording`).
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
    if !recording() {
        return;
    }
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!(CREDENTIAL_REFRESHES, "outcome" => outcome).increment(1);
}

/// Whether a recorder would take what this thread records now: a local
/// recorder is set, or a global one is installed.
///
/// The facade cannot say (`metrics::with_recorder` falls back to a private
/// no-op recorder), and without a recorder its macros still build and hash
/// every key. So this recognises the fallback by where it lives: the facade
/// hands out a zero-sized `static`, while a global recorder is boxed (a
/// zero-sized one at a dangling address, never a static's) and a local one
/// is the caller's. That address is learned once, on a thread of its own,
/// which has no local recorder; if that thread sees a global recorder
/// already, or cannot be spawned, everything is recorded as before.
// Out of line: inlined, the thread-local read grows the layers' `call`
// enough that the inner service's `call` is no longer inlined into it, and
// the request is copied once more.
#[cfg(feature = "metrics")]
#[inline(never)]
pub(crate) fn recording() -> bool {
    let noop = match NOOP.load(std::sync::atomic::Ordering::Relaxed) {
        UNKNOWN => learn_noop_address(),
        noop => noop,
    };
    noop == UNLEARNABLE
        || metrics::with_recorder(|recorder| zero_sized_static(recorder) != Some(noop))
}

/// The address of the facade's fallback recorder, [`UNKNOWN`] before it
/// was learned, [`UNLEARNABLE`] if it could not be.
#[cfg(feature = "metrics")]
static NOOP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(UNKNOWN);
/// No static lives at address 0...
#[cfg(feature = "metrics")]
const UNKNOWN: usize = 0;
/// ...nor at the last one.
#[cfg(feature = "metrics")]
const UNLEARNABLE: usize = usize::MAX;

#[cfg(feature = "metrics")]
#[cold]
#[inline(never)]
fn learn_noop_address() -> usize {
    use std::sync::OnceLock;

    static LEARNED: OnceLock<usize> = OnceLock::new();
    let noop = *LEARNED.get_or_init(|| {
        std::thread::Builder::new()
            .name("tencentcloud-metrics-probe".into())
            .spawn(|| metrics::with_recorder(zero_sized_static))
            .ok()
            .and_then(|probe| probe.join().ok())
            .flatten()
            .unwrap_or(UNLEARNABLE)
    });
    NOOP.store(noop, std::sync::atomic::Ordering::Relaxed);
    noop
}

/// The address of `recorder` if it is zero-sized and not where a `Box`
/// keeps a zero-sized value (its alignment).
#[cfg(feature = "metrics")]
fn zero_sized_static(recorder: &dyn metrics::Recorder) -> Option<usize> {
    let address = std::ptr::from_ref(recorder).addr();
    (size_of_val(recorder) == 0 && address != align_of_val(recorder)).then_some(address)
}

/// Nothing records metrics without the feature.
#[cfg(not(feature = "metrics"))]
#[inline]
pub(crate) fn recording() -> bool {
    false
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

    #[test]
    fn recording_only_with_a_recorder() {
        // No unit test installs a global recorder.
        assert!(!recording());
        let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&prometheus, || assert!(recording()));
        // A zero-sized recorder of the caller's is still a recorder.
        let noop = metrics::NoopRecorder;
        metrics::with_local_recorder(&noop, || assert!(recording()));
        assert!(!recording());
    }
}

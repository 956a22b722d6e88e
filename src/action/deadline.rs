//! The instant by which a caller needs its answer.

use std::time::Duration;

use tokio::time::Instant;

/// Far enough to be never, near enough for any clock to hold.
const NEVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// The instant by which a call must have ended, for a caller that cannot
/// wait: insert it into the request's extensions.
///
/// The retry policy (`retry::RetryPolicy`) starts no retry whose wait would
/// end after it, and the rate limiter (`ratelimit::AdaptiveRateLimit`)
/// sends no request whose token comes after it. Either way the call ends at once with
/// the last error: under a rate limit, a `RequestLimitExceeded` whose
/// [`retry_class`](crate::Error::retry_class) is
/// [`Throttled`](crate::RetryClass::Throttled), instead of waiting its turn.
/// It bounds the waits the stack decides on, not an attempt in flight: a
/// timeout below the envelope layer bounds those.
///
/// ```
/// use std::time::Duration;
///
/// use tower_tencentcloud::action::Deadline;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut request = http::Request::new(String::from("{}"));
/// request.extensions_mut().insert(Deadline::after(Duration::from_secs(2)));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// The call must have ended by `instant`, on tokio's clock.
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    /// The call must have ended `timeout` from now, on tokio's clock.
    pub fn after(timeout: Duration) -> Self {
        let now = Instant::now();
        // A timeout past what the clock can hold is no deadline at all.
        Self(now.checked_add(timeout).unwrap_or(now + NEVER))
    }

    /// The instant, on tokio's clock.
    pub fn instant(self) -> Instant {
        self.0
    }

    /// Whether something that ends at `instant` would end too late.
    pub(crate) fn is_before(self, instant: Instant) -> bool {
        self.0 < instant
    }
}

//! What a retry policy records on the error it gives up with.

use std::fmt;

/// How many attempts a call ran before a retry policy gave up, and why it
/// stopped there: [`Error::retry_stopped`](crate::Error::retry_stopped).
///
/// [`RetryPolicy`](crate::retry::RetryPolicy) records it on the error it
/// returns, and the error's `Display` ends with it, as in
/// `(after 3 attempts: retry budget exhausted)`; except when the first
/// attempt failed with an error that is not retryable at all, which the
/// rest of the line already says.
///
/// ```
/// use tower_tencentcloud::{Error, StopReason};
///
/// # fn report(err: &Error) {
/// if let Some(stopped) = err.retry_stopped() {
///     if stopped.reason() == StopReason::BudgetExhausted {
///         eprintln!("the retry budget ran dry after {} attempts", stopped.attempts());
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RetryStopped {
    attempts: u32,
    reason: StopReason,
}

impl RetryStopped {
    #[cfg(feature = "retry")]
    pub(crate) fn new(attempts: u32, reason: StopReason) -> Self {
        Self { attempts, reason }
    }

    /// The attempts made, the first included.
    pub fn attempts(self) -> u32 {
        self.attempts
    }

    /// Why no further attempt was made.
    pub fn reason(self) -> StopReason {
        self.reason
    }

    /// `false` for a first attempt whose error was not retryable at all:
    /// nothing worth a word happened.
    pub(crate) fn is_shown(self) -> bool {
        !(self.attempts <= 1 && self.reason == StopReason::NotRetryable)
    }
}

/// `after 3 attempts: retry budget exhausted`.
impl fmt::Display for RetryStopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "after {} attempt{plural}: {}",
            self.attempts, self.reason
        )
    }
}

/// Why a retry policy made no further attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The error's [`RetryClass`](crate::RetryClass) is `Never`.
    NotRetryable,
    /// A transient failure of a request that may have run and is not safe
    /// to replay (a write without [`Idempotent`](crate::retry::Idempotent)).
    NotReplaySafe,
    /// The signature expired again after the retry that corrected the clock.
    ClockSkewAgain,
    /// The policy's maximum number of attempts was reached.
    AttemptsExhausted,
    /// The policy's maximum number of retries after throttling was reached.
    ThrottledRetriesExhausted,
    /// The response's `Retry-After` asks for a longer wait than the
    /// backoff's cap allows.
    RetryAfterBeyondCap,
    /// The wait before the next attempt would end after the request's
    /// [`Deadline`](crate::action::Deadline).
    DeadlineReached,
    /// The retry budget shared by the policy's clones had no token left.
    BudgetExhausted,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotRetryable => "not retryable",
            Self::NotReplaySafe => "transient failure of a request not safe to replay",
            Self::ClockSkewAgain => "signature expired again after a retry",
            Self::AttemptsExhausted => "attempt limit reached",
            Self::ThrottledRetriesExhausted => "throttled retry limit reached",
            Self::RetryAfterBeyondCap => "Retry-After beyond the backoff's cap",
            Self::DeadlineReached => "the wait would pass the deadline",
            Self::BudgetExhausted => "retry budget exhausted",
        })
    }
}

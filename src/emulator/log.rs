//! The record of every call the emulator answered.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;

use crate::{Code, RequestId};

/// The calls an emulator answered, oldest first, shared by every clone.
///
/// Secret keys never reach the log: an entry names the caller by its
/// SecretId.
///
/// The log is bounded: beyond [`EmulatorBuilder::log_capacity`] entries,
/// or once the parameters it keeps add up to more than
/// [`EmulatorBuilder::log_params_limit`] bytes, the oldest entries are
/// dropped (the newest is always kept), and [`dropped`](Self::dropped)
/// counts them. A long-running emulator thus holds a bounded amount of
/// memory however large or many the requests.
///
/// ```
/// use tower_tencentcloud::emulator::{Emulator, Outcome};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let emulator = Emulator::builder().log_capacity(1_000).start().await?;
/// // ... calls ...
/// let log = emulator.log();
/// let throttled = log
///     .entries()
///     .iter()
///     .filter(|entry| matches!(entry.outcome(), Outcome::Error(code) if code == "RequestLimitExceeded"))
///     .count();
/// assert_eq!(throttled, 0);
/// assert_eq!(log.dropped(), 0);
/// # Ok(())
/// # }
/// ```
///
/// [`EmulatorBuilder::log_capacity`]: super::EmulatorBuilder::log_capacity
/// [`EmulatorBuilder::log_params_limit`]: super::EmulatorBuilder::log_params_limit
#[derive(Debug, Clone)]
pub struct Log {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    entries: VecDeque<LogEntry>,
    /// The oldest entries dropped to stay within the bounds.
    dropped: usize,
    /// The sum of the kept entries' parameters, in bytes.
    params_bytes: usize,
    capacity: usize,
    params_limit: usize,
}

impl Log {
    pub(crate) fn new(capacity: usize, params_limit: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                entries: VecDeque::new(),
                dropped: 0,
                params_bytes: 0,
                capacity: capacity.max(1),
                params_limit,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn record(&self, entry: LogEntry) {
        tracing::debug!(target: "tower_tencentcloud::emulator", "{entry}");
        let mut inner = self.lock();
        inner.params_bytes += entry.params.len();
        inner.entries.push_back(entry);
        while inner.entries.len() > inner.capacity
            || (inner.params_bytes > inner.params_limit && inner.entries.len() > 1)
        {
            let oldest = inner.entries.pop_front().expect("more than one entry");
            inner.params_bytes -= oldest.params.len();
            inner.dropped += 1;
        }
    }

    /// A copy of the entries kept, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// The entries after the first `count` calls answered: what was
    /// answered since [`len`](Self::len) was `count` (those of them still
    /// kept).
    ///
    /// ```
    /// # use tower_tencentcloud::emulator::Log;
    /// # fn watch(log: &Log) {
    /// let seen = log.len();
    /// // ... calls ...
    /// for entry in log.entries_after(seen) {
    ///     println!("{entry}");
    /// }
    /// # }
    /// ```
    pub fn entries_after(&self, count: usize) -> Vec<LogEntry> {
        let inner = self.lock();
        let skip = count.saturating_sub(inner.dropped);
        inner.entries.iter().skip(skip).cloned().collect()
    }

    /// The entry of the call answered with `request_id`, if still kept.
    pub fn find(&self, request_id: impl AsRef<str>) -> Option<LogEntry> {
        let request_id = request_id.as_ref();
        self.lock()
            .entries
            .iter()
            .find(|entry| entry.request_id == request_id)
            .cloned()
    }

    /// How many calls were answered: the entries kept and those dropped.
    pub fn len(&self) -> usize {
        let inner = self.lock();
        inner.entries.len() + inner.dropped
    }

    /// Whether no call was answered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many of the oldest entries were dropped to keep the log within
    /// its bounds.
    pub fn dropped(&self) -> usize {
        self.lock().dropped
    }

    /// The bytes of parameters the kept entries hold.
    pub fn params_bytes(&self) -> usize {
        self.lock().params_bytes
    }

    /// Forgets every entry, and the count of dropped ones.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.dropped = 0;
        inner.params_bytes = 0;
    }
}

/// One call: its RequestId, its caller and action, and how it was answered.
///
/// `Display` writes one line: `RequestId SecretId Action outcome`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub(crate) request_id: RequestId,
    pub(crate) secret_id: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) outcome: Outcome,
    pub(crate) delay: Option<Duration>,
    pub(crate) params: Bytes,
}

impl LogEntry {
    /// The RequestId the answer carried (for [`Outcome::ConnectionDropped`],
    /// the one it would have carried).
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// The SecretId the call claimed (in its `Authorization` header, or its
    /// `SecretId` parameter), when it could be read.
    pub fn secret_id(&self) -> Option<&str> {
        self.secret_id.as_deref()
    }

    /// The action the call named (`X-TC-Action`, or the `Action`
    /// parameter), when it had one.
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// How the call was answered.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// The delay of a [`Fault::Delay`](super::Fault::Delay) before the answer.
    pub fn delay(&self) -> Option<Duration> {
        self.delay
    }

    /// The parameters as received: the request body (JSON, or a form), or
    /// for a GET the query string. Empty when the body was refused as too
    /// large.
    ///
    /// A test that puts a marker of its own in each request's parameters
    /// finds every attempt of that request here, replays included.
    pub fn params(&self) -> &[u8] {
        &self.params
    }
}

impl fmt::Display for LogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.request_id,
            self.secret_id.as_deref().unwrap_or("-"),
            self.action.as_deref().unwrap_or("-"),
            self.outcome
        )?;
        if let Some(delay) = self.delay {
            write!(f, " (delayed {delay:?})")?;
        }
        Ok(())
    }
}

/// How the emulator answered a call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The action's answer, without error.
    Success,
    /// An error envelope with this code.
    Error(Code),
    /// A 502 HTML page ([`Fault::BadGateway`](super::Fault::BadGateway)).
    BadGateway,
    /// A body cut short ([`Fault::TruncatedBody`](super::Fault::TruncatedBody)).
    BodyTruncated,
    /// No answer ([`Fault::DropConnection`](super::Fault::DropConnection)).
    ConnectionDropped,
    /// A stream with an error event after `after_events` events
    /// ([`Fault::StreamError`](super::Fault::StreamError)).
    StreamError {
        /// The events sent before the error event.
        after_events: usize,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success => f.write_str("success"),
            Self::Error(code) => write!(f, "error {code}"),
            Self::BadGateway => f.write_str("502 bad gateway"),
            Self::BodyTruncated => f.write_str("body truncated"),
            Self::ConnectionDropped => f.write_str("connection dropped"),
            Self::StreamError { after_events } => {
                write!(f, "stream error after {after_events} events")
            }
        }
    }
}

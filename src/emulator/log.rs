//! The record of every call the emulator answered.

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
/// ```
/// use tower_tencentcloud::emulator::{Emulator, Outcome};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let emulator = Emulator::builder().start().await?;
/// // ... calls ...
/// let log = emulator.log();
/// let throttled = log
///     .entries()
///     .iter()
///     .filter(|entry| matches!(entry.outcome(), Outcome::Error(code) if code == "RequestLimitExceeded"))
///     .count();
/// assert_eq!(throttled, 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Log {
    entries: Arc<Mutex<Vec<LogEntry>>>,
}

impl Log {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn record(&self, entry: LogEntry) {
        tracing::debug!(target: "tower_tencentcloud::emulator", "{entry}");
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
    }

    /// A copy of the entries, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The entries after the first `count`: what was answered since the
    /// log had `count` entries.
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
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(count..).unwrap_or_default().to_vec()
    }

    /// The entry of the call answered with `request_id`.
    pub fn find(&self, request_id: impl AsRef<str>) -> Option<LogEntry> {
        let request_id = request_id.as_ref();
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|entry| entry.request_id == request_id)
            .cloned()
    }

    /// How many calls were answered.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no call was answered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
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

    /// The SecretId of the `Authorization` header, when it could be read.
    pub fn secret_id(&self) -> Option<&str> {
        self.secret_id.as_deref()
    }

    /// The `X-TC-Action` header, when the call had one.
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

    /// The request body as received: the action's JSON parameters. Empty
    /// when the body was refused as too large.
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

//! The signer's idea of the server's time: the local clock plus an offset
//! learned from the server.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time requests are signed with: a local time source plus an offset
/// learned from the server's `Date` header.
///
/// The API refuses a timestamp more than five minutes off its own clock
/// (`AuthFailure.SignatureExpire`). When that happens, the
/// [`Sign`](super::Sign) service calls
/// [`correct_from_server_date`](Self::correct_from_server_date), and every
/// later signature, the replay of the refused request included, uses the
/// corrected time.
///
/// Clones share one offset, so every clone of a signer learns at once. The
/// time source is the system clock unless a test injects another.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use tower_tencentcloud::sign::Clock;
///
/// let local = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let clock = Clock::from_source(move || local);
/// assert_eq!(clock.unix_timestamp(), 1_700_000_000);
///
/// // The server said it was 20 minutes later while the request was out.
/// let server = local + Duration::from_secs(20 * 60);
/// clock.correct_from_server_date(server, local, local);
/// assert_eq!(clock.unix_timestamp(), 1_700_001_200);
/// ```
#[derive(Clone)]
pub struct Clock {
    shared: Arc<Shared>,
}

struct Shared {
    /// Server time minus local time, in milliseconds.
    offset_millis: AtomicI64,
    source: Source,
}

type SourceFn = dyn Fn() -> SystemTime + Send + Sync;

enum Source {
    System,
    Custom(Box<SourceFn>),
}

impl Clock {
    /// The system clock, with no offset yet.
    pub fn new() -> Self {
        Self::with_source(Source::System)
    }

    /// A clock reading local time from `source` instead of the system clock,
    /// so that tests decide what time it is.
    pub fn from_source(source: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        Self::with_source(Source::Custom(Box::new(source)))
    }

    fn with_source(source: Source) -> Self {
        Self {
            shared: Arc::new(Shared {
                offset_millis: AtomicI64::new(0),
                source,
            }),
        }
    }

    /// The local time, without the offset.
    pub fn local_now(&self) -> SystemTime {
        match &self.shared.source {
            Source::System => SystemTime::now(),
            Source::Custom(source) => source(),
        }
    }

    /// The local time corrected by the offset: the best guess of the server's time.
    pub fn now(&self) -> SystemTime {
        self.corrected(self.local_now())
    }

    /// [`now`](Self::now) in whole seconds since the Unix epoch, as
    /// `X-TC-Timestamp` carries it.
    pub fn unix_timestamp(&self) -> u64 {
        unix_seconds(self.now())
    }

    /// The learned offset in milliseconds: positive when the server's clock
    /// is ahead of the local one.
    pub fn offset_millis(&self) -> i64 {
        self.shared.offset_millis.load(Ordering::Relaxed)
    }

    /// Learns the offset from a response's `Date` header.
    ///
    /// `sent` and `received` are the local times (see
    /// [`local_now`](Self::local_now)) at which the request left and the
    /// response came back; the server read its clock somewhere in between,
    /// best guessed as the middle. Returns the new offset in milliseconds.
    pub fn correct_from_server_date(
        &self,
        server_date: SystemTime,
        sent: SystemTime,
        received: SystemTime,
    ) -> i64 {
        let round_trip = received.duration_since(sent).unwrap_or_default();
        let local_midpoint = sent + round_trip / 2;
        let offset = signed_millis_between(local_midpoint, server_date)
            .saturating_add(DATE_RESOLUTION_MIDPOINT_MILLIS);
        self.shared.offset_millis.store(offset, Ordering::Relaxed);
        offset
    }

    /// `local`, a reading of [`local_now`](Self::local_now), corrected by the offset.
    pub(crate) fn corrected(&self, local: SystemTime) -> SystemTime {
        let offset = self.offset_millis();
        let magnitude = Duration::from_millis(offset.unsigned_abs());
        let corrected = if offset >= 0 {
            local.checked_add(magnitude)
        } else {
            local.checked_sub(magnitude)
        };
        corrected.unwrap_or(local)
    }
}

/// `Date` has whole seconds and servers truncate: the true time lies
/// anywhere in the following second, so its middle is the best guess.
const DATE_RESOLUTION_MIDPOINT_MILLIS: i64 = 500;

/// `to - from` in milliseconds, negative when `to` is earlier.
fn signed_millis_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
        Err(behind) => i64::try_from(behind.duration().as_millis()).map_or(i64::MIN, |m| -m),
    }
}

/// Whole seconds since the Unix epoch; a time before it (a broken clock) is 0.
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default()
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.shared.source {
            Source::System => "system",
            Source::Custom(_) => "custom",
        };
        f.debug_struct("Clock")
            .field("source", &source)
            .field("offset_millis", &self.offset_millis())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis)
    }

    #[test]
    fn the_offset_is_taken_at_the_midpoint_of_the_round_trip() {
        let clock = Clock::from_source(|| at(1_000, 0));
        // Sent at 1000.0, back at 1002.0: the server read its clock at about
        // local 1001.0 and said 2201 (truncated from 2201.x).
        let offset = clock.correct_from_server_date(at(2_201, 0), at(1_000, 0), at(1_002, 0));
        assert_eq!(offset, 1_200_500);
        assert_eq!(clock.offset_millis(), 1_200_500);
        assert_eq!(clock.unix_timestamp(), 2_200);
    }

    #[test]
    fn a_server_behind_gives_a_negative_offset() {
        let clock = Clock::from_source(|| at(10_000, 0));
        let offset = clock.correct_from_server_date(at(9_000, 0), at(10_000, 0), at(10_000, 0));
        assert_eq!(offset, -999_500);
        assert_eq!(clock.unix_timestamp(), 9_000);
    }

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::from_source(|| at(0, 0));
        let clone = clock.clone();
        clone.correct_from_server_date(at(60, 0), at(0, 0), at(0, 0));
        assert_eq!(clock.offset_millis(), 60_500);
    }

    #[test]
    fn a_response_before_its_request_counts_as_no_round_trip() {
        let clock = Clock::from_source(|| at(0, 0));
        let offset = clock.correct_from_server_date(at(100, 0), at(10, 0), at(5, 0));
        assert_eq!(offset, 90_500);
    }

    #[test]
    fn a_time_before_the_epoch_is_timestamp_zero() {
        let clock = Clock::from_source(|| UNIX_EPOCH);
        clock.correct_from_server_date(UNIX_EPOCH, at(100, 0), at(100, 0));
        assert_eq!(clock.unix_timestamp(), 0);
    }
}

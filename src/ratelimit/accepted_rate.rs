//! The accepted rate of one key: answers that were not throttles, counted
//! in half-second windows, smoothed.

use std::time::Duration;

use tokio::time::Instant;

/// Shorter windows would make a burst look like a rate.
const WINDOW: Duration = Duration::from_millis(500);

/// The weight of the newest window in the smoothed rate, as in the AWS SDKs.
const SMOOTHING: f64 = 0.8;

/// Requests per second the API accepted over the recent past: the base a
/// cut is taken from.
///
/// Throttled requests are not counted. While a client sends far beyond the
/// limit (as at its start, before any cut), the rate it sends at says
/// nothing of the limit, but the rate the API accepts is the limit itself;
/// and a rate the callers do not use proves nothing either.
#[derive(Debug, Clone)]
pub(crate) struct AcceptedRate {
    window_start: Instant,
    accepted: u32,
    rate: Option<f64>,
}

impl AcceptedRate {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            window_start: now,
            accepted: 0,
            rate: None,
        }
    }

    /// Counts an answer at `now`. Every answer, throttle or not, may close a
    /// window, so that a key whose requests are all throttled measures 0.
    pub(crate) fn record(&mut self, now: Instant, accepted: bool) {
        self.accepted = self.accepted.saturating_add(u32::from(accepted));
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= WINDOW {
            let sample = f64::from(self.accepted) / elapsed.as_secs_f64();
            self.rate = Some(match self.rate {
                Some(old) => SMOOTHING * sample + (1.0 - SMOOTHING) * old,
                None => sample,
            });
            self.accepted = 0;
            self.window_start = now;
        }
    }

    /// The smoothed rate, once a whole window has been measured.
    pub(crate) fn get(&self) -> Option<f64> {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// Records `count` answers spread evenly over `span` after `from`.
    fn record_evenly(
        rate: &mut AcceptedRate,
        from: Instant,
        span: Duration,
        count: u32,
        accepted: bool,
    ) -> Instant {
        let step = span / count;
        let mut now = from;
        for _ in 0..count {
            now += step;
            rate.record(now, accepted);
        }
        now
    }

    #[test]
    fn unknown_until_a_window_has_passed() {
        let start = Instant::now();
        let mut rate = AcceptedRate::new(start);
        let now = record_evenly(&mut rate, start, 490 * MS, 49, true);
        assert_eq!(rate.get(), None);
        record_evenly(&mut rate, now, 10 * MS, 1, true);
        let measured = rate.get().unwrap();
        assert!((measured - 100.0).abs() < 1e-9, "{measured}");
    }

    #[test]
    fn follows_a_change_of_rate_within_a_few_windows() {
        let start = Instant::now();
        let mut rate = AcceptedRate::new(start);
        let now = record_evenly(&mut rate, start, 2000 * MS, 200, true);
        assert!((rate.get().unwrap() - 100.0).abs() < 1e-6);

        let now = record_evenly(&mut rate, now, 500 * MS, 10, true);
        let after_one = rate.get().unwrap();
        // 0.8 * 20 + 0.2 * 100.
        assert!((after_one - 36.0).abs() < 1e-6, "{after_one}");
        record_evenly(&mut rate, now, 1000 * MS, 20, true);
        assert!((rate.get().unwrap() - 20.0).abs() < 1.0);
    }

    #[test]
    fn throttled_answers_are_not_counted_but_close_windows() {
        let start = Instant::now();
        let mut rate = AcceptedRate::new(start);
        let now = record_evenly(&mut rate, start, 500 * MS, 10, true);
        let now = record_evenly(&mut rate, now, 500 * MS, 250, false);
        // 0.8 * 0 + 0.2 * 20: only the accepted ones count.
        assert!((rate.get().unwrap() - 4.0).abs() < 1e-6, "{:?}", rate.get());
        record_evenly(&mut rate, now, 2000 * MS, 400, false);
        assert!(rate.get().unwrap() < 0.01, "{:?}", rate.get());
    }

    #[test]
    fn a_pause_lowers_the_rate() {
        let start = Instant::now();
        let mut rate = AcceptedRate::new(start);
        let now = record_evenly(&mut rate, start, 1000 * MS, 100, true);
        rate.record(now + Duration::from_secs(10), true);
        assert!(rate.get().unwrap() < 25.0, "{:?}", rate.get());
    }
}

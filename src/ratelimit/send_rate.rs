//! The measured send rate of one key: answers counted in half-second
//! windows, smoothed.

use std::time::Duration;

use tokio::time::Instant;

/// Shorter windows would make a burst look like a rate.
const WINDOW: Duration = Duration::from_millis(500);

/// The weight of the newest window in the smoothed rate, as in the AWS SDKs.
const SMOOTHING: f64 = 0.8;

/// Requests per second measured over the recent past, the base a cut is
/// taken from: the rate the server actually refused, rather than a rate the
/// bucket allowed but the callers never used.
#[derive(Debug, Clone)]
pub(crate) struct SendRate {
    window_start: Instant,
    count: u32,
    rate: Option<f64>,
}

impl SendRate {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            window_start: now,
            count: 0,
            rate: None,
        }
    }

    /// Counts one request answered at `now`.
    pub(crate) fn record(&mut self, now: Instant) {
        self.count = self.count.saturating_add(1);
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= WINDOW {
            let sample = f64::from(self.count) / elapsed.as_secs_f64();
            self.rate = Some(match self.rate {
                Some(old) => SMOOTHING * sample + (1.0 - SMOOTHING) * old,
                None => sample,
            });
            self.count = 0;
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

    /// Records `count` requests spread evenly over `span` after `from`.
    fn record_evenly(rate: &mut SendRate, from: Instant, span: Duration, count: u32) -> Instant {
        let step = span / count;
        let mut now = from;
        for _ in 0..count {
            now += step;
            rate.record(now);
        }
        now
    }

    #[test]
    fn unknown_until_a_window_has_passed() {
        let start = Instant::now();
        let mut rate = SendRate::new(start);
        let now = record_evenly(&mut rate, start, 490 * MS, 49);
        assert_eq!(rate.get(), None);
        record_evenly(&mut rate, now, 10 * MS, 1);
        let measured = rate.get().unwrap();
        assert!((measured - 100.0).abs() < 1e-9, "{measured}");
    }

    #[test]
    fn follows_a_change_of_rate_within_a_few_windows() {
        let start = Instant::now();
        let mut rate = SendRate::new(start);
        let now = record_evenly(&mut rate, start, 2000 * MS, 200);
        assert!((rate.get().unwrap() - 100.0).abs() < 1e-6);

        record_evenly(&mut rate, now, 500 * MS, 10);
        let after_one = rate.get().unwrap();
        // 0.8 * 20 + 0.2 * 100.
        assert!((after_one - 36.0).abs() < 1e-6, "{after_one}");
        record_evenly(&mut rate, now + 500 * MS, 1000 * MS, 20);
        assert!((rate.get().unwrap() - 20.0).abs() < 3.0);
    }

    #[test]
    fn a_pause_lowers_the_rate() {
        let start = Instant::now();
        let mut rate = SendRate::new(start);
        let now = record_evenly(&mut rate, start, 1000 * MS, 100);
        rate.record(now + Duration::from_secs(10));
        assert!(rate.get().unwrap() < 25.0, "{:?}", rate.get());
    }
}

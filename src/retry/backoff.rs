//! Capped exponential backoff with full jitter.

use std::time::Duration;

/// Delays that double with every retry up to a cap, each drawn uniformly
/// below that ceiling ("full jitter").
///
/// Full jitter spreads clients that failed together across the whole
/// window instead of bunching them at the same instants, which is what a
/// rate limiter or a recovering service needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExponentialBackoff {
    base: Duration,
    cap: Duration,
}

impl ExponentialBackoff {
    pub(crate) const fn new(base: Duration, cap: Duration) -> Self {
        Self { base, cap }
    }

    /// The longest wait before retry number `retry` (0 for the first
    /// retry): `base * 2^retry`, never more than the cap.
    pub(crate) fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The longest wait of all.
    pub(crate) fn cap(&self) -> Duration {
        self.cap
    }

    /// A wait drawn uniformly from `[0, ceiling(retry))`.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        self.ceiling(retry).mul_f64(fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn ceiling_doubles_until_the_cap() {
        let backoff = ExponentialBackoff::new(100 * MS, 1000 * MS);
        let ceilings: Vec<_> = (0..6).map(|retry| backoff.ceiling(retry)).collect();
        assert_eq!(
            ceilings,
            [100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS]
        );
    }

    #[test]
    fn huge_retry_numbers_saturate_at_the_cap() {
        let backoff = ExponentialBackoff::new(Duration::from_secs(1), Duration::from_secs(20));
        for retry in [31, 32, 64, u32::MAX] {
            assert_eq!(backoff.ceiling(retry), Duration::from_secs(20));
        }
        let uncapped = ExponentialBackoff::new(Duration::MAX, Duration::MAX);
        assert_eq!(uncapped.ceiling(u32::MAX), Duration::MAX);
    }

    #[test]
    fn base_above_cap_is_capped() {
        let backoff = ExponentialBackoff::new(10 * MS, 5 * MS);
        assert_eq!(backoff.ceiling(0), 5 * MS);
        assert_eq!(
            ExponentialBackoff::new(MS, Duration::ZERO).delay(3),
            Duration::ZERO
        );
    }

    #[test]
    fn delays_stay_below_the_ceiling_and_vary() {
        let backoff = ExponentialBackoff::new(100 * MS, 1000 * MS);
        for retry in 0..6 {
            let delays: Vec<_> = (0..200).map(|_| backoff.delay(retry)).collect();
            assert!(delays.iter().all(|d| *d < backoff.ceiling(retry)));
            let mut distinct = delays.clone();
            distinct.sort();
            distinct.dedup();
            assert!(distinct.len() > 150, "jitter repeats itself: {distinct:?}");
            // Full jitter averages half the ceiling; 200 draws keep the mean
            // within a few percent of it.
            let mean = delays.iter().sum::<Duration>() / 200;
            let half = backoff.ceiling(retry) / 2;
            assert!(
                mean > half.mul_f64(0.8) && mean < half.mul_f64(1.2),
                "{mean:?}"
            );
        }
    }
}

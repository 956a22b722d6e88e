//! What one process holds of a key's shared budget: the tokens of its last
//! lease, the answers accepted since, and the rate of its own share.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use super::store::Grant;

/// A leased token this late is not used: its callers have gone, and
/// sending it now would add a burst to the schedule.
const STALE: Duration = Duration::from_millis(250);

/// The window over which a process's share is measured.
const SHARE_WINDOW: Duration = Duration::from_secs(1);

/// One key, as one process leases it.
#[derive(Debug)]
pub(crate) struct KeyLease {
    /// The key's name in the store.
    pub(crate) name: String,
    /// Held across a lease's round trip, so that the callers of one
    /// process ask the store once, not each.
    pub(crate) pool: Mutex<Pool>,
    /// Answers accepted since the last lease, carried by the next one.
    pub(crate) accepted: AtomicU32,
    /// The newest generation a throttle has been reported for, plus one.
    pub(crate) reported: AtomicU64,
    /// The generation of the last lease: a throttle of an older one has
    /// been cut for already.
    pub(crate) generation: AtomicU64,
    /// The process's share of the key's rate (f64 bits; 0 while unknown).
    share: AtomicU64,
}

impl KeyLease {
    pub(crate) fn new(name: String, now: Instant) -> Self {
        Self {
            name,
            pool: Mutex::new(Pool::new(now)),
            accepted: AtomicU32::new(0),
            reported: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            share: AtomicU64::new(0),
        }
    }

    /// Requests per second this process sent for the key over the last
    /// measured window, if any.
    pub(crate) fn share(&self) -> Option<f64> {
        let share = f64::from_bits(self.share.load(Ordering::Relaxed));
        (share > 0.0).then_some(share)
    }

    /// Takes a token of the pool, counting it in the share.
    pub(crate) fn take(&self, pool: &mut Pool, now: Instant) -> Option<Instant> {
        let slot = pool.take(now)?;
        if let Some(share) = pool.count(now) {
            self.share.store(share.to_bits(), Ordering::Relaxed);
        }
        Some(slot)
    }
}

/// The tokens of the last lease.
#[derive(Debug)]
pub(crate) struct Pool {
    pub(crate) generation: u64,
    free_until: Option<Instant>,
    next: Instant,
    interval: Duration,
    remaining: u32,
    /// The highest rate of the leases of slots under `peak_generation`.
    peak: f64,
    peak_generation: u64,
    /// The highest rate under the generation before: the rate the fleet
    /// was throttled at, when the current generation is a cut's.
    previous_peak: f64,
    /// The rate of the key's last cut, as the last lease said; 0 if not.
    last_max: f64,
    window_start: Instant,
    window_count: u32,
}

impl Pool {
    fn new(now: Instant) -> Self {
        Self {
            generation: 0,
            free_until: None,
            next: now,
            interval: Duration::ZERO,
            remaining: 0,
            peak: 0.0,
            peak_generation: 0,
            previous_peak: 0.0,
            last_max: 0.0,
            window_start: now,
            window_count: 0,
        }
    }

    /// When to send the next request: a token of the lease, or now during
    /// a free lease; `None` when a new lease is needed.
    fn take(&mut self, now: Instant) -> Option<Instant> {
        if let Some(until) = self.free_until {
            if now < until {
                return Some(now);
            }
            self.free_until = None;
        }
        if self.remaining == 0 {
            return None;
        }
        if self.next + STALE < now {
            self.remaining = 0;
            return None;
        }
        let slot = self.next;
        self.next += self.interval;
        self.remaining -= 1;
        Some(slot.max(now))
    }

    /// Counts a request; the share measured, when a window closes.
    fn count(&mut self, now: Instant) -> Option<f64> {
        self.window_count += 1;
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed < SHARE_WINDOW {
            return None;
        }
        let share = f64::from(self.window_count) / elapsed.as_secs_f64();
        self.window_start = now;
        self.window_count = 0;
        Some(share)
    }

    /// Replaces the tokens with those of a new lease, answered at `now`.
    pub(crate) fn fill(&mut self, generation: u64, grant: Grant, free_for: Duration, now: Instant) {
        self.generation = generation;
        self.remaining = 0;
        self.free_until = None;
        match grant {
            Grant::Free => self.free_until = Some(now + free_for),
            Grant::Later { .. } => {}
            Grant::Slots {
                first,
                interval,
                count,
            } => {
                self.next = now + first;
                self.interval = interval;
                self.remaining = count;
                let rate = 1.0 / interval.as_secs_f64();
                if generation == self.peak_generation {
                    self.peak = self.peak.max(rate);
                } else {
                    self.previous_peak = self.peak;
                    self.peak = rate;
                    self.peak_generation = generation;
                }
            }
        }
    }

    /// Gives up the tokens of a lease of `generation` or older: a request
    /// sent under it was throttled, so its tokens are spaced too closely,
    /// and the store has them in its schedule already (they leave a gap).
    pub(crate) fn forfeit(&mut self, generation: u64) {
        if self.generation <= generation {
            self.remaining = 0;
            self.free_until = None;
        }
    }

    /// Notes the rate of the key's last cut, from a lease's reply.
    pub(crate) fn remember(&mut self, last_max: Option<f64>) {
        if let Some(rate) = last_max {
            self.last_max = rate;
        }
    }

    /// The rate of the key's last cut, as the last lease said; else 90% of
    /// the highest rate of the leases of slots under this generation and
    /// the one before (about the rate the fleet was last throttled at,
    /// wherever the process is in the cycle of cuts, and 90% of it as a cut
    /// would take); 0 before any.
    pub(crate) fn known_rate(&self) -> f64 {
        if self.last_max > 0.0 {
            return self.last_max;
        }
        0.9 * self.peak.max(self.previous_peak)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_lease_of_slots_hands_them_out_in_order_then_asks_again() {
        let now = Instant::now();
        let mut pool = Pool::new(now);
        assert_eq!(pool.take(now), None);
        let grant = Grant::Slots {
            first: 10 * MS,
            interval: 50 * MS,
            count: 3,
        };
        pool.fill(2, grant, Duration::ZERO, now);
        assert_eq!(pool.generation, 2);
        assert_eq!(pool.take(now), Some(now + 10 * MS));
        assert_eq!(pool.take(now), Some(now + 60 * MS));
        assert_eq!(pool.take(now), Some(now + 110 * MS));
        assert_eq!(pool.take(now), None);
    }

    #[test]
    fn a_free_lease_sends_at_once_until_it_ends() {
        let now = Instant::now();
        let mut pool = Pool::new(now);
        pool.fill(0, Grant::Free, 250 * MS, now);
        for _ in 0..100 {
            assert_eq!(pool.take(now + 100 * MS), Some(now + 100 * MS));
        }
        assert_eq!(pool.take(now + 250 * MS), None);
    }

    #[test]
    fn a_throttle_forfeits_the_tokens_of_its_generation_only() {
        let now = Instant::now();
        let mut pool = Pool::new(now);
        let grant = Grant::Slots {
            first: Duration::ZERO,
            interval: 10 * MS,
            count: 4,
        };
        pool.fill(3, grant, Duration::ZERO, now);
        pool.forfeit(2);
        assert_eq!(pool.take(now), Some(now), "a lease newer than the throttle");
        pool.forfeit(3);
        assert_eq!(pool.take(now), None);
        pool.fill(3, Grant::Free, 250 * MS, now);
        pool.forfeit(3);
        assert_eq!(pool.take(now), None, "a free lease ends too");
    }

    #[test]
    fn the_known_rate_is_the_peak_of_this_generation_and_the_one_before() {
        let now = Instant::now();
        let mut pool = Pool::new(now);
        assert_eq!(pool.known_rate(), 0.0);
        let slots = |per_second: u64| Grant::Slots {
            first: Duration::ZERO,
            interval: Duration::from_secs(1) / per_second as u32,
            count: 1,
        };
        pool.fill(1, slots(10), Duration::ZERO, now);
        pool.fill(1, slots(20), Duration::ZERO, now);
        pool.fill(1, slots(16), Duration::ZERO, now);
        assert!((pool.known_rate() - 18.0).abs() < 1e-3);
        // Cut to 14: the rate it was cut from is still known.
        pool.fill(2, slots(14), Duration::ZERO, now);
        assert!((pool.known_rate() - 18.0).abs() < 1e-3);
        pool.fill(3, slots(10), Duration::ZERO, now);
        assert!((pool.known_rate() - 12.6).abs() < 1e-3);
        // The store's word on the last cut wins.
        pool.remember(Some(19.5));
        assert!((pool.known_rate() - 19.5).abs() < 1e-3);
    }

    #[test]
    fn stale_slots_are_dropped() {
        let now = Instant::now();
        let mut pool = Pool::new(now);
        let grant = Grant::Slots {
            first: Duration::ZERO,
            interval: 10 * MS,
            count: 4,
        };
        pool.fill(0, grant, Duration::ZERO, now);
        assert_eq!(pool.take(now + Duration::from_secs(1)), None);
    }
}

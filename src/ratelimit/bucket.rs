//! The token bucket that paces one key's requests, with reservations.

use std::time::Duration;

use tokio::time::Instant;

/// The least a bucket holds at its fullest, so that a rate below one per
/// second still lets a request through now and then.
const MIN_CAPACITY: f64 = 1.0;

const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// A token bucket whose tokens may go negative: a request that finds none
/// still takes one and is told when it will have been paid for.
///
/// Handing out future instants instead of "try again later" keeps the
/// waiters in the order they came and wakes each once, however many there
/// are, where retrying would wake them all for every token. Each token
/// reserved ahead is a debt that [`forgive_debt`](Self::forgive_debt)
/// cancels when the rate is cut, so that reservations made at the old rate
/// do not keep it going; their holders wake at their old instant and
/// reserve again.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    fill_rate: f64,
    capacity: f64,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    /// An empty bucket filling at `fill_rate` tokens a second, holding at
    /// most a second's worth.
    pub(crate) fn new(fill_rate: f64, now: Instant) -> Self {
        let mut bucket = Self {
            fill_rate,
            capacity: MIN_CAPACITY,
            tokens: 0.0,
            refilled_at: now,
        };
        bucket.set_fill_rate(fill_rate, now);
        bucket
    }

    pub(crate) fn fill_rate(&self) -> f64 {
        self.fill_rate
    }

    /// Takes a token: `None` when one was there, else the instant by which
    /// it will have been paid for.
    pub(crate) fn reserve(&mut self, now: Instant) -> Option<Instant> {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            return None;
        }
        // The floor keeps the rate positive; an absurd wait saturates rather
        // than panics.
        let wait = Duration::try_from_secs_f64(-self.tokens / self.fill_rate)
            .map_or(LONGEST_WAIT, |wait| wait.min(LONGEST_WAIT));
        Some(now + wait)
    }

    /// Gives back a token taken by [`reserve`](Self::reserve) and not used.
    pub(crate) fn release(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = (self.tokens + 1.0).min(self.capacity);
    }

    /// Fills at `fill_rate` from now on, holding at most a second's worth.
    pub(crate) fn set_fill_rate(&mut self, fill_rate: f64, now: Instant) {
        self.refill(now);
        self.fill_rate = fill_rate;
        self.capacity = fill_rate.max(MIN_CAPACITY);
        self.tokens = self.tokens.min(self.capacity);
    }

    /// Cancels every reservation not yet paid for; their holders must
    /// reserve again.
    pub(crate) fn forgive_debt(&mut self, now: Instant) {
        self.refill(now);
        self.tokens = self.tokens.max(0.0);
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.fill_rate).min(self.capacity);
        self.refilled_at = self.refilled_at.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn starts_empty_and_spaces_reservations_by_the_fill_rate() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(10.0, now);
        let deadlines: Vec<_> = (0..3).map(|_| bucket.reserve(now)).collect();
        assert_eq!(
            deadlines,
            [
                Some(now + 100 * MS),
                Some(now + 200 * MS),
                Some(now + 300 * MS)
            ]
        );
    }

    #[test]
    fn holds_at_most_a_seconds_worth() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(5.0, now);
        let later = now + Duration::from_secs(60);
        let at_once = (0..10)
            .take_while(|_| bucket.reserve(later).is_none())
            .count();
        assert_eq!(at_once, 5);

        let mut slow = TokenBucket::new(0.5, now);
        assert_eq!(slow.reserve(later), None, "a slow bucket still holds one");
        assert_eq!(slow.reserve(later), Some(later + 2000 * MS));
    }

    #[test]
    fn a_released_reservation_shortens_the_next_wait() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(10.0, now);
        bucket.reserve(now);
        assert_eq!(bucket.reserve(now), Some(now + 200 * MS));
        bucket.release(now);
        assert_eq!(bucket.reserve(now), Some(now + 200 * MS));
        // A released token that was already paid for is kept, up to the capacity.
        let later = now + Duration::from_secs(60);
        bucket.release(later);
        assert_eq!(bucket.tokens, 10.0);
    }

    #[test]
    fn forgiving_debt_restarts_the_schedule_at_the_new_rate() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(20.0, now);
        for _ in 0..20 {
            bucket.reserve(now);
        }
        let cut = now + 100 * MS;
        bucket.set_fill_rate(10.0, cut);
        bucket.forgive_debt(cut);
        assert_eq!(bucket.reserve(cut), Some(cut + 100 * MS));
        assert_eq!(bucket.reserve(cut), Some(cut + 200 * MS));
    }

    #[test]
    fn forgiving_keeps_tokens_already_there() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(10.0, now);
        let later = now + 300 * MS;
        bucket.forgive_debt(later);
        assert_eq!(bucket.reserve(later), None);
        assert_eq!(bucket.reserve(later), None);
        assert_eq!(bucket.reserve(later), None);
        assert!(bucket.reserve(later).is_some());
    }

    #[test]
    fn a_lower_rate_lowers_the_capacity() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(10.0, now);
        let later = now + Duration::from_secs(5);
        bucket.set_fill_rate(2.0, later);
        assert_eq!(bucket.fill_rate(), 2.0);
        let at_once = (0..10)
            .take_while(|_| bucket.reserve(later).is_none())
            .count();
        assert_eq!(at_once, 2);
    }
}

//! Requests per second per (SecretId, action), as the API limits them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;

/// A token bucket per (SecretId, action): `limit` calls at once, refilled at
/// `limit` per second, on tokio's clock so that a paused clock drives it.
pub(crate) struct RateLimiter {
    default_limit: Option<u32>,
    action_limits: HashMap<String, u32>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub(crate) fn new(default_limit: Option<u32>, action_limits: HashMap<String, u32>) -> Self {
        Self {
            default_limit,
            action_limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for a call of `action` by `secret_id`; `Err(limit)`
    /// when the pair is over its limit of calls per second.
    pub(crate) fn acquire(&self, secret_id: &str, action: &str) -> Result<(), u32> {
        let Some(limit) = self
            .action_limits
            .get(action)
            .copied()
            .or(self.default_limit)
        else {
            return Ok(());
        };
        if limit == 0 {
            return Err(0);
        }
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets
            .entry((secret_id.to_owned(), action.to_owned()))
            .or_insert(Bucket {
                tokens: f64::from(limit),
                updated: now,
            });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * f64::from(limit)).min(f64::from(limit));
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(limit)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_the_limit_then_the_limit_per_second() {
        let limiter = RateLimiter::new(Some(5), HashMap::new());
        let burst = (0..8)
            .filter(|_| limiter.acquire("AKID", "DescribeZones").is_ok())
            .count();
        assert_eq!(burst, 5);
        assert_eq!(limiter.acquire("AKID", "DescribeZones"), Err(5));

        tokio::time::advance(Duration::from_millis(200)).await;
        assert_eq!(limiter.acquire("AKID", "DescribeZones"), Ok(()));
        assert_eq!(limiter.acquire("AKID", "DescribeZones"), Err(5));

        tokio::time::advance(Duration::from_secs(10)).await;
        let refilled = (0..8)
            .filter(|_| limiter.acquire("AKID", "DescribeZones").is_ok())
            .count();
        assert_eq!(refilled, 5, "the bucket holds no more than the limit");
    }

    #[tokio::test(start_paused = true)]
    async fn pairs_are_limited_apart_and_actions_may_have_their_own_limit() {
        let limiter = RateLimiter::new(Some(1), HashMap::from([("DescribeRegions".to_owned(), 3)]));
        assert_eq!(limiter.acquire("AKID1", "DescribeZones"), Ok(()));
        assert_eq!(limiter.acquire("AKID1", "DescribeZones"), Err(1));
        assert_eq!(limiter.acquire("AKID2", "DescribeZones"), Ok(()));
        assert_eq!(limiter.acquire("AKID1", "DescribeInstances"), Ok(()));
        for _ in 0..3 {
            assert_eq!(limiter.acquire("AKID1", "DescribeRegions"), Ok(()));
        }
        assert_eq!(limiter.acquire("AKID1", "DescribeRegions"), Err(3));
    }

    #[test]
    fn no_limit_by_default() {
        let limiter = RateLimiter::new(None, HashMap::new());
        assert!((0..1000).all(|_| limiter.acquire("AKID", "DescribeZones").is_ok()));
    }
}

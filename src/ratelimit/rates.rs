//! [`Rates`]: the learned rate of every key, shared by the clones of a
//! layer and of its services.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use tokio::time::Instant;

use super::RateKey;
use super::last_throttle::LastThrottle;
use super::state::{Admission, Answer, Cut, KeyRate, Tuning};

/// Every key's state, created on its first throttle.
///
/// Until some key is throttled, a request costs one atomic load; after
/// that, a read lock to look its key up, and only keys that have been
/// throttled take a lock of their own.
#[derive(Debug)]
pub(crate) struct Rates {
    tuning: Tuning,
    ever_throttled: AtomicBool,
    keys: RwLock<HashMap<RateKey, Arc<KeyState>>>,
}

/// One throttled key.
#[derive(Debug)]
pub(crate) struct KeyState {
    /// Mirrors [`KeyRate::is_limited`], so that a key still being measured
    /// lets requests through without its lock.
    limited: AtomicBool,
    rate: Mutex<KeyRate>,
    last_throttle: Mutex<Option<LastThrottle>>,
}

impl Rates {
    pub(crate) fn new(tuning: Tuning) -> Self {
        Self {
            tuning,
            ever_throttled: AtomicBool::new(false),
            keys: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// The state of `key`, if it has been throttled.
    pub(crate) fn get(&self, key: &RateKey) -> Option<Arc<KeyState>> {
        if !self.ever_throttled.load(Ordering::Acquire) {
            return None;
        }
        // Nothing panics while the lock is held: a poisoned map is whole.
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(key).cloned()
    }

    /// Learns that a request for `key`, let through under `generation`, was
    /// throttled, giving the key a state if it had none; the cut, if any.
    pub(crate) fn throttled(&self, key: &RateKey, generation: u64, now: Instant) -> Option<Cut> {
        let state = match self.get(key) {
            Some(state) => state,
            None => {
                let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
                let state = keys
                    .entry(key.clone())
                    .or_insert_with(|| {
                        tracing::debug!(%key, "first throttle: measuring the accepted rate");
                        Arc::new(KeyState::new(self.tuning, now))
                    })
                    .clone();
                self.ever_throttled.store(true, Ordering::Release);
                state
            }
        };
        state.learn(Answer::Throttled, generation, now)
    }

    /// Paces `key` at `rate` from now on (see [`KeyRate::limit_at`]).
    pub(crate) fn seed(&self, key: &RateKey, rate: f64, now: Instant) {
        let state = {
            let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
            keys.entry(key.clone())
                .or_insert_with(|| Arc::new(KeyState::new(self.tuning, now)))
                .clone()
        };
        self.ever_throttled.store(true, Ordering::Release);
        state.lock().limit_at(rate, now);
        state.limited.store(true, Ordering::Release);
    }
}

impl KeyState {
    fn new(tuning: Tuning, now: Instant) -> Self {
        Self {
            limited: AtomicBool::new(false),
            rate: Mutex::new(KeyRate::new(tuning, now)),
            last_throttle: Mutex::new(None),
        }
    }

    /// Keeps `throttle` as the key's last.
    pub(crate) fn remember(&self, throttle: LastThrottle) {
        *self
            .last_throttle
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(throttle);
    }

    /// The key's last throttle, as the error to answer again.
    pub(crate) fn last_throttle(&self) -> Option<crate::Error> {
        self.last_throttle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(LastThrottle::to_error)
    }

    /// See [`KeyRate::admit`].
    pub(crate) fn admit(&self, now: Instant) -> Admission {
        if !self.limited.load(Ordering::Acquire) {
            // Measuring: nothing has been cut yet.
            return Admission::Now { generation: 0 };
        }
        self.lock().admit(now)
    }

    /// See [`KeyRate::confirm`].
    pub(crate) fn confirm(&self, generation: u64, now: Instant) -> Admission {
        self.lock().confirm(generation, now)
    }

    /// See [`KeyRate::release`].
    pub(crate) fn release(&self, generation: u64, now: Instant) {
        self.lock().release(generation, now);
    }

    /// See [`KeyRate::learn`].
    pub(crate) fn learn(&self, answer: Answer, generation: u64, now: Instant) -> Option<Cut> {
        let mut rate = self.lock();
        let cut = rate.learn(answer, generation, now);
        if rate.is_limited() {
            self.limited.store(true, Ordering::Release);
        }
        cut
    }

    /// See [`KeyRate::rate`].
    pub(crate) fn rate(&self) -> Option<f64> {
        self.lock().rate()
    }

    fn lock(&self) -> MutexGuard<'_, KeyRate> {
        // The state machine has no step that can panic halfway.
        self.rate.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::Request;

    use super::*;
    use crate::ratelimit::cubic::Cubic;

    const TUNING: Tuning = Tuning {
        cubic: Cubic::new(0.7, 0.4),
        min_rate: 0.5,
        headroom: 0.0,
    };

    fn key(action: &str) -> RateKey {
        let request = Request::post("https://cvm.tencentcloudapi.com/")
            .header("x-tc-action", action)
            .body(())
            .unwrap();
        RateKey::from_request(&request)
    }

    #[test]
    fn a_key_gets_a_state_on_its_first_throttle_and_others_stay_without() {
        let rates = Rates::new(TUNING);
        let now = Instant::now();
        assert!(rates.get(&key("DescribeZones")).is_none());

        rates.throttled(&key("DescribeZones"), 0, now);
        let state = rates.get(&key("DescribeZones")).expect("a state");
        assert!(rates.get(&key("DescribeRegions")).is_none());
        assert_eq!(state.admit(now), Admission::Now { generation: 0 });
        assert_eq!(state.rate(), None);

        // A second throttle finds the same state.
        rates.throttled(&key("DescribeZones"), 0, now);
        let again = rates.get(&key("DescribeZones")).unwrap();
        assert!(Arc::ptr_eq(&state, &again));
    }

    #[test]
    fn once_cut_a_key_makes_its_requests_wait() {
        let rates = Rates::new(TUNING);
        let start = Instant::now();
        let zones = key("DescribeZones");
        rates.throttled(&zones, 0, start);
        let state = rates.get(&zones).unwrap();
        for tick in 1..=20 {
            state.learn(
                Answer::Accepted,
                0,
                start + tick * Duration::from_millis(50),
            );
        }
        let now = start + Duration::from_secs(1);
        rates.throttled(&zones, 0, now);
        assert!((state.rate().unwrap() - 14.0).abs() < 1e-9);
        assert!(matches!(
            state.admit(now),
            Admission::At { generation: 1, .. }
        ));
    }
}

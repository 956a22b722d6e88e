//! [`SharedBudget`]: the settings of a budget shared through a store, and
//! the engine that leases its tokens for one process.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use super::account::Account;
use super::health::Health;
use super::pool::KeyLease;
use super::store::{Curve, LeaseAsk, RateStore, StoreError};
use crate::ratelimit::RateKey;
use crate::ratelimit::rates::Rates;

/// The prefix of every key a budget names in its store.
const PREFIX: &str = "tower-tencentcloud:rate";

/// What calls do while the store does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OnStoreFailure {
    /// Each process limits itself with its own adaptive limiter, starting
    /// at the rate its share of the budget had; calls go on.
    #[default]
    FailOpen,
    /// Calls end without being sent, with an [`Error::Layer`](crate::Error::Layer)
    /// whose error is a [`StoreError`], retry class
    /// [`Transient`](crate::RetryClass::Transient).
    FailClosed,
}

/// The rate budget of one account, shared through a [`RateStore`] by every
/// process that uses it; given to [`AdaptiveRateLimitLayer::shared`](crate::ratelimit::AdaptiveRateLimitLayer::shared).
///
/// | setting | default |
/// |---|---|
/// | [`batch`](Self::batch) | 4 tokens per lease |
/// | [`free_lease`](Self::free_lease) | 250 ms |
/// | [`probe`](Self::probe) | 2% per second |
/// | [`timeout`](Self::timeout) | 100 ms per store call |
/// | [`probe_interval`](Self::probe_interval) | 500 ms |
/// | [`on_failure`](Self::on_failure) | [`OnStoreFailure::FailOpen`] |
///
/// ```
/// use std::time::Duration;
/// use tower_tencentcloud::ratelimit::shared::{Account, Grant, Lease, LeaseAsk, RateStore};
/// use tower_tencentcloud::ratelimit::shared::{OnStoreFailure, SharedBudget, StoreFuture};
/// # #[derive(Debug)]
/// # struct Unlimited;
/// # impl RateStore for Unlimited {
/// #     fn lease(&self, _: &str, _: LeaseAsk) -> StoreFuture<'_, Lease> {
/// #         Box::pin(async { Ok(Lease::new(0, Grant::Free)) })
/// #     }
/// #     fn cut(&self, _: &str, _: u64, _: LeaseAsk) -> StoreFuture<'_, bool> {
/// #         Box::pin(async { Ok(false) })
/// #     }
/// # }
///
/// let budget = SharedBudget::new(Unlimited, Account::from_secret_id("AKIDEXAMPLE"))
///     .batch(8)
///     .timeout(Duration::from_millis(50))
///     .on_failure(OnStoreFailure::FailClosed);
/// assert_eq!(budget.stats().round_trips(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct SharedBudget {
    store: Arc<dyn RateStore>,
    account: Account,
    batch: u32,
    free_lease: Duration,
    probe: f64,
    timeout: Duration,
    probe_interval: Duration,
    on_failure: OnStoreFailure,
    health: Arc<Health>,
}

impl SharedBudget {
    /// The budget of `account` in `store`, with the defaults above.
    pub fn new(store: impl RateStore, account: Account) -> Self {
        Self {
            store: Arc::new(store),
            account,
            batch: 4,
            free_lease: Duration::from_millis(250),
            probe: 0.02,
            timeout: Duration::from_millis(100),
            probe_interval: Duration::from_millis(500),
            on_failure: OnStoreFailure::FailOpen,
            health: Arc::new(Health::default()),
        }
    }

    /// Tokens taken per round trip to the store.
    ///
    /// # Panics
    ///
    /// If `tokens` is 0.
    pub fn batch(mut self, tokens: u32) -> Self {
        assert!(tokens > 0, "a lease must take at least one token");
        self.batch = tokens;
        self
    }

    /// How long a lease of a key never throttled lets a process send
    /// freely: the longest a process goes on unpaced after another has
    /// been throttled.
    pub fn free_lease(mut self, duration: Duration) -> Self {
        self.free_lease = duration;
        self
    }

    /// How fast the shared rate grows past the rate of the last throttle,
    /// in search of a higher limit: by `share` of it per second,
    /// compounded, where the CUBIC curve would grow faster.
    ///
    /// An API that admits bursts (the emulator's bucket holds a second's
    /// worth) throttles only once the burst allowance is spent, so a
    /// fleet probing beyond its limit finds out late; by then its rate is
    /// as far past the limit as the probe has climbed, and every process
    /// sends at it until the cut reaches it. CUBIC's probe, which speeds
    /// up, gets far; a slow one gets little past the limit, and so few
    /// throttles, at the price of finding a raised limit slowly (20 to 40
    /// requests a second takes 35 s at 2%).
    ///
    /// # Panics
    ///
    /// If `share` is not a finite number above 0.
    ///
    /// ```
    /// use tower_tencentcloud::ratelimit::shared::{Account, SharedBudget};
    /// # use tower_tencentcloud::ratelimit::shared::{Grant, Lease, LeaseAsk, RateStore, StoreFuture};
    /// # #[derive(Debug)]
    /// # struct Unlimited;
    /// # impl RateStore for Unlimited {
    /// #     fn lease(&self, _: &str, _: LeaseAsk) -> StoreFuture<'_, Lease> {
    /// #         Box::pin(async { Ok(Lease::new(0, Grant::Free)) })
    /// #     }
    /// #     fn cut(&self, _: &str, _: u64, _: LeaseAsk) -> StoreFuture<'_, bool> {
    /// #         Box::pin(async { Ok(false) })
    /// #     }
    /// # }
    ///
    /// let budget = SharedBudget::new(Unlimited, Account::from_secret_id("AKIDEXAMPLE"))
    ///     .probe(0.05);
    /// ```
    pub fn probe(mut self, share: f64) -> Self {
        assert!(
            share.is_finite() && share > 0.0,
            "the probe must be a finite share above 0, got {share}"
        );
        self.probe = share;
        self
    }

    /// The longest a store call may take before the store counts as down.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often, while the store is down, one call tries it again.
    pub fn probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// What calls do while the store is down.
    pub fn on_failure(mut self, on_failure: OnStoreFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// What this budget has done so far, in this process: shared by its
    /// clones and by the layers it was given to.
    pub fn stats(&self) -> SharedStats {
        let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
        SharedStats {
            round_trips: load(&self.health.round_trips),
            failures: load(&self.health.failures),
            outages: load(&self.health.outages),
            local_admissions: load(&self.health.local_admissions),
            down: self.health.is_down(),
        }
    }

    pub(crate) fn store(&self) -> &dyn RateStore {
        &*self.store
    }

    pub(crate) fn probe_every(&self) -> Duration {
        self.probe_interval
    }

    pub(crate) fn free_for(&self) -> Duration {
        self.free_lease
    }

    pub(crate) fn failure_mode(&self) -> OnStoreFailure {
        self.on_failure
    }

    pub(crate) fn engine(&self, curve: Curve, rates: Arc<Rates>) -> Arc<Budget> {
        Arc::new(Budget {
            config: self.clone(),
            curve,
            rates,
            keys: RwLock::new(HashMap::new()),
        })
    }
}

/// Counters of a [`SharedBudget`] in one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedStats {
    round_trips: u64,
    failures: u64,
    outages: u64,
    local_admissions: u64,
    down: bool,
}

impl SharedStats {
    /// Calls made to the store, answered or not.
    pub fn round_trips(&self) -> u64 {
        self.round_trips
    }

    /// Store calls that failed or timed out.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// Times the store went down (each logged once).
    pub fn outages(&self) -> u64 {
        self.outages
    }

    /// Requests let through (or refused, failing closed) by this process
    /// alone while the store was down.
    pub fn local_admissions(&self) -> u64 {
        self.local_admissions
    }

    /// Whether the store is down now.
    pub fn is_down(&self) -> bool {
        self.down
    }
}

/// A budget bound to one layer: its curve, its process-local rates to
/// fall back to, and the leases of its keys.
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) config: SharedBudget,
    curve: Curve,
    pub(crate) rates: Arc<Rates>,
    keys: RwLock<HashMap<RateKey, Arc<KeyLease>>>,
}

impl Budget {
    pub(crate) fn health(&self) -> &Health {
        &self.config.health
    }

    pub(crate) fn ask(&self, accepted: u32, known_rate: f64) -> LeaseAsk {
        LeaseAsk {
            want: self.config.batch,
            accepted,
            known_rate,
            probe: self.config.probe,
            free_for: self.config.free_lease,
            curve: self.curve,
        }
    }

    /// The lease of `key`, made on first use.
    pub(crate) fn key_lease(&self, key: &RateKey, now: Instant) -> Arc<KeyLease> {
        if let Some(lease) = self
            .keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
        {
            return lease.clone();
        }
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        keys.entry(key.clone())
            .or_insert_with(|| {
                let name = format!("{PREFIX}:{}:{key}", self.config.account);
                Arc::new(KeyLease::new(name, now))
            })
            .clone()
    }

    /// Runs one store call under the timeout, counting it and noting how
    /// it went.
    pub(crate) async fn call<T>(
        &self,
        call: super::store::StoreFuture<'_, T>,
    ) -> Result<T, StoreError> {
        let health = self.health();
        health.round_trips.fetch_add(1, Ordering::Relaxed);
        let timeout = self.config.timeout;
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::timeout(timeout)),
        };
        match &result {
            Ok(_) => health.answered(),
            Err(error) => {
                if health.failed(error, Instant::now(), self.config.probe_interval) {
                    self.fall_back();
                }
            }
        }
        result
    }

    /// Starts each key of the process-local limiter at the share of the
    /// budget this process had, so that the fleet stays near the limit
    /// while each process learns alone.
    fn fall_back(&self) {
        let now = Instant::now();
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        for (key, lease) in keys.iter() {
            if let Some(share) = lease.share() {
                self.rates.seed(key, share, now);
            }
        }
    }
}

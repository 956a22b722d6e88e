use std::sync::Arc;

use tower::Layer;

use super::cubic::Cubic;
use super::rates::Rates;
use super::shared::{Budget, Curve, SharedBudget};
use super::state::Tuning;
use super::{AdaptiveRateLimit, RateKey};

/// The curve and the floor of the AWS SDKs' adaptive retry mode, and the
/// headroom that held the emulator's throttles under 1% (examples/ratelimit.rs).
const DEFAULT_TUNING: Tuning = Tuning {
    cubic: Cubic::new(0.7, 0.4),
    min_rate: 0.5,
    headroom: 0.05,
};

/// Applies [`AdaptiveRateLimit`] to a service: a rate per endpoint, region
/// and action, learned from throttled answers, that callers wait for.
///
/// Every service made by a layer, and every clone of the layer and of those
/// services, shares the learned rates. Keep a clone of the layer to read
/// them with [`rate`](Self::rate). Each setting below makes a layer that has
/// learned nothing, so set them before cloning it.
///
/// | setting | default |
/// |---|---|
/// | [`beta`](Self::beta) | 0.7: a throttle cuts the rate to 70% |
/// | [`cubic_scale`](Self::cubic_scale) | 0.4: back to the throttled rate 2.5 s after a cut at 20 per second |
/// | [`min_rate`](Self::min_rate) | 0.5 requests per second |
/// | [`headroom`](Self::headroom) | 0.05: requests go out at 95% of the curve's rate |
///
/// ```
/// use tower::ServiceBuilder;
/// use tower::retry::RetryLayer;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
/// use tower_tencentcloud::retry::RetryPolicy;
/// use tower_tencentcloud::sign::{Credentials, SignLayer};
/// # let transport = tower::service_fn(|_: http::Request<bytes::Bytes>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// let rate_limit = AdaptiveRateLimitLayer::new().min_rate(1.0);
/// let client = ServiceBuilder::new()
///     .layer(RetryLayer::new(RetryPolicy::default()))
///     .layer(rate_limit.clone())
///     .layer(SignLayer::new(Credentials::new("AKIDEXAMPLE", "secret-key")))
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// ```
#[derive(Debug, Clone)]
pub struct AdaptiveRateLimitLayer {
    rates: Arc<Rates>,
    shared: Option<Arc<Budget>>,
}

impl AdaptiveRateLimitLayer {
    /// A layer with the defaults listed above, and nothing learned yet.
    pub fn new() -> Self {
        Self {
            rates: Arc::new(Rates::new(DEFAULT_TUNING)),
            shared: None,
        }
    }

    /// The share of the rate kept after a throttle.
    ///
    /// # Panics
    ///
    /// If `beta` is not strictly between 0 and 1.
    pub fn beta(self, beta: f64) -> Self {
        assert!(
            beta > 0.0 && beta < 1.0,
            "beta must be between 0 and 1 exclusive, got {beta}"
        );
        let scale = self.rates.tuning().cubic.scale();
        self.tuned(|tuning| tuning.cubic = Cubic::new(beta, scale))
    }

    /// CUBIC's scaling constant, in requests per second per second cubed:
    /// the larger, the sooner the rate is back at what was throttled and
    /// the faster it probes beyond.
    ///
    /// # Panics
    ///
    /// If `scale` is not a finite number above 0.
    pub fn cubic_scale(self, scale: f64) -> Self {
        assert!(
            scale.is_finite() && scale > 0.0,
            "the CUBIC scale must be a finite number above 0, got {scale}"
        );
        let beta = self.rates.tuning().cubic.beta();
        self.tuned(|tuning| tuning.cubic = Cubic::new(beta, scale))
    }

    /// The floor, in requests per second, that no throttle cuts the rate
    /// below.
    ///
    /// # Panics
    ///
    /// If `per_second` is not a finite number of at least 0.001.
    pub fn min_rate(self, per_second: f64) -> Self {
        assert!(
            per_second.is_finite() && per_second >= 0.001,
            "the minimum rate must be a finite number of at least 0.001, got {per_second}"
        );
        self.tuned(|tuning| tuning.min_rate = per_second)
    }

    /// The share of the learned rate left unused, between 0 (none) and 0.5.
    ///
    /// The rate at the last throttle is a little above the limit (the API
    /// lets a burst through before it refuses), and the curve climbs back to
    /// it; a few percent below it, the client stays under the limit for
    /// longer between throttles, at no cost to throughput while it still
    /// reaches the limit now and then.
    ///
    /// # Panics
    ///
    /// If `share` is not between 0 and 0.5.
    pub fn headroom(self, share: f64) -> Self {
        assert!(
            (0.0..=0.5).contains(&share),
            "the headroom must be between 0 and 0.5, got {share}"
        );
        self.tuned(|tuning| tuning.headroom = share)
    }

    /// The rate, in requests per second, that requests for `key` are let
    /// through at; `None` while they are not paced (the key has not been
    /// throttled, or its send rate is still being measured).
    ///
    /// ```
    /// use tower_tencentcloud::ratelimit::{AdaptiveRateLimitLayer, RateKey};
    /// use tower_tencentcloud::action::ActionRequest;
    ///
    /// let layer = AdaptiveRateLimitLayer::new();
    /// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones").build()?;
    /// assert_eq!(layer.rate(&RateKey::from_request(&request)), None);
    /// # Ok::<_, tower_tencentcloud::action::ActionRequestError>(())
    /// ```
    pub fn rate(&self, key: &RateKey) -> Option<f64> {
        self.rates.get(key).and_then(|state| state.rate())
    }

    /// Shares the rates with every process that uses `budget`: requests
    /// wait for tokens of the budget's store, and a throttle seen by any of
    /// them cuts the rate of all (see [`shared`](super::shared)). The
    /// layer's own rates are what a process falls back to while the store
    /// is down.
    ///
    /// ```
    /// use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
    /// use tower_tencentcloud::ratelimit::shared::{Account, Grant, Lease, LeaseAsk};
    /// use tower_tencentcloud::ratelimit::shared::{RateStore, SharedBudget, StoreFuture};
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
    /// // With Redis: RedisStore::new(connection_manager), feature `redis`.
    /// let budget = SharedBudget::new(Unlimited, Account::from_secret_id("AKIDEXAMPLE"));
    /// let layer = AdaptiveRateLimitLayer::new().min_rate(1.0).shared(budget.clone());
    /// assert_eq!(budget.stats().round_trips(), 0);
    /// ```
    pub fn shared(mut self, budget: SharedBudget) -> Self {
        let curve = curve(self.rates.tuning());
        self.shared = Some(budget.engine(curve, self.rates.clone()));
        self
    }

    fn tuned(self, tune: impl FnOnce(&mut Tuning)) -> Self {
        let mut tuning = self.rates.tuning();
        tune(&mut tuning);
        let rates = Arc::new(Rates::new(tuning));
        let shared = self
            .shared
            .map(|budget| budget.config.engine(curve(tuning), rates.clone()));
        Self { rates, shared }
    }
}

fn curve(tuning: Tuning) -> Curve {
    Curve {
        beta: tuning.cubic.beta(),
        scale: tuning.cubic.scale(),
        min_rate: tuning.min_rate,
        headroom: tuning.headroom,
    }
}

impl Default for AdaptiveRateLimitLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for AdaptiveRateLimitLayer {
    type Service = AdaptiveRateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AdaptiveRateLimit::from_rates(inner, self.rates.clone(), self.shared.clone())
    }
}

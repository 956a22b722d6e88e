//! [`RateStore`]: where a shared budget lives, and what it is asked.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What a store call returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store that keeps the shared CUBIC state and token schedule of each
/// key, for many processes at once.
///
/// Each method is one atomic step on one key, named by `key` (the account
/// and the [`RateKey`](crate::ratelimit::RateKey)), and must use one clock
/// for every process: the store's, never the caller's. [`RedisStore`](super::RedisStore)
/// is the implementation the crate ships.
///
/// ```
/// use std::time::Duration;
/// use tower_tencentcloud::ratelimit::shared::{Grant, Lease, LeaseAsk, RateStore, StoreFuture};
///
/// /// A store for a fleet of one: never limits.
/// #[derive(Debug)]
/// struct Unlimited;
///
/// impl RateStore for Unlimited {
///     fn lease(&self, _: &str, _: LeaseAsk) -> StoreFuture<'_, Lease> {
///         Box::pin(async { Ok(Lease::new(0, Grant::Free)) })
///     }
///     fn cut(&self, _: &str, _: u64, _: LeaseAsk) -> StoreFuture<'_, bool> {
///         Box::pin(async { Ok(false) })
///     }
/// }
/// ```
pub trait RateStore: fmt::Debug + Send + Sync + 'static {
    /// Reserves up to `ask.want()` tokens of `key`, and adds
    /// `ask.accepted()` answers to the key's measured accepted rate.
    fn lease(&self, key: &str, ask: LeaseAsk) -> StoreFuture<'_, Lease>;

    /// Cuts the rate of `key` for a throttle of a request sent under
    /// `generation`; whether it did. It does not if the key has been cut
    /// since (its generation is no longer `generation`), nor while it has
    /// no rate to cut from (none measured, none granted).
    fn cut(&self, key: &str, generation: u64, ask: LeaseAsk) -> StoreFuture<'_, bool>;
}

/// The CUBIC curve and the floor, as the layer is tuned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Curve {
    pub(crate) beta: f64,
    pub(crate) scale: f64,
    pub(crate) min_rate: f64,
    pub(crate) headroom: f64,
}

impl Curve {
    /// The share of the rate kept after a throttle.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// CUBIC's scaling constant, requests per second per second cubed.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The floor, in requests per second.
    pub fn min_rate(&self) -> f64 {
        self.min_rate
    }

    /// The share of the curve's rate left unused.
    pub fn headroom(&self) -> f64 {
        self.headroom
    }
}

/// What a process asks of a store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeaseAsk {
    pub(crate) want: u32,
    pub(crate) accepted: u32,
    pub(crate) free_for: Duration,
    pub(crate) known_rate: f64,
    pub(crate) probe: f64,
    pub(crate) curve: Curve,
}

impl LeaseAsk {
    /// Tokens wanted.
    pub fn want(&self) -> u32 {
        self.want
    }

    /// Answers this process saw accepted since its last lease of the key.
    pub fn accepted(&self) -> u32 {
        self.accepted
    }

    /// How long a free lease of a key never throttled lasts.
    pub fn free_for(&self) -> Duration {
        self.free_for
    }

    /// The rate the key's last cut started from, as the last lease said
    /// ([`Lease::last_max`]); else 90% of the highest rate of this
    /// process's leases under the key's current generation and the one
    /// before; 0 if none. A store that has lost the key (restarted empty)
    /// starts it as if just cut from there, rather than with free leases,
    /// which would let the fleet loose.
    pub fn known_rate(&self) -> f64 {
        self.known_rate
    }

    /// How fast the rate grows beyond the rate of the last cut: this share
    /// of it per second, compounded, where the CUBIC curve would grow faster.
    pub fn probe(&self) -> f64 {
        self.probe
    }

    /// The curve that the rate follows.
    pub fn curve(&self) -> Curve {
        self.curve
    }
}

/// What a store granted: the key's generation (its count of cuts) and the
/// tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    generation: u64,
    grant: Grant,
    /// The rate of the key's last cut, in thousandths of a request per
    /// second; 0 if unknown.
    last_max_milli: u64,
}

impl Lease {
    /// A lease of `grant` under `generation`.
    pub fn new(generation: u64, grant: Grant) -> Self {
        Self {
            generation,
            grant,
            last_max_milli: 0,
        }
    }

    /// With the rate the key's last cut started from (which the curve
    /// climbs back to): what a process gives a store that has lost the
    /// key, in [`LeaseAsk::known_rate`].
    ///
    /// ```
    /// use tower_tencentcloud::ratelimit::shared::{Grant, Lease};
    ///
    /// let lease = Lease::new(3, Grant::Free).with_last_max(19.5);
    /// assert_eq!(lease.last_max(), Some(19.5));
    /// assert_eq!(Lease::new(0, Grant::Free).last_max(), None);
    /// ```
    pub fn with_last_max(mut self, per_second: f64) -> Self {
        // Saturates: NaN and negative rates are unknown (0).
        self.last_max_milli = (per_second * 1000.0) as u64;
        self
    }

    /// The rate the key's last cut started from, if the store said.
    pub fn last_max(&self) -> Option<f64> {
        (self.last_max_milli > 0).then(|| self.last_max_milli as f64 / 1000.0)
    }

    /// The key's count of cuts when the lease was granted.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The tokens granted.
    pub fn grant(&self) -> Grant {
        self.grant
    }
}

/// Tokens granted by a store, in the store's time made relative to the
/// moment it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Grant {
    /// The key has never been throttled: send freely for the lease's
    /// [`free_for`](LeaseAsk::free_for).
    Free,
    /// `count` tokens, the first due `first` from now, the next ones each
    /// `interval` later.
    Slots {
        /// When the first token is due.
        first: Duration,
        /// The time between tokens: one over the rate.
        interval: Duration,
        /// How many tokens.
        count: u32,
    },
    /// No token now: the key's schedule is taken too far ahead; ask again
    /// `after` from now.
    Later {
        /// When to ask again.
        after: Duration,
    },
}

/// A store call failed, or took longer than the budget's timeout.
#[derive(Debug)]
pub struct StoreError {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Timeout(Duration),
    Down,
    Failed(Box<dyn StdError + Send + Sync>),
}

impl StoreError {
    /// A failure of the store itself, with its cause.
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind: Kind::Failed(source.into()),
        }
    }

    pub(crate) fn timeout(after: Duration) -> Self {
        Self {
            kind: Kind::Timeout(after),
        }
    }

    pub(crate) fn unavailable() -> Self {
        Self { kind: Kind::Down }
    }

    /// Whether the store did not answer within the timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Timeout(after) => write!(f, "the rate store did not answer within {after:?}"),
            Kind::Down => f.write_str("the rate store is down, and the budget fails closed"),
            Kind::Failed(source) => write!(f, "the rate store failed: {source}"),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.kind {
            Kind::Timeout(_) | Kind::Down => None,
            Kind::Failed(source) => Some(&**source),
        }
    }
}

//! A rate budget shared by a fleet: the learned rate of each key kept in a
//! store that every process asks, so that many processes of one account
//! stay under the account's limit together, as one client would.
//!
//! The API limits an account, not a process. Each process's own
//! [`AdaptiveRateLimitLayer`](super::AdaptiveRateLimitLayer) learns a rate
//! as if it were alone: a fleet of them overshoots, is throttled, and
//! oscillates. With [`AdaptiveRateLimitLayer::shared`](super::AdaptiveRateLimitLayer::shared),
//! the CUBIC state of every key (the rate at the last throttle, the time of
//! the cut, the count of cuts) and its token schedule live in the store
//! instead: a throttle seen by any process cuts the rate of all of them,
//! and the curve climbs back once, for the fleet.
//!
//! - **The store.** [`RateStore`] is the abstraction; [`RedisStore`] (feature
//!   `redis`) keeps each key in one Redis hash, changed only by Lua scripts,
//!   which read the time from the Redis server (`TIME`), never from a
//!   client: clients' clocks disagree, the server's is one.
//! - **Leases.** A process takes tokens in batches of
//!   [`batch`](SharedBudget::batch) (default 4): one round trip reserves
//!   that many consecutive slots of the key's shared schedule, which the
//!   process's callers then use without asking again; a lease is granted
//!   while the schedule is taken at most one batch ahead, and beyond, the
//!   store says when to ask again (in turns a batch apart), so callers wait
//!   in their process. While a key has never been throttled, a lease lets the process send freely for
//!   [`free_lease`](SharedBudget::free_lease) (default 250 ms), and carries
//!   back the count of accepted answers, from which the store measures the
//!   fleet's accepted rate, the base of the first cut.
//!   The trade-off: a larger batch means fewer round trips per call
//!   (1/batch) but slots held by one process while another's callers wait
//!   (the schedule is served in batch-sized turns, not call by call), and a
//!   cut that reaches the others only when their batch is spent; a batch of
//!   1 is fair call by call and costs a round trip per call. A process
//!   that is throttled gives up the tokens it holds.
//! - **The curve.** A cut starts from the rate the fleet was accepted at:
//!   over the time since the last cut, once there is one, since an API
//!   that admits bursts throttles only when the burst is spent, and the
//!   answers of the last second overstate its limit by that burst. The
//!   rate climbs back along the CUBIC curve to the rate of the cut, then
//!   past it by [`probe`](SharedBudget::probe) of it per second (2%,
//!   compounded) rather than CUBIC's accelerating probe: by the time a
//!   bursty limit answers with a throttle, a fast probe is far beyond it,
//!   and every process sends at that rate until the cut reaches it.
//! - **The account.** Keys are named by [`Account`], a SHA-256 hash of the
//!   SecretId: never the SecretKey, and not the SecretId itself either, so
//!   that a listing of the store names no credential. The limiter sits above
//!   the signer and never sees credentials: the account is configured on
//!   the budget (`Account::from_secret_id(credentials.secret_id())`).
//! - **Failure.** Every store call has a [`timeout`](SharedBudget::timeout)
//!   (default 100 ms). When the store fails or times out, the budget
//!   [fails open](OnStoreFailure::FailOpen) by default: the process falls
//!   back to its own adaptive limiter, starting at the rate its share of the
//!   budget had, and logs the transition once (`warn`); or it
//!   [fails closed](OnStoreFailure::FailClosed): calls end with an error
//!   without being sent. While down, one call every
//!   [`probe_interval`](SharedBudget::probe_interval) tries the store again;
//!   the first that succeeds shares the budget again (logged once, `info`),
//!   and calls still waiting for a token of their local limiter lease one
//!   of the budget instead, rather than add the local rates to it. A store
//!   that came back empty (Redis restarted) starts each key as if it had
//!   just been cut from the rate of its last cut (which every lease reply
//!   carries to the processes), paced, rather
//!   than with free leases: the processes that are still on their local
//!   limiters for up to a probe interval are not sent over the limit.
//!   [`SharedBudget::stats`] counts round trips, failures and transitions.
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn example() -> redis::RedisResult<()> {
//! use tower::ServiceBuilder;
//! use tower::retry::RetryLayer;
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
//! use tower_tencentcloud::ratelimit::shared::{Account, RedisStore, SharedBudget};
//! use tower_tencentcloud::retry::RetryPolicy;
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! # let transport = tower::service_fn(|_: http::Request<bytes::Bytes>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//!
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret-key");
//! let redis = redis::Client::open("redis://127.0.0.1/")?;
//! let store = RedisStore::new(redis::aio::ConnectionManager::new(redis).await?);
//! let budget = SharedBudget::new(store, Account::from_secret_id(credentials.secret_id()));
//! let client = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .layer(AdaptiveRateLimitLayer::new().shared(budget))
//!     .layer(SignLayer::new(credentials))
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//! # Ok(())
//! # }
//! ```

mod account;
mod admission;
mod budget;
mod health;
mod pool;
#[cfg(feature = "redis")]
mod redis;
mod store;

pub use account::Account;
pub(crate) use admission::{Admit, Fallback, LeaseFuture, Ticket};
pub(crate) use budget::Budget;
pub use budget::{OnStoreFailure, SharedBudget, SharedStats};
#[cfg(feature = "redis")]
pub use redis::RedisStore;
pub use store::{Curve, Grant, Lease, LeaseAsk, RateStore, StoreError, StoreFuture};

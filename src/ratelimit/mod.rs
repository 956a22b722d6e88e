//! Adaptive client-side rate limiting: a rate per endpoint, region and
//! action, learned from throttled answers, that requests wait for, so that
//! a busy client gets the API's whole rate without running into its limit.
//!
//! The API limits each action of an account to some requests per second
//! (often 20) and answers beyond it with `RequestLimitExceeded`. Retrying
//! recovers single calls, but a busy client keeps hammering the limit:
//! half its requests are refused, and latency swings with the backoff.
//! [`AdaptiveRateLimitLayer`] does what the AWS SDKs' adaptive retry mode
//! does: a client-side token bucket per [`RateKey`] whose rate is cut on
//! every throttle and recovers along a CUBIC curve, so that requests go out
//! just under the limit, spaced.
//!
//! ```text
//! RetryLayer(RetryPolicy)
//!   AdaptiveRateLimitLayer     waits for a token; learns from each answer
//!     SignLayer
//!       EnvelopeLayer
//!         transport
//! ```
//!
//! It belongs in the stack of any client that may meet a rate limit: with
//! it, a batch under a sustained limit sends about one request per call
//! (see the crate's README, "Under a sustained rate limit").
//! [`AdaptiveRateLimit`] explains the order. Until a key is throttled its
//! requests pay one atomic load and the cloning of their key: no lock, no
//! wait.
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower::retry::RetryLayer;
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
//! use tower_tencentcloud::retry::RetryPolicy;
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! # let transport = tower::service_fn(|_: http::Request<bytes::Bytes>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//!
//! let client = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .layer(AdaptiveRateLimitLayer::new())
//!     .layer(SignLayer::new(Credentials::new("AKIDEXAMPLE", "secret-key")))
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//! ```
//!
//! `cargo run --release --example ratelimit --features emulator` compares
//! it with retries alone against the emulator.
//!
//! Many processes of one account share one budget through a store
//! ([`shared`]: Redis, feature `redis`) with
//! [`AdaptiveRateLimitLayer::shared`].

mod accepted_rate;
mod bucket;
mod cubic;
mod future;
mod key;
mod last_throttle;
mod layer;
mod rates;
mod service;
pub mod shared;
mod state;

pub use future::ResponseFuture;
pub use key::RateKey;
pub use layer::AdaptiveRateLimitLayer;
pub use service::AdaptiveRateLimit;

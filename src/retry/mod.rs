//! Retries that are safe by default: a [`RetryPolicy`] for
//! [`tower::retry::RetryLayer`], with jittered backoff, a retry budget and
//! idempotency rules.
//!
//! The policy decides on the [`RetryClass`](crate::RetryClass) of each
//! [`Error`](crate::Error), so it sits above
//! [`EnvelopeLayer`](crate::EnvelopeLayer), which turns error envelopes
//! into errors:
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower::retry::RetryLayer;
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::retry::RetryPolicy;
//! # let client = tower::service_fn(|_: http::Request<String>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//!
//! let service = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .layer(EnvelopeLayer::new())
//!     .service(client);
//! ```
//!
//! Throttled requests are always retried (a bounded number of times,
//! honouring `Retry-After`), transient failures only for read-only actions
//! and requests marked [`Idempotent`], an expired signature once; see
//! [`RetryPolicy`] for the rules and the defaults, [`RetryBudget`] for the
//! limit on how much traffic retries of failures may add, and
//! [`Deadline`](crate::action::Deadline) for a call that cannot wait.

mod attempts;
mod backoff;
mod budget;
mod delay;
mod give_up;
mod idempotency;
mod policy;
mod retry_after;

pub use attempts::Attempts;
pub use budget::RetryBudget;
pub use delay::RetryDelay;
pub use idempotency::Idempotent;
pub use policy::RetryPolicy;

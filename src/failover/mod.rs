//! Endpoint failover: an attempt that fails for the host's sake goes on to
//! the next endpoint of its ring, and a circuit breaker per host sends
//! calls around a host that keeps failing (feature `failover`).
//!
//! The official SDKs' failover pull requests (Go, Java, Python, C++) move a
//! call along the domain ring `tencentcloudapi.com` → `tencentcloudapi.com.cn`
//! → `tencentcloudapi.cn` ([`DOMAIN_RING`](crate::action::DOMAIN_RING)):
//! `cvm.tencentcloudapi.com` goes on to `cvm.tencentcloudapi.com.cn`, and
//! the `ai.` and `internal.` families, like regional hosts, turn around
//! rings of their own (`hunyuan.ai.tencentcloudapi.com` →
//! `hunyuan.ai.tencentcloudapi.com.cn`). Custom endpoints (a proxy, the
//! emulator) get a ring with [`FailoverLayer::ring`].
//!
//! ```text
//! RetryLayer(RetryPolicy)
//!   FailoverLayer        the endpoint of each attempt; a breaker per host
//!     SignLayer          signs each attempt for its own Host
//!       EnvelopeLayer
//!         transport
//! ```
//!
//! [`Failover`] says which failures move a call and which writes may move;
//! [`BreakerConfig`] has the breaker's states and defaults.
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower::retry::RetryLayer;
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::failover::{BreakerConfig, FailoverLayer};
//! use tower_tencentcloud::retry::RetryPolicy;
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! # let transport = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//!
//! let client = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .layer(FailoverLayer::new().breaker(BreakerConfig::new()))
//!     .layer(SignLayer::new(Credentials::new("AKIDEXAMPLE", "secret-key")))
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//! ```

mod breaker;
mod future;
mod host_fault;
mod hosts;
mod layer;
mod service;

pub use breaker::{BreakerConfig, BreakerState};
pub use future::ResponseFuture;
pub use layer::FailoverLayer;
pub use service::Failover;

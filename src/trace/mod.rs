//! Observability: a span per call and per attempt, named and fielded after
//! the OpenTelemetry RPC and HTTP client conventions so that
//! `tracing-opentelemetry` exports them as they are, and with feature
//! `metrics` call and attempt metrics through the `metrics` facade.
//!
//! ```text
//! CallLayer                   span `cvm/DescribeInstances`, call metrics
//!   RetryLayer(RetryPolicy)
//!     AttemptLayer            span `POST` per attempt, attempt metrics
//!       AdaptiveRateLimitLayer  records its wait into the attempt span
//!         SignLayer
//!           EnvelopeLayer
//!             transport
//! ```
//!
//! # Spans
//!
//! Both spans are `INFO`, target `tower_tencentcloud::trace`, with
//! `otel.kind = "client"`. On an error, `otel.status_code = "error"` and
//! `otel.status_description` (the error's one-line Display) set the span
//! status. No header but the `X-TC-Action`/`Version`/`Region` values is
//! read, never the body: the Authorization header, the token and the key
//! cannot reach a span.
//!
//! | field | call (`tencentcloud.call`) | attempt (`tencentcloud.attempt`) |
//! |---|---|---|
//! | `otel.name` | `{service}/{action}` | the method, `POST` |
//! | `rpc.system` | `tencentcloud` | |
//! | `rpc.service`, `rpc.method` | `cvm`, `DescribeInstances` | |
//! | `cloud.provider`, `cloud.region` | `tencent_cloud`, `X-TC-Region` | |
//! | `tencentcloud.api_version` | `X-TC-Version` | |
//! | `server.address`, `server.port` | the URI's host and port | the same |
//! | `http.request.method` | | `POST` |
//! | `http.request.resend_count` | | 1, 2, ... on replays |
//! | `http.response.status_code` | of the last attempt | of the attempt |
//! | `error.type` | the API's code, else the kind (`transport`, `body`, `body_too_large`, `not_envelope`, `layer`) | the same |
//! | `tencentcloud.request_id` | of the last answer | of the answer |
//! | `tencentcloud.retry_class` | of the error | of the error |
//! | `tencentcloud.attempts` | how many attempts | |
//! | `tencentcloud.ratelimit.wait` | | seconds waited in the rate limiter |
//!
//! # Metrics (feature `metrics`)
//!
//! Named in [`action::telemetry`](crate::action::telemetry). Labels are
//! bounded: `service` and `action` are the request's when they are names
//! (ASCII letters, digits, `-`, `_`, at most 64 characters), else `other`;
//! `error` is `none`, the code's [`Category`](crate::Category) prefix
//! (`RequestLimitExceeded`, `AuthFailure`, ...; `other` beyond the table)
//! or the error's kind; never a RequestId or a free-form code.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `tencentcloud_call_duration_seconds` | histogram | service, action, outcome |
//! | `tencentcloud_attempt_duration_seconds` | histogram | service, action, outcome |
//! | `tencentcloud_calls_total` | counter | service, action, outcome, error |
//! | `tencentcloud_retries_total` | counter | service, action, reason (`throttled`, `transient`, `clock_skew`) |
//! | `tencentcloud_throttled_total` | counter | service, action |
//! | `tencentcloud_response_size_bytes` | histogram | service, action |
//! | `tencentcloud_ratelimit_wait_seconds` | histogram | action |
//! | `tencentcloud_ratelimit_rate` | gauge | action |
//! | `tencentcloud_credential_refreshes_total` | counter | outcome |
//!
//! With no subscriber and no recorder installed, a call and an attempt
//! are their inner future and a null pointer: each layer checks the level
//! (an atomic load) and, with `metrics`, which recorder the facade would
//! use (a thread-local read and an atomic load), then builds, times and
//! looks up nothing. A call or an attempt that began before a recorder was
//! installed is not recorded. `benches/envelope.rs` (`instrumentation`)
//! measures the cost; the README's "Observability" has the numbers.
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower::retry::RetryLayer;
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
//! use tower_tencentcloud::retry::RetryPolicy;
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! use tower_tencentcloud::trace::{AttemptLayer, CallLayer};
//! # let transport = tower::service_fn(|_: http::Request<bytes::Bytes>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//!
//! let client = ServiceBuilder::new()
//!     .layer(CallLayer::new())
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .layer(AttemptLayer::new())
//!     .layer(AdaptiveRateLimitLayer::new())
//!     .layer(SignLayer::new(Credentials::new("AKIDEXAMPLE", "secret-key")))
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//! ```

mod attributes;
mod future;
mod layer;
#[cfg(feature = "metrics")]
mod metrics;
mod service;
mod tally;

pub use future::{AttemptFuture, CallFuture};
pub use layer::{AttemptLayer, CallLayer};
pub use service::{Attempt, Call};

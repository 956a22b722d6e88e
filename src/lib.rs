//! Tower middleware for Tencent Cloud API 3.0.
//!
//! The API reports failures inside a JSON envelope, usually with HTTP 200:
//! `{"Response": {"Error": {"Code": ..., "Message": ...}, "RequestId": ...}}`.
//! An HTTP client sees success; only the body tells the truth.
//! [`EnvelopeLayer`] reads every response body once, turns `Response.Error`
//! into a typed [`Error`] with a [`RetryClass`], and records the
//! [`RequestId`] in the response's extensions.
//!
//! ```text
//! caller ── action::ActionRequest (service, version, action, region, JSON params)
//!   ├─ tower::retry::RetryLayer(retry::RetryPolicy)  decides on Error::retry_class(), sleeps, replays
//!   ├─ ratelimit::AdaptiveRateLimitLayer             paces each action at the rate it learnt (recommended)
//!   ├─ sign::SignLayer(Credentials)                  TC3-HMAC-SHA256, a fresh timestamp each attempt
//!   ├─ EnvelopeLayer                                 reads the body: Ok(response) or Err(Error)
//!   └─ transport                                     hyper-util's client, reqwest, any Service<http::Request<B>>
//! ```
//!
//! Retry sits above Sign so that a replay is signed again; Envelope sits
//! below both so that they see typed errors. The sign layer corrects its
//! clock from `AuthFailure.SignatureExpire`, which the retry policy replays
//! once ([`RetryClass::ClockSkew`]).
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_tencentcloud::{EnvelopeLayer, Error, RequestId, RetryClass};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Any transport: here one that answers as the API does when throttled.
//! let transport = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
//!     let body = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"Slow down."},"RequestId":"6f0c5d7e"}}"#;
//!     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(body))))
//! });
//! let client = ServiceBuilder::new().layer(EnvelopeLayer::new()).service(transport);
//!
//! let request = http::Request::post("https://cvm.tencentcloudapi.com/")
//!     .header("x-tc-action", "DescribeInstances")
//!     .body(Full::new(Bytes::from_static(b"{}")))
//!     .unwrap();
//! let err: Error = client.oneshot(request).await.unwrap_err();
//! assert_eq!(err.code().unwrap(), "RequestLimitExceeded");
//! assert_eq!(err.retry_class(), RetryClass::Throttled);
//! assert_eq!(err.request_id().unwrap(), "6f0c5d7e");
//! # }
//! ```
//!
//! On success the response keeps its status, headers and body bytes, and
//! carries the [`RequestId`]: `response.extensions().get::<RequestId>()`.
//! [`envelope::from_slice`] deserializes the action's fields into a type of
//! yours.
//!
//! Streaming actions answer `text/event-stream`, which the envelope layer
//! passes through unread; [`sse::SseLayer`] above it ends such a body with
//! [`Error::Api`] when an event reports an error, and [`sse::Events`] reads
//! the events.
//!
//! # Features
//!
//! - `emulator`: `emulator`, a local Tencent Cloud API 3.0 emulator to test
//!   clients against (signature checks, rate limits, faults on demand);
//!   `cargo run --example quickstart --features emulator` drives the whole
//!   stack against it.
//! - `reqwest`: `reqwest::ReqwestService`, a `reqwest::Client` as the
//!   transport under the same layers.

#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod action;
mod code;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod envelope;
mod error;
pub mod ratelimit;
mod request_id;
#[cfg(feature = "reqwest")]
pub mod reqwest;
pub mod retry;
pub mod sign;
pub mod sse;
mod text;

pub use code::{Category, Code, RetryClass};
pub use envelope::{Envelope, EnvelopeBody, EnvelopeLayer};
pub use error::{
    ApiError, BODY_PREFIX_LEN, BodyError, BodyTooLarge, BoxError, DecodeError, DecodeErrorKind,
    Error, EventTooLarge, NotEnvelope, TransportError,
};
pub use request_id::RequestId;

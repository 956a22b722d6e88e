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
//! # A complete client
//!
//! Retry → Sign → per-attempt timeout → Envelope → hyper-util, here against
//! the crate's local emulator (feature `emulator`). Against the real API,
//! only three things change: `Credentials::from_env()?`, no `endpoint` (the
//! default is `https://{service}.tencentcloudapi.com`), and an HTTPS
//! connector such as hyper-rustls' for the client.
//!
//! ```
//! # #[cfg(all(feature = "emulator", feature = "retry"))]
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use std::time::Duration;
//!
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use serde_json::json;
//! use tower::retry::RetryLayer;
//! use tower::timeout::TimeoutLayer;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_tencentcloud::action::ActionRequest;
//! use tower_tencentcloud::emulator::Emulator;
//! use tower_tencentcloud::retry::{Attempts, RetryPolicy};
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! use tower_tencentcloud::typed_error::TypedErrorLayer;
//! use tower_tencentcloud::{EnvelopeLayer, Error, RequestId};
//!
//! let credentials = Credentials::new("AKIDexample", "example-key");
//! let emulator = Emulator::builder().credentials(credentials.clone()).start().await?;
//!
//! let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
//! let client = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryPolicy::default())) // replays what is safe to replay
//!     .layer(SignLayer::new(credentials))             // signs every attempt afresh
//!     .layer(TypedErrorLayer::new())                  // Timeout's boxed errors typed again
//!     .layer(TimeoutLayer::new(Duration::from_secs(10))) // each attempt, its body included
//!     .layer(EnvelopeLayer::new())                    // Response.Error becomes Err(Error)
//!     .service(transport);
//!
//! let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
//!     .region("ap-guangzhou")
//!     .endpoint(emulator.endpoint())
//!     .params(&json!({ "Limit": 2 }))
//!     .build()?;
//! // The stack is Send: it runs in a task of its own.
//! let response = tokio::spawn(client.clone().oneshot(request)).await??;
//! assert!(response.extensions().get::<RequestId>().is_some());
//! assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 1);
//! let body = response.into_body().collect().await?.to_bytes();
//! let fields: serde_json::Value = tower_tencentcloud::envelope::from_slice(&body)?;
//! assert_eq!(fields["InstanceSet"].as_array().unwrap().len(), 2);
//!
//! // An error envelope is an Err, matched by its code.
//! let request = ActionRequest::new("cvm", "2017-03-12", "TerminateInstances")
//!     .region("ap-guangzhou")
//!     .endpoint(emulator.endpoint())
//!     .params(&json!({ "InstanceIds": ["ins-00000000"] }))
//!     .build()?;
//! match client.oneshot(request).await {
//!     Err(Error::Api(err)) if err.code() == "InvalidInstanceId.NotFound" => {
//!         println!("{err}"); // one line: code, message, RequestId
//!     }
//!     other => panic!("expected InvalidInstanceId.NotFound, got {other:?}"),
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(all(feature = "emulator", feature = "retry")))]
//! # fn main() {}
//! ```
//!
//! # The envelope layer alone
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
#![deny(unreachable_pub)]

#[macro_use]
mod macros;

pub mod action;
mod code;
#[cfg(feature = "sign")]
mod date;
#[cfg(feature = "emulator")]
pub mod emulator;
pub mod envelope;
mod error;
mod escape;
#[cfg(feature = "ratelimit")]
pub mod ratelimit;
mod request_id;
#[cfg(feature = "reqwest")]
pub mod reqwest;
#[cfg(feature = "retry")]
pub mod retry;
mod retry_class;
mod retry_stopped;
#[cfg(feature = "sign")]
pub mod sign;
#[cfg(feature = "sse")]
pub mod sse;
mod text;
pub mod typed_error;

pub use code::{Category, Code};
pub use envelope::{Envelope, EnvelopeBody, EnvelopeLayer};
pub use error::{
    ApiError, BODY_PREFIX_LEN, BodyError, BodyTooLarge, BoxError, DecodeError, DecodeErrorKind,
    Error, LayerError, NotEnvelope, TransportError,
};
pub use request_id::RequestId;
pub use retry_class::RetryClass;
pub use retry_stopped::{RetryStopped, StopReason};

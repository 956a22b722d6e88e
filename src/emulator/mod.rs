//! A local stand-in for the Tencent Cloud API 3.0 gateway, to test clients
//! against (feature `emulator`).
//!
//! [`Emulator`] is a hyper server on 127.0.0.1 that answers as the real API
//! does:
//!
//! - it verifies TC3-HMAC-SHA256 signatures against the [`Credentials`] it
//!   is given (`AuthFailure.SignatureFailure`, `AuthFailure.SecretIdNotFound`,
//!   `AuthFailure.SignatureExpire` beyond five minutes of skew,
//!   `MissingParameter`, `InvalidAction`, `NoSuchVersion`), taking the
//!   service from the credential scope, so that `Host: 127.0.0.1:PORT` works;
//! - it answers cvm `2017-03-12` `DescribeInstances` (Offset/Limit
//!   pagination over a seeded fleet, `InstanceIds`), `DescribeRegions`,
//!   `DescribeZones`, `RunInstances` (idempotent under a `ClientToken`) and
//!   `TerminateInstances`; `DryRun: true` answers `DryRunOperation`, an
//!   unknown parameter `UnknownParameter`;
//! - it answers hunyuan `2023-09-01` `ChatCompletions` with `Stream: true` as
//!   `text/event-stream`, the RequestId in `X-TC-RequestId`;
//! - it limits the rate of each (SecretId, action) pair
//!   (`RequestLimitExceeded`), on tokio's clock;
//! - it fails on demand ([`Fault`]): `InternalError`, a 502 HTML page, a
//!   truncated body, a delay, a dropped connection, an error event inside a
//!   stream; at random rates or injected for the next calls;
//! - every response has a fresh RequestId (UUID v4) and a `Date` header, and
//!   the [`Log`] records (RequestId, action, [`Outcome`]) of every call.
//!
//! Error envelopes are the real API's, with HTTP 200:
//! `{"Response":{"Error":{"Code":"...","Message":"..."},"RequestId":"..."}}`.
//!
//! # Example
//!
//! ```
//! use tower::ServiceExt;
//! use tower_tencentcloud::emulator::{Emulator, Fault, Outcome};
//! use tower_tencentcloud::action::ActionRequest;
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! use tower_tencentcloud::{EnvelopeLayer, RequestId};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let credentials = Credentials::new("AKIDEXAMPLE", "emulator-secret-key");
//! let emulator = Emulator::builder()
//!     .credentials(credentials.clone())
//!     .start()
//!     .await?;
//!
//! let transport = hyper_util::client::legacy::Client::builder(
//!     hyper_util::rt::TokioExecutor::new(),
//! )
//! .build_http();
//! let client = tower::ServiceBuilder::new()
//!     .layer(SignLayer::new(credentials))
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//!
//! let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
//!     .region("ap-guangzhou")
//!     .endpoint(emulator.endpoint())
//!     .build()?;
//! let response = client.clone().oneshot(request).await?;
//! let request_id = response.extensions().get::<RequestId>().unwrap();
//! assert_eq!(emulator.log().find(request_id).unwrap().outcome(), &Outcome::Success);
//!
//! // The next call fails as the API does when a backend breaks.
//! emulator.inject(Fault::InternalError);
//! let request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
//!     .endpoint(emulator.endpoint())
//!     .build()?;
//! let err = client.oneshot(request).await.unwrap_err();
//! assert_eq!(err.code().unwrap(), "InternalError");
//! # Ok(())
//! # }
//! ```
//!
//! `cargo run --example emulator --features emulator -- --listen
//! 127.0.0.1:8080` runs it on its own, with credentials from
//! `TENCENTCLOUD_SECRET_ID` and `TENCENTCLOUD_SECRET_KEY`.
//!
//! [`Credentials`]: crate::sign::Credentials

mod auth;
mod body;
mod config;
mod cvm;
mod faults;
mod log;
mod params;
mod ratelimit;
mod reply;
mod server;
mod service;
mod stream;

pub use body::EmulatorBody;
pub use config::EmulatorBuilder;
pub use faults::{Fault, Injection};
pub use log::{Log, LogEntry, Outcome};
pub use server::Emulator;
pub use service::{EmulatorService, ResponseFuture};

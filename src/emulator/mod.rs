//! A local stand-in for the Tencent Cloud API 3.0 gateway, to test clients
//! against (feature `emulator`).
//!
//! [`Emulator`] is a hyper server on 127.0.0.1 that answers as the real API
//! does:
//!
//! - it verifies signatures against the [`Credentials`] it is given, with
//!   the crate's public [`Verifier`] (`AuthFailure.SignatureFailure`,
//!   `AuthFailure.SecretIdNotFound`, `AuthFailure.SignatureExpire` beyond
//!   five minutes of skew, `MissingParameter`, `InvalidAction`,
//!   `NoSuchVersion`), taking the service from the credential scope, so
//!   that `Host: 127.0.0.1:PORT` works;
//! - it takes calls as the official SDKs make them: `POST` with a JSON
//!   body or `GET` with the parameters in the query (`reqMethod`), signed
//!   with TC3-HMAC-SHA256 or the older HmacSHA1 / HmacSHA256 of form-encoded
//!   parameters (`signMethod`), in the query or an
//!   `application/x-www-form-urlencoded` body; form values are text, read as
//!   numbers or booleans where the action wants them;
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
//! # What it accepts that the real API would not
//!
//! The official Node.js SDK (`tencentcloud-sdk-nodejs-common`), configured
//! as its documentation says (`profile: { httpProfile: { endpoint:
//! "127.0.0.1:PORT", protocol: "http://" } }`), cannot reach a server on a
//! port of its own otherwise: the real API listens on port 443 under
//! `{service}.tencentcloudapi.com`, where the SDK's shortcuts are harmless.
//! Two leniencies make its calls verify, and nothing else changes:
//!
//! - **A signature over the host without its port.** The SDK signs
//!   `host:127.0.0.1` but sends `Host: 127.0.0.1:PORT`. The emulator also
//!   accepts a signature over the `Host` header without its port
//!   ([`Verifier::accept_host_without_port`]); the real API, which sees
//!   no port, compares the header as sent. A signature over any other
//!   host still fails.
//! - **The service from the action, when the SDK made it up from an
//!   address.** The SDK signs for the first label of its endpoint (`127`
//!   of `127.0.0.1`, `localhost:PORT` of `localhost:PORT`). When the
//!   credential scope's service is the first label of the `Host` and no
//!   service the emulator serves, the service is the one that has the
//!   action (`DescribeInstances` is cvm's, `ChatCompletions` hunyuan's),
//!   since the emulator's actions are unique across its services. The
//!   real API would answer `AuthFailure.SignatureFailure` or
//!   `InvalidAction`. An HmacSHA1 / HmacSHA256 call, whose signature names
//!   no service, is routed the same way unless its host is
//!   `{service}.…`.
//!
//! The signature itself is checked in full either way: a wrong key is
//! `AuthFailure.SignatureFailure`, for the Node.js SDK as for any other.
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
//! `TENCENTCLOUD_SECRET_ID` and `TENCENTCLOUD_SECRET_KEY`. Its [`Log`] is
//! bounded (entries and bytes of parameters kept, the oldest dropped), so
//! that its memory stays flat however long it runs.
//!
//! [`Credentials`]: crate::sign::Credentials
//! [`Verifier`]: crate::sign::verify::Verifier
//! [`Verifier::accept_host_without_port`]: crate::sign::verify::Verifier::accept_host_without_port

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

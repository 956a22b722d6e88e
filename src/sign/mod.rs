//! TC3-HMAC-SHA256 request signing, exactly as the official SDKs sign.
//!
//! - [`Credentials`]: the secret id, the secret key and an optional session
//!   token, redacted in every `Debug` and `Display`.
//! - [`ActionRequest`](crate::action::ActionRequest) (in `action`): builds
//!   the `http::Request` of one API action.
//! - [`SignLayer`]: signs every request that passes, with a fresh timestamp
//!   on every attempt, and corrects its [`Clock`] when the API answers
//!   `AuthFailure.SignatureExpire`.
//! - [`sign_request`]: the signature itself, a pure function of the request,
//!   the credentials and the timestamp.
//! - [`verify`]: the other side, for servers that stand in for the API in
//!   tests: [`Verifier`](verify::Verifier) checks a request's signature as
//!   the API gateway does.
//!
//! The layer sits between the retry layer and the envelope layer, so that a
//! replay is signed again and the signer sees the typed [`Error`](crate::Error)
//! of the attempt it signed:
//!
//! ```
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::action::ActionRequest;
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! # let transport = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
//! #         bytes::Bytes::from_static(br#"{"Response":{"RequestId":"r-1"}}"#),
//! #     )))
//! # });
//!
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret-key");
//! let service = ServiceBuilder::new()
//!     .layer(SignLayer::new(credentials))
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//!
//! let request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
//!     .region("ap-guangzhou")
//!     .build()?;
//! let response = service.oneshot(request).await?;
//! # Ok(())
//! # }
//! ```

mod body;
mod clock;
mod credentials;
mod error;
mod future;
mod layer;
mod service;
mod signer;
pub mod verify;

pub use crate::action::ServiceName;
pub use body::SignableBody;
pub use clock::Clock;
pub use credentials::{
    Credentials, CredentialsError, CredentialsErrorKind, SECRET_ID_VAR, SECRET_KEY_VAR,
    SESSION_TOKEN_VAR,
};
pub use error::{SignError, SignErrorKind};
pub use future::ResponseFuture;
pub use layer::SignLayer;
pub use service::Sign;
pub use signer::{ALGORITHM, sign_request};

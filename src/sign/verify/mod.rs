//! Verifying signed requests, for servers that stand in for the API in
//! tests: the checks the API gateway makes before it looks at the action.
//!
//! [`Verifier`] takes a request's head and body and a [`CredentialsLookup`]
//! and returns who signed it ([`Verified`]) or why not ([`VerifyError`],
//! whose [`code`](VerifyError::code) is the API's error code). It checks
//! TC3-HMAC-SHA256 (the `Authorization` header, what [`sign_request`] and
//! the official SDKs send by default) and the older HmacSHA1 / HmacSHA256
//! signature of form-encoded parameters (the SDKs' `signMethod`), which
//! [`sign_request`] does not make.
//!
//! ```
//! use tower_tencentcloud::action::ActionRequest;
//! use tower_tencentcloud::sign::verify::{SignatureMethod, Verifier, VerifyErrorKind};
//! use tower_tencentcloud::sign::{Credentials, SignableBody, sign_request};
//!
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret-key");
//! let verifier = Verifier::new(vec![credentials.clone()]);
//!
//! let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones").build()?;
//! sign_request(&mut request, &credentials, 1_700_000_000)?;
//! // A server has the head and the body it read.
//! let (head, body) = request.into_parts();
//! let body = body.payload().as_ref().to_vec();
//!
//! let caller = verifier.verify(&head, &body, 1_700_000_010)?;
//! assert_eq!(caller.secret_id(), "AKIDEXAMPLE");
//! assert_eq!(caller.service(), Some("cvm"));
//! assert_eq!(caller.method(), SignatureMethod::Tc3HmacSha256);
//!
//! // Ten minutes later, the same request is refused as the API refuses it.
//! let err = verifier.verify(&head, &body, 1_700_000_600).unwrap_err();
//! assert_eq!(err.kind(), VerifyErrorKind::SignatureExpired);
//! assert_eq!(err.code(), "AuthFailure.SignatureExpire");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! [`sign_request`]: super::sign_request

mod error;
mod lookup;
mod tc3;
mod v1;
mod verifier;

pub use error::{VerifyError, VerifyErrorKind};
pub use lookup::{CredentialsLookup, FromFn, from_fn};
pub use tc3::claimed_secret_id;
pub use v1::form_params;
pub use verifier::{DEFAULT_MAX_SKEW_SECONDS, SignatureMethod, Verified, Verifier};

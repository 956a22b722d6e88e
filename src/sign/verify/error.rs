//! Why a request failed verification.

use std::fmt;

/// A request's signature did not verify.
///
/// [`code`](Self::code) is the error code the API answers with; the
/// message names the parameter at fault, never a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    kind: VerifyErrorKind,
    parameter: Option<Box<str>>,
    detail: Box<str>,
}

impl VerifyError {
    pub(super) fn new(kind: VerifyErrorKind, detail: impl Into<Box<str>>) -> Self {
        Self {
            kind,
            parameter: None,
            detail: detail.into(),
        }
    }

    pub(super) fn missing(parameter: &str) -> Self {
        Self {
            parameter: Some(parameter.into()),
            ..Self::new(VerifyErrorKind::MissingParameter, "")
        }
    }

    pub(super) fn invalid(parameter: &str, why: impl Into<Box<str>>) -> Self {
        Self {
            parameter: Some(parameter.into()),
            ..Self::new(VerifyErrorKind::InvalidParameter, why)
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> VerifyErrorKind {
        self.kind
    }

    /// The header or parameter that is missing or invalid
    /// ([`MissingParameter`](VerifyErrorKind::MissingParameter),
    /// [`InvalidParameter`](VerifyErrorKind::InvalidParameter)).
    pub fn parameter(&self) -> Option<&str> {
        self.parameter.as_deref()
    }

    /// What is wrong, in a few words (empty when the kind says it all).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The API's error code for this failure: `AuthFailure.SignatureFailure`,
    /// `MissingParameter`, ...
    pub fn code(&self) -> &'static str {
        match self.kind {
            VerifyErrorKind::MissingParameter => "MissingParameter",
            VerifyErrorKind::InvalidParameter => "InvalidParameterValue",
            VerifyErrorKind::InvalidAuthorization => "AuthFailure.InvalidAuthorization",
            VerifyErrorKind::SecretIdNotFound => "AuthFailure.SecretIdNotFound",
            VerifyErrorKind::SignatureExpired => "AuthFailure.SignatureExpire",
            VerifyErrorKind::SignatureFailure => "AuthFailure.SignatureFailure",
            VerifyErrorKind::TokenFailure => "AuthFailure.TokenFailure",
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            VerifyErrorKind::MissingParameter => "a required parameter is missing",
            VerifyErrorKind::InvalidParameter => "a parameter is invalid",
            VerifyErrorKind::InvalidAuthorization => "the Authorization header is malformed",
            VerifyErrorKind::SecretIdNotFound => "the SecretId is unknown",
            VerifyErrorKind::SignatureExpired => "the signature has expired",
            VerifyErrorKind::SignatureFailure => "the signature does not match",
            VerifyErrorKind::TokenFailure => "the session token does not match the SecretId",
        };
        write!(f, "{} ({what}", self.code())?;
        if let Some(parameter) = &self.parameter {
            write!(f, ": {parameter}")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for VerifyError {}

/// The kinds of [`VerifyError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    /// No timestamp, no `Authorization`, or (HmacSHA1/HmacSHA256) no
    /// `Signature`, `SecretId` or `Timestamp` parameter.
    MissingParameter,
    /// A timestamp that is not a number, a header that is not visible
    /// ASCII, or an unknown `SignatureMethod`.
    InvalidParameter,
    /// The `Authorization` header is not in the TC3-HMAC-SHA256 format.
    InvalidAuthorization,
    /// The lookup knows no credentials of the request's SecretId.
    SecretIdNotFound,
    /// The timestamp is further from the server's clock than the
    /// verifier's maximum skew.
    SignatureExpired,
    /// The signature is not that of the request with the SecretId's key.
    SignatureFailure,
    /// The credentials have a session token and the request another one,
    /// or none.
    TokenFailure,
}

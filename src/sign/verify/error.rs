//! Why a request failed verification.

use std::fmt;

define_kind_error! {
    /// A request's signature did not verify.
    ///
    /// [`code`](Self::code) is the error code the API answers with; the
    /// message names the parameter at fault, never a credential.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct VerifyError {
        parameter: Option<Box<str>>,
    }

    /// The kinds of [`VerifyError`].
    pub enum VerifyErrorKind {
        /// No timestamp, no `Authorization`, or (HmacSHA1/HmacSHA256) no
        /// `Signature`, `SecretId` or `Timestamp` parameter.
        MissingParameter => "a required parameter is missing",
        /// A timestamp that is not a number, a header that is not visible
        /// ASCII, or an unknown `SignatureMethod`.
        InvalidParameter => "a parameter is invalid",
        /// The `Authorization` header is not in the TC3-HMAC-SHA256 format.
        InvalidAuthorization => "the Authorization header is malformed",
        /// The lookup knows no credentials of the request's SecretId.
        SecretIdNotFound => "the SecretId is unknown",
        /// The timestamp is further from the server's clock than the
        /// verifier's maximum skew.
        SignatureExpired => "the signature has expired",
        /// The signature is not that of the request with the SecretId's key.
        SignatureFailure => "the signature does not match",
        /// The credentials have a session token and the request another one,
        /// or none.
        TokenFailure => "the session token does not match the SecretId",
    }
}

impl VerifyError {
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
        write!(f, "{} ({}", self.code(), self.kind)?;
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

//! Why a request could not be signed.

use std::fmt;

use crate::escape::EscapeControl;
use crate::{Error, LayerError, RetryClass};

/// A request could not be signed, so it was not sent.
///
/// Reaches callers of the layer inside [`Error::Layer`], with
/// [`RetryClass::Never`]: the same request fails to sign the same way every
/// time. The message names the header or the host at fault, never a
/// credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError {
    kind: SignErrorKind,
    detail: Box<str>,
}

impl SignError {
    pub(crate) fn new(kind: SignErrorKind, detail: impl Into<Box<str>>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> SignErrorKind {
        self.kind
    }
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            SignErrorKind::MissingHost => {
                "cannot sign a request with neither a Host header nor an authority in its URI"
            }
            SignErrorKind::MissingContentType => "cannot sign a request without Content-Type",
            SignErrorKind::UnknownService => {
                "cannot tell the service of the request: set the ServiceName extension"
            }
            SignErrorKind::InvalidHeader => "cannot sign with an invalid header value",
        };
        if self.detail.is_empty() {
            f.write_str(what)
        } else {
            write!(f, "{what} ({})", EscapeControl(&self.detail))
        }
    }
}

impl std::error::Error for SignError {}

impl From<SignError> for Error {
    fn from(err: SignError) -> Self {
        Error::Layer(LayerError::new(err, RetryClass::Never))
    }
}

/// The kinds of [`SignError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignErrorKind {
    /// Neither a `Host` header nor a URI authority: there is no host to sign.
    MissingHost,
    /// No `Content-Type` header, which the signature covers.
    MissingContentType,
    /// No [`ServiceName`](super::ServiceName) extension, and the host is not
    /// `{service}.…` (an IP address or a single label).
    UnknownService,
    /// A header the signature covers or sets would not be a valid header
    /// value: a non-ASCII `Host`, or a secret id or session token with
    /// control characters.
    InvalidHeader,
}

//! Why a request could not be signed.

use crate::error::{Error, LayerError};
use crate::retry_class::RetryClass;

define_kind_error! {
    /// A request could not be signed, so it was not sent.
    ///
    /// Reaches callers of the layer inside [`Error::Layer`], with
    /// [`RetryClass::Never`]: the same request fails to sign the same way every
    /// time. The message names the header or the host at fault, never a
    /// credential.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SignError {}

    /// The kinds of [`SignError`].
    pub enum SignErrorKind {
        /// Neither a `Host` header nor a URI authority: there is no host to sign.
        MissingHost => "cannot sign a request with neither a Host header nor an authority in its URI",
        /// No `Content-Type` header, which the signature covers.
        MissingContentType => "cannot sign a request without Content-Type",
        /// No [`ServiceName`](super::ServiceName) extension, and the host is not
        /// `{service}.…` (an IP address or a single label).
        UnknownService => "cannot tell the service of the request: set the ServiceName extension",
        /// A header the signature covers or sets would not be a valid header
        /// value: a non-ASCII `Host`, or a secret id or session token with
        /// control characters.
        InvalidHeader => "cannot sign with an invalid header value",
    }
}

impl_kind_error_display!(SignError);

impl std::error::Error for SignError {}

impl From<SignError> for Error {
    fn from(err: SignError) -> Self {
        Error::Layer(LayerError::new(err, RetryClass::Never))
    }
}

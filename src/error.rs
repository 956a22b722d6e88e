//! What the envelope layer returns when a call did not succeed.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::sign::SignError;
use crate::text::Text;
use crate::{Code, RequestId, RetryClass};

/// A boxed error, as tower and hyper pass them around.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a call failed.
///
/// Every variant knows its [`RetryClass`], and, where a response arrived, its
/// HTTP status and RequestId. `Display` is one line; the underlying cause, if
/// any, is kept as [`source`](std::error::Error::source).
///
/// ```
/// use tower_tencentcloud::{ApiError, Error, RetryClass};
/// use http::{HeaderMap, StatusCode};
///
/// let err = Error::from(
///     ApiError::new(StatusCode::OK, "RequestLimitExceeded", "Too many requests.")
///         .with_request_id("6f0c5d7e-0000-4000-8000-000000000000"),
/// );
/// assert_eq!(err.retry_class(), RetryClass::Throttled);
/// assert_eq!(err.request_id().unwrap(), "6f0c5d7e-0000-4000-8000-000000000000");
/// assert_eq!(err.status(), Some(StatusCode::OK));
/// assert_eq!(
///     err.to_string(),
///     "RequestLimitExceeded: Too many requests. (RequestId: 6f0c5d7e-0000-4000-8000-000000000000)"
/// );
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with `Response.Error`.
    Api(ApiError),
    /// The inner service (the transport) failed before a response arrived.
    Transport(TransportError),
    /// Reading the response body failed midway.
    Body(BodyError),
    /// The response body is larger than the layer's limit.
    BodyTooLarge(BodyTooLarge),
    /// The response body is not an API 3.0 envelope (a gateway page, truncated JSON, ...).
    NotEnvelope(NotEnvelope),
    /// The request could not be signed, so it was not sent.
    Sign(SignError),
    /// A server-sent event (or one of its lines) is longer than the limit
    /// of [`SseLayer`](crate::sse::SseLayer).
    EventTooLarge(EventTooLarge),
}

impl Error {
    /// How a retry policy should treat this error.
    pub fn retry_class(&self) -> RetryClass {
        match self {
            Self::Api(err) => err.retry_class(),
            Self::Transport(_) | Self::Body(_) => RetryClass::Transient,
            Self::BodyTooLarge(_) => RetryClass::Never,
            Self::NotEnvelope(err) => err.retry_class(),
            // The same request fails to sign the same way every time.
            Self::Sign(_) => RetryClass::Never,
            Self::EventTooLarge(_) => RetryClass::Never,
        }
    }

    /// The RequestId, from the body or else the `X-TC-RequestId` header.
    pub fn request_id(&self) -> Option<&RequestId> {
        match self {
            Self::Api(err) => err.request_id(),
            Self::Transport(_) => None,
            Self::Body(err) => err.request_id(),
            Self::BodyTooLarge(err) => err.request_id(),
            Self::NotEnvelope(err) => err.request_id(),
            Self::Sign(_) => None,
            Self::EventTooLarge(err) => err.request_id(),
        }
    }

    /// The HTTP status of the response; `None` when none arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(err) => Some(err.status()),
            Self::Transport(_) => None,
            Self::Body(err) => Some(err.status()),
            Self::BodyTooLarge(err) => Some(err.status()),
            Self::NotEnvelope(err) => Some(err.status()),
            Self::Sign(_) => None,
            Self::EventTooLarge(err) => Some(err.status()),
        }
    }

    /// The API's error code, when the API sent one.
    pub fn code(&self) -> Option<&Code> {
        self.as_api().map(ApiError::code)
    }

    /// The API error, when the API sent one.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(err) => Some(err),
            _ => None,
        }
    }

    /// `true` for an error envelope from the API.
    pub fn is_api(&self) -> bool {
        matches!(self, Self::Api(_))
    }

    /// `true` when the inner service failed.
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Transport(_))
    }

    /// `true` when reading the body failed.
    pub fn is_body(&self) -> bool {
        matches!(self, Self::Body(_))
    }

    /// `true` when the body exceeded the limit.
    pub fn is_body_too_large(&self) -> bool {
        matches!(self, Self::BodyTooLarge(_))
    }

    /// `true` when the body is not an envelope.
    pub fn is_not_envelope(&self) -> bool {
        matches!(self, Self::NotEnvelope(_))
    }

    /// `true` when the request could not be signed.
    pub fn is_sign(&self) -> bool {
        matches!(self, Self::Sign(_))
    }

    /// `true` when a server-sent event exceeded the limit.
    pub fn is_event_too_large(&self) -> bool {
        matches!(self, Self::EventTooLarge(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api(err) => err.fmt(f),
            Self::Transport(err) => err.fmt(f),
            Self::Body(err) => err.fmt(f),
            Self::BodyTooLarge(err) => err.fmt(f),
            Self::NotEnvelope(err) => err.fmt(f),
            Self::Sign(err) => err.fmt(f),
            Self::EventTooLarge(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Api(err) => err.source(),
            Self::Transport(err) => err.source(),
            Self::Body(err) => err.source(),
            Self::BodyTooLarge(err) => err.source(),
            Self::NotEnvelope(err) => err.source(),
            Self::Sign(err) => err.source(),
            Self::EventTooLarge(err) => err.source(),
        }
    }
}

impl From<ApiError> for Error {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

/// Takes back an [`Error`] that a tower middleware boxed (`Buffer`,
/// `Timeout`...), and turns any other boxed error into
/// [`Error::Transport`]: so that such a middleware can sit under
/// [`RetryPolicy`](crate::retry::RetryPolicy), behind a `map_err`.
///
/// ```
/// use std::time::Duration;
///
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower::retry::RetryLayer;
/// use tower::timeout::TimeoutLayer;
/// use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass};
/// use tower_tencentcloud::retry::RetryPolicy;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// // A transport that never answers.
/// let transport = tower::service_fn(|_: http::Request<String>| async {
///     std::future::pending::<Result<http::Response<String>, std::convert::Infallible>>().await
/// });
/// let service = ServiceBuilder::new()
///     .layer(RetryLayer::new(RetryPolicy::default().max_attempts(2)))
///     .map_err(Error::from)
///     .layer(TimeoutLayer::new(Duration::from_secs(5))) // each attempt
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// let request = http::Request::builder()
///     .header("x-tc-action", "DescribeInstances")
///     .body(String::new())
///     .unwrap();
/// let err = service.oneshot(request).await.unwrap_err();
/// assert!(err.is_transport());
/// assert_eq!(err.retry_class(), RetryClass::Transient);
/// # }
/// ```
impl From<BoxError> for Error {
    fn from(err: BoxError) -> Self {
        match err.downcast::<Error>() {
            Ok(err) => *err,
            Err(other) => Self::Transport(TransportError::new(other)),
        }
    }
}

impl From<SignError> for Error {
    fn from(err: SignError) -> Self {
        Self::Sign(err)
    }
}

/// Writes the `(HTTP 502, RequestId: ...)` suffix shared by every Display.
fn write_context(
    f: &mut fmt::Formatter<'_>,
    status: Option<StatusCode>,
    request_id: Option<&RequestId>,
) -> fmt::Result {
    match (status, request_id) {
        (Some(status), Some(id)) => write!(f, " (HTTP {}, RequestId: {id})", status.as_u16()),
        (Some(status), None) => write!(f, " (HTTP {})", status.as_u16()),
        (None, Some(id)) => write!(f, " (RequestId: {id})"),
        (None, None) => Ok(()),
    }
}

/// `Response.Error` of an API 3.0 envelope.
#[derive(Clone)]
pub struct ApiError(Box<ApiErrorInner>);

// Boxed: keeps `Result<Response, Error>` small on the success path.
#[derive(Clone)]
struct ApiErrorInner {
    code: Code,
    message: Text,
    request_id: Option<RequestId>,
    status: StatusCode,
    headers: HeaderMap,
}

impl ApiError {
    /// An error as the API would send it, with no RequestId yet.
    ///
    /// Useful for tests of code that handles errors.
    pub fn new(status: StatusCode, code: impl Into<Code>, message: impl Into<Box<str>>) -> Self {
        Self::from_parts(
            status,
            code.into(),
            Text::from(&*message.into()),
            None,
            HeaderMap::new(),
        )
    }

    /// An error whose every part is ready, in one allocation.
    pub(crate) fn from_parts(
        status: StatusCode,
        code: Code,
        message: Text,
        request_id: Option<RequestId>,
        headers: HeaderMap,
    ) -> Self {
        Self(Box::new(ApiErrorInner {
            code,
            message,
            request_id,
            status,
            headers,
        }))
    }

    /// Sets the response headers the error came with.
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.0.headers = headers;
        self
    }

    /// Sets the RequestId.
    pub fn with_request_id(mut self, request_id: impl Into<RequestId>) -> Self {
        self.0.request_id = Some(request_id.into());
        self
    }

    /// `Response.Error.Code`.
    pub fn code(&self) -> &Code {
        &self.0.code
    }

    /// `Response.Error.Message`, JSON escapes decoded.
    pub fn message(&self) -> &str {
        self.0.message.as_str()
    }

    /// `Response.RequestId`, or else the `X-TC-RequestId` header.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.0.request_id.as_ref()
    }

    /// The HTTP status the envelope came with (usually 200).
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The headers of the response (`Date`, for one, tells the server's clock).
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// How a retry policy should treat this code.
    pub fn retry_class(&self) -> RetryClass {
        self.0.code.retry_class()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code())?;
        // One line, whatever the message holds.
        for part in self.message().split(['\r', '\n']).filter(|p| !p.is_empty()) {
            f.write_str(part)?;
        }
        let status = (self.status() != StatusCode::OK).then_some(self.status());
        write_context(f, status, self.request_id())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", self.code())
            .field("message", &self.message())
            .field("request_id", &self.request_id())
            .field("status", &self.status())
            .finish()
    }
}

impl std::error::Error for ApiError {}

/// The inner service failed before a response arrived.
#[derive(Debug)]
pub struct TransportError {
    source: BoxError,
}

impl TransportError {
    pub(crate) fn new(source: impl Into<BoxError>) -> Self {
        Self {
            source: source.into(),
        }
    }

    /// The inner service's error.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }

    /// Takes the inner service's error.
    pub fn into_inner(self) -> BoxError {
        self.source
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the inner service failed before a response arrived")
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Reading the response body failed midway.
#[derive(Debug)]
pub struct BodyError {
    status: StatusCode,
    request_id: Option<RequestId>,
    source: BoxError,
}

impl BodyError {
    pub(crate) fn new(
        status: StatusCode,
        request_id: Option<RequestId>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self {
            status,
            request_id,
            source: source.into(),
        }
    }

    /// The response's HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `X-TC-RequestId` header, if the response had one.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    /// The body's error.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("reading the response body failed")?;
        write_context(f, Some(self.status), self.request_id.as_ref())
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

/// Defines an error for something longer than a limit: the status, the
/// header's RequestId and the limit, and a one-line Display.
macro_rules! limit_error {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            status: StatusCode,
            request_id: Option<RequestId>,
            limit: usize,
        }

        impl $name {
            pub(crate) fn new(
                status: StatusCode,
                request_id: Option<RequestId>,
                limit: usize,
            ) -> Self {
                Self {
                    status,
                    request_id,
                    limit,
                }
            }

            /// The response's HTTP status.
            pub fn status(&self) -> StatusCode {
                self.status
            }

            /// The `X-TC-RequestId` header, if the response had one.
            pub fn request_id(&self) -> Option<&RequestId> {
                self.request_id.as_ref()
            }

            /// The limit that was exceeded, in bytes.
            pub fn limit(&self) -> usize {
                self.limit
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, " exceeds the limit of {} bytes"), self.limit)?;
                write_context(f, Some(self.status), self.request_id.as_ref())
            }
        }

        impl std::error::Error for $name {}
    };
}

limit_error!(
    /// The response body is larger than the layer's limit; no more than the
    /// limit (plus one frame) was read.
    BodyTooLarge,
    "response body"
);

limit_error!(
    /// A server-sent event, or one of its lines, is longer than the limit; the
    /// stream was read no further.
    EventTooLarge,
    "server-sent event"
);

/// How many bytes of a bad body an error keeps, for diagnosis.
pub const BODY_PREFIX_LEN: usize = 256;

/// The response body is not an API 3.0 envelope.
///
/// Keeps the status, any RequestId, the first [`BODY_PREFIX_LEN`] bytes of
/// the body, and the reason as [`source`](std::error::Error::source).
#[derive(Debug, Clone)]
pub struct NotEnvelope(Box<NotEnvelopeInner>);

// Boxed: the rarest outcome need not make every `Error` larger.
#[derive(Debug, Clone)]
struct NotEnvelopeInner {
    status: StatusCode,
    request_id: Option<RequestId>,
    body_prefix: Bytes,
    reason: DecodeError,
    headers: HeaderMap,
}

impl NotEnvelope {
    /// The RequestId is the body's where it could be read, else the
    /// `X-TC-RequestId` of `headers`.
    pub(crate) fn new(
        status: StatusCode,
        headers: &HeaderMap,
        body: &Bytes,
        reason: DecodeError,
    ) -> Self {
        Self(Box::new(NotEnvelopeInner {
            status,
            request_id: reason
                .request_id
                .clone()
                .or_else(|| RequestId::from_headers(headers)),
            body_prefix: body.slice(..body.len().min(BODY_PREFIX_LEN)),
            reason,
            headers: headers.clone(),
        }))
    }

    /// The response's HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The RequestId, from the body where it could be read, else the header.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.0.request_id.as_ref()
    }

    /// The headers of the response (`Retry-After` of a 429 page, for one).
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// The first bytes of the body (at most [`BODY_PREFIX_LEN`]).
    pub fn body_prefix(&self) -> &[u8] {
        &self.0.body_prefix
    }

    /// Why the body is not an envelope.
    pub fn reason(&self) -> &DecodeError {
        &self.0.reason
    }

    /// 429 is throttling; 502, 503 and 504 are transient gateway failures.
    pub fn retry_class(&self) -> RetryClass {
        match self.0.status.as_u16() {
            429 => RetryClass::Throttled,
            502..=504 => RetryClass::Transient,
            _ => RetryClass::Never,
        }
    }
}

impl fmt::Display for NotEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("response is not an API 3.0 envelope")?;
        write_context(f, Some(self.0.status), self.0.request_id.as_ref())?;
        let prefix = String::from_utf8_lossy(&self.0.body_prefix);
        let prefix: String = prefix.chars().take(80).collect();
        write!(f, ", body starts with {prefix:?}")
    }
}

impl std::error::Error for NotEnvelope {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.reason)
    }
}

/// Why bytes are not an API 3.0 envelope.
///
/// ```
/// use tower_tencentcloud::{envelope::decode, DecodeErrorKind};
///
/// let err = decode(b"<html>502 Bad Gateway</html>").unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::Syntax);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    detail: Box<str>,
    request_id: Option<RequestId>,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, detail: impl Into<Box<str>>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            request_id: None,
        }
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<RequestId>) -> Self {
        self.request_id = request_id;
        self
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// `Response.RequestId`, when it was read before the problem was found.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DecodeErrorKind::Syntax => "invalid JSON",
            DecodeErrorKind::MissingResponse => "no Response object",
            DecodeErrorKind::InvalidError => "malformed Response.Error",
            DecodeErrorKind::DuplicateKey => "duplicate key in Response",
            DecodeErrorKind::InvalidRequestId => "Response.RequestId is not a string",
        };
        if self.detail.is_empty() {
            f.write_str(what)
        } else {
            write!(f, "{what}: {}", self.detail)
        }
    }
}

impl std::error::Error for DecodeError {}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// Not JSON: empty, truncated, invalid UTF-8, nested too deep, an HTML page...
    Syntax,
    /// Valid JSON without a top-level `Response` object.
    MissingResponse,
    /// `Response.Error` is not an object with a string `Code` (and a string `Message`, if any).
    InvalidError,
    /// The document holds `Response`, or `Response` holds `Error` or `RequestId`, twice.
    DuplicateKey,
    /// `Response.RequestId` is not a string.
    InvalidRequestId,
}

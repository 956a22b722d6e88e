//! What the envelope layer returns when a call did not succeed.

use std::fmt;

use bytes::Bytes;
use http::header::CONTENT_ENCODING;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::code::Code;
use crate::escape::{EscapeBytes, EscapeControl, write_chain};
use crate::request_id::RequestId;
use crate::retry_class::RetryClass;
use crate::retry_stopped::RetryStopped;
use crate::text::Text;

/// A boxed error, as tower and hyper pass them around.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a call failed.
///
/// Every variant knows its [`RetryClass`], and, where a response arrived, its
/// HTTP status and RequestId.
///
/// `Display` is one line that tells the whole story: what failed, the
/// cause and the cause's own causes (`client error (Connect): tcp connect
/// error: Connection refused (os error 111)`), the HTTP status, the
/// RequestId, and, when a [`RetryPolicy`](crate::retry::RetryPolicy) gave
/// up, the attempts and why ([`retry_stopped`](Self::retry_stopped)). Text
/// from the network and from causes is written with its control characters
/// escaped (`\n`, `\u{1b}`), so that no line of a log can be broken or
/// forged through it, and nothing is dropped.
///
/// Since the line already names every cause,
/// [`source`](std::error::Error::source) is `None` here and in every error
/// type of this crate: a report that walks the chain of sources (anyhow's
/// `{:#}`) names each cause once. The causes are kept, typed, behind
/// accessors: [`TransportError::get_ref`], [`BodyError::get_ref`],
/// [`LayerError::get_ref`], [`NotEnvelope::reason`].
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
    /// The inner service (the transport) failed before a response arrived,
    /// or a middleware under the retry policy failed the attempt (a
    /// per-attempt timeout, its cause the `Elapsed`).
    Transport(TransportError),
    /// Reading the response body failed midway.
    Body(BodyError),
    /// The response body is larger than the layer's limit.
    BodyTooLarge(BodyTooLarge),
    /// The response body is not an API 3.0 envelope (a gateway page, truncated JSON, ...).
    NotEnvelope(NotEnvelope),
    /// The envelope is a success, but its fields do not deserialize into
    /// the type the call asked for ([`TypedEnvelopeLayer`](crate::envelope::TypedEnvelopeLayer)).
    Deserialize(DeserializeError),
    /// A layer of the stack failed the call itself: the signer could not
    /// sign the request, a server-sent event exceeded its limit... The
    /// layer's own error is inside: [`LayerError::downcast_ref`].
    Layer(LayerError),
}

impl Error {
    /// How a retry policy should treat this error.
    pub fn retry_class(&self) -> RetryClass {
        match self {
            Self::Api(err) => err.retry_class(),
            Self::Transport(_) | Self::Body(_) => RetryClass::Transient,
            Self::BodyTooLarge(_) => RetryClass::Never,
            Self::NotEnvelope(err) => err.retry_class(),
            Self::Deserialize(_) => RetryClass::Never,
            Self::Layer(err) => err.retry_class(),
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
            Self::Deserialize(err) => err.request_id(),
            Self::Layer(err) => err.request_id(),
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
            Self::Deserialize(err) => Some(err.status()),
            Self::Layer(err) => err.status(),
        }
    }

    /// The attempts a [`RetryPolicy`](crate::retry::RetryPolicy) made
    /// before it gave up with this error, and why it stopped; `None` when
    /// no retry policy returned it.
    ///
    /// ```
    /// use tower::retry::RetryLayer;
    /// use tower::{ServiceBuilder, ServiceExt};
    /// use tower_tencentcloud::retry::RetryPolicy;
    /// use tower_tencentcloud::{EnvelopeLayer, StopReason};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// // Stands in for an HTTP client: always throttled.
    /// let client = tower::service_fn(|_: http::Request<String>| async {
    ///     let body = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r"}}"#;
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(body.to_owned()))
    /// });
    /// let service = ServiceBuilder::new()
    ///     .layer(RetryLayer::new(RetryPolicy::default().max_throttled_retries(2)))
    ///     .layer(EnvelopeLayer::new())
    ///     .service(client);
    /// let request = http::Request::new(String::from("{}"));
    /// let err = service.oneshot(request).await.unwrap_err();
    /// let stopped = err.retry_stopped().unwrap();
    /// assert_eq!((stopped.attempts(), stopped.reason()), (3, StopReason::ThrottledRetriesExhausted));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "RequestLimitExceeded: slow down (RequestId: r) (after 3 attempts: throttled retry limit reached)"
    /// );
    /// # }
    /// ```
    pub fn retry_stopped(&self) -> Option<RetryStopped> {
        match self {
            Self::Api(err) => err.0.retry_stopped,
            Self::Transport(err) => err.retry_stopped,
            Self::Body(err) => err.retry_stopped,
            Self::BodyTooLarge(err) => err.retry_stopped,
            Self::NotEnvelope(err) => err.0.retry_stopped,
            Self::Deserialize(err) => err.0.retry_stopped,
            Self::Layer(err) => err.0.retry_stopped,
        }
    }

    /// Records that a retry policy gave up with this error.
    #[cfg(feature = "retry")]
    pub(crate) fn set_retry_stopped(&mut self, stopped: RetryStopped) {
        let slot = match self {
            Self::Api(err) => &mut err.0.retry_stopped,
            Self::Transport(err) => &mut err.retry_stopped,
            Self::Body(err) => &mut err.retry_stopped,
            Self::BodyTooLarge(err) => &mut err.retry_stopped,
            Self::NotEnvelope(err) => &mut err.0.retry_stopped,
            Self::Deserialize(err) => &mut err.0.retry_stopped,
            Self::Layer(err) => &mut err.0.retry_stopped,
        };
        *slot = Some(stopped);
    }

    /// Takes back an `Error` that a tower middleware boxed (`Timeout`,
    /// `Buffer`...), and makes any other boxed error [`Error::Transport`],
    /// its cause kept.
    ///
    /// A plain function, so that `.map_err(Error::from_boxed)` compiles
    /// where the service runs in a spawned task (`.map_err(Error::from)`
    /// does not: the compiler cannot prove the future `Send` for every
    /// lifetime the trait method is generic over);
    /// [`TypedErrorLayer`](crate::typed_error::TypedErrorLayer) does the
    /// same as a layer.
    ///
    /// ```
    /// use tower_tencentcloud::{BoxError, Error};
    ///
    /// let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
    /// let err = Error::from_boxed(elapsed);
    /// assert!(err.is_transport());
    /// assert_eq!(err.to_string(), "the inner service failed: request timed out");
    /// ```
    pub fn from_boxed(err: BoxError) -> Self {
        match err.downcast::<Error>() {
            Ok(err) => *err,
            Err(other) => Self::Transport(TransportError::new(other)),
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

    /// `true` when the envelope is a success whose fields do not fit the asked type.
    pub fn is_deserialize(&self) -> bool {
        matches!(self, Self::Deserialize(_))
    }

    /// `true` when a layer of the stack failed the call itself.
    pub fn is_layer(&self) -> bool {
        matches!(self, Self::Layer(_))
    }

    /// The error of a layer of the stack, when one failed the call.
    ///
    /// ```
    /// use tower_tencentcloud::action::ActionRequest;
    /// use tower_tencentcloud::sign::{Credentials, SignError, SignLayer};
    /// use tower::{ServiceBuilder, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let transport = tower::service_fn(|_: http::Request<http_body_util::Full<bytes::Bytes>>| async {
    /// #     Ok::<_, tower_tencentcloud::Error>(http::Response::new(String::new()))
    /// # });
    /// let client = ServiceBuilder::new()
    ///     .layer(SignLayer::new(Credentials::new("AKIDEXAMPLE", "secret")))
    ///     .service(transport);
    /// let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones").build().unwrap();
    /// request.headers_mut().remove(http::header::CONTENT_TYPE);
    /// let err = client.oneshot(request).await.unwrap_err();
    /// let sign_error = err.as_layer().and_then(|err| err.downcast_ref::<SignError>());
    /// assert!(sign_error.is_some());
    /// # }
    /// ```
    pub fn as_layer(&self) -> Option<&LayerError> {
        match self {
            Self::Layer(err) => Some(err),
            _ => None,
        }
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
            Self::Deserialize(err) => err.fmt(f),
            Self::Layer(err) => err.fmt(f),
        }
    }
}

/// No `source`: `Display` names every cause (see [`Error`]).
impl std::error::Error for Error {}

impl From<ApiError> for Error {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

/// [`Error::from_boxed`]: takes back an [`Error`] that a tower middleware
/// boxed (`Buffer`, `Timeout`...), and turns any other boxed error into
/// [`Error::Transport`], so that such a middleware can sit under
/// [`RetryPolicy`](crate::retry::RetryPolicy).
///
/// Under a retry layer, prefer
/// [`TypedErrorLayer`](crate::typed_error::TypedErrorLayer) or
/// `.map_err(Error::from_boxed)` to `.map_err(Error::from)`: the latter
/// does not compile once the service runs inside `tokio::spawn`.
///
/// ```
/// use std::time::Duration;
///
/// use tower::{ServiceBuilder, ServiceExt};
/// use tower::retry::RetryLayer;
/// use tower::timeout::TimeoutLayer;
/// use tower_tencentcloud::{EnvelopeLayer, RetryClass};
/// use tower_tencentcloud::retry::RetryPolicy;
/// use tower_tencentcloud::typed_error::TypedErrorLayer;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// // A transport that never answers.
/// let transport = tower::service_fn(|_: http::Request<String>| async {
///     std::future::pending::<Result<http::Response<String>, std::convert::Infallible>>().await
/// });
/// let service = ServiceBuilder::new()
///     .layer(RetryLayer::new(RetryPolicy::default().max_attempts(2)))
///     .layer(TypedErrorLayer::new())
///     .layer(TimeoutLayer::new(Duration::from_secs(5))) // each attempt, its body included
///     .layer(EnvelopeLayer::new())
///     .service(transport);
/// let request = http::Request::builder()
///     .header("x-tc-action", "DescribeInstances")
///     .body(String::new())
///     .unwrap();
/// let err = tokio::spawn(service.oneshot(request)).await.unwrap().unwrap_err();
/// assert!(err.is_transport());
/// assert_eq!(err.retry_class(), RetryClass::Transient);
/// assert_eq!(
///     err.to_string(),
///     "the inner service failed: request timed out (after 2 attempts: attempt limit reached)"
/// );
/// # }
/// ```
impl From<BoxError> for Error {
    fn from(err: BoxError) -> Self {
        Self::from_boxed(err)
    }
}

/// For bodies that cannot fail, such as `Full<Bytes>` under
/// [`SseLayer`](crate::sse::SseLayer) without the envelope layer.
impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

impl From<LayerError> for Error {
    fn from(err: LayerError) -> Self {
        Self::Layer(err)
    }
}

/// Writes the `(HTTP 502, RequestId: ...)` suffix shared by every Display
/// (a RequestId's `Display` escapes it).
fn write_context(
    f: &mut fmt::Formatter<'_>,
    status: Option<StatusCode>,
    request_id: Option<&RequestId>,
) -> fmt::Result {
    // RequestId's Display escapes control characters: one line, whatever it holds.
    match (status, request_id) {
        (Some(status), Some(id)) => write!(f, " (HTTP {}, RequestId: {id})", status.as_u16()),
        (Some(status), None) => write!(f, " (HTTP {})", status.as_u16()),
        (None, Some(id)) => write!(f, " (RequestId: {id})"),
        (None, None) => Ok(()),
    }
}

/// Writes the `(after 3 attempts: retry budget exhausted)` that ends the
/// Display of an error a retry policy gave up with.
fn write_retry_stopped(f: &mut fmt::Formatter<'_>, stopped: Option<RetryStopped>) -> fmt::Result {
    match stopped {
        Some(stopped) if stopped.is_shown() => write!(f, " ({stopped})"),
        _ => Ok(()),
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
    retry_stopped: Option<RetryStopped>,
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
            retry_stopped: None,
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
        // Code's Display escapes it; the message, from the body too, as well.
        write!(f, "{}: {}", self.code(), EscapeControl(self.message()))?;
        let status = (self.status() != StatusCode::OK).then_some(self.status());
        write_context(f, status, self.request_id())?;
        write_retry_stopped(f, self.0.retry_stopped)
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

/// The inner service failed before a response arrived, or a middleware
/// between a retry policy and the envelope layer failed the attempt (a
/// timeout: its `Elapsed` is the cause).
///
/// `Display` names the cause and its causes:
/// `the inner service failed: client error (Connect): tcp connect error:
/// Connection refused (os error 111)`.
#[derive(Debug)]
pub struct TransportError {
    source: BoxError,
    retry_stopped: Option<RetryStopped>,
}

impl TransportError {
    pub(crate) fn new(source: impl Into<BoxError>) -> Self {
        Self {
            source: source.into(),
            retry_stopped: None,
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
        f.write_str("the inner service failed: ")?;
        write_chain(f, &*self.source)?;
        write_retry_stopped(f, self.retry_stopped)
    }
}

/// No `source`: `Display` names the cause ([`get_ref`](Self::get_ref)).
impl std::error::Error for TransportError {}

/// Reading the response body failed midway.
///
/// `Display` names the cause and its causes, then the status and RequestId.
#[derive(Debug)]
pub struct BodyError {
    status: StatusCode,
    request_id: Option<RequestId>,
    source: BoxError,
    retry_stopped: Option<RetryStopped>,
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
            retry_stopped: None,
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
        f.write_str("reading the response body failed: ")?;
        write_chain(f, &*self.source)?;
        write_context(f, Some(self.status), self.request_id.as_ref())?;
        write_retry_stopped(f, self.retry_stopped)
    }
}

/// No `source`: `Display` names the cause ([`get_ref`](Self::get_ref)).
impl std::error::Error for BodyError {}

/// The response body is larger than the layer's limit; no more than the
/// limit (plus one frame) was read.
#[derive(Debug, Clone)]
pub struct BodyTooLarge {
    status: StatusCode,
    request_id: Option<RequestId>,
    limit: usize,
    retry_stopped: Option<RetryStopped>,
}

impl BodyTooLarge {
    pub(crate) fn new(status: StatusCode, request_id: Option<RequestId>, limit: usize) -> Self {
        Self {
            status,
            request_id,
            limit,
            retry_stopped: None,
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

impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "response body exceeds the limit of {} bytes", self.limit)?;
        write_context(f, Some(self.status), self.request_id.as_ref())?;
        write_retry_stopped(f, self.retry_stopped)
    }
}

impl std::error::Error for BodyTooLarge {}

/// A layer of the stack failed the call itself, with an error of its own:
/// [`SignError`](crate::sign::SignError) when the request could not be
/// signed, [`EventTooLarge`](crate::sse::EventTooLarge) when a server-sent
/// event exceeded its limit.
///
/// The layer decides the [`RetryClass`]. `Display` is the layer's error
/// and its causes, with the response's status and RequestId when one had
/// arrived; [`source`](std::error::Error::source) is `None`, as the line
/// names every cause ([`get_ref`](Self::get_ref) keeps them).
///
/// ```
/// use tower_tencentcloud::{Error, LayerError, RetryClass};
///
/// let err = Error::from(LayerError::new(std::io::Error::other("no credentials"), RetryClass::Never));
/// assert_eq!(err.to_string(), "no credentials");
/// let io = err.as_layer().unwrap().downcast_ref::<std::io::Error>().unwrap();
/// assert_eq!(io.kind(), std::io::ErrorKind::Other);
/// ```
#[derive(Debug)]
pub struct LayerError(Box<LayerErrorInner>);

// Boxed: a rare outcome need not make every `Error` larger.
#[derive(Debug)]
struct LayerErrorInner {
    error: BoxError,
    retry_class: RetryClass,
    status: Option<StatusCode>,
    request_id: Option<RequestId>,
    retry_stopped: Option<RetryStopped>,
}

impl LayerError {
    /// The error `error` of a layer, which a retry policy treats as
    /// `retry_class` says.
    pub fn new(error: impl Into<BoxError>, retry_class: RetryClass) -> Self {
        Self(Box::new(LayerErrorInner {
            error: error.into(),
            retry_class,
            status: None,
            request_id: None,
            retry_stopped: None,
        }))
    }

    /// Records the response that had arrived when the layer failed.
    pub fn with_response(mut self, status: StatusCode, request_id: Option<RequestId>) -> Self {
        self.0.status = Some(status);
        self.0.request_id = request_id;
        self
    }

    /// How a retry policy should treat this error.
    pub fn retry_class(&self) -> RetryClass {
        self.0.retry_class
    }

    /// The response's HTTP status, when one had arrived.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// The response's RequestId, when one had arrived with one.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.0.request_id.as_ref()
    }

    /// The layer's error.
    pub fn get_ref(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0.error
    }

    /// The layer's error, if it is a `T`.
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.0.error.downcast_ref()
    }

    /// Takes the layer's error.
    pub fn into_inner(self) -> BoxError {
        self.0.error
    }
}

impl fmt::Display for LayerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_chain(f, &*self.0.error)?;
        write_context(f, self.0.status, self.0.request_id.as_ref())?;
        write_retry_stopped(f, self.0.retry_stopped)
    }
}

/// No `source`: `Display` names the causes ([`get_ref`](Self::get_ref)).
impl std::error::Error for LayerError {}

/// How many bytes of a bad body an error keeps, for diagnosis.
pub const BODY_PREFIX_LEN: usize = 256;

/// How many bytes of a bad body `Display` shows.
const BODY_PREFIX_SHOWN: usize = 80;

/// The response body is not an API 3.0 envelope.
///
/// Keeps the status, any RequestId, the response's `Content-Encoding`, the
/// first [`BODY_PREFIX_LEN`] bytes of the body, and the
/// [`reason`](Self::reason). `Display` names the reason, the status and
/// RequestId, and the first bytes, escaped. A response with a
/// `Content-Encoding` (gzip, br...) was compressed on the way, and the line
/// says how to decompress it:
///
/// ```text
/// response is not an API 3.0 envelope: invalid JSON: at byte 0 (HTTP 200);
/// the body has Content-Encoding: gzip, which the envelope layer does not
/// decode: decompress below it (tower-http's DecompressionLayer, or
/// reqwest's gzip feature); body starts with "\u{1f}\x8b\u{8}\u{0}..."
/// ```
///
/// (one line, cut here to fit).
#[derive(Debug, Clone)]
pub struct NotEnvelope(Box<NotEnvelopeInner>);

// Boxed: the rarest outcome need not make every `Error` larger.
#[derive(Debug, Clone)]
struct NotEnvelopeInner {
    status: StatusCode,
    request_id: Option<RequestId>,
    content_encoding: Option<HeaderValue>,
    body_prefix: Bytes,
    reason: DecodeError,
    retry_stopped: Option<RetryStopped>,
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
            content_encoding: headers
                .get(CONTENT_ENCODING)
                .filter(|value| !value.as_bytes().eq_ignore_ascii_case(b"identity"))
                .cloned(),
            body_prefix: body.slice(..body.len().min(BODY_PREFIX_LEN)),
            reason,
            retry_stopped: None,
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

    /// The response's `Content-Encoding`, unless absent or `identity`: the
    /// body was compressed, and no layer below the envelope layer
    /// decompressed it.
    pub fn content_encoding(&self) -> Option<&HeaderValue> {
        self.0.content_encoding.as_ref()
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
        write!(f, "response is not an API 3.0 envelope: {}", self.0.reason)?;
        write_context(f, Some(self.0.status), self.0.request_id.as_ref())?;
        if let Some(encoding) = &self.0.content_encoding {
            write!(
                f,
                "; the body has Content-Encoding: {}, which the envelope layer does not decode: \
                 decompress below it (tower-http's DecompressionLayer, or reqwest's gzip feature)",
                EscapeBytes(encoding.as_bytes())
            )?;
        }
        let prefix = shown_prefix(&self.0.body_prefix);
        write!(f, "; body starts with \"{}\"", EscapeBytes(prefix))?;
        write_retry_stopped(f, self.0.retry_stopped)
    }
}

/// The first [`BODY_PREFIX_SHOWN`] bytes of `body`, not cutting a UTF-8
/// character in two.
fn shown_prefix(body: &[u8]) -> &[u8] {
    if body.len() <= BODY_PREFIX_SHOWN {
        return body;
    }
    let is_continuation = |byte: u8| byte & 0b1100_0000 == 0b1000_0000;
    // A UTF-8 character has at most three continuation bytes.
    let end = (BODY_PREFIX_SHOWN - 3..=BODY_PREFIX_SHOWN)
        .rev()
        .find(|&end| !is_continuation(body[end]))
        .unwrap_or(BODY_PREFIX_SHOWN);
    &body[..end]
}

/// No `source`: `Display` names the [`reason`](Self::reason).
impl std::error::Error for NotEnvelope {}

define_kind_error! {
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
        request_id: Option<RequestId>,
    }

    /// The kinds of [`DecodeError`].
    pub enum DecodeErrorKind {
        /// Not JSON: empty, truncated, invalid UTF-8, nested too deep, an HTML page...
        Syntax => "invalid JSON",
        /// Valid JSON without a top-level `Response` object.
        MissingResponse => "no Response object",
        /// `Response.Error` is not an object with a string `Code` (and a string `Message`, if any).
        InvalidError => "malformed Response.Error",
        /// The document holds `Response`, or `Response` holds `Error` or `RequestId`, twice.
        DuplicateKey => "duplicate key in Response",
        /// `Response.RequestId` is not a string.
        InvalidRequestId => "Response.RequestId is not a string",
    }
}

impl DecodeError {
    pub(crate) fn with_request_id(mut self, request_id: Option<RequestId>) -> Self {
        self.request_id = request_id;
        self
    }

    /// `Response.RequestId`, when it was read before the problem was found.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }
}

impl_kind_error_display!(DecodeError);

impl std::error::Error for DecodeError {}

/// The envelope is a success (no `Response.Error`), but `Response`'s fields
/// do not deserialize into the type the call asked for: the caller's type
/// and the API disagree, which no retry mends.
///
/// Keeps the status, the RequestId, the first [`BODY_PREFIX_LEN`] bytes of
/// the body, the name of the type, and serde_json's error, which `Display`
/// names and [`get_ref`](Self::get_ref) gives.
#[derive(Debug)]
pub struct DeserializeError(Box<DeserializeErrorInner>);

// Boxed: a rare outcome need not make every `Error` larger.
#[derive(Debug)]
struct DeserializeErrorInner {
    status: StatusCode,
    request_id: Option<RequestId>,
    body_prefix: Bytes,
    type_name: &'static str,
    source: serde_json::Error,
    retry_stopped: Option<RetryStopped>,
}

impl DeserializeError {
    pub(crate) fn new(
        status: StatusCode,
        request_id: Option<RequestId>,
        body: &Bytes,
        type_name: &'static str,
        source: serde_json::Error,
    ) -> Self {
        Self(Box::new(DeserializeErrorInner {
            status,
            request_id,
            body_prefix: body.slice(..body.len().min(BODY_PREFIX_LEN)),
            type_name,
            source,
            retry_stopped: None,
        }))
    }

    /// The response's HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// `Response.RequestId`, else the `X-TC-RequestId` header.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.0.request_id.as_ref()
    }

    /// The first bytes of the body (at most [`BODY_PREFIX_LEN`]).
    pub fn body_prefix(&self) -> &[u8] {
        &self.0.body_prefix
    }

    /// The type the fields were to deserialize into, as
    /// [`std::any::type_name`] spells it.
    pub fn type_name(&self) -> &'static str {
        self.0.type_name
    }

    /// serde_json's error: what did not fit, and where.
    pub fn get_ref(&self) -> &serde_json::Error {
        &self.0.source
    }
}

impl fmt::Display for DeserializeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "response fields do not deserialize into {}: ",
            self.0.type_name
        )?;
        write_chain(f, &self.0.source)?;
        write_context(f, Some(self.0.status), self.0.request_id.as_ref())?;
        write_retry_stopped(f, self.0.retry_stopped)
    }
}

/// No `source`: `Display` names serde_json's error (see [`Error`]).
impl std::error::Error for DeserializeError {}

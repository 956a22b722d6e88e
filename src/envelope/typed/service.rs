use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower::Service;

use super::{TypedBody, TypedEnvelopeLayer, TypedResponseFuture};
use crate::envelope::DEFAULT_MAX_BODY_SIZE;
use crate::error::{BoxError, Error, TransportError};

/// Reads each response body of the inner service, decides success or a
/// typed [`Error`], and deserializes a success's fields into `T`: one pass
/// over the body.
///
/// Made by [`TypedEnvelopeLayer`]. The verdict is
/// [`Envelope`](crate::Envelope)'s on every response, with one more: a
/// success whose fields do not fit `T` is [`Error::Deserialize`]. `T` sees
/// every member of `Response` but `Error` and `RequestId`; the
/// [`RequestId`](crate::RequestId) is in the response's extensions.
/// `text/event-stream` and `application/octet-stream` responses pass
/// through unread ([`TypedBody::into_stream`]).
///
/// ```
/// use serde::Deserialize;
/// use tower_tencentcloud::envelope::TypedEnvelope;
/// # let client = tower::service_fn(|_: http::Request<String>| async {
/// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// # });
///
/// #[derive(Deserialize)]
/// struct DescribeZones {
///     #[serde(rename = "TotalCount")]
///     total_count: u32,
/// }
///
/// let service = TypedEnvelope::<_, DescribeZones>::new(client).max_body_size(1 << 20);
/// ```
pub struct TypedEnvelope<S, T> {
    inner: S,
    max_body_size: usize,
    fields: PhantomData<fn() -> T>,
}

impl<S, T> TypedEnvelope<S, T> {
    /// Wraps `inner` with the default body limit.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            fields: PhantomData,
        }
    }

    /// See [`EnvelopeLayer::max_body_size`](crate::EnvelopeLayer::max_body_size).
    pub fn max_body_size(mut self, limit: usize) -> Self {
        self.max_body_size = limit;
        self
    }

    /// A layer that wraps services with `TypedEnvelope`.
    pub fn layer() -> TypedEnvelopeLayer<T> {
        TypedEnvelopeLayer::new()
    }

    define_inner_service_accessors!();
}

impl<S: Clone, T> Clone for TypedEnvelope<S, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            max_body_size: self.max_body_size,
            fields: PhantomData,
        }
    }
}

impl<S: fmt::Debug, T> fmt::Debug for TypedEnvelope<S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedEnvelope")
            .field("inner", &self.inner)
            .field("type", &std::any::type_name::<T>())
            .field("max_body_size", &self.max_body_size)
            .finish()
    }
}

impl<S, B, RB, T> Service<Request<B>> for TypedEnvelope<S, T>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
    RB: http_body::Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
    T: DeserializeOwned,
{
    type Response = Response<TypedBody<T, RB>>;
    type Error = Error;
    type Future = TypedResponseFuture<S::Future, RB, T>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|err| Error::Transport(TransportError::new(err)))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        TypedResponseFuture::new(self.inner.call(request), self.max_body_size)
    }
}

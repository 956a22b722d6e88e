use std::fmt;

use super::super::EnvelopeBody;

/// The body of a response that passed
/// [`TypedEnvelope`](super::TypedEnvelope): the action's fields as `T`, or
/// a stream passed through unread.
///
/// ```
/// # fn run(response: http::Response<tower_tencentcloud::envelope::TypedBody<u32, http_body_util::Empty<bytes::Bytes>>>) {
/// let fields: u32 = response.into_body().into_value().expect("an envelope, not a stream");
/// # }
/// ```
pub struct TypedBody<T, B> {
    kind: Kind<T, B>,
}

enum Kind<T, B> {
    Value(T),
    Stream(EnvelopeBody<B>),
}

impl<T, B> TypedBody<T, B> {
    pub(crate) fn value(value: T) -> Self {
        Self {
            kind: Kind::Value(value),
        }
    }

    pub(crate) fn stream(body: EnvelopeBody<B>) -> Self {
        Self {
            kind: Kind::Stream(body),
        }
    }

    /// The fields, unless the response was a stream.
    pub fn get(&self) -> Option<&T> {
        match &self.kind {
            Kind::Value(value) => Some(value),
            Kind::Stream(_) => None,
        }
    }

    /// The fields, mutably, unless the response was a stream.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match &mut self.kind {
            Kind::Value(value) => Some(value),
            Kind::Stream(_) => None,
        }
    }

    /// Takes the fields; `None` for a stream.
    pub fn into_value(self) -> Option<T> {
        match self.kind {
            Kind::Value(value) => Some(value),
            Kind::Stream(_) => None,
        }
    }

    /// Takes the stream (`text/event-stream`, `application/octet-stream`),
    /// passed through as [`Envelope`](crate::Envelope) passes it; `None`
    /// when the fields were read.
    pub fn into_stream(self) -> Option<EnvelopeBody<B>> {
        match self.kind {
            Kind::Value(_) => None,
            Kind::Stream(body) => Some(body),
        }
    }

    /// `true` when the body is a passed-through stream.
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Stream(_))
    }
}

impl<T: fmt::Debug, B> fmt::Debug for TypedBody<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Value(value) => f.debug_tuple("TypedBody").field(value).finish(),
            Kind::Stream(body) => f.debug_tuple("TypedBody").field(body).finish(),
        }
    }
}

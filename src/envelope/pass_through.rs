//! A body handed on unread, whose errors become the crate's: the stream an
//! envelope layer passes on, and the body under an SSE layer.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::error::{BodyError, BoxError, Error};
use crate::request_id::RequestId;

pin_project! {
    /// `body`, frame by frame, with `map` turning its errors into [`Error`].
    pub(crate) struct PassThrough<B, M> {
        #[pin]
        body: B,
        map: M,
    }
}

/// How a [`PassThrough`] turns the errors of its body into [`Error`].
pub(crate) trait MapBodyError<E> {
    fn map_body_error(&self, err: E) -> Error;
}

impl<B, M> PassThrough<B, M> {
    pub(crate) fn new(body: B, map: M) -> Self {
        Self { body, map }
    }

    #[cfg_attr(not(feature = "sse"), allow(dead_code))]
    pub(crate) fn get_ref(&self) -> &B {
        &self.body
    }

    pub(crate) fn map(&self) -> &M {
        &self.map
    }
}

impl<B, M> Body for PassThrough<B, M>
where
    B: Body<Data = Bytes>,
    M: MapBodyError<B::Error>,
{
    type Data = Bytes;
    type Error = Error;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.project();
        let map = &*this.map;
        this.body
            .poll_frame(cx)
            .map_err(|err| map.map_body_error(err))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The head of a stream the envelope layer passed on: a failure of the
/// stream is [`Error::Body`] with the status and the header's RequestId.
#[derive(Debug, Clone)]
pub(crate) struct StreamHead {
    pub(crate) status: StatusCode,
    pub(crate) request_id: Option<RequestId>,
}

impl<E: Into<BoxError>> MapBodyError<E> for StreamHead {
    fn map_body_error(&self, err: E) -> Error {
        Error::Body(BodyError::new(self.status, self.request_id.clone(), err))
    }
}

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::pass_through::{PassThrough, StreamHead};
use crate::error::{BoxError, Error};
use crate::request_id::RequestId;

pin_project! {
    /// The body of a response that passed [`Envelope`](super::Envelope).
    ///
    /// An envelope that was read is handed on as the very bytes that arrived
    /// ([`as_bytes`](Self::as_bytes) gives them without polling); a stream
    /// is passed through frame by frame, its errors becoming
    /// [`Error::Body`](crate::Error::Body).
    pub struct EnvelopeBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Full {
            data: Option<Bytes>,
        },
        Stream {
            #[pin]
            body: PassThrough<B, StreamHead>,
        },
    }
}

impl<B> EnvelopeBody<B> {
    pub(crate) fn full(data: Bytes) -> Self {
        Self {
            kind: Kind::Full { data: Some(data) },
        }
    }

    pub(crate) fn stream(body: B, status: StatusCode, request_id: Option<RequestId>) -> Self {
        Self {
            kind: Kind::Stream {
                body: PassThrough::new(body, StreamHead { status, request_id }),
            },
        }
    }

    /// The whole body, when it was read as an envelope and not yet polled.
    ///
    /// ```
    /// # async fn run(response: http::Response<tower_tencentcloud::EnvelopeBody<http_body_util::Empty<bytes::Bytes>>>) {
    /// #[derive(serde::Deserialize)]
    /// struct Regions {
    ///     #[serde(rename = "TotalCount")]
    ///     total_count: u64,
    /// }
    /// let body = response.body().as_bytes().expect("an envelope, not a stream");
    /// let regions: Regions = tower_tencentcloud::envelope::from_slice(body).unwrap();
    /// # }
    /// ```
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match &self.kind {
            Kind::Full { data } => data.as_ref(),
            Kind::Stream { .. } => None,
        }
    }

    /// `true` when the body is a passed-through stream.
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Stream { .. })
    }
}

impl<B> Body for EnvelopeBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match self.project().kind.project() {
            KindProj::Full { data } => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            KindProj::Stream { body } => body.poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full { data } => data.is_none(),
            Kind::Stream { body, .. } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Stream { body, .. } => body.size_hint(),
        }
    }
}

impl<B> std::fmt::Debug for EnvelopeBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Full { data } => f
                .debug_struct("EnvelopeBody")
                .field("len", &data.as_ref().map_or(0, Bytes::len))
                .finish(),
            Kind::Stream { body } => f
                .debug_struct("EnvelopeBody")
                .field("stream", &true)
                .field("status", &body.map().status)
                .field("request_id", &body.map().request_id)
                .finish(),
        }
    }
}

//! What the two envelope futures (untyped and typed) share: their states,
//! the verdict on a response head (a stream to pass on, a body too large by
//! its own account, or a body to read), and the reading of a body's data
//! frames into a [`BodyBuffer`] until it ends, goes past the limit, or fails.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::response::Parts;
use http::{HeaderMap, Response};
use http_body::{Body, Frame};
use pin_project_lite::pin_project;

use super::EnvelopeBody;
use super::buffer::BodyBuffer;
use crate::action::media_type::is_streaming;
use crate::error::{BodyError, BodyTooLarge, BoxError, Error};
use crate::request_id::RequestId;

pin_project! {
    /// Where an envelope future is: waiting for the head, reading the body,
    /// or done.
    #[project = StateProj]
    #[project_replace = StateProjReplace]
    pub(crate) enum State<F, B> {
        Head {
            #[pin]
            future: F,
        },
        Body {
            #[pin]
            body: B,
            buffer: BodyBuffer,
            head: Parts,
        },
        Done,
    }
}

/// What the head of a response says about its body.
pub(crate) enum Head<B> {
    /// A stream, passed on unread with the header's RequestId.
    Stream(Response<EnvelopeBody<B>>),
    /// A body to read into the buffer, sized by what the body announces.
    Read {
        head: Parts,
        body: B,
        buffer: BodyBuffer,
    },
    /// A body that announces more than the limit: not read at all.
    TooLarge(Error),
}

/// Sorts a response by its head.
#[inline]
pub(crate) fn read_head<B: Body>(response: Response<B>, limit: usize) -> Head<B> {
    let (mut head, body) = response.into_parts();
    if is_streaming(&head.headers) {
        let header_request_id = RequestId::from_headers(&head.headers);
        let body = EnvelopeBody::stream(body, head.status, header_request_id.clone());
        if let Some(id) = header_request_id {
            head.extensions.insert(id);
        }
        return Head::Stream(Response::from_parts(head, body));
    }
    let expected = expected_len(&head.headers, &body);
    if expected > limit as u64 {
        let id = RequestId::from_headers(&head.headers);
        return Head::TooLarge(Error::BodyTooLarge(BodyTooLarge::new(
            head.status,
            id,
            limit,
        )));
    }
    Head::Read {
        head,
        body,
        buffer: BodyBuffer::new(expected as usize, limit),
    }
}

/// The size the body announces: its size hint when exact (hyper makes it
/// from Content-Length), else the larger of Content-Length and the hint's
/// lower bound.
fn expected_len<B: Body>(headers: &HeaderMap, body: &B) -> u64 {
    let hint = body.size_hint();
    if hint.exact().is_some() {
        return hint.lower();
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    declared.max(hint.lower())
}

/// How the reading ended.
pub(crate) enum Collected {
    /// The body ended; the buffer holds all of it.
    Whole,
    /// The body went past the limit.
    OverLimit,
    /// The body failed.
    Failed(BoxError),
}

impl Collected {
    /// The error of a read that did not end with the whole body; `None`
    /// for [`Whole`](Self::Whole). The RequestId is the header's: no body
    /// was decoded.
    #[inline]
    pub(crate) fn into_error(self, head: &Parts, limit: usize) -> Option<Error> {
        let header_request_id = || RequestId::from_headers(&head.headers);
        match self {
            Self::Whole => None,
            Self::OverLimit => Some(Error::BodyTooLarge(BodyTooLarge::new(
                head.status,
                header_request_id(),
                limit,
            ))),
            Self::Failed(err) => Some(Error::Body(BodyError::new(
                head.status,
                header_request_id(),
                err,
            ))),
        }
    }
}

/// Polls `body` for frames until it ends, goes past the limit, or fails.
#[inline]
pub(crate) fn poll_collect<B>(
    mut body: Pin<&mut B>,
    buffer: &mut BodyBuffer,
    cx: &mut Context<'_>,
) -> Poll<Collected>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    loop {
        let Some(frame) = ready!(body.as_mut().poll_frame(cx)) else {
            return Poll::Ready(Collected::Whole);
        };
        match frame.map(Frame::into_data) {
            Ok(Ok(data)) => {
                if buffer.push(data).is_err() {
                    return Poll::Ready(Collected::OverLimit);
                }
                // Spares the poll that would only say so.
                if body.is_end_stream() {
                    return Poll::Ready(Collected::Whole);
                }
            }
            // Trailers carry nothing the envelope needs.
            Ok(Err(_trailers)) => {}
            Err(err) => return Poll::Ready(Collected::Failed(err.into())),
        }
    }
}

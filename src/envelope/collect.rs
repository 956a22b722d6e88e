//! Reads a body's data frames into a [`BodyBuffer`] until the body ends,
//! goes past the limit, or fails: what both envelope futures wait for.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame};

use super::buffer::BodyBuffer;
use crate::error::BoxError;

/// How the reading ended.
pub(crate) enum Collected {
    /// The body ended; the buffer holds all of it.
    Whole,
    /// The body went past the limit.
    OverLimit,
    /// The body failed.
    Failed(BoxError),
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

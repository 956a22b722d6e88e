//! A body that yields its bytes in the chunks the fuzzer chose.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// `bytes` cut after each of the given lengths (the rest in a last chunk),
/// every chunk ready at once. Empty chunks are kept: a transport may send
/// them.
#[derive(Debug)]
pub struct ChunkedBody {
    chunks: VecDeque<Bytes>,
}

impl ChunkedBody {
    /// Cuts `bytes` after `lengths[0]`, then `lengths[1]` more, and so on.
    pub fn new(bytes: &[u8], lengths: &[u8]) -> Self {
        let mut rest = Bytes::copy_from_slice(bytes);
        let mut chunks = VecDeque::new();
        for &length in lengths {
            let length = usize::from(length).min(rest.len());
            chunks.push_back(rest.split_to(length));
        }
        chunks.push_back(rest);
        Self { chunks }
    }
}

impl Body for ChunkedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.chunks.pop_front().map(|chunk| Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        let len: usize = self.chunks.iter().map(Bytes::len).sum();
        SizeHint::with_exact(len as u64)
    }
}

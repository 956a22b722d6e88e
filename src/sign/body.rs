//! Request bodies whose bytes are at hand before they are sent.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body::Body;
use http_body_util::{Empty, Full};

/// A request body whose bytes are known before it is sent, so that the
/// signature can cover them.
///
/// The signature hashes the payload, so a streaming body cannot be signed
/// without being buffered first. Buffered bodies are also what
/// `tower::retry` needs to replay a request.
///
/// Implemented for [`Full<Bytes>`] (what [`ActionRequest`](crate::action::ActionRequest)
/// builds), [`Empty<Bytes>`], [`Bytes`], [`String`] and [`Vec<u8>`].
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use tower_tencentcloud::sign::SignableBody;
///
/// let body = Full::new(Bytes::from_static(b"{}"));
/// assert_eq!(body.payload().as_ref(), b"{}");
/// ```
pub trait SignableBody {
    /// All the bytes the body will send.
    fn payload(&self) -> impl AsRef<[u8]> + '_;
}

impl SignableBody for Full<Bytes> {
    fn payload(&self) -> impl AsRef<[u8]> + '_ {
        // `Full` hands out its bytes only as a frame. A clone shares them
        // (`Bytes` is reference-counted), and a `Full` never returns
        // `Pending`, so one poll with a no-op waker takes them all.
        let mut body = self.clone();
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut body).poll_frame(&mut cx) {
            Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
            _ => Bytes::new(),
        }
    }
}

impl SignableBody for Empty<Bytes> {
    fn payload(&self) -> impl AsRef<[u8]> + '_ {
        &[]
    }
}

impl SignableBody for Bytes {
    fn payload(&self) -> impl AsRef<[u8]> + '_ {
        self.as_ref()
    }
}

impl SignableBody for String {
    fn payload(&self) -> impl AsRef<[u8]> + '_ {
        self.as_bytes()
    }
}

impl SignableBody for Vec<u8> {
    fn payload(&self) -> impl AsRef<[u8]> + '_ {
        self.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_gives_its_bytes_and_keeps_them() {
        let body = Full::new(Bytes::from_static(b"{\"Limit\":1}"));
        assert_eq!(body.payload().as_ref(), b"{\"Limit\":1}");
        // Reading the payload must not consume the body that is sent.
        assert_eq!(body.payload().as_ref(), b"{\"Limit\":1}");
    }

    #[test]
    fn empty_bodies_have_empty_payloads() {
        assert!(Full::new(Bytes::new()).payload().as_ref().is_empty());
        assert!(Empty::<Bytes>::new().payload().as_ref().is_empty());
        assert!(String::new().payload().as_ref().is_empty());
    }
}

//! The body of the emulator's answers: whole, cut short, or a stream of
//! server-sent events.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::Sleep;

/// The body of an [`EmulatorService`](super::EmulatorService) answer.
///
/// Over a socket hyper sends it; in process it is what the caller reads. A
/// [`Fault::TruncatedBody`](super::Fault::TruncatedBody) answer promises its
/// whole length, yields part of it, then fails with an
/// [`io::ErrorKind::UnexpectedEof`] error, which makes hyper close the
/// connection midway.
///
/// ```
/// use http_body_util::BodyExt;
/// use tower::ServiceExt;
/// use tower_tencentcloud::emulator::Emulator;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let service = Emulator::builder().into_service();
/// let request = http::Request::post("http://127.0.0.1/").body(String::new())?;
/// let response = service.oneshot(request).await?;
/// let body = response.into_body().collect().await?.to_bytes();
/// // No X-TC-Action header: an error envelope.
/// assert!(body.starts_with(br#"{"Response":{"Error":{"Code":"MissingParameter""#));
/// # Ok(())
/// # }
/// ```
pub struct EmulatorBody {
    kind: Kind,
}

enum Kind {
    Full(Option<Bytes>),
    Truncated {
        part: Option<Bytes>,
        promised: u64,
        /// Whether the body has once answered `Pending` since the part.
        paused: bool,
    },
    Events(Events),
}

struct Events {
    events: VecDeque<Bytes>,
    /// Cuts the stream after the events left, instead of ending it.
    truncated: bool,
    /// Whether the body has once answered `Pending` before the cut.
    paused: bool,
    interval: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl EmulatorBody {
    pub(crate) fn full(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Full(Some(bytes).filter(|bytes| !bytes.is_empty())),
        }
    }

    /// The first half of `bytes`, then an error; the size promised is all of it.
    pub(crate) fn truncated(bytes: Bytes) -> Self {
        let promised = bytes.len() as u64;
        Self {
            kind: Kind::Truncated {
                part: Some(bytes.slice(..bytes.len() / 2)),
                promised,
                paused: false,
            },
        }
    }

    /// Each event in its own frame, `interval` apart; after the last one the
    /// stream ends, or fails when `truncated`.
    pub(crate) fn events(events: Vec<Bytes>, interval: Duration, truncated: bool) -> Self {
        Self {
            kind: Kind::Events(Events {
                events: events.into(),
                truncated,
                paused: false,
                interval,
                sleep: None,
            }),
        }
    }
}

fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the emulator cut the body short (Fault::TruncatedBody)",
    )
}

impl Body for EmulatorBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match &mut self.get_mut().kind {
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            Kind::Truncated { part, paused, .. } => {
                if let Some(part) = part.take() {
                    return Poll::Ready(Some(Ok(Frame::data(part))));
                }
                // hyper flushes what it holds when the body is pending: the
                // head and the part reach the client before the cut.
                if !std::mem::replace(paused, true) {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Ready(Some(Err(cut_short())))
            }
            Kind::Events(events) => events.poll_event(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Truncated { .. } => false,
            Kind::Events(events) => events.events.is_empty() && !events.truncated,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |bytes| bytes.len() as u64))
            }
            // The promise that makes the body truncated.
            Kind::Truncated { promised, .. } => SizeHint::with_exact(*promised),
            Kind::Events(_) => SizeHint::default(),
        }
    }
}

impl Events {
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.events.is_empty() {
            if !self.truncated {
                return Poll::Ready(None);
            }
            // As for a truncated body: let hyper flush the events first.
            if !std::mem::replace(&mut self.paused, true) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.truncated = false;
            return Poll::Ready(Some(Err(cut_short())));
        }
        if !self.interval.is_zero() {
            let interval = self.interval;
            let sleep = self
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(interval)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        Poll::Ready(self.events.pop_front().map(|event| Ok(Frame::data(event))))
    }
}

impl fmt::Debug for EmulatorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Full(_) => "full",
            Kind::Truncated { .. } => "truncated",
            Kind::Events(_) => "events",
        };
        f.debug_struct("EmulatorBody").field("kind", &kind).finish()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn a_truncated_body_promises_all_and_fails_after_half() {
        let mut body = EmulatorBody::truncated(Bytes::from_static(b"0123456789"));
        assert_eq!(body.size_hint().exact(), Some(10));
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "01234");
        let err = body.frame().await.unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test(start_paused = true)]
    async fn events_come_one_per_frame() {
        let events = vec![
            Bytes::from_static(b"data: 1\n\n"),
            Bytes::from_static(b"data: 2\n\n"),
        ];
        let mut body = EmulatorBody::events(events, Duration::from_millis(5), false);
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "data: 1\n\n"
        );
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "data: 2\n\n"
        );
        assert!(body.frame().await.is_none());
    }
}

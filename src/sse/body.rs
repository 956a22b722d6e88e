use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::response::Parts;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use super::Events;
use super::failure::ResponseHead;
use super::parser::{Parser, TooLarge};
use crate::envelope::EnvelopeBody;
use crate::envelope::pass_through::{MapBodyError, PassThrough};
use crate::error::Error;

pin_project! {
    /// The body of a response that passed [`Sse`](super::Sse).
    ///
    /// A `text/event-stream` body yields the bytes of its events as they
    /// came, as slices of the chunks that carried them (never copied). An
    /// event is held back until its blank line arrives, then yielded at once
    /// (as several frames when several chunks carried it). An event whose
    /// data reports an error is not yielded: the body ends with
    /// [`Error::Api`] in its place. Any other body passes through untouched.
    ///
    /// [`into_events`](Self::into_events) reads the events rather than the
    /// bytes.
    pub struct SseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Other {
            #[pin]
            body: PassThrough<B, AsIs>,
            head: Box<ResponseHead>,
            max_event_size: usize,
        },
        EventStream {
            #[pin]
            body: PassThrough<B, AsIs>,
            state: Box<EventStream>,
        },
    }
}

/// What an event stream keeps between polls.
#[derive(Debug)]
struct EventStream {
    head: ResponseHead,
    parser: Parser,
    max_event_size: usize,
    /// Bytes read but not yet yielded: the start of the event being read.
    held: VecDeque<Bytes>,
    /// Where `held` starts in the stream.
    held_start: u64,
    /// Frames to yield before anything else.
    ready: VecDeque<Frame<Bytes>>,
    /// What ends the body once `ready` is empty.
    end: End,
}

/// How an event stream goes on once its ready frames are yielded.
#[derive(Debug)]
enum End {
    Reading,
    Failed(Error),
    Finished,
}

impl<B> SseBody<B> {
    pub(crate) fn event_stream(body: B, parts: &Parts, max_event_size: usize) -> Self {
        Self {
            kind: Kind::EventStream {
                body: PassThrough::new(body, AsIs),
                state: Box::new(EventStream {
                    head: ResponseHead::new(parts).with_headers(parts.headers.clone()),
                    parser: Parser::new(max_event_size),
                    max_event_size,
                    held: VecDeque::new(),
                    held_start: 0,
                    ready: VecDeque::new(),
                    end: End::Reading,
                }),
            },
        }
    }

    pub(crate) fn other(body: B, parts: &Parts, max_event_size: usize) -> Self {
        Self {
            kind: Kind::Other {
                body: PassThrough::new(body, AsIs),
                head: Box::new(ResponseHead::new(parts)),
                max_event_size,
            },
        }
    }

    /// `true` when the response is `text/event-stream`, and its events are
    /// checked.
    pub fn is_event_stream(&self) -> bool {
        matches!(self.kind, Kind::EventStream { .. })
    }

    /// The body underneath.
    pub fn get_ref(&self) -> &B {
        match &self.kind {
            Kind::Other { body, .. } | Kind::EventStream { body, .. } => body.get_ref(),
        }
    }

    /// The events of the body, rather than its bytes.
    ///
    /// ```
    /// # async fn run(response: http::Response<tower_tencentcloud::sse::SseBody<http_body_util::Full<bytes::Bytes>>>) {
    /// let mut events = response.into_body().into_events();
    /// while let Some(event) = events.next().await {
    ///     match event {
    ///         Ok(event) => println!("{}", event.data()),
    ///         Err(err) => eprintln!("{err}"), // Error::Api when the stream reported one
    ///     }
    /// }
    /// # }
    /// ```
    pub fn into_events(self) -> Events<B> {
        Events::new(self)
    }

    /// The largest event or line that is read, in bytes.
    pub(crate) fn max_event_size(&self) -> usize {
        match &self.kind {
            Kind::Other { max_event_size, .. } => *max_event_size,
            Kind::EventStream { state, .. } => state.max_event_size,
        }
    }

    pub(crate) fn head(&self) -> &ResponseHead {
        match &self.kind {
            Kind::Other { head, .. } => head,
            Kind::EventStream { state, .. } => &state.head,
        }
    }
}

impl<B> SseBody<EnvelopeBody<B>> {
    /// The whole body, when the envelope layer underneath read it as an
    /// envelope (see [`EnvelopeBody::as_bytes`]).
    pub fn as_bytes(&self) -> Option<&Bytes> {
        self.get_ref().as_bytes()
    }
}

/// The errors of the body underneath pass as they are: the envelope
/// layer's body already yields this crate's [`Error`].
#[derive(Debug, Clone, Copy)]
struct AsIs;

impl<E: Into<Error>> MapBodyError<E> for AsIs {
    fn map_body_error(&self, err: E) -> Error {
        err.into()
    }
}

impl<B> Body for SseBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Error>,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let (mut body, state) = match self.project().kind.project() {
            KindProj::Other { body, .. } => return body.poll_frame(cx),
            KindProj::EventStream { body, state } => (body, state),
        };
        loop {
            if let Some(frame) = state.ready.pop_front() {
                return Poll::Ready(Some(Ok(frame)));
            }
            match std::mem::replace(&mut state.end, End::Finished) {
                End::Reading => state.end = End::Reading,
                End::Failed(err) => return Poll::Ready(Some(Err(err))),
                End::Finished => return Poll::Ready(None),
            }
            match ready!(body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => state.read(data),
                    Err(trailers) => {
                        state.finish();
                        if let End::Finished = state.end {
                            state.ready.push_back(trailers);
                        }
                    }
                },
                Some(Err(err)) => state.end = End::Failed(err),
                None => state.finish(),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Other { body, .. } => body.is_end_stream(),
            Kind::EventStream { state, .. } => {
                state.ready.is_empty() && matches!(state.end, End::Finished)
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Other { body, .. } => body.size_hint(),
            // An error event may end the body early.
            Kind::EventStream { body, .. } => match body.size_hint().upper() {
                Some(upper) => {
                    let mut hint = SizeHint::new();
                    hint.set_upper(upper);
                    hint
                }
                None => SizeHint::new(),
            },
        }
    }
}

impl EventStream {
    /// Reads a chunk: its complete events become ready, an error event ends
    /// the stream, and the start of an unfinished event is held back.
    fn read(&mut self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        self.held.push_back(chunk.clone());
        self.parser.push(chunk);
        loop {
            match self.parser.next_event() {
                Ok(Some(event)) => {
                    if let Some(err) = self.head.reported_error(&event.data) {
                        self.fail(event.start, err);
                        return;
                    }
                }
                Ok(None) => break,
                Err(TooLarge) => {
                    let err = self.head.too_large(self.max_event_size);
                    self.fail(self.parser.boundary(), err);
                    return;
                }
            }
        }
        self.release(self.parser.boundary());
    }

    /// The end of the stream: an unfinished event is checked too, since a
    /// server may close the stream right after an error; otherwise its bytes
    /// are yielded as they came.
    fn finish(&mut self) {
        if let Some(event) = self.parser.finish()
            && let Some(err) = self.head.reported_error(&event.data)
        {
            self.fail(event.start, err);
            return;
        }
        self.ready.extend(self.held.drain(..).map(Frame::data));
        self.end = End::Finished;
    }

    fn fail(&mut self, good_until: u64, err: Error) {
        self.release(good_until);
        self.held.clear();
        self.end = End::Failed(err);
    }

    /// Makes the held bytes before `until` ready, as slices of their chunks.
    fn release(&mut self, until: u64) {
        while let Some(front) = self.held.front_mut() {
            let take = until.saturating_sub(self.held_start);
            if take == 0 {
                return;
            }
            let frame = if take >= front.len() as u64 {
                self.held.pop_front().expect("front exists")
            } else {
                front.split_to(take as usize)
            };
            self.held_start += frame.len() as u64;
            self.ready.push_back(Frame::data(frame));
        }
    }
}

impl<B> std::fmt::Debug for SseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseBody")
            .field("event_stream", &self.is_event_stream())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use http::{HeaderMap, StatusCode};
    use http_body_util::BodyExt;

    use super::*;

    /// A body of scripted frames.
    struct Script(VecDeque<Result<Frame<Bytes>, Error>>);

    impl Body for Script {
        type Data = Bytes;
        type Error = Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
            Poll::Ready(self.0.pop_front())
        }

        fn is_end_stream(&self) -> bool {
            self.0.is_empty()
        }
    }

    fn chunks(chunks: &[&Bytes]) -> Script {
        Script(
            chunks
                .iter()
                .map(|c| Ok(Frame::data((*c).clone())))
                .collect(),
        )
    }

    fn parts(content_type: &str) -> Parts {
        let (parts, ()) = http::Response::builder()
            .status(StatusCode::OK)
            .header("content-type", content_type)
            .header("x-tc-requestid", "r-1")
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    fn event_stream(script: Script, limit: usize) -> SseBody<Script> {
        SseBody::event_stream(script, &parts("text/event-stream"), limit)
    }

    /// Every frame until the end, or the error that ended the body.
    async fn read_all<B>(mut body: SseBody<B>) -> (Vec<Bytes>, Option<Error>)
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Into<Error>,
    {
        let mut frames = Vec::new();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => frames.push(frame.into_data().unwrap()),
                Err(err) => {
                    assert!(body.frame().await.is_none(), "a frame after the error");
                    assert!(body.is_end_stream());
                    return (frames, Some(err));
                }
            }
        }
        assert!(body.is_end_stream());
        (frames, None)
    }

    const ERROR_EVENT: &[u8] = br#"data: {"ErrorMsg":{"Code":4000,"Msg":"boom"}}"#;

    #[tokio::test]
    async fn whole_events_pass_as_slices_of_their_chunks() {
        let first = Bytes::from_static(b": hi\ndata: a\n\ndata: b");
        let second = Bytes::from_static(b"\n\n");
        let (frames, err) = read_all(event_stream(chunks(&[&first, &second]), 1024)).await;
        assert!(err.is_none());
        assert_eq!(frames, [&b": hi\ndata: a\n\n"[..], b"data: b", b"\n\n"]);
        assert_eq!(frames[0].as_ptr(), first.as_ptr());
        assert_eq!(frames[1].as_ptr(), first[14..].as_ptr());
        assert_eq!(frames[2].as_ptr(), second.as_ptr());
    }

    #[tokio::test]
    async fn an_error_event_ends_the_body_in_its_place() {
        let mut stream = b"data: a\n\n".to_vec();
        stream.extend_from_slice(ERROR_EVENT);
        stream.extend_from_slice(b"\n\ndata: after\n\n");
        let chunk = Bytes::from(stream);
        let later = Bytes::from_static(b"data: never read\n\n");
        let (frames, err) = read_all(event_stream(chunks(&[&chunk, &later]), 1024)).await;
        assert_eq!(frames, [&b"data: a\n\n"[..]]);
        let err = err.unwrap();
        let api = err.as_api().expect("Error::Api");
        assert_eq!(api.code(), "4000");
        assert_eq!(api.message(), "boom");
        assert_eq!(api.request_id().unwrap(), "r-1");
    }

    #[tokio::test]
    async fn the_start_of_an_error_event_is_never_yielded() {
        let (start, rest) = ERROR_EVENT.split_at(12);
        let mut first = b"data: a\n\n".to_vec();
        first.extend_from_slice(start);
        let mut second = rest.to_vec();
        second.extend_from_slice(b"\n\n");
        let (frames, err) = read_all(event_stream(
            chunks(&[&Bytes::from(first), &Bytes::from(second)]),
            1024,
        ))
        .await;
        assert_eq!(frames, [&b"data: a\n\n"[..]]);
        assert!(err.unwrap().is_api());
    }

    #[tokio::test]
    async fn an_error_event_cut_short_by_the_end_still_counts() {
        let mut stream = b"data: a\n\n".to_vec();
        stream.extend_from_slice(ERROR_EVENT);
        let (frames, err) = read_all(event_stream(chunks(&[&Bytes::from(stream)]), 1024)).await;
        assert_eq!(frames, [&b"data: a\n\n"[..]]);
        assert!(err.unwrap().is_api());

        // An ordinary event cut short passes as it came.
        let stream = Bytes::from_static(b"data: a\n\ndata: b\n");
        let (frames, err) = read_all(event_stream(chunks(&[&stream]), 1024)).await;
        assert!(err.is_none());
        assert_eq!(frames.concat(), &stream[..]);
    }

    #[tokio::test]
    async fn an_event_over_the_limit_is_an_error_after_the_events_before_it() {
        let good = Bytes::from_static(b"data: 0123\n\n");
        let long = Bytes::from_static(b"data: 0123456789");
        let (frames, err) = read_all(event_stream(chunks(&[&good, &long, &long]), 16)).await;
        assert_eq!(frames, [good]);
        let err = err.unwrap();
        let too_large = err
            .as_layer()
            .and_then(|err| err.downcast_ref::<super::super::EventTooLarge>());
        assert_eq!(too_large.expect("EventTooLarge").limit(), 16);
        assert_eq!(err.request_id().unwrap(), "r-1");
        assert_eq!(err.status(), Some(StatusCode::OK));
    }

    #[tokio::test]
    async fn a_failing_body_fails_after_the_events_it_completed() {
        let script = Script(VecDeque::from([
            Ok(Frame::data(Bytes::from_static(b"data: a\n\ndata: b"))),
            // As the envelope layer's body reports a failure of the transport's.
            Err(Error::Body(crate::error::BodyError::new(
                StatusCode::OK,
                Some("r-1".into()),
                std::io::Error::other("connection reset"),
            ))),
        ]));
        let (frames, err) = read_all(event_stream(script, 1024)).await;
        assert_eq!(frames, [&b"data: a\n\n"[..]]);
        let err = err.unwrap();
        assert!(err.is_body(), "{err:?}");
        assert_eq!(err.request_id().unwrap(), "r-1");
    }

    #[tokio::test]
    async fn trailers_follow_the_held_bytes() {
        let mut trailers = HeaderMap::new();
        trailers.insert("x-done", "1".parse().unwrap());
        let script = Script(VecDeque::from([
            Ok(Frame::data(Bytes::from_static(b"data: a\n\ndata: b"))),
            Ok(Frame::trailers(trailers)),
        ]));
        let mut body = event_stream(script, 1024);
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            seen.push(frame.unwrap());
        }
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].data_ref().unwrap(), &b"data: b"[..]);
        assert_eq!(seen[2].trailers_ref().unwrap()["x-done"], "1");
    }

    #[tokio::test]
    async fn other_bodies_pass_through_untouched() {
        let chunk = Bytes::from(ERROR_EVENT.to_vec());
        let body = SseBody::other(chunks(&[&chunk]), &parts("application/json"), 16);
        assert!(!body.is_event_stream());
        let (frames, err) = read_all(body).await;
        assert!(err.is_none());
        assert_eq!(frames, [chunk]);
    }
}

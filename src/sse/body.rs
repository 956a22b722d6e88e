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
use crate::error::{BoxError, Error};
use crate::layer::EnvelopeBody;

pin_project! {
    /// The body of a response that passed [`Sse`](super::Sse).
    ///
    /// A `text/event-stream` body yields the bytes of its events as they
    /// came, as slices of the chunks that carried them (never copied), one
    /// or more whole events per frame. An event whose data reports an error
    /// is not yielded: the body ends with [`Error::Api`] in its place. Any
    /// other body passes through untouched.
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
            body: B,
            head: Box<ResponseHead>,
            max_event_size: usize,
        },
        EventStream {
            #[pin]
            body: B,
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
                body,
                state: Box::new(EventStream {
                    head: ResponseHead::new(parts),
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
                body,
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
            Kind::Other { body, .. } | Kind::EventStream { body, .. } => body,
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

impl<B> Body for SseBody<B>
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
        let (mut body, state) = match self.project().kind.project() {
            KindProj::Other { body, head, .. } => {
                return body.poll_frame(cx).map_err(|err| head.body_error(err));
            }
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
                Some(Err(err)) => state.end = End::Failed(state.head.body_error(err)),
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
        if let Some(event) = self.parser.finish() {
            if let Some(err) = self.head.reported_error(&event.data) {
                self.fail(event.start, err);
                return;
            }
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

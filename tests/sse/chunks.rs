//! Property: however a valid event stream is cut into chunks, `SseLayer`
//! yields the same bytes and `Events` the same events, and an error event
//! ends both at the same place.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use proptest::prelude::*;
use proptest::sample::Index;
use tower::{Layer, ServiceExt};
use tower_tencentcloud::Error;
use tower_tencentcloud::sse::{Event, SseBody, SseLayer};

/// A body of the given chunks.
struct Chunks(VecDeque<Bytes>);

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|chunk| Ok(Frame::data(chunk))))
    }
}

/// One event as the generator writes it.
#[derive(Debug, Clone)]
struct EventSpec {
    comment: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<u32>,
    data: Vec<String>,
}

fn event_spec() -> impl Strategy<Value = EventSpec> {
    (
        proptest::option::of("[ a-z]{0,8}"),
        proptest::option::of("[a-z]{1,8}"),
        proptest::option::of("[a-z0-9]{0,6}"),
        proptest::option::of(any::<u32>()),
        // No quote: ordinary data never looks like an error.
        proptest::collection::vec("[ a-zA-Z0-9:{}é中]{0,12}", 1..4),
    )
        .prop_map(|(comment, event, id, retry, data)| EventSpec {
            comment,
            event,
            id,
            retry,
            data,
        })
}

/// A stream of events, with one line end throughout (CR then LF from two
/// lines would read as one CRLF), maybe a BOM.
#[derive(Debug, Clone)]
struct StreamSpec {
    bom: bool,
    line_end: &'static str,
    events: Vec<EventSpec>,
}

fn stream_spec() -> impl Strategy<Value = StreamSpec> {
    (
        any::<bool>(),
        prop::sample::select(vec!["\n", "\r\n", "\r"]),
        proptest::collection::vec(event_spec(), 0..8),
    )
        .prop_map(|(bom, line_end, events)| StreamSpec {
            bom,
            line_end,
            events,
        })
}

impl StreamSpec {
    /// The bytes, and where each event starts in them.
    fn write(&self) -> (Vec<u8>, Vec<usize>) {
        let mut out = Vec::new();
        if self.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        let mut starts = Vec::new();
        for event in &self.events {
            starts.push(out.len());
            let mut line = |text: String| {
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(self.line_end.as_bytes());
            };
            if let Some(comment) = &event.comment {
                line(format!(":{comment}"));
            }
            if let Some(name) = &event.event {
                line(format!("event: {name}"));
            }
            if let Some(id) = &event.id {
                line(format!("id: {id}"));
            }
            if let Some(retry) = event.retry {
                line(format!("retry: {retry}"));
            }
            for data in &event.data {
                line(format!("data: {data}"));
            }
            line(String::new());
        }
        (out, starts)
    }

    /// The events a reader must see.
    fn expected(&self) -> Vec<Event> {
        let mut last_id = String::new();
        self.events
            .iter()
            .map(|spec| {
                if let Some(id) = &spec.id {
                    last_id.clone_from(id);
                }
                let mut event = Event::new(spec.data.join("\n"))
                    .with_event(spec.event.clone().unwrap_or_default())
                    .with_id(last_id.clone());
                if let Some(retry) = spec.retry {
                    event = event.with_retry(Duration::from_millis(retry.into()));
                }
                event
            })
            .collect()
    }
}

/// `bytes` cut at the given places.
fn cut(bytes: &[u8], cuts: &[Index]) -> VecDeque<Bytes> {
    let bytes = Bytes::copy_from_slice(bytes);
    let mut at: Vec<usize> = cuts.iter().map(|cut| cut.index(bytes.len() + 1)).collect();
    at.push(0);
    at.push(bytes.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2)
        .map(|pair| bytes.slice(pair[0]..pair[1]))
        .collect()
}

/// The body `SseLayer` makes of an event stream of these chunks.
fn body(chunks: VecDeque<Bytes>) -> SseBody<Chunks> {
    let transport = tower::service_fn(move |_: http::Request<()>| {
        let chunks = Chunks(chunks.clone());
        async move {
            let response = http::Response::builder()
                .header("content-type", "text/event-stream")
                .header("x-tc-requestid", "r-prop")
                .body(chunks)
                .unwrap();
            Ok::<_, Infallible>(response)
        }
    });
    let runtime = runtime();
    runtime
        .block_on(
            SseLayer::new()
                .layer(transport)
                .oneshot(http::Request::new(())),
        )
        .unwrap()
        .into_body()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The bytes of the body until it ends, and the error that ended it.
fn bytes_of(mut body: SseBody<Chunks>) -> (Vec<u8>, Option<Error>) {
    runtime().block_on(async {
        let mut bytes = Vec::new();
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => bytes.extend_from_slice(&frame.into_data().unwrap()),
                Err(err) => return (bytes, Some(err)),
            }
        }
        (bytes, None)
    })
}

/// The events of the body until it ends, and the error that ended it.
fn events_of(body: SseBody<Chunks>) -> (Vec<Event>, Option<Error>) {
    runtime().block_on(async {
        let mut events = body.into_events();
        let mut seen = Vec::new();
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => seen.push(event),
                Err(err) => return (seen, Some(err)),
            }
        }
        (seen, None)
    })
}

proptest! {
    #[test]
    fn any_cut_gives_the_same_events_and_bytes(
        spec in stream_spec(),
        cuts in proptest::collection::vec(any::<Index>(), 0..12),
    ) {
        let (stream, _) = spec.write();
        let chunks = cut(&stream, &cuts);

        let (bytes, err) = bytes_of(body(chunks.clone()));
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(bytes, stream);

        let (events, err) = events_of(body(chunks));
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(events, spec.expected());
    }

    #[test]
    fn any_cut_ends_at_the_error_event(
        spec in stream_spec(),
        failing in any::<Index>(),
        code in 1..10_000i64,
        cuts in proptest::collection::vec(any::<Index>(), 0..12),
    ) {
        let mut spec = spec;
        let failing = failing.index(spec.events.len() + 1);
        spec.events.insert(failing, EventSpec {
            comment: None,
            event: None,
            id: None,
            retry: None,
            data: vec![format!(r#"{{"Choices":[],"ErrorMsg":{{"Code":{code},"Msg":"failed"}}}}"#)],
        });
        let (stream, starts) = spec.write();
        let chunks = cut(&stream, &cuts);

        let (bytes, err) = bytes_of(body(chunks.clone()));
        prop_assert_eq!(&bytes[..], &stream[..starts[failing]]);
        let err = err.expect("the error event ends the body");
        prop_assert_eq!(err.code().map(|code| code.to_string()), Some(code.to_string()));
        prop_assert_eq!(err.request_id().map(|id| id.to_string()), Some("r-prop".to_owned()));

        let (events, err) = events_of(body(chunks));
        let mut expected = spec.expected();
        expected.truncate(failing);
        prop_assert_eq!(events, expected);
        prop_assert!(err.is_some_and(|err| err.is_api()));
    }
}

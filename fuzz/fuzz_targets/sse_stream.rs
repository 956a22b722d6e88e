//! An event stream through Sse → Envelope over an in-process transport:
//! any bytes, cut into any chunks, with any event size limit. Never a
//! panic, never pending; the bytes that pass are a prefix of the stream,
//! as they came; and the bytes, the events and the error that ends the
//! body are the same whatever the chunks.

#![no_main]

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::action::header::X_TC_REQUESTID;
use tower_tencentcloud::sse::SseLayer;
use tower_tencentcloud_fuzz::{ChunkedBody, ready_now};

#[derive(Arbitrary, Debug)]
struct Stream<'a> {
    events: &'a [u8],
    chunk_lengths: Vec<u8>,
    max_event_size: u16,
}

/// What a caller sees of the stream: the bytes and events, and the error
/// that ended it, as one line.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    bytes: Vec<u8>,
    events: Vec<(String, String, Option<String>)>,
    ended_by: Option<String>,
}

fn client(
    events: &[u8],
    chunk_lengths: &[u8],
    max_event_size: usize,
) -> impl tower::Service<
    Request<Full<Bytes>>,
    Response = Response<
        tower_tencentcloud::sse::SseBody<tower_tencentcloud::EnvelopeBody<ChunkedBody>>,
    >,
    Error = tower_tencentcloud::Error,
> {
    let transport = tower::service_fn(move |_: Request<Full<Bytes>>| {
        let mut response = Response::new(ChunkedBody::new(events, chunk_lengths));
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, "text/event-stream".parse().unwrap());
        headers.insert(X_TC_REQUESTID, "r-stream".parse().unwrap());
        std::future::ready(Ok::<_, std::convert::Infallible>(response))
    });
    ServiceBuilder::new()
        .layer(SseLayer::new().max_event_size(max_event_size))
        .layer(EnvelopeLayer::new())
        .service(transport)
}

fn read(events: &[u8], chunk_lengths: &[u8], max_event_size: usize) -> Seen {
    let request = || Request::new(Full::default());
    let mut body = ready_now(client(events, chunk_lengths, max_event_size).oneshot(request()))
        .expect("an event stream passes at its head")
        .into_body();
    let mut seen = Seen {
        bytes: Vec::new(),
        events: Vec::new(),
        ended_by: None,
    };
    while let Some(frame) = ready_now(body.frame()) {
        match frame {
            Ok(frame) => seen
                .bytes
                .extend_from_slice(&frame.into_data().expect("only data")),
            Err(err) => {
                seen.ended_by = Some(err.to_string());
                assert!(ready_now(body.frame()).is_none(), "an error ends the body");
                break;
            }
        }
    }

    let mut parsed = ready_now(client(events, chunk_lengths, max_event_size).oneshot(request()))
        .expect("an event stream passes at its head")
        .into_body()
        .into_events();
    while let Some(event) = ready_now(parsed.next()) {
        match event {
            Ok(event) => seen.events.push((
                event.event().to_owned(),
                event.data().to_owned(),
                event.id().map(str::to_owned),
            )),
            Err(err) => {
                assert_eq!(
                    Some(err.to_string()),
                    seen.ended_by,
                    "events and bytes end with the same error"
                );
                break;
            }
        }
    }
    seen
}

fuzz_target!(|stream: Stream<'_>| {
    let limit = usize::from(stream.max_event_size);
    let chunked = read(stream.events, &stream.chunk_lengths, limit);
    assert!(
        stream.events.starts_with(&chunked.bytes),
        "the bytes that pass are the stream's own, in order"
    );
    let whole = read(stream.events, &[], limit);
    assert_eq!(chunked, whole, "the chunks changed what the caller sees");
});

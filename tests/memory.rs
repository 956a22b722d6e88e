//! Peak memory of one response in flight through the envelope layer, with a
//! counting allocator: a body of one frame is not copied at all; a body of
//! many frames is copied once, into a buffer sized from what the response
//! announced. And the allocations of one call through the typed layer:
//! those of the caller's fields and of the RequestId, none of the layer's.

#[path = "support/counting_allocator.rs"]
mod counting_allocator;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use serde::Deserialize;
use tower::{Layer, ServiceExt};
use tower_tencentcloud::{EnvelopeLayer, Error, RequestId};

/// The counters are global: one test at a time, from before it allocates
/// its body to after it measures.
static MEASURING: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A body of ready frames, announcing its exact size (or not).
struct Frames {
    frames: Vec<Bytes>,
    exact: Option<u64>,
}

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let next = (!self.frames.is_empty()).then(|| self.frames.remove(0));
        Poll::Ready(next.map(|data| Ok(Frame::data(data))))
    }

    fn size_hint(&self) -> SizeHint {
        self.exact
            .map_or_else(SizeHint::default, SizeHint::with_exact)
    }
}

/// A success envelope of about `len` bytes.
fn envelope(len: usize) -> Bytes {
    let pad = len.saturating_sub(60);
    Bytes::from(format!(
        r#"{{"Response":{{"Pad":"{}","RequestId":"mem-1"}}}}"#,
        "x".repeat(pad)
    ))
}

/// The most bytes the layer held at once beyond what existed before the
/// call, while answering with `frames`.
fn peak_in_flight(frames: Vec<Bytes>, content_length: Option<usize>, exact: Option<u64>) -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let frames = std::sync::Mutex::new(Some(frames));
    let inner = tower::service_fn(move |_: http::Request<()>| {
        let frames = frames.lock().unwrap().take().unwrap();
        let mut response = http::Response::new(Frames { frames, exact });
        if let Some(len) = content_length {
            response
                .headers_mut()
                .insert("content-length", len.to_string().parse().unwrap());
        }
        async move { Ok::<_, Infallible>(response) }
    });
    let service = EnvelopeLayer::new().layer(inner);
    let before = counting_allocator::reset_peak();
    let response = runtime
        .block_on(service.oneshot(http::Request::new(())))
        .unwrap();
    let peak = counting_allocator::peak_bytes() - before;
    eprintln!("peak in flight: {peak} bytes");
    drop(response);
    peak
}

const SLACK: usize = 4096;

#[test]
fn one_frame_is_forwarded_without_a_copy() {
    let _measuring = one_at_a_time();
    let body = envelope(1 << 20);
    let peak = peak_in_flight(vec![body.clone()], Some(body.len()), None);
    assert!(peak <= SLACK, "peak {peak} bytes for a body of one frame");
}

#[test]
fn many_frames_are_copied_once_into_a_buffer_sized_by_content_length() {
    let _measuring = one_at_a_time();
    let body = envelope(1 << 20);
    let frames: Vec<Bytes> = body.chunks(16 << 10).map(Bytes::copy_from_slice).collect();
    let peak = peak_in_flight(frames, Some(body.len()), None);
    assert!(
        peak <= body.len() + SLACK,
        "peak {peak} bytes for {} bytes",
        body.len()
    );
    // Once, not twice: a growing buffer would have held about twice the body.
    assert!(peak >= body.len());
}

#[test]
fn many_frames_are_copied_once_into_a_buffer_sized_by_the_size_hint() {
    let _measuring = one_at_a_time();
    let body = envelope(256 << 10);
    let frames: Vec<Bytes> = body.chunks(8 << 10).map(Bytes::copy_from_slice).collect();
    let peak = peak_in_flight(frames, None, Some(body.len() as u64));
    assert!(
        peak <= body.len() + SLACK,
        "peak {peak} bytes for {} bytes",
        body.len()
    );
}

#[derive(Deserialize)]
struct Fields {
    #[serde(rename = "Name")]
    name: String,
}

/// The allocations of one call through the typed layer whose inner service
/// answers with `body` in one frame, and the call's result. A first call
/// goes before the one counted: tracing registers its callsites once per
/// process, when they are first reached.
fn typed_allocations(body: &'static [u8]) -> (usize, Result<Option<Fields>, Error>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let answer = || {
        http::Response::new(Frames {
            frames: vec![Bytes::from_static(body)],
            exact: Some(body.len() as u64),
        })
    };
    let responses = Mutex::new(vec![answer(), answer()]);
    let inner = tower::service_fn(move |_: http::Request<()>| {
        let response = responses.lock().unwrap().pop().unwrap();
        async move { Ok::<_, Infallible>(response) }
    });
    let mut service = EnvelopeLayer::new().typed::<Fields>().layer(inner);
    let (first, second) = (http::Request::new(()), http::Request::new(()));
    drop(runtime.block_on((&mut service).oneshot(first)));
    let before = counting_allocator::allocations();
    let result = runtime.block_on(service.oneshot(second));
    let made = counting_allocator::allocations() - before;
    eprintln!("{made} allocations");
    let result = result.map(|response| {
        let id = response
            .extensions()
            .get::<RequestId>()
            .map(RequestId::as_str);
        assert_eq!(id, Some("r-1"));
        response.into_body().into_value()
    });
    (made, result)
}

#[test]
fn a_typed_success_allocates_the_fields_and_the_request_id_only() {
    let _measuring = one_at_a_time();
    let (made, fields) = typed_allocations(br#"{"Response":{"Name":"web-1","RequestId":"r-1"}}"#);
    assert_eq!(fields.unwrap().unwrap().name, "web-1");
    // `name`; the RequestId's text; in the extensions its map, the map's
    // table and its box.
    assert_eq!(made, 1 + 1 + 3);
}

#[test]
fn a_typed_api_error_allocates_its_message_request_id_and_box_only() {
    let _measuring = one_at_a_time();
    let (made, result) = typed_allocations(
        br#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"No."},"RequestId":"r-2"}}"#,
    );
    let Err(Error::Api(err)) = result else {
        panic!("an API error")
    };
    assert_eq!(
        (err.code().as_str(), err.message()),
        ("InvalidParameter", "No.")
    );
    assert_eq!(err.request_id().unwrap(), "r-2");
    // A code the crate knows is static text: the message, the RequestId
    // and the boxed error, with the response's headers moved into it.
    assert_eq!(made, 3);
}

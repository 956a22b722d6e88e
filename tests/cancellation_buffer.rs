//! A call dropped in the middle of the body frees the body it had read,
//! measured by counting the heap in use. A binary of its own, with one
//! test, so that no other test's allocations blur the count.

#[path = "support/counting_allocator.rs"]
mod counting_allocator;
mod support;

use std::future::Future;
use std::sync::Mutex;
use std::task::Poll;

use bytes::Bytes;
use http::Request;
use support::server::{self, Body};
use tower::{Layer, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;

const CHUNK: usize = 64 << 10;
const CHUNKS: usize = 16;

#[tokio::test]
async fn a_call_dropped_mid_body_frees_what_it_had_read() {
    let (sender, body) = server::channel();
    let body = Mutex::new(Some(body));
    let transport = tower::service_fn(move |_: Request<String>| {
        let body: Body = body.lock().unwrap().take().expect("one call");
        std::future::ready(Ok::<_, std::io::Error>(server::reply(
            200,
            "application/json",
            body,
        )))
    });
    let before = counting_allocator::heap_bytes();
    let mut call = Box::pin(
        EnvelopeLayer::new()
            .layer(transport)
            .oneshot(Request::new(String::new())),
    );
    let mut poll_once = async || {
        let polled = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        assert!(polled.is_pending(), "the body has not ended");
    };
    for _ in 0..CHUNKS {
        // Half a body and more, never its end: the call reads and waits.
        sender
            .send(Ok(Bytes::from(vec![b' '; CHUNK])))
            .await
            .unwrap();
        poll_once().await;
    }
    let reading = counting_allocator::heap_bytes();
    assert!(
        reading >= before + CHUNK * CHUNKS,
        "the call holds what it read: {reading} bytes in use, {before} before"
    );

    drop(call);
    drop(sender);
    let after = counting_allocator::heap_bytes();
    assert!(
        after <= before + CHUNK,
        "{after} bytes in use after the drop, {before} before"
    );
}

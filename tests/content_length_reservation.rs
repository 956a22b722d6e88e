//! Memory reserved for a body whose `Content-Length` promises more than
//! comes, measured by counting the heap in use. A binary of its own, with
//! one test, so that no other test's allocations blur the count.

#[path = "support/counting_allocator.rs"]
mod counting_allocator;
mod support;

use std::future::Future;
use std::sync::Mutex;
use std::task::Poll;

use bytes::Bytes;
use http::Request;
use http::header::CONTENT_LENGTH;
use support::server::{self, Body};
use tower::{Layer, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::envelope::DEFAULT_MAX_BODY_SIZE;

const KIB: usize = 1 << 10;

/// A gateway (or anyone on the path) that announces the largest body the
/// layer accepts and sends two small chunks must not make the layer reserve
/// the announced size: before BodyBuffer trusted announcements only up to
/// 1 MiB, it reserved all 32 MiB at the second chunk, per call, for as long
/// as the sender stalled.
#[tokio::test]
async fn a_lying_content_length_reserves_no_more_than_arrives() {
    let (sender, body) = server::channel();
    let body = Mutex::new(Some(body));
    let transport = tower::service_fn(move |_: Request<String>| {
        let body: Body = body.lock().unwrap().take().expect("one call");
        let mut response = server::reply(200, "application/json", body);
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, DEFAULT_MAX_BODY_SIZE.into());
        std::future::ready(Ok::<_, std::io::Error>(response))
    });
    let before = counting_allocator::heap_bytes();
    let mut call = Box::pin(
        EnvelopeLayer::new()
            .layer(transport)
            .oneshot(Request::new(String::new())),
    );
    for _ in 0..2 {
        sender.send(Ok(Bytes::from(vec![b' '; KIB]))).await.unwrap();
        let polled = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        assert!(polled.is_pending(), "the body has not ended");
    }
    let held = counting_allocator::heap_bytes().saturating_sub(before);
    // What arrived plus a bounded reservation ahead; far from 32 MiB.
    assert!(
        held < 1024 * KIB,
        "{held} bytes held for {} bytes received",
        2 * KIB
    );
    drop(call);
}

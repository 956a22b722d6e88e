//! The per-attempt timeout of the recommended stack bounds the whole
//! attempt, the reading of its body included: a `TimeoutLayer` above
//! `EnvelopeLayer` (behind `TypedErrorLayer`) covers the envelope layer's
//! read, while one below it bounds only the wait for the head.
//!
//! A real hyper server on 127.0.0.1 trickles a body one byte per 50 ms, on
//! tokio's paused clock: the server sleeps on the same clock, so the test
//! runs at once whatever the timeouts.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use support::server::{self, reply, request};
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::timeout::TimeoutLayer;
use tower::timeout::error::Elapsed;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::typed_error::TypedErrorLayer;
use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass, StopReason};

const PER_ATTEMPT: Duration = Duration::from_secs(2);
const TRICKLE: Duration = Duration::from_millis(50);
/// The most bytes a trickle sends: 500 s of it, far beyond any timeout here.
const TRICKLE_BYTES: usize = 10_000;

/// A server whose every answer promises `TRICKLE_BYTES` of JSON and sends
/// one byte every `TRICKLE`; and its count of calls.
async fn trickling_server() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let addr = server::serve(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            let (tx, body) = server::channel();
            tokio::spawn(async move {
                for _ in 0..TRICKLE_BYTES {
                    tokio::time::sleep(TRICKLE).await;
                    if tx.send(Ok(Bytes::from_static(b" "))).await.is_err() {
                        return; // the client hung up
                    }
                }
            });
            let mut r = reply(200, "application/json", body);
            r.headers_mut()
                .insert("content-length", TRICKLE_BYTES.into());
            r
        }
    })
    .await;
    (addr, calls)
}

fn policy() -> RetryPolicy {
    let backoff = Duration::from_millis(100);
    RetryPolicy::default()
        .max_attempts(2)
        .transient_backoff(backoff, backoff)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_above_the_envelope_layer_cuts_a_trickling_body_and_each_attempt_is_bounded() {
    let (addr, calls) = trickling_server().await;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .layer(TypedErrorLayer::new())
        .layer(TimeoutLayer::new(PER_ATTEMPT)) // each attempt, its body included
        .layer(EnvelopeLayer::new())
        .service(server::client());

    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(60), client.oneshot(request(addr)))
        .await
        .expect("each attempt is bounded")
        .unwrap_err();
    let elapsed = started.elapsed();

    let Error::Transport(transport) = &err else {
        panic!("not a transport error: {err:?}");
    };
    assert!(transport.get_ref().is::<Elapsed>(), "{err:?}");
    assert_eq!(err.retry_class(), RetryClass::Transient);
    // DescribeInstances is read-only: the timed-out attempt was retried.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let stopped = err.retry_stopped().unwrap();
    assert_eq!(
        (stopped.attempts(), stopped.reason()),
        (2, StopReason::AttemptsExhausted)
    );
    // Two attempts of 2 s and a backoff of at most 100 ms.
    assert!(elapsed >= 2 * PER_ATTEMPT, "{elapsed:?}");
    assert!(
        elapsed <= 2 * PER_ATTEMPT + Duration::from_millis(100),
        "{elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_below_the_envelope_layer_bounds_only_the_head() {
    let (addr, _) = trickling_server().await;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .layer(EnvelopeLayer::new())
        .layer(TimeoutLayer::new(PER_ATTEMPT)) // the head only
        .service(server::client());

    // The head came at once; the body is still trickling ten timeouts later.
    let pending = tokio::time::timeout(10 * PER_ATTEMPT, client.oneshot(request(addr))).await;
    assert!(pending.is_err(), "the body was cut: {pending:?}");
}

#[tokio::test(start_paused = true)]
async fn an_event_stream_outlives_the_timeout_above_the_envelope_layer() {
    // The envelope layer passes streams through at the head: a timeout
    // above it bounds the wait for the head, not the stream.
    let addr = server::serve(|_| async {
        let (tx, body) = server::channel();
        tokio::spawn(async move {
            for n in 0..5 {
                tokio::time::sleep(PER_ATTEMPT).await;
                let event = Bytes::from(format!("data: {n}\n\n"));
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
        });
        reply(200, "text/event-stream", body)
    })
    .await;
    let client = ServiceBuilder::new()
        .layer(TypedErrorLayer::new())
        .layer(TimeoutLayer::new(PER_ATTEMPT))
        .layer(EnvelopeLayer::new())
        .service(server::client());

    let response = client.oneshot(request(addr)).await.unwrap();
    let started = Instant::now();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        body,
        "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n"
    );
    assert!(started.elapsed() >= 5 * PER_ATTEMPT);
}

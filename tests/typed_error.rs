//! Middleware that boxes its errors (tower's Timeout) under the retry
//! policy, in a task of its own: `TypedErrorLayer` and
//! `.map_err(Error::from_boxed)` compile inside `tokio::spawn`, where
//! `.map_err(Error::from)` does not, and give the policy typed errors.
//!
//! Over a real hyper server on 127.0.0.1, on tokio's paused clock: the
//! server sleeps on the same clock, so a hung answer lets the clock run to
//! the client's timeout at once.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::server::{self, full, reply, request};
use tower::retry::RetryLayer;
use tower::timeout::TimeoutLayer;
use tower::timeout::error::Elapsed;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::typed_error::TypedErrorLayer;
use tower_tencentcloud::{EnvelopeLayer, Error, RequestId, RetryClass, StopReason};

const PER_ATTEMPT: Duration = Duration::from_secs(5);

/// A server whose call 0 is throttled, call 1 hangs for an hour, and
/// later calls succeed; and its count of calls.
async fn throttled_then_hung_then_ok() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let addr = server::serve(move |_| {
        let call = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let body = match call {
                0 => r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r-0"}}"#,
                1 => {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    r#"{"Response":{"RequestId":"r-late"}}"#
                }
                _ => r#"{"Response":{"TotalCount":0,"RequestId":"r-ok"}}"#,
            };
            reply(200, "application/json", full(body))
        }
    })
    .await;
    (addr, calls)
}

fn policy() -> RetryPolicy {
    let backoff = Duration::from_millis(100);
    RetryPolicy::default()
        .throttled_backoff(backoff, backoff)
        .transient_backoff(backoff, backoff)
}

#[tokio::test(start_paused = true)]
async fn a_timeout_under_the_retry_policy_behind_typed_error_layer_runs_in_a_spawned_task() {
    let (addr, calls) = throttled_then_hung_then_ok().await;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .layer(TypedErrorLayer::new())
        .layer(TimeoutLayer::new(PER_ATTEMPT))
        .layer(EnvelopeLayer::new())
        .service(server::client());

    let started = tokio::time::Instant::now();
    let response = tokio::spawn(client.oneshot(request(addr)))
        .await
        .unwrap()
        .unwrap();
    // Throttled (an Error boxed by Timeout, given back as it was), timed out
    // (Elapsed, a transient failure of a read), then answered.
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 3);
    assert_eq!(response.extensions().get::<RequestId>().unwrap(), "r-ok");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() >= PER_ATTEMPT);
}

#[tokio::test(start_paused = true)]
async fn map_err_with_from_boxed_runs_in_a_spawned_task_and_keeps_the_error_typed() {
    let (addr, _) = throttled_then_hung_then_ok().await;
    let client = ServiceBuilder::new()
        // The throttled attempt does not count: the timed-out one is the last.
        .layer(RetryLayer::new(policy().max_attempts(1)))
        .map_err(Error::from_boxed)
        .layer(TimeoutLayer::new(PER_ATTEMPT))
        .layer(EnvelopeLayer::new())
        .service(server::client());

    let err = tokio::spawn(client.oneshot(request(addr)))
        .await
        .unwrap()
        .unwrap_err();
    // The second attempt timed out, and was the last one.
    let Error::Transport(transport) = &err else {
        panic!("not a transport error: {err:?}");
    };
    assert!(transport.get_ref().is::<Elapsed>(), "{err:?}");
    assert_eq!(err.retry_class(), RetryClass::Transient);
    assert_eq!(
        err.retry_stopped().map(|stopped| stopped.reason()),
        Some(StopReason::AttemptsExhausted)
    );
    assert_eq!(
        err.to_string(),
        "the inner service failed: request timed out (after 2 attempts: attempt limit reached)"
    );
}

#[tokio::test(start_paused = true)]
async fn an_api_error_passes_through_the_timeout_as_it_was() {
    let addr = server::serve_fixed(|| {
        reply(
            200,
            "application/json",
            full(r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"bad"},"RequestId":"r-auth"}}"#),
        )
    })
    .await;
    let client = ServiceBuilder::new()
        .layer(TypedErrorLayer::new())
        .layer(TimeoutLayer::new(PER_ATTEMPT))
        .layer(EnvelopeLayer::new())
        .service(server::client());
    let err = tokio::spawn(client.oneshot(request(addr)))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code().unwrap(), "AuthFailure.SignatureFailure");
    assert_eq!(err.request_id().unwrap(), "r-auth");
}

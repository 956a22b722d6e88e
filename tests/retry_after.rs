//! `Retry-After` through RetryPolicy → EnvelopeLayer → hyper-util, against a
//! real hyper server on 127.0.0.1 that notes when each attempt arrives, on
//! tokio's paused clock.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Response, StatusCode};
use support::server::{self, Body, full};
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass};

const SUCCESS: &str = r#"{"Response":{"TotalCount":0,"RequestId":"ok"}}"#;
const THROTTLED: &str = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"t"}}"#;
const INTERNAL: &str =
    r#"{"Response":{"Error":{"Code":"InternalError","Message":"oops"},"RequestId":"i"}}"#;
/// tokio's timer fires on whole milliseconds, and the socket takes a moment.
const SLACK: Duration = Duration::from_millis(20);

/// A server whose first `failures` answers are `failure()`, then successes;
/// returns the instants at which the attempts arrived.
async fn call<F>(
    policy: RetryPolicy,
    failures: usize,
    failure: F,
) -> (Result<u32, Error>, Vec<Instant>)
where
    F: Fn() -> Response<Body> + Send + Sync + 'static,
{
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let addr = server::serve(move |_| {
        let response = {
            let mut seen = seen.lock().unwrap();
            seen.push(Instant::now());
            if seen.len() <= failures {
                failure()
            } else {
                server::reply(200, "application/json", full(SUCCESS))
            }
        };
        async move { response }
    })
    .await;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(EnvelopeLayer::new())
        .service(server::client());
    let result = client
        .oneshot(server::request(addr))
        .await
        .map(|response| response.extensions().get::<Attempts>().unwrap().get());
    let arrivals = arrivals.lock().unwrap().clone();
    (result, arrivals)
}

fn with_headers(
    status: u16,
    body: &'static str,
    headers: &[(&'static str, &'static str)],
) -> Response<Body> {
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "text/html"
    };
    let mut response = server::reply(status, content_type, full(body));
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.parse().unwrap());
    }
    response
}

fn gaps(arrivals: &[Instant]) -> Vec<Duration> {
    arrivals.windows(2).map(|pair| pair[1] - pair[0]).collect()
}

#[tokio::test(start_paused = true)]
async fn a_429_page_with_retry_after_seconds_is_retried_no_sooner() {
    // The throttled backoff alone would wait less than 1 s.
    let (result, arrivals) = call(RetryPolicy::default(), 2, || {
        with_headers(
            429,
            "<html>Too Many Requests</html>",
            &[("retry-after", "3")],
        )
    })
    .await;
    assert_eq!(result.unwrap(), 3);
    for gap in gaps(&arrivals) {
        assert!(
            gap >= Duration::from_secs(3) && gap < Duration::from_secs(3) + SLACK,
            "{gap:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_envelope_with_a_retry_after_date_waits_until_that_date_of_the_servers_clock() {
    // Four seconds after the response's own Date, whatever the local clock says.
    let (result, arrivals) = call(RetryPolicy::default(), 1, || {
        with_headers(
            200,
            THROTTLED,
            &[
                ("date", "Wed, 21 Oct 2015 07:28:00 GMT"),
                ("retry-after", "Wed, 21 Oct 2015 07:28:04 GMT"),
            ],
        )
    })
    .await;
    assert_eq!(result.unwrap(), 2);
    let gap = gaps(&arrivals)[0];
    assert!(
        gap >= Duration::from_secs(4) && gap < Duration::from_secs(4) + SLACK,
        "{gap:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transient_failure_honours_retry_after_too() {
    let (result, arrivals) = call(RetryPolicy::default(), 1, || {
        with_headers(
            503,
            "<html>Service Unavailable</html>",
            &[("retry-after", "2")],
        )
    })
    .await;
    assert_eq!(result.unwrap(), 2);
    assert!(gaps(&arrivals)[0] >= Duration::from_secs(2), "{arrivals:?}");

    let (result, arrivals) = call(RetryPolicy::default(), 1, || {
        with_headers(200, INTERNAL, &[("retry-after", "1")])
    })
    .await;
    assert_eq!(result.unwrap(), 2);
    assert!(gaps(&arrivals)[0] >= Duration::from_secs(1), "{arrivals:?}");
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_backoffs_cap_stops_the_retries() {
    // The throttled backoff's cap is 20 s by default.
    let (result, arrivals) = call(RetryPolicy::default(), usize::MAX, || {
        with_headers(
            429,
            "<html>Too Many Requests</html>",
            &[("retry-after", "30")],
        )
    })
    .await;
    let error = result.unwrap_err();
    assert_eq!(arrivals.len(), 1, "retried sooner than asked");
    assert_eq!(error.retry_class(), RetryClass::Throttled);
    assert_eq!(error.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    let Error::NotEnvelope(page) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(page.headers()["retry-after"], "30");

    // A policy whose cap allows it waits the 30 s.
    let patient =
        RetryPolicy::default().throttled_backoff(Duration::from_secs(1), Duration::from_secs(60));
    let (result, arrivals) = call(patient, 1, || {
        with_headers(
            429,
            "<html>Too Many Requests</html>",
            &[("retry-after", "30")],
        )
    })
    .await;
    assert_eq!(result.unwrap(), 2);
    assert!(
        gaps(&arrivals)[0] >= Duration::from_secs(30),
        "{arrivals:?}"
    );

    // The transient cap is 5 s.
    let (result, arrivals) = call(RetryPolicy::default(), usize::MAX, || {
        with_headers(
            503,
            "<html>Service Unavailable</html>",
            &[("retry-after", "10")],
        )
    })
    .await;
    assert_eq!(
        result.unwrap_err().status(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(arrivals.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_unreadable_retry_after_is_ignored() {
    let (result, arrivals) = call(RetryPolicy::default(), 1, || {
        with_headers(200, THROTTLED, &[("retry-after", "soon")])
    })
    .await;
    assert_eq!(result.unwrap(), 2);
    // The plain throttled backoff: below its first ceiling of 1 s.
    assert!(
        gaps(&arrivals)[0] < Duration::from_secs(1) + SLACK,
        "{arrivals:?}"
    );
}

//! The sign layer in the stack Retry → Sign → Envelope → hyper-util client,
//! against a real server on 127.0.0.1.

mod api_server;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use api_server::{ApiServer, client, envelope, error_envelope};
use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::Full;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{
    Clock, Credentials, SignError, SignErrorKind, SignLayer, sign_request,
};
use tower_tencentcloud::{EnvelopeLayer, RequestId, RetryClass};

/// How far the API tolerates a timestamp from its clock.
const TOLERANCE_SECS: u64 = 300;
const SERVER_AHEAD: Duration = Duration::from_secs(20 * 60);

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "secret-key")
}

fn describe_regions(server: &ApiServer) -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .region("ap-guangzhou")
        .endpoint(server.endpoint())
        .build()
        .unwrap()
}

fn timestamp(headers: &HeaderMap) -> u64 {
    headers["x-tc-timestamp"].to_str().unwrap().parse().unwrap()
}

/// A server whose clock is 20 minutes ahead: its `Date` says so, and it
/// refuses timestamps more than five minutes off its clock, as the API does.
async fn server_twenty_minutes_ahead() -> ApiServer {
    ApiServer::start(|headers, attempt| {
        let server_now = SystemTime::now() + SERVER_AHEAD;
        let server_secs = server_now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let mut response = if timestamp(headers).abs_diff(server_secs) > TOLERANCE_SECS {
            error_envelope("AuthFailure.SignatureExpire", &format!("expired-{attempt}"))
        } else {
            envelope(&format!(
                r#"{{"Response":{{"RegionSet":[],"RequestId":"ok-{attempt}"}}}}"#
            ))
        };
        response
            .headers_mut()
            .insert("date", httpdate::fmt_http_date(server_now).parse().unwrap());
        response
    })
    .await
}

#[tokio::test]
async fn signature_expire_corrects_the_clock_and_the_replay_succeeds() {
    let server = server_twenty_minutes_ahead().await;
    let clock = Clock::new();
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(SignLayer::new(credentials()).clock(clock.clone()))
        .layer(EnvelopeLayer::new())
        .service(client());

    let response = service.oneshot(describe_regions(&server)).await.unwrap();

    assert_eq!(
        response.extensions().get::<RequestId>().unwrap().as_str(),
        "ok-1",
        "the second attempt succeeds"
    );
    let received = server.received();
    assert_eq!(received.len(), 2);
    // The Date header has whole seconds and the round trip is short: the
    // learned offset is 20 minutes give or take a few seconds.
    let offset = Duration::from_millis(clock.offset_millis().unsigned_abs());
    assert!(clock.offset_millis() > 0);
    assert!(
        offset.abs_diff(SERVER_AHEAD) < Duration::from_secs(5),
        "{offset:?}"
    );
    let skew = timestamp(&received[1]) - timestamp(&received[0]);
    assert!(skew.abs_diff(SERVER_AHEAD.as_secs()) < 5, "{skew}");
}

#[tokio::test]
async fn the_learned_offset_serves_later_requests_at_the_first_attempt() {
    let server = server_twenty_minutes_ahead().await;
    let layer = SignLayer::new(credentials());
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(layer)
        .layer(EnvelopeLayer::new())
        .service(client());

    service
        .clone()
        .oneshot(describe_regions(&server))
        .await
        .unwrap();
    // A clone of the service shares the clock.
    service
        .clone()
        .oneshot(describe_regions(&server))
        .await
        .unwrap();

    assert_eq!(
        server.received().len(),
        3,
        "one refusal, then two successes"
    );
}

#[tokio::test]
async fn without_a_retry_the_signature_expire_error_comes_back_typed() {
    let server = server_twenty_minutes_ahead().await;
    let clock = Clock::new();
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(credentials()).clock(clock.clone()))
        .layer(EnvelopeLayer::new())
        .service(client());

    let err = service
        .oneshot(describe_regions(&server))
        .await
        .unwrap_err();

    assert_eq!(err.retry_class(), RetryClass::ClockSkew);
    assert_eq!(err.code().unwrap(), "AuthFailure.SignatureExpire");
    assert_ne!(clock.offset_millis(), 0, "the clock learned anyway");
}

#[tokio::test]
async fn other_errors_leave_the_clock_alone() {
    let server = ApiServer::start(|_, _| {
        let mut response = error_envelope("AuthFailure.SignatureFailure", "r-1");
        let ahead = SystemTime::now() + SERVER_AHEAD;
        response
            .headers_mut()
            .insert("date", httpdate::fmt_http_date(ahead).parse().unwrap());
        response
    })
    .await;
    let clock = Clock::new();
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(credentials()).clock(clock.clone()))
        .layer(EnvelopeLayer::new())
        .service(client());

    let err = service
        .oneshot(describe_regions(&server))
        .await
        .unwrap_err();

    assert_eq!(err.code().unwrap(), "AuthFailure.SignatureFailure");
    assert_eq!(clock.offset_millis(), 0);
}

#[tokio::test]
async fn every_attempt_gets_a_fresh_timestamp_and_signature() {
    const START: u64 = 1_714_564_800;
    const SERVER_DELAY: u64 = 30;
    let now = Arc::new(AtomicU64::new(START));
    let clock = Clock::from_source({
        let now = now.clone();
        move || UNIX_EPOCH + Duration::from_secs(now.load(Ordering::SeqCst))
    });
    let server = ApiServer::start({
        let now = now.clone();
        move |_, attempt| {
            if attempt == 0 {
                // The first attempt takes the server 30 seconds to refuse.
                now.fetch_add(SERVER_DELAY, Ordering::SeqCst);
                error_envelope("RequestLimitExceeded", "throttled")
            } else {
                envelope(r#"{"Response":{"RequestId":"ok"}}"#)
            }
        }
    })
    .await;
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(
            // No wait: the server's clock, not the backoff, moves time here.
            RetryPolicy::default().throttled_backoff(Duration::ZERO, Duration::ZERO),
        ))
        .layer(SignLayer::new(credentials()).clock(clock))
        .layer(EnvelopeLayer::new())
        .service(client());

    service.oneshot(describe_regions(&server)).await.unwrap();

    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(timestamp(&received[0]), START);
    assert_eq!(timestamp(&received[1]), START + SERVER_DELAY);
    assert_ne!(received[0]["authorization"], received[1]["authorization"]);
    // Each signature is the one for its own timestamp.
    for (headers, at) in received.iter().zip([START, START + SERVER_DELAY]) {
        let mut expected = describe_regions(&server);
        sign_request(&mut expected, &credentials(), at).unwrap();
        assert_eq!(
            headers["authorization"],
            expected.headers()["authorization"]
        );
    }
}

#[tokio::test]
async fn the_session_token_is_sent_only_with_temporary_credentials() {
    let server = ApiServer::start(|_, _| envelope(r#"{"Response":{"RequestId":"ok"}}"#)).await;
    for credentials in [
        credentials(),
        credentials().with_session_token("session-token"),
    ] {
        let service = ServiceBuilder::new()
            .layer(SignLayer::new(credentials))
            .layer(EnvelopeLayer::new())
            .service(client());
        service.oneshot(describe_regions(&server)).await.unwrap();
    }

    let received = server.received();
    assert_eq!(received[0].get("x-tc-token"), None);
    assert_eq!(received[1]["x-tc-token"], "session-token");
    // What the server got as Host is what the signature covers.
    assert_eq!(received[0]["host"], server.addr.to_string());
}

#[tokio::test]
async fn a_request_that_cannot_be_signed_is_not_sent() {
    let server = ApiServer::start(|_, _| envelope(r#"{"Response":{"RequestId":"ok"}}"#)).await;
    let service = ServiceBuilder::new()
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(client());
    // An IP endpoint and no ServiceName extension: the service is unknown.
    let request = Request::post(format!("{}/", server.endpoint()))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();

    let err = service.oneshot(request).await.unwrap_err();

    assert!(err.is_layer());
    assert_eq!(err.retry_class(), RetryClass::Never);
    let sign = err.as_layer().unwrap().downcast_ref::<SignError>().unwrap();
    assert_eq!(sign.kind(), SignErrorKind::UnknownService);
    assert!(server.received().is_empty());
}

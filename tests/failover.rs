//! Failover against real endpoints: the emulator on two or three local
//! ports, faults per endpoint, the whole stack (retry, failover, signing,
//! envelope, hyper-util) on tokio's paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::HOST;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::time::{Instant, sleep};
use tower::retry::RetryLayer;
use tower::timeout::TimeoutLayer;
use tower::util::BoxCloneService;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::{ActionRequest, Idempotent};
use tower_tencentcloud::emulator::{
    EmulatorBuilder, EmulatorEndpoints, EndpointFault, Fault, Injection,
};
use tower_tencentcloud::failover::{BreakerConfig, BreakerState, FailoverLayer};
use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeBody, EnvelopeLayer, Error};

const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

fn credentials() -> Credentials {
    Credentials::new("AKIDfailover", "failover-secret-key")
}

fn builder() -> EmulatorBuilder {
    EmulatorBuilder::new().credentials(credentials())
}

/// The hosts of every attempt that reached the transport, in order.
type Sent = Arc<Mutex<Vec<String>>>;

type Client_ = BoxCloneService<Request<Full<Bytes>>, Response<EnvelopeBody<Incoming>>, Error>;

/// Retry → RateLimit → Failover → Sign → Envelope → Timeout (each response
/// head) → recorder → hyper-util: the stack of the README.
fn client(failover: &FailoverLayer, sent: &Sent) -> Client_ {
    let sent = sent.clone();
    let transport = Client::builder(TokioExecutor::new()).build_http();
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(AdaptiveRateLimitLayer::new())
        .layer(failover.clone())
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .layer(TimeoutLayer::new(ATTEMPT_TIMEOUT))
        .map_request(move |request: Request<Full<Bytes>>| {
            let host = request.headers()[HOST].to_str().unwrap().to_owned();
            // What is signed (the Host header) is where it goes.
            assert_eq!(
                Some(host.as_str()),
                request.uri().authority().map(|a| a.as_str())
            );
            sent.lock().unwrap().push(host);
            request
        })
        .service(transport);
    BoxCloneService::new(service)
}

fn host(endpoints: &EmulatorEndpoints, index: usize) -> String {
    endpoints.addr(index).unwrap().to_string()
}

fn ring(endpoints: &EmulatorEndpoints) -> FailoverLayer {
    FailoverLayer::new()
        .ring((0..endpoints.len()).map(|index| endpoints.endpoint(index).unwrap().parse().unwrap()))
}

fn zones(endpoints: &EmulatorEndpoints) -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .region("ap-guangzhou")
        .endpoint(endpoints.endpoint(0).unwrap())
        .build()
        .unwrap()
}

/// A RunInstances without a ClientToken: not safe to send twice.
fn launch(endpoints: &EmulatorEndpoints, name: &str) -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "RunInstances")
        .region("ap-guangzhou")
        .endpoint(endpoints.endpoint(0).unwrap())
        .params(&json!({
            "Placement": {"Zone": "ap-guangzhou-3"},
            "ImageId": "img-eb30mz89",
            "InstanceType": "S5.MEDIUM2",
            "InstanceName": name,
        }))
        .build()
        .unwrap()
}

/// How many times the emulator ran RunInstances named `name`.
fn runs(endpoints: &EmulatorEndpoints, name: &str) -> usize {
    let needle = format!("\"InstanceName\":\"{name}\"");
    endpoints
        .log()
        .entries()
        .iter()
        .filter(|entry| entry.action() == Some("RunInstances"))
        .filter(|entry| String::from_utf8_lossy(entry.params()).contains(&needle))
        .count()
}

/// Lets the endpoints' tasks act on a fault just set.
async fn settle() {
    sleep(Duration::from_millis(1)).await;
}

fn take(sent: &Sent) -> Vec<String> {
    std::mem::take(&mut *sent.lock().unwrap())
}

#[tokio::test(start_paused = true)]
async fn reads_never_fail_while_the_primary_refuses_connections_for_30_seconds() {
    let endpoints = EmulatorEndpoints::start(builder(), 2).await.unwrap();
    let (primary, backup) = (host(&endpoints, 0), host(&endpoints, 1));
    let failover = ring(&endpoints);
    let sent = Sent::default();
    let client = client(&failover, &sent);
    client.clone().oneshot(zones(&endpoints)).await.unwrap();
    assert_eq!(take(&sent), std::slice::from_ref(&primary));

    endpoints.fault(0, EndpointFault::Refuse);
    settle().await;
    let outage = Instant::now();
    let mut calls: Vec<Vec<String>> = Vec::new();
    let mut writes = Vec::new();
    while outage.elapsed() < Duration::from_secs(30) {
        let response = client.clone().oneshot(zones(&endpoints)).await.unwrap();
        // Failover absorbed it within the call: the retry layer saw one attempt.
        assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 1);
        calls.push(take(&sent));
        if calls.len() % 40 == 3 {
            // A write: refused connections sent nothing, so it may move.
            let name = format!("outage-{}", calls.len());
            client
                .clone()
                .oneshot(launch(&endpoints, &name))
                .await
                .unwrap();
            calls.push(take(&sent));
            writes.push(name);
        }
        sleep(Duration::from_millis(100)).await;
    }
    assert!(calls.len() >= 300, "{} calls", calls.len());

    // Five failures open the primary's breaker; from the sixth call on, the
    // first attempt goes to the backup.
    let both = [primary.clone(), backup.clone()];
    assert_eq!(calls[..5], vec![both.to_vec(); 5]);
    assert!(calls[5..].iter().all(|hosts| *hosts == [backup.clone()]));
    assert_eq!(failover.breaker_state(&primary), Some(BreakerState::Open));
    assert_eq!(endpoints.served(0), 1);
    for name in &writes {
        assert_eq!(runs(&endpoints, name), 1, "{name}");
    }

    // The primary comes back: calls return to it once the cool-down is over.
    endpoints.recover(0);
    settle().await;
    let recovered = Instant::now();
    let returned = loop {
        let response = client.clone().oneshot(zones(&endpoints)).await.unwrap();
        assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 1);
        if take(&sent) == [primary.clone()] {
            break recovered.elapsed();
        }
        assert!(recovered.elapsed() < Duration::from_secs(120));
        sleep(Duration::from_millis(100)).await;
    };
    // The default cool-down is 60 s.
    assert!(returned <= Duration::from_secs(60), "{returned:?}");
    eprintln!("calls returned to the primary {returned:?} after it recovered");
    assert_eq!(
        failover.breaker_state(&primary),
        Some(BreakerState::HalfOpen)
    );
    // Three probes in a row close it; then every call goes to the primary.
    for _ in 0..5 {
        client.clone().oneshot(zones(&endpoints)).await.unwrap();
        assert_eq!(take(&sent), std::slice::from_ref(&primary));
    }
    assert_eq!(failover.breaker_state(&primary), Some(BreakerState::Closed));
}

#[tokio::test(start_paused = true)]
async fn a_write_moves_past_a_refusal_but_not_past_a_gateway_page() {
    let endpoints = EmulatorEndpoints::start(builder(), 3).await.unwrap();
    let hosts: Vec<String> = (0..3).map(|index| host(&endpoints, index)).collect();
    let failover = ring(&endpoints);
    let sent = Sent::default();
    let client = client(&failover, &sent);
    endpoints.fault(0, EndpointFault::Refuse);
    endpoints.fault(1, EndpointFault::BadGateway);
    settle().await;

    // A read goes round the ring to the endpoint that answers.
    client.clone().oneshot(zones(&endpoints)).await.unwrap();
    assert_eq!(take(&sent), hosts);

    // A write leaves the refusing primary, but the 502 page may have come
    // after the request reached a backend: it stops there, and the retry
    // layer does not replay it either.
    let err = client
        .clone()
        .oneshot(launch(&endpoints, "plain"))
        .await
        .unwrap_err();
    assert!(err.is_not_envelope(), "{err}");
    assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
    assert_eq!(take(&sent), hosts[..2]);
    assert_eq!(runs(&endpoints, "plain"), 0);

    // Marked Idempotent, it goes on to the third endpoint and runs once.
    let mut request = launch(&endpoints, "marked");
    request.extensions_mut().insert(Idempotent);
    client.clone().oneshot(request).await.unwrap();
    assert_eq!(take(&sent), hosts);
    assert_eq!(runs(&endpoints, "marked"), 1);
    assert_eq!((endpoints.served(0), endpoints.served(1)), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn a_hanging_primary_costs_one_attempt_timeout() {
    let endpoints = EmulatorEndpoints::start(builder(), 2).await.unwrap();
    let (primary, backup) = (host(&endpoints, 0), host(&endpoints, 1));
    let failover = ring(&endpoints);
    let sent = Sent::default();
    let client = client(&failover, &sent);
    endpoints.fault(0, EndpointFault::Hang);
    settle().await;

    let started = Instant::now();
    client.clone().oneshot(zones(&endpoints)).await.unwrap();
    assert_eq!(take(&sent), [primary.clone(), backup.clone()]);
    assert!(started.elapsed() >= ATTEMPT_TIMEOUT);
    assert!(started.elapsed() < 2 * ATTEMPT_TIMEOUT);

    // A write that timed out may be running: it is not sent elsewhere.
    let err = client
        .clone()
        .oneshot(launch(&endpoints, "hung"))
        .await
        .unwrap_err();
    assert!(err.is_transport(), "{err}");
    assert_eq!(take(&sent), [primary]);
    assert_eq!(runs(&endpoints, "hung"), 0);
}

#[tokio::test(start_paused = true)]
async fn api_errors_never_fail_over_nor_count_against_the_host() {
    let endpoints = EmulatorEndpoints::start(builder(), 2).await.unwrap();
    let primary = host(&endpoints, 0);
    let failover = ring(&endpoints);
    let sent = Sent::default();
    let client = client(&failover, &sent);
    endpoints.service().inject(
        Injection::new(Fault::InternalError)
            .action("DescribeZones")
            .times(6),
    );

    // The retry layer replays InternalError: four attempts fail, then two
    // more and a success; every attempt stays on the primary, which
    // answered each time.
    let err = client.clone().oneshot(zones(&endpoints)).await.unwrap_err();
    assert_eq!(err.code().unwrap(), "InternalError");
    client.clone().oneshot(zones(&endpoints)).await.unwrap();
    assert_eq!(take(&sent), vec![primary.clone(); 7]);
    assert_eq!(failover.breaker_state(&primary), Some(BreakerState::Closed));
    assert_eq!(endpoints.served(1), 0);
}

#[tokio::test(start_paused = true)]
async fn when_every_endpoint_is_down_a_call_fails_with_the_last_error() {
    let endpoints = EmulatorEndpoints::start(builder(), 2).await.unwrap();
    let (primary, backup) = (host(&endpoints, 0), host(&endpoints, 1));
    let failover = ring(&endpoints).breaker(BreakerConfig::new().min_failures(1));
    let sent = Sent::default();
    let client = client(&failover, &sent);
    endpoints.fault(0, EndpointFault::Refuse);
    endpoints.fault(1, EndpointFault::Refuse);
    settle().await;

    let err = client.clone().oneshot(zones(&endpoints)).await.unwrap_err();
    assert!(err.is_transport(), "{err}");
    // The retry layer replays the call: both breakers are open by then, so
    // each replay gets one attempt at the call's own endpoint.
    let sent = take(&sent);
    assert_eq!(sent[..2], [primary.clone(), backup]);
    assert!(sent[2..].iter().all(|host| *host == primary), "{sent:?}");
    assert_eq!(sent.len(), 2 + 3);
}

#[tokio::test(start_paused = true)]
async fn a_probe_cancelled_by_its_caller_frees_its_place() {
    let endpoints = EmulatorEndpoints::start(builder(), 2).await.unwrap();
    let (primary, backup) = (host(&endpoints, 0), host(&endpoints, 1));
    let failover = ring(&endpoints).breaker(
        BreakerConfig::new()
            .min_failures(1)
            .cool_down(Duration::from_secs(10))
            .close_after(1),
    );
    let sent = Sent::default();
    let client = client(&failover, &sent);
    endpoints.fault(0, EndpointFault::Refuse);
    settle().await;
    client.clone().oneshot(zones(&endpoints)).await.unwrap();
    assert_eq!(take(&sent), [primary.clone(), backup.clone()]);
    assert_eq!(failover.breaker_state(&primary), Some(BreakerState::Open));

    // Half-open: the one probe hangs, and its caller gives up first.
    sleep(Duration::from_secs(10)).await;
    endpoints.fault(0, EndpointFault::Hang);
    settle().await;
    let call = client.clone().oneshot(zones(&endpoints));
    assert!(
        tokio::time::timeout(Duration::from_secs(1), call)
            .await
            .is_err()
    );
    assert_eq!(take(&sent), std::slice::from_ref(&primary));

    // The probe's place is free again: the next call probes, and closes it.
    endpoints.recover(0);
    settle().await;
    client.clone().oneshot(zones(&endpoints)).await.unwrap();
    assert_eq!(take(&sent), std::slice::from_ref(&primary));
    assert_eq!(failover.breaker_state(&primary), Some(BreakerState::Closed));
}

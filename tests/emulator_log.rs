//! The emulator's log is bounded: in entries and in the bytes of the
//! parameters it keeps, the oldest dropped and counted, so that a
//! long-running emulator holds bounded memory under large requests.

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, RequestId};

const SECRET_ID: &str = "AKIDlogbound0000000000000000000000";
const SECRET_KEY: &str = "log-bound-secret-key";

/// A body of `size` bytes: a JSON object with one long string.
fn large_params(size: usize, marker: usize) -> Bytes {
    let head = format!("{{\"Marker\":{marker},\"UserData\":\"");
    let mut body = head.into_bytes();
    body.resize(size - 2, b'x');
    body.extend_from_slice(b"\"}");
    Bytes::from(body)
}

#[tokio::test]
async fn large_unsigned_posts_leave_a_bounded_log() {
    const POSTS: usize = 20;
    const SIZE: usize = 9 << 20;
    const LIMIT: usize = 20 << 20;
    let emulator = Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .log_params_limit(LIMIT)
        .start()
        .await
        .unwrap();
    let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    for marker in 0..POSTS {
        // Not signed: refused, yet logged, as the issue saw.
        let request = Request::post(emulator.endpoint())
            .header("content-type", "application/json")
            .header("x-tc-action", "DescribeZones")
            .header("x-tc-version", "2017-03-12")
            .body(Full::new(large_params(SIZE, marker)))
            .unwrap();
        let response = transport.request(request).await.unwrap();
        assert_eq!(response.status(), 200);
    }
    let log = emulator.log();
    assert_eq!(log.len(), POSTS, "every call counts");
    assert!(
        log.params_bytes() <= LIMIT,
        "{} bytes kept",
        log.params_bytes()
    );
    let kept = log.entries();
    assert_eq!(kept.len(), LIMIT / SIZE, "as many as fit");
    assert_eq!(log.dropped(), POSTS - kept.len());
    // The newest are the ones kept, oldest first.
    let markers: Vec<usize> = kept
        .iter()
        .map(|entry| {
            assert_eq!(
                entry.outcome(),
                &Outcome::Error("MissingParameter".into()),
                "{entry}"
            );
            let params: serde_json::Value = serde_json::from_slice(entry.params()).unwrap();
            params["Marker"].as_u64().unwrap() as usize
        })
        .collect();
    assert_eq!(markers, (POSTS - kept.len()..POSTS).collect::<Vec<_>>());
}

#[tokio::test]
async fn beyond_its_capacity_the_log_drops_the_oldest_and_counts_them() {
    let credentials = Credentials::new(SECRET_ID, SECRET_KEY);
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .log_capacity(3)
        .into_service();
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(credentials))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());
    let mut request_ids = Vec::new();
    for _ in 0..5 {
        let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
            .region("ap-guangzhou")
            .endpoint("http://127.0.0.1:1")
            .build()
            .unwrap();
        let response = client.clone().oneshot(request).await.unwrap();
        request_ids.push(response.extensions().get::<RequestId>().unwrap().clone());
    }
    let log = emulator.log();
    assert_eq!((log.len(), log.dropped(), log.entries().len()), (5, 2, 3));
    assert!(log.find(&request_ids[1]).is_none(), "dropped");
    assert!(log.find(&request_ids[2]).is_some(), "kept");
    // `entries_after` counts calls answered, dropped ones included.
    let after: Vec<_> = log
        .entries_after(3)
        .iter()
        .map(|entry| entry.request_id().clone())
        .collect();
    assert_eq!(after, request_ids[3..]);
    assert_eq!(
        log.entries_after(1).len(),
        3,
        "what is left of the calls after the first"
    );
    log.clear();
    assert_eq!((log.len(), log.dropped()), (0, 0));
}

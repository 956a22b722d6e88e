//! Every error's `Display` is one line that says what happened: text from
//! the network with its control characters escaped (nothing dropped, so
//! that it reads back), the cause and its causes named, and, for a retried
//! call, the attempts and why they stopped.

mod support;

use std::convert::Infallible;
use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use proptest::prelude::*;
use serde::ser::{Error as _, Serialize, Serializer};
use support::escape::{breaks_a_log, unescape};
use support::server::{self, full, reply, request};
use tower::retry::RetryLayer;
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::retry::{RetryBudget, RetryPolicy};
use tower_tencentcloud::{
    ApiError, Code, EnvelopeLayer, Error, LayerError, RequestId, RetryClass, StopReason,
};

/// Asserts that `line` is one line that cannot break a log.
fn assert_one_line(line: &str) {
    assert!(!line.chars().any(breaks_a_log), "{line:?}");
}

/// The error of an envelope layer over a transport that answers `body`.
async fn error_of(status: StatusCode, body: String) -> Error {
    let transport = tower::service_fn(move |_: Request<Full<Bytes>>| {
        let mut response = Response::new(Full::new(Bytes::from(body.clone())));
        *response.status_mut() = status;
        async move { Ok::<_, Infallible>(response) }
    });
    EnvelopeLayer::new()
        .layer(transport)
        .oneshot(Request::new(Full::new(Bytes::new())))
        .await
        .unwrap_err()
}

proptest! {
    #[test]
    fn api_errors_from_any_body_display_on_one_line_and_read_back(
        code in any::<String>(),
        message in any::<String>(),
        request_id in any::<String>(),
    ) {
        let body = serde_json::json!({
            "Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}
        })
        .to_string();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let err = runtime.block_on(error_of(StatusCode::OK, body));
        let line = err.to_string();
        prop_assert!(!line.chars().any(breaks_a_log), "{line:?}");
        // Every character is there, escaped or as it was.
        let raw = format!("{code}: {message} (RequestId: {request_id})");
        prop_assert_eq!(unescape(&line), Some(raw));

        let shown_code = Code::new(code.as_str()).to_string();
        let shown_id = RequestId::new(request_id.as_str()).to_string();
        for shown in [&shown_code, &shown_id] {
            prop_assert!(!shown.chars().any(breaks_a_log), "{shown:?}");
        }
        prop_assert_eq!(unescape(&shown_code), Some(code));
        prop_assert_eq!(unescape(&shown_id), Some(request_id));
    }

    #[test]
    fn bodies_that_are_not_envelopes_display_on_one_line(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        request_id in any::<String>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut with_id = br#"{"Response":{"RequestId":"#.to_vec();
        with_id.extend_from_slice(serde_json::to_string(&request_id).unwrap().as_bytes());
        with_id.extend_from_slice(b",");
        with_id.extend_from_slice(&body);
        for body in [body.clone(), with_id] {
            let body = String::from_utf8_lossy(&body).into_owned();
            let err = runtime.block_on(error_of(StatusCode::BAD_GATEWAY, body));
            let line = err.to_string();
            prop_assert!(!line.chars().any(breaks_a_log), "{line:?}");
        }
    }
}

#[tokio::test]
async fn a_hostile_gateway_cannot_forge_a_log_line_nor_glue_words() {
    let body = serde_json::json!({"Response": {
        "Error": {"Code": "InvalidParameter\r\nINFO forged", "Message": "line one\nline two \u{1b}[2J\\"},
        "RequestId": "r-1\r\n2026-12-01T00:00:00Z INFO login ok",
    }})
    .to_string();
    let addr =
        server::serve_fixed(move || reply(200, "application/json", full(body.clone()))).await;
    let err = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    let line = err.to_string();
    assert_eq!(
        line,
        r"InvalidParameter\r\nINFO forged: line one\nline two \u{1b}[2J\\ (RequestId: r-1\r\n2026-12-01T00:00:00Z INFO login ok)"
    );
    // The typed parts keep the text as it came.
    assert_eq!(
        err.request_id().unwrap(),
        "r-1\r\n2026-12-01T00:00:00Z INFO login ok"
    );
    assert_eq!(
        err.as_api().unwrap().message(),
        "line one\nline two \u{1b}[2J\\"
    );
}

#[tokio::test]
async fn a_binary_body_shows_its_bytes_escaped() {
    let addr = server::serve_fixed(|| {
        reply(
            502,
            "",
            full(&b"\x00\x01\xff\xfe<html>\r\n\x1b]0;owned\x07"[..]),
        )
    })
    .await;
    let err = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"response is not an API 3.0 envelope: invalid JSON: at byte 0 (HTTP 502); body starts with "\u{0}\u{1}\xff\xfe<html>\r\n\u{1b}]0;owned\u{7}""#
    );
}

/// Asserts that `line` names `cause` and each of its own causes.
fn assert_names_every_cause(line: &str, cause: &(dyn std::error::Error + 'static)) {
    let mut next = Some(cause);
    while let Some(cause) = next {
        assert!(line.contains(&cause.to_string()), "{line:?} lacks {cause}");
        next = cause.source();
    }
}

#[tokio::test]
async fn a_refused_connection_names_the_os_error_in_the_line() {
    // A port that was just free: nothing listens there.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("not a transport error: {err:?}");
    };
    let line = err.to_string();
    assert_one_line(&line);
    assert!(
        line.starts_with("the inner service failed: client error (Connect)"),
        "{line}"
    );
    assert_names_every_cause(&line, transport.get_ref());
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let os_error =
        std::iter::successors(Some(transport.get_ref() as &dyn std::error::Error), |e| {
            (*e).source()
        })
        .find_map(|e| e.downcast_ref::<std::io::Error>())
        .expect("an io::Error among the causes");
    assert_eq!(os_error.kind(), refused.kind());
    assert!(line.ends_with(&os_error.to_string()), "{line}");
}

#[tokio::test]
async fn a_body_failing_midway_names_its_cause() {
    let addr = server::serve(|_| async {
        let (tx, body) = server::channel();
        tokio::spawn(async move {
            let _ = tx.send(Ok(Bytes::from_static(br#"{"Response":{"#))).await;
            let _ = tx.send(Err(std::io::Error::other("gateway hung up"))).await;
        });
        let mut r = reply(200, "application/json", body);
        r.headers_mut()
            .insert("x-tc-requestid", "mid".parse().unwrap());
        r
    })
    .await;
    let err = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    let Error::Body(body) = &err else {
        panic!("not a body error: {err:?}");
    };
    let line = err.to_string();
    assert_one_line(&line);
    assert!(
        line.starts_with("reading the response body failed: "),
        "{line}"
    );
    assert!(line.ends_with(" (HTTP 200, RequestId: mid)"), "{line}");
    assert_names_every_cause(&line, body.get_ref());
}

/// `{"Response":{"TotalCount":0,"RequestId":"gz-1"}}`, gzipped.
const GZIPPED: &[u8] = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff\xab\x56\x0a\x4a\x2d\x2e\xc8\xcf\x2b\x4e\x55\xb2\xaa\x56\x0a\xc9\x2f\x49\xcc\x71\xce\x2f\xcd\x2b\x51\xb2\x32\xd0\x01\x4a\x15\x96\xa6\x16\x97\x78\xa6\x28\x59\x29\xa5\x57\xe9\x1a\x2a\xd5\xd6\x02\x00\x30\xe0\x61\x48\x30\x00\x00\x00";

#[tokio::test]
async fn a_compressed_body_names_its_content_encoding_and_the_fix() {
    let addr = server::serve_fixed(|| {
        let mut r = reply(200, "application/json", full(GZIPPED));
        r.headers_mut()
            .insert("content-encoding", "gzip".parse().unwrap());
        r
    })
    .await;
    let err = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    let Error::NotEnvelope(not_envelope) = &err else {
        panic!("not NotEnvelope: {err:?}");
    };
    assert_eq!(not_envelope.content_encoding().unwrap(), "gzip");
    let line = err.to_string();
    assert_one_line(&line);
    assert!(
        line.starts_with(
            "response is not an API 3.0 envelope: invalid JSON: at byte 0 (HTTP 200); \
             the body has Content-Encoding: gzip, which the envelope layer does not decode: \
             decompress below it (tower-http's DecompressionLayer, or reqwest's gzip feature); \
             body starts with \"\\u{1f}\\x8b\\u{8}\\u{0}"
        ),
        "{line}"
    );

    // `identity` is no encoding: no hint.
    let addr = server::serve_fixed(|| {
        let mut r = reply(200, "application/json", full("<html>"));
        r.headers_mut()
            .insert("content-encoding", "identity".parse().unwrap());
        r
    })
    .await;
    let err = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("Content-Encoding"), "{err}");
}

/// An envelope layer over a transport that answers every call with `code`,
/// under a retry policy; and the count of calls.
fn retried(
    policy: RetryPolicy,
    code: &'static str,
) -> (
    impl tower::Service<
        Request<String>,
        Response = Response<tower_tencentcloud::EnvelopeBody<String>>,
        Error = Error,
    >,
    Arc<AtomicUsize>,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let transport = tower::service_fn(move |_: Request<String>| {
        let call = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let body = format!(
                r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"m"}},"RequestId":"r-{call}"}}}}"#
            );
            Ok::<_, Infallible>(Response::new(body))
        }
    });
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(EnvelopeLayer::new())
        .service(transport);
    (service, calls)
}

fn action(action: &str) -> Request<String> {
    Request::builder()
        .header("x-tc-action", action)
        .body(String::from("{}"))
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_error_of_a_retried_call_says_how_many_attempts_and_why_they_stopped() {
    // Attempts ran out.
    let (service, calls) = retried(RetryPolicy::default().max_attempts(3), "InternalError");
    let err = service.oneshot(action("DescribeZones")).await.unwrap_err();
    let stopped = err.retry_stopped().unwrap();
    assert_eq!(
        (stopped.attempts(), stopped.reason()),
        (3, StopReason::AttemptsExhausted)
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        err.to_string(),
        "InternalError: m (RequestId: r-2) (after 3 attempts: attempt limit reached)"
    );

    // Throttled retries ran out.
    let (service, calls) = retried(
        RetryPolicy::default().max_throttled_retries(2),
        "RequestLimitExceeded",
    );
    let err = service.oneshot(action("DescribeZones")).await.unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        err.to_string(),
        "RequestLimitExceeded: m (RequestId: r-2) (after 3 attempts: throttled retry limit reached)"
    );

    // The budget ran out: one saved token, nothing more trickles in.
    let budget = RetryBudget::new()
        .ratio(0.0)
        .min_per_second(0)
        .max_tokens(1);
    let policy = RetryPolicy::default().max_attempts(10).budget(budget);
    let (service, calls) = retried(policy, "InternalError");
    let err = service.oneshot(action("DescribeZones")).await.unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        err.retry_stopped().unwrap().reason(),
        StopReason::BudgetExhausted
    );
    assert_eq!(
        err.to_string(),
        "InternalError: m (RequestId: r-1) (after 2 attempts: retry budget exhausted)"
    );

    // A write that may have run is not replayed.
    let (service, _) = retried(RetryPolicy::default(), "InternalError");
    let err = service.oneshot(action("RunInstances")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "InternalError: m (RequestId: r-0) (after 1 attempt: transient failure of a request not safe to replay)"
    );

    // Not retryable at all: recorded, but the line has nothing to add.
    let (service, _) = retried(RetryPolicy::default(), "LimitExceeded.CvmQuota");
    let err = service.oneshot(action("RunInstances")).await.unwrap_err();
    let stopped = err.retry_stopped().unwrap();
    assert_eq!(
        (stopped.attempts(), stopped.reason()),
        (1, StopReason::NotRetryable)
    );
    assert_eq!(
        err.to_string(),
        "LimitExceeded.CvmQuota: m (RequestId: r-0)"
    );

    // Without a retry policy, nothing is recorded.
    let err = Error::from(ApiError::new(StatusCode::OK, "InternalError", "m"));
    assert_eq!(err.retry_stopped(), None);
}

/// Fails to serialize, with a message of several lines.
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(S::Error::custom("first line\nsecond line"))
    }
}

#[derive(Debug)]
struct Outer(std::io::Error);

impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("outer\rfailure")
    }
}

impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn every_other_error_of_the_crate_displays_on_one_line() {
    let err = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .params(&Unserializable)
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r"invalid parameters: first line\nsecond line"
    );

    let err = ActionRequest::new("cvm", "2017-03-12\n", "DescribeZones")
        .build()
        .unwrap_err();
    assert_one_line(&err.to_string());

    let err = tower_tencentcloud::envelope::decode(b"{\"Response\":\x01").unwrap_err();
    assert_one_line(&err.to_string());

    // A layer's error and its causes, each once.
    let layer = LayerError::new(
        Outer(std::io::Error::other("inner\nfailure")),
        RetryClass::Never,
    )
    .with_response(StatusCode::OK, Some(RequestId::new("r\n1")));
    let err = Error::from(layer);
    assert_eq!(
        err.to_string(),
        r"outer\rfailure: inner\nfailure (HTTP 200, RequestId: r\n1)"
    );
}

#[test]
fn a_report_that_walks_the_sources_names_each_cause_once() {
    let elapsed: tower_tencentcloud::BoxError = Box::new(tower::timeout::error::Elapsed::new());
    let layer = LayerError::new(Outer(std::io::Error::other("inner")), RetryClass::Never);
    for err in [Error::from_boxed(elapsed), Error::from(layer)] {
        // As anyhow's `{:#}` or tracing's error chains would walk it.
        let chain: Vec<String> =
            std::iter::successors(Some(&err as &dyn std::error::Error), |e| (*e).source())
                .map(ToString::to_string)
                .collect();
        assert_eq!(chain.len(), 1, "{chain:?}");
        assert!(err.source().is_none());
    }
}

//! The behaviour table of the README, row by row, through a real hyper
//! server on 127.0.0.1 and hyper-util's client.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;
use support::server::{self, full, reply, request};
use tower::{Layer, ServiceExt};
use tower_tencentcloud::{
    Category, DecodeErrorKind, EnvelopeBody, EnvelopeLayer, Error, RequestId, RetryClass,
};

const SUCCESS: &str = r#"{"Response":{"TotalCount":1,"InstanceSet":[{"InstanceId":"ins-1"}],"RequestId":"b5b41468-520d-4192-b42f-595cc34b6c1c"}}"#;

type Outcome = Result<http::Response<EnvelopeBody<hyper::body::Incoming>>, Error>;

/// Calls a server that answers every request with `make()` through the layer.
async fn call_with<M>(layer: EnvelopeLayer, make: M) -> Outcome
where
    M: Fn() -> http::Response<server::Body> + Send + Sync + 'static,
{
    let addr = server::serve_fixed(make).await;
    layer.layer(server::client()).oneshot(request(addr)).await
}

async fn call<M>(make: M) -> Outcome
where
    M: Fn() -> http::Response<server::Body> + Send + Sync + 'static,
{
    call_with(EnvelopeLayer::new(), make).await
}

async fn body_bytes(response: http::Response<EnvelopeBody<hyper::body::Incoming>>) -> Bytes {
    response.into_body().collect().await.unwrap().to_bytes()
}

fn not_envelope(err: &Error) -> &tower_tencentcloud::NotEnvelope {
    match err {
        Error::NotEnvelope(inner) => inner,
        other => panic!("expected NotEnvelope, got {other:?}"),
    }
}

#[tokio::test]
async fn success_keeps_status_headers_and_body_and_records_request_id() {
    for content_type in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        "text/plain",
        "",
    ] {
        let response = call(move || {
            let mut r = reply(200, content_type, full(SUCCESS));
            r.headers_mut().insert("x-custom", "kept".parse().unwrap());
            r
        })
        .await
        .unwrap_or_else(|err| panic!("{content_type:?}: {err}"));
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-custom"], "kept");
        assert_eq!(
            response.extensions().get::<RequestId>().unwrap(),
            "b5b41468-520d-4192-b42f-595cc34b6c1c"
        );
        assert_eq!(response.body().as_bytes().unwrap(), SUCCESS.as_bytes());
        assert_eq!(body_bytes(response).await, SUCCESS.as_bytes());
    }
}

#[tokio::test]
async fn a_body_in_many_chunks_is_reassembled_byte_for_byte() {
    let addr = server::serve(|_| async {
        let (tx, body) = server::channel();
        tokio::spawn(async move {
            for piece in SUCCESS.as_bytes().chunks(7) {
                tx.send(Ok(Bytes::copy_from_slice(piece))).await.unwrap();
            }
        });
        reply(200, "application/json", body)
    })
    .await;
    let response = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap();
    assert_eq!(body_bytes(response).await, SUCCESS.as_bytes());
}

#[tokio::test]
async fn error_envelope_is_an_api_error_whatever_the_status() {
    for status in [200, 400, 403, 500, 503] {
        let err = call(move || {
            reply(
                status,
                "application/json",
                full(r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#),
            )
        })
        .await
        .unwrap_err();
        let api = err.as_api().expect("an API error");
        assert_eq!(api.code(), "AuthFailure.SignatureFailure");
        assert_eq!(api.code().category(), Category::AuthFailure);
        assert_eq!(
            api.message(),
            "The provided credentials could not be validated."
        );
        assert_eq!(
            api.request_id().unwrap(),
            "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"
        );
        assert_eq!(api.status().as_u16(), status);
        assert_eq!(err.status().unwrap().as_u16(), status);
        assert_eq!(err.retry_class(), RetryClass::Never);
        assert!(err.to_string().contains("AuthFailure.SignatureFailure"));
        assert!(
            err.to_string()
                .contains("ed93f3cb-f35e-473f-b9f3-0d451b8b79c6")
        );
    }
}

#[tokio::test]
async fn error_keys_inside_payload_values_or_strings_are_payload() {
    let bodies = [
        r#"{"Response":{"Items":[{"Error":{"Code":"InternalError"}}],"RequestId":"r"}}"#,
        r#"{"Response":{"Note":"\"Error\":{\"Code\":\"InternalError\"}","RequestId":"r"}}"#,
        r#"{"Response":{"Nested":{"Response":{"Error":{"Code":"X"}}},"RequestId":"r"}}"#,
        r#"{"Other":{"Error":{"Code":"X"}},"Response":{"RequestId":"r"}}"#,
    ];
    for body in bodies {
        let response = call(move || reply(200, "application/json", full(body)))
            .await
            .unwrap_or_else(|err| panic!("{body}: {err}"));
        assert_eq!(response.extensions().get::<RequestId>().unwrap(), "r");
    }
}

#[tokio::test]
async fn pretty_printed_reordered_and_escaped_envelopes_decode() {
    let body = "{\n  \"Response\" : {\n    \"RequestId\" : \"r-\\u0031\",\n    \"Payload\": [1, 2.5e3, true, null, \"\\\"}\"],\n    \"Error\" : {\n      \"Message\" : \"say \\\"hi\\\" \\u4f60\\u597d \\ud83d\\ude00\\n\",\n      \"Code\" : \"InvalidParameter.Bad\"\n    }\n  }\n}\n";
    let err = call(move || reply(200, "application/json", full(body)))
        .await
        .unwrap_err();
    let api = err.as_api().unwrap();
    assert_eq!(api.code(), "InvalidParameter.Bad");
    assert_eq!(api.message(), "say \"hi\" 你好 😀\n");
    assert_eq!(api.request_id().unwrap(), "r-1");
    // Display stays on one line.
    assert!(!err.to_string().contains('\n'));
}

#[tokio::test]
async fn event_streams_pass_through_as_soon_as_the_head_arrives() {
    for content_type in ["text/event-stream", "application/octet-stream; x=1"] {
        let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
        let release_rx = std::sync::Mutex::new(Some(release_rx));
        let addr = server::serve(move |_| {
            let release = release_rx.lock().unwrap().take().unwrap();
            async move {
                let (tx, body) = server::channel();
                tokio::spawn(async move {
                    tx.send(Ok(Bytes::from_static(b"data: one\n\n")))
                        .await
                        .unwrap();
                    // The rest only once the client has seen the head.
                    release.await.unwrap();
                    tx.send(Ok(Bytes::from_static(b"data: two\n\n")))
                        .await
                        .unwrap();
                });
                let mut r = reply(200, content_type, body);
                r.headers_mut()
                    .insert("x-tc-requestid", "stream-id".parse().unwrap());
                r
            }
        })
        .await;
        let response = tokio::time::timeout(
            Duration::from_secs(30),
            EnvelopeLayer::new()
                .layer(server::client())
                .oneshot(request(addr)),
        )
        .await
        .expect("the head must not wait for the body")
        .unwrap();
        assert_eq!(
            response.extensions().get::<RequestId>().unwrap(),
            "stream-id"
        );
        assert!(response.body().is_stream());
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(first, "data: one\n\n");
        release_tx.send(()).unwrap();
        let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(second, "data: two\n\n");
        assert!(body.frame().await.is_none());
    }
}

#[tokio::test]
async fn a_gateway_page_is_not_an_envelope_and_keeps_status_header_id_and_prefix() {
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let err = call(move || {
        let mut r = reply(502, "text/html", full(page));
        r.headers_mut()
            .insert("x-tc-requestid", "gw-1".parse().unwrap());
        r
    })
    .await
    .unwrap_err();
    let inner = not_envelope(&err);
    assert_eq!(inner.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(err.request_id().unwrap(), "gw-1");
    assert_eq!(inner.body_prefix(), page.as_bytes());
    assert_eq!(inner.reason().kind(), DecodeErrorKind::Syntax);
    assert_eq!(err.retry_class(), RetryClass::Transient);
    // The line names the reason; source() does not repeat it.
    assert_eq!(
        err.to_string(),
        format!(
            "response is not an API 3.0 envelope: invalid JSON: at byte 0 (HTTP 502, RequestId: gw-1); body starts with \"{page}\""
        )
    );
    assert!(std::error::Error::source(&err).is_none());
}

#[tokio::test]
async fn gateway_statuses_without_an_envelope_classify_by_status() {
    for (status, class) in [
        (429, RetryClass::Throttled),
        (502, RetryClass::Transient),
        (503, RetryClass::Transient),
        (504, RetryClass::Transient),
        (414, RetryClass::Never),
        (200, RetryClass::Never),
    ] {
        let err = call(move || reply(status, "text/html", full("<html></html>")))
            .await
            .unwrap_err();
        assert!(err.is_not_envelope());
        assert_eq!(err.retry_class(), class, "HTTP {status}");
    }
}

#[tokio::test]
async fn bodies_that_are_not_envelopes() {
    let long_garbage: &'static str = "x".repeat(10_000).leak();
    let cases: [(&str, DecodeErrorKind, Option<&str>); 10] = [
        ("", DecodeErrorKind::Syntax, None),
        (
            r#"{"Response":{"RequestId":"r-t","#,
            DecodeErrorKind::Syntax,
            Some("r-t"),
        ),
        ("not json at all", DecodeErrorKind::Syntax, None),
        (long_garbage, DecodeErrorKind::Syntax, None),
        (
            r#"{"Result":{"RequestId":"r"}}"#,
            DecodeErrorKind::MissingResponse,
            None,
        ),
        (
            r#"{"Response":[1,2]}"#,
            DecodeErrorKind::MissingResponse,
            None,
        ),
        (
            r#"[{"Response":{}}]"#,
            DecodeErrorKind::MissingResponse,
            None,
        ),
        (
            r#"{"Response":{"RequestId":"r-c","Error":{"Code":42,"Message":"m"}}}"#,
            DecodeErrorKind::InvalidError,
            Some("r-c"),
        ),
        (
            r#"{"Response":{"Error":{"Code":"A","Message":"m"},"Error":{"Code":"B","Message":"m"},"RequestId":"r-d"}}"#,
            DecodeErrorKind::DuplicateKey,
            Some("r-d"),
        ),
        (
            r#"{"Response":{"RequestId":"r-x"}} trailing"#,
            DecodeErrorKind::Syntax,
            Some("r-x"),
        ),
    ];
    for (body, kind, request_id) in cases {
        let err = call(move || reply(200, "application/json", full(body)))
            .await
            .unwrap_err();
        let inner = not_envelope(&err);
        assert_eq!(inner.reason().kind(), kind, "{body:?}");
        assert_eq!(inner.status(), StatusCode::OK);
        assert_eq!(
            err.request_id().map(RequestId::as_str),
            request_id,
            "{body:?}"
        );
        assert_eq!(inner.body_prefix(), &body.as_bytes()[..body.len().min(256)]);
    }
}

#[tokio::test]
async fn a_declared_content_length_over_the_limit_is_refused_unread() {
    let body = format!(
        r#"{{"Response":{{"Pad":"{}","RequestId":"r"}}}}"#,
        "a".repeat(2000)
    );
    let err = call_with(EnvelopeLayer::new().max_body_size(1024), move || {
        reply(200, "application/json", full(body.clone()))
    })
    .await
    .unwrap_err();
    match &err {
        Error::BodyTooLarge(inner) => assert_eq!(inner.limit(), 1024),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.retry_class(), RetryClass::Never);
    assert_eq!(err.status(), Some(StatusCode::OK));
}

#[tokio::test]
async fn a_streamed_body_past_the_limit_is_refused() {
    let addr = server::serve(|_| async {
        let (tx, body) = server::channel();
        tokio::spawn(async move {
            for _ in 0..100 {
                if tx.send(Ok(Bytes::from(vec![b' '; 100]))).await.is_err() {
                    return;
                }
            }
        });
        reply(200, "application/json", body)
    })
    .await;
    let err = EnvelopeLayer::new()
        .max_body_size(1000)
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    assert!(err.is_body_too_large(), "{err:?}");
}

#[tokio::test]
async fn an_endless_body_ends_at_the_limit() {
    let err = tokio::time::timeout(
        Duration::from_secs(60),
        call_with(EnvelopeLayer::new().max_body_size(4 << 20), || {
            reply(
                200,
                "application/json",
                server::endless(Bytes::from(vec![b'['; 64 << 10])),
            )
        }),
    )
    .await
    .expect("an endless body must not hang the layer")
    .unwrap_err();
    assert!(err.is_body_too_large(), "{err:?}");
}

#[tokio::test]
async fn a_failed_inner_service_keeps_its_cause() {
    // A port that was just free: nothing listens there.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let err = EnvelopeLayer::new()
        .layer(server::client())
        .oneshot(request(addr))
        .await
        .unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(err.retry_class(), RetryClass::Transient);
    assert_eq!(err.status(), None);
    let Error::Transport(transport) = &err else {
        panic!("not a transport error: {err:?}");
    };
    let cause = transport.get_ref();
    assert!(cause.is::<hyper_util::client::legacy::Error>(), "{cause:?}");
}

#[tokio::test]
async fn a_body_failing_midway_keeps_its_cause() {
    let addr = server::serve(|_| async {
        let (tx, body) = server::channel();
        tokio::spawn(async move {
            tx.send(Ok(Bytes::from_static(br#"{"Response":{"#)))
                .await
                .unwrap();
            tx.send(Err(std::io::Error::other("gateway hung up")))
                .await
                .unwrap();
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
    assert!(err.is_body(), "{err:?}");
    assert_eq!(err.retry_class(), RetryClass::Transient);
    assert_eq!(err.request_id().unwrap(), "mid");
    let Error::Body(body) = &err else {
        panic!("not a body error: {err:?}");
    };
    assert!(body.get_ref().is::<hyper::Error>(), "{err:?}");
}

#[tokio::test]
async fn hostile_bodies_end_in_an_error_or_success_never_a_panic() {
    let deep_array = "[".repeat(200_000);
    let deep_payload = format!(
        r#"{{"Response":{{"Deep":{}{},"RequestId":"r"}}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let huge_string = format!(
        r#"{{"Response":{{"Big":"{}","RequestId":"r"}}}}"#,
        "z".repeat(8 << 20)
    );
    let mut invalid_utf8 = br#"{"Response":{"Bad":""#.to_vec();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    invalid_utf8.extend_from_slice(br#"","RequestId":"r"}}"#);

    for body in [deep_array.into_bytes(), invalid_utf8] {
        let body = Bytes::from(body);
        let err = call(move || reply(200, "application/json", full(body.clone())))
            .await
            .unwrap_err();
        assert!(err.is_not_envelope(), "{err:?}");
    }
    // Valid, however deep or large: success.
    for body in [deep_payload, huge_string] {
        let body = Bytes::from(body);
        let response = call(move || reply(200, "application/json", full(body.clone())))
            .await
            .unwrap();
        assert_eq!(response.extensions().get::<RequestId>().unwrap(), "r");
    }
}

#[test]
fn the_service_and_its_future_are_send_and_clone() {
    fn send<T: Send>(_: &T) {}
    fn clone<T: Clone>(_: &T) {}
    let service = EnvelopeLayer::new().layer(server::client());
    clone(&service);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let future = service
        .clone()
        .oneshot(request("127.0.0.1:9".parse().unwrap()));
    send(&future);
}

#[test]
fn the_error_is_send_sync_static() {
    fn check<T: Send + Sync + 'static + std::error::Error>() {}
    check::<Error>();
}

#[test]
fn a_boxed_error_comes_back_as_it_was_or_as_a_transport_error() {
    use tower_tencentcloud::{ApiError, BoxError};
    let api: BoxError = Box::new(Error::from(ApiError::new(
        StatusCode::OK,
        "RequestLimitExceeded",
        "slow down",
    )));
    let back = Error::from(api);
    assert_eq!(back.code().unwrap(), "RequestLimitExceeded");
    assert_eq!(back.retry_class(), RetryClass::Throttled);

    let elapsed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
    let wrapped = Error::from(elapsed);
    let Error::Transport(transport) = &wrapped else {
        panic!("not a transport error: {wrapped:?}");
    };
    assert!(transport.get_ref().is::<tower::timeout::error::Elapsed>());
}

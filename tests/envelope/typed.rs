//! The typed envelope layer through a real hyper server on 127.0.0.1 and
//! hyper-util's client, under the retry policy as in a real stack: the
//! fields as the caller's type, and the same verdicts as the untyped layer.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http_body_util::BodyExt;
use serde::Deserialize;
use support::server::{self, full, reply, request};
use tower::retry::RetryLayer;
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_tencentcloud::envelope::{TypedBody, TypedEnvelopeLayer};
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::{DecodeErrorKind, EnvelopeLayer, Error, RequestId, RetryClass};

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstances {
    total_count: u64,
    instance_set: Vec<Instance>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Instance {
    instance_id: String,
    instance_name: String,
}

const SUCCESS: &str = r#"{"Response":{"TotalCount":1,"InstanceSet":[{"InstanceId":"ins-1","InstanceName":"web \"1\" \u4f60\u597d","Error":{"Code":"payload"}}],"RequestId":"b5b41468-520d-4192-b42f-595cc34b6c1c"}}"#;

type Outcome = Result<http::Response<TypedBody<DescribeInstances, hyper::body::Incoming>>, Error>;

/// Calls, through Retry and the typed layer, a server that answers the
/// n-th request (from 0) with `answer(n)`; gives the outcome and the number
/// of requests the server saw.
async fn call<A>(answer: A) -> (Outcome, usize)
where
    A: Fn(usize) -> http::Response<server::Body> + Send + Sync + 'static,
{
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let addr = server::serve(move |_| {
        let response = answer(counter.fetch_add(1, Ordering::SeqCst));
        async move { response }
    })
    .await;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(EnvelopeLayer::new().typed::<DescribeInstances>())
        .service(server::client());
    let outcome = client.oneshot(request(addr)).await;
    (outcome, seen.load(Ordering::SeqCst))
}

fn json(status: u16, body: &'static str) -> http::Response<server::Body> {
    reply(status, "application/json", full(body))
}

#[tokio::test]
async fn a_success_is_the_callers_type_with_its_request_id() {
    let (outcome, requests) = call(|_| json(200, SUCCESS)).await;
    let response = outcome.unwrap();
    assert_eq!(requests, 1);
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.extensions().get::<RequestId>().unwrap(),
        "b5b41468-520d-4192-b42f-595cc34b6c1c"
    );
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 1);
    assert!(!response.body().is_stream());
    let fields = response.into_body().into_value().unwrap();
    assert_eq!(
        fields,
        DescribeInstances {
            total_count: 1,
            instance_set: vec![Instance {
                instance_id: "ins-1".into(),
                instance_name: "web \"1\" 你好".into(),
            }],
        }
    );
}

#[tokio::test(start_paused = true)]
async fn an_api_error_is_typed_and_a_throttle_is_retried() {
    const THROTTLED: &str = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow \"down\""},"RequestId":"r-throttled"}}"#;
    let (outcome, requests) = call(|n| {
        if n == 0 {
            json(200, THROTTLED)
        } else {
            json(200, SUCCESS)
        }
    })
    .await;
    assert_eq!(requests, 2);
    let response = outcome.unwrap();
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 2);
    assert_eq!(response.into_body().into_value().unwrap().total_count, 1);

    const DENIED: &str = r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"r-auth"}}"#;
    let (outcome, requests) = call(|_| json(401, DENIED)).await;
    let err = outcome.unwrap_err();
    assert_eq!(requests, 1);
    let api = err.as_api().expect("Error::Api");
    assert_eq!(api.code(), "AuthFailure.SignatureFailure");
    assert_eq!(
        api.message(),
        "The provided credentials could not be validated."
    );
    assert_eq!(api.request_id().unwrap(), "r-auth");
    assert_eq!(api.status(), 401);
    assert_eq!(err.retry_class(), RetryClass::Never);
}

#[tokio::test]
async fn fields_that_do_not_fit_are_a_deserialize_error_never_retried() {
    const WRONG: &str =
        r#"{"Response":{"TotalCount":"one","InstanceSet":[],"RequestId":"r-wrong"}}"#;
    let (outcome, requests) = call(|_| json(200, WRONG)).await;
    let err = outcome.unwrap_err();
    assert_eq!(requests, 1, "a type mismatch is not worth a retry");
    assert!(err.is_deserialize());
    assert_eq!(err.retry_class(), RetryClass::Never);
    assert_eq!(err.request_id().unwrap(), "r-wrong");
    assert_eq!(err.status(), Some(http::StatusCode::OK));
    let Error::Deserialize(inner) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(inner.body_prefix(), WRONG.as_bytes());
    assert!(inner.type_name().ends_with("DescribeInstances"));
    assert!(
        inner.get_ref().to_string().contains("invalid type"),
        "{}",
        inner.get_ref()
    );
    assert_eq!(
        err.to_string(),
        format!(
            "response fields do not deserialize into {}: {} (HTTP 200, RequestId: r-wrong)",
            inner.type_name(),
            inner.get_ref()
        )
    );
    // Display names serde_json's error, so source() does not repeat it.
    assert!(std::error::Error::source(&err).is_none());

    // A member missing, the RequestId only in the header.
    let (outcome, _) = call(|_| {
        let mut r = json(200, r#"{"Response":{"InstanceSet":[]}}"#);
        r.headers_mut()
            .insert("x-tc-requestid", "r-header".parse().unwrap());
        r
    })
    .await;
    let err = outcome.unwrap_err();
    assert!(err.is_deserialize());
    assert_eq!(err.request_id().unwrap(), "r-header");

    // A RequestId with a line break, as a body may carry: Display stays one line.
    let (outcome, _) = call(|_| json(200, r#"{"Response":{"RequestId":"r-\u0031\n2"}}"#)).await;
    let err = outcome.unwrap_err();
    assert_eq!(err.request_id().unwrap(), "r-1\n2");
    assert!(
        err.to_string().ends_with("(HTTP 200, RequestId: r-1\\n2)"),
        "{err}"
    );
}

/// The envelope's members are read before the caller's first member, whose
/// name the caller's type then still sees, escaped or not, wherever the
/// envelope's members are.
#[test]
fn the_callers_first_member_is_read_after_the_envelopes() {
    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase", deny_unknown_fields)]
    struct Zones {
        total_count: u64,
        zone_set: Vec<String>,
    }
    let expected = Zones {
        total_count: 1,
        zone_set: vec!["ap-guangzhou-3".into()],
    };
    for body in [
        r#"{"Response":{"TotalCount":1,"ZoneSet":["ap-guangzhou-3"],"RequestId":"r"}}"#,
        r#"{"Response":{"RequestId":"r","TotalCount":1,"ZoneSet":["ap-guangzhou-3"]}}"#,
        r#"{"Response":{"RequestId":"r","\u0054otalCount":1,"ZoneSet":["ap-guangzhou-3"]}}"#,
        r#"{"Response":{"\u0054otalCount":1,"RequestId":"r","Zone\u0053et":["ap-guangzhou-3"]}}"#,
    ] {
        let body = bytes::Bytes::from(body);
        let response =
            tower_tencentcloud::envelope::decode_response::<Zones>(http::Response::new(&body))
                .unwrap_or_else(|err| panic!("{err}: {body:?}"));
        assert_eq!(response.body(), &expected);
        assert_eq!(response.extensions().get::<RequestId>().unwrap(), "r");
    }
    // `deny_unknown_fields` refuses a first member it does not know.
    let body = bytes::Bytes::from_static(br#"{"Response":{"RequestId":"r","Zone":1}}"#);
    let err = tower_tencentcloud::envelope::decode_response::<Zones>(http::Response::new(&body))
        .unwrap_err();
    assert!(err.is_deserialize(), "{err}");
    assert_eq!(err.request_id().unwrap(), "r");
    // An error envelope is the API error, however little of it fits.
    let body = bytes::Bytes::from_static(
        br#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"m"},"Zone":1,"RequestId":"r"}}"#,
    );
    let err = tower_tencentcloud::envelope::decode_response::<Zones>(http::Response::new(&body))
        .unwrap_err();
    assert_eq!(err.code().unwrap(), "InvalidParameter");
    assert_eq!(err.request_id().unwrap(), "r");
}

#[tokio::test(start_paused = true)]
async fn not_an_envelope_is_what_the_untyped_layer_says() {
    let (outcome, requests) =
        call(|_| reply(502, "text/html", full("<html>502 Bad Gateway</html>"))).await;
    let err = outcome.unwrap_err();
    // A read-only action, a transient failure: every attempt was made.
    assert_eq!(requests, 4);
    assert_eq!(err.retry_class(), RetryClass::Transient);
    let Error::NotEnvelope(inner) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(inner.reason().kind(), DecodeErrorKind::Syntax);
    assert_eq!(inner.body_prefix(), b"<html>502 Bad Gateway</html>");

    for (body, kind) in [
        (
            r#"{"Response":{"RequestId":"a","RequestId":"b"}}"#,
            DecodeErrorKind::DuplicateKey,
        ),
        (
            r#"{"Response":{"Error":{"Code":7}}}"#,
            DecodeErrorKind::InvalidError,
        ),
        (r#"{"Other":{}}"#, DecodeErrorKind::MissingResponse),
        (
            r#"{"Response":{"TotalCount":1,"InstanceSet":[]"#,
            DecodeErrorKind::Syntax,
        ),
    ] {
        let (outcome, requests) = call(move |_| json(200, body)).await;
        let err = outcome.unwrap_err();
        assert_eq!(requests, 1, "{body}");
        match &err {
            Error::NotEnvelope(inner) => assert_eq!(inner.reason().kind(), kind, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_stream_passes_through_unread() {
    let (outcome, _) = call(|_| {
        let mut r = reply(
            200,
            "text/event-stream",
            full("data: {\"Text\":\"hi\"}\n\n"),
        );
        r.headers_mut()
            .insert("x-tc-requestid", "r-stream".parse().unwrap());
        r
    })
    .await;
    let response = outcome.unwrap();
    assert_eq!(
        response.extensions().get::<RequestId>().unwrap(),
        "r-stream"
    );
    assert!(response.body().is_stream());
    let stream = response.into_body().into_stream().unwrap();
    let bytes = stream.collect().await.unwrap().to_bytes();
    assert_eq!(bytes, "data: {\"Text\":\"hi\"}\n\n");
}

#[tokio::test]
async fn a_body_over_the_limit_is_not_read() {
    let addr = server::serve_fixed(|| json(200, SUCCESS)).await;
    let client = TypedEnvelopeLayer::<DescribeInstances>::new()
        .max_body_size(16)
        .layer(server::client());
    let err = client.oneshot(request(addr)).await.unwrap_err();
    assert!(err.is_body_too_large());
}

/// Nesting deeper than serde_json reads, inside a member the type reads:
/// a typed error, not a crash; the same depth in a member it ignores fits.
#[tokio::test]
async fn deep_payloads_give_a_typed_error_never_a_crash() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Deep {
        #[serde(rename = "Deep")]
        deep: serde_json::Value,
    }
    let nested = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
    let body: &'static str =
        format!(r#"{{"Response":{{"Deep":{nested},"Ignored":{nested},"RequestId":"r-deep"}}}}"#)
            .leak();
    let addr = server::serve_fixed(move || json(200, body)).await;
    let deep = EnvelopeLayer::new().typed::<Deep>().layer(server::client());
    let err = deep.oneshot(request(addr)).await.unwrap_err();
    assert!(err.is_deserialize(), "{err:?}");
    assert_eq!(err.request_id().unwrap(), "r-deep");
    let Error::Deserialize(inner) = &err else {
        panic!("{err:?}")
    };
    assert!(
        inner.get_ref().to_string().contains("recursion limit"),
        "{}",
        inner.get_ref()
    );

    #[derive(Debug, Deserialize)]
    struct Shallow {
        #[serde(rename = "Other", default)]
        other: Option<u8>,
    }
    let shallow = EnvelopeLayer::new()
        .typed::<Shallow>()
        .layer(server::client());
    let response = shallow.oneshot(request(addr)).await.unwrap();
    assert_eq!(response.into_body().into_value().unwrap().other, None);
}

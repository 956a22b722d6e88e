//! The differential test of the typed layer: on the envelope decoder's own
//! corpora, its verdict is the untyped layer's, both layers called alike.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body_util::Full;
use proptest::prelude::*;
use serde::Deserialize;
use serde::de::IgnoredAny;
use tower::{Layer, Service};

use crate::action::header::X_TC_REQUESTID;
use crate::envelope::oracle::tests::{envelope, mutated};
use crate::envelope::{EnvelopeLayer, TypedEnvelopeLayer};
use crate::error::Error;
use crate::request_id::RequestId;

/// A type every success envelope fits: it names a member no generated
/// body has, and ignores the rest.
#[derive(Deserialize)]
struct Anything {
    #[serde(rename = "never_generated", default)]
    _absent: Option<IgnoredAny>,
}

/// A type no envelope fits: it requires a member no generated body has.
/// An error envelope is still the API error, whether its `Error` comes
/// before the caller's members (and the type is never run) or after them.
#[derive(Deserialize)]
struct Required {
    #[serde(rename = "never_generated")]
    _absent: IgnoredAny,
}

type Answer = std::future::Ready<Result<http::Response<Full<Bytes>>, std::convert::Infallible>>;

/// A transport that answers `body` at once, with a 503 and a RequestId
/// header, so that both are seen to be kept.
fn respond(
    body: &[u8],
) -> impl Service<
    http::Request<()>,
    Response = http::Response<Full<Bytes>>,
    Error = std::convert::Infallible,
    Future = Answer,
> + use<> {
    let body = Bytes::copy_from_slice(body);
    tower::service_fn(move |_: http::Request<()>| {
        let response = http::Response::builder()
            .status(503)
            .header(X_TC_REQUESTID, "from-header")
            .body(Full::new(body.clone()))
            .unwrap();
        std::future::ready(Ok(response))
    })
}

/// Polls once: everything below is ready at once.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("pending although everything below it is ready"),
    }
}

/// The untyped verdict as comparable parts.
#[derive(Debug, PartialEq)]
enum Verdict {
    Ok(Option<RequestId>),
    Api(String, String, Option<RequestId>, http::StatusCode),
    NotEnvelope(
        crate::DecodeError,
        Option<RequestId>,
        Vec<u8>,
        http::StatusCode,
    ),
    Deserialize(Option<RequestId>, Vec<u8>, http::StatusCode),
}

fn verdict_of_error(err: Error) -> Verdict {
    assert_eq!(
        err.to_string().lines().count(),
        1,
        "Display is one line: {err}"
    );
    match err {
        Error::Api(err) => Verdict::Api(
            err.code().to_string(),
            err.message().to_owned(),
            err.request_id().cloned(),
            err.status(),
        ),
        Error::NotEnvelope(err) => Verdict::NotEnvelope(
            err.reason().clone(),
            err.request_id().cloned(),
            err.body_prefix().to_vec(),
            err.status(),
        ),
        Error::Deserialize(err) => Verdict::Deserialize(
            err.request_id().cloned(),
            err.body_prefix().to_vec(),
            err.status(),
        ),
        other => panic!("unexpected {other:?}"),
    }
}

fn untyped(body: &[u8]) -> Verdict {
    let mut service = EnvelopeLayer::new().layer(respond(body));
    match now(service.call(http::Request::new(()))) {
        Ok(response) => Verdict::Ok(response.extensions().get::<RequestId>().cloned()),
        Err(err) => verdict_of_error(err),
    }
}

fn typed<T: serde::de::DeserializeOwned>(body: &[u8]) -> Verdict {
    let mut service = TypedEnvelopeLayer::<T>::new().layer(respond(body));
    match now(service.call(http::Request::new(()))) {
        Ok(response) => {
            assert!(response.body().get().is_some());
            Verdict::Ok(response.extensions().get::<RequestId>().cloned())
        }
        Err(err) => verdict_of_error(err),
    }
}

/// The rule: the same verdict, except that a success the untyped layer
/// passes may not fit `T` where serde_json refuses a payload scalar the
/// block scanner does not spell out (the untyped decoder's one divergence).
fn same_verdict(body: &[u8]) {
    let expected = untyped(body);
    for ours in [typed::<Anything>(body), typed::<IgnoredAny>(body)] {
        match (&expected, &ours) {
            (Verdict::Ok(id), Verdict::Deserialize(unfit_id, prefix, _)) => {
                assert!(
                    serde_json::from_slice::<IgnoredAny>(body).is_err(),
                    "fits nothing although serde_json reads it: {:?}",
                    String::from_utf8_lossy(body)
                );
                assert_eq!(id, unfit_id);
                assert_eq!(prefix, &body[..body.len().min(crate::BODY_PREFIX_LEN)]);
            }
            _ => assert_eq!(
                &expected,
                &ours,
                "body: {:?}",
                String::from_utf8_lossy(body)
            ),
        }
    }
    match (&expected, typed::<Required>(body)) {
        (Verdict::Ok(id), Verdict::Deserialize(unfit_id, prefix, _)) => {
            assert_eq!(id, &unfit_id);
            assert_eq!(prefix, &body[..body.len().min(crate::BODY_PREFIX_LEN)]);
        }
        (expected, ours) => {
            assert_eq!(expected, &ours, "body: {:?}", String::from_utf8_lossy(body))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn envelopes_decide_as_the_untyped_layer(body in envelope()) {
        same_verdict(&body);
    }

    #[test]
    fn mutated_envelopes_decide_as_the_untyped_layer(body in mutated()) {
        same_verdict(&body);
    }

    #[test]
    fn any_bytes_decide_as_the_untyped_layer(body in prop::collection::vec(any::<u8>(), 0..64)) {
        same_verdict(&body);
    }
}

fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn fixed_cases() {
    let deep = nested(100_000, "");
    let cases: Vec<Vec<u8>> = [
        "",
        "null",
        "{}",
        r#"{"Response":{}}"#,
        r#"{"Response":{"RequestId":"a"},"Response":{}}"#,
        r#"{"Response":7}"#,
        r#"{"Response":{"Error":{"Code":"X"},"Error":{"Code":"Y"}}}"#,
        r#"{"Response":{"RequestId":"a","RequestId":"b"}}"#,
        r#"{"Response":{"RequestId":"a"}} x"#,
        r#"{"Response":{"RequestId":7}}"#,
        r#"{"Response":{"Error":{"Code":7}}}"#,
        r#"{"Response":{"Error":{"Code":"A","Code":"B"}}}"#,
        r#"{"Response":{"Error":{"Code":"A","Message":null}}}"#,
        r#"{"Response":{"Error":["Code"]}}"#,
        r#"{"Response":{"Error":{"Message":"m"}}}"#,
        r#"{"Response":{"Error":{"Code":"A","Message":"\ud800"}}}"#,
        r#"{"Response":{"Items":[{"Error":{"Code":"Nested"}}],"RequestId":"r"}}"#,
        r#"{"Re\u0073ponse":{"\u0045rror":{"\u0043ode":"Z"},"Request\u0049d":"\u0072"}}"#,
        r#"{"Response":{"Error":{"Code":"InternalError","Message":"m","X":[1]},"RequestId":"r"},"Other":[]}"#,
        r#"{"Response":{"X":[tru]}}"#,
        r#"{"Response":{"Error":{"Code":"A"},"X":[tru]}}"#,
        r#"{"Response":{"RequestId":"r","Error":{"Code":"A"},"X":1,"Error":{"Code":"B"}}}"#,
        r#"{"Response":{"Error":{"Code":"A"},"X":1,"RequestId":"r","RequestId":"s"}}"#,
        r#"{"Response":{"X":1,"Error":{"Code":"A"},"RequestId":"r"}}"#,
        r#"{"Response":{"Error":{"Code":"A"},"X":{"Y":[1,"\ud800"]},"RequestId":"r"}}"#,
    ]
    .iter()
    .map(|body| body.as_bytes().to_vec())
    .chain([
        b"{\"Response\":{\"x\":\"\xff\"},\"RequestId\":\"r\"}".to_vec(),
        b"{\"Response\":{\"RequestId\":\"r\",\"x\":\"\xc3\"}}".to_vec(),
        format!(r#"{{"Response":{{"Deep":{deep},"RequestId":"r"}}}}"#).into_bytes(),
        format!(r#"{{"Deep":{deep},"Response":{{"RequestId":"r"}}}}"#).into_bytes(),
        format!(r#"{{"Response":{{"Error":{{"Code":"A","Deep":{deep}}}}}}}"#).into_bytes(),
        format!(r#"{{"Response":{{"Deep":{deep},"RequestId":"r"}}"#).into_bytes(),
    ])
    .collect();
    for body in &cases {
        same_verdict(body);
        for cut in [1, body.len() / 2] {
            same_verdict(&body[..body.len().saturating_sub(cut)]);
        }
    }
}

/// serde_json's recursion limit, inside a member `T` reads: a typed error,
/// never a crash, where the untyped layer passes the envelope.
#[test]
fn a_payload_deeper_than_serde_json_reads_does_not_fit() {
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Deep {
        #[serde(rename = "Deep")]
        deep: serde_json::Value,
    }
    for depth in [200, 100_000] {
        let body = format!(
            r#"{{"Response":{{"Deep":{},"RequestId":"r"}}}}"#,
            nested(depth, "")
        );
        assert_eq!(
            untyped(body.as_bytes()),
            Verdict::Ok(Some(RequestId::from("r")))
        );
        match typed::<Deep>(body.as_bytes()) {
            Verdict::Deserialize(id, _, status) => {
                assert_eq!(id, Some(RequestId::from("r")));
                assert_eq!(status, http::StatusCode::SERVICE_UNAVAILABLE);
            }
            other => panic!("{other:?}"),
        }
    }
    // Shallow enough: it fits.
    let body = format!(
        r#"{{"Response":{{"Deep":{},"RequestId":"r"}}}}"#,
        nested(120, "")
    );
    assert_eq!(
        typed::<Deep>(body.as_bytes()),
        Verdict::Ok(Some(RequestId::from("r")))
    );
}

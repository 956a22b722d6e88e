//! The typed envelope layer against the untyped one, on any body, with
//! types that every success envelope fits and one that none fits (where a
//! success must be `Error::Deserialize`): never a panic,
//! never pending, and the same verdict (the same RequestId on success; the
//! same code, message, RequestId and status of an API error; the same
//! reason, RequestId and body prefix when not an envelope).
//!
//! One difference is allowed, the untyped decoder's own divergence: it
//! does not spell out scalars inside payload values (`tru`, `01`), which
//! serde_json, reading them for the type, refuses. There the typed layer
//! answers `Error::Deserialize` with the untyped success's RequestId, and
//! only where serde_json refuses the whole body.
//!
//! The input is the body itself, so that the seeds of `envelope_decode`
//! serve here too; how it is cut into chunks, and whether an
//! `X-TC-RequestId` header comes with it, follow from its length.

#![no_main]

use bytes::Bytes;
use http::StatusCode;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde::de::IgnoredAny;
use tower::{Layer, Service};
use tower_tencentcloud::envelope::TypedEnvelopeLayer;
use tower_tencentcloud::{BODY_PREFIX_LEN, DecodeError, EnvelopeLayer, Error, RequestId};
use tower_tencentcloud_fuzz::{ChunkedBody, ready_now};

struct Answer<'a> {
    body: &'a [u8],
    chunk_lengths: Vec<u8>,
    header_request_id: bool,
}

impl<'a> Answer<'a> {
    fn new(body: &'a [u8]) -> Self {
        let chunk = u8::try_from(body.len() % 61).unwrap_or(0);
        Self {
            body,
            chunk_lengths: if body.len() % 2 == 1 {
                vec![chunk; 64]
            } else {
                Vec::new()
            },
            header_request_id: body.len().is_multiple_of(3),
        }
    }
}

/// Fits every success envelope: a member no body names, the rest ignored.
#[derive(Deserialize)]
struct Anything {
    #[serde(rename = "\u{0}absent", default)]
    _absent: Option<IgnoredAny>,
}

/// Fits no envelope: a member no body names, required. An error envelope
/// is still the API error, its `Error` before the type's members or after.
#[derive(Deserialize)]
struct Required {
    #[serde(rename = "\u{0}absent")]
    _absent: IgnoredAny,
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Ok(Option<RequestId>),
    Api(String, String, Option<RequestId>, StatusCode),
    NotEnvelope(DecodeError, Option<RequestId>, Vec<u8>),
    Deserialize(Option<RequestId>, Vec<u8>),
}

fn of_error(err: Error) -> Verdict {
    assert_eq!(err.to_string().lines().count(), 1, "Display is one line");
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
        ),
        Error::Deserialize(err) => {
            Verdict::Deserialize(err.request_id().cloned(), err.body_prefix().to_vec())
        }
        other => panic!("neither a verdict on the body nor a deserialize error: {other:?}"),
    }
}

type Reply = Result<http::Response<ChunkedBody>, std::convert::Infallible>;

fn inner(
    answer: &Answer<'_>,
) -> impl Service<
    http::Request<()>,
    Response = http::Response<ChunkedBody>,
    Error = std::convert::Infallible,
    Future = std::future::Ready<Reply>,
> + use<> {
    let body = Bytes::copy_from_slice(answer.body);
    let lengths = answer.chunk_lengths.clone();
    let header = answer.header_request_id;
    tower::service_fn(move |_: http::Request<()>| {
        let mut response = http::Response::new(ChunkedBody::new(&body, &lengths));
        if header {
            response.headers_mut().insert(
                "x-tc-requestid",
                http::HeaderValue::from_static("header-id"),
            );
        }
        std::future::ready(Ok(response))
    })
}

fn untyped(answer: &Answer<'_>) -> Verdict {
    let mut service = EnvelopeLayer::new().layer(inner(answer));
    match ready_now(service.call(http::Request::new(()))) {
        Ok(response) => Verdict::Ok(response.extensions().get::<RequestId>().cloned()),
        Err(err) => of_error(err),
    }
}

fn typed<T: serde::de::DeserializeOwned>(answer: &Answer<'_>) -> Verdict {
    let mut service = TypedEnvelopeLayer::<T>::new().layer(inner(answer));
    match ready_now(service.call(http::Request::new(()))) {
        Ok(response) => {
            assert!(response.body().get().is_some(), "the fields of a success");
            Verdict::Ok(response.extensions().get::<RequestId>().cloned())
        }
        Err(err) => of_error(err),
    }
}

fuzz_target!(|body: &[u8]| {
    let answer = Answer::new(body);
    let expected = untyped(&answer);
    for ours in [typed::<Anything>(&answer), typed::<IgnoredAny>(&answer)] {
        match (&expected, &ours) {
            (Verdict::Ok(id), Verdict::Deserialize(unfit_id, prefix)) => {
                assert!(
                    serde_json::from_slice::<IgnoredAny>(answer.body).is_err(),
                    "a success that fits nothing although serde_json reads it"
                );
                assert_eq!(id, unfit_id, "the RequestId of the success");
                assert_eq!(
                    prefix,
                    &answer.body[..answer.body.len().min(BODY_PREFIX_LEN)]
                );
            }
            _ => assert_eq!(expected, ours, "the typed layer decided otherwise"),
        }
    }
    match (&expected, typed::<Required>(&answer)) {
        (Verdict::Ok(id), Verdict::Deserialize(unfit_id, prefix)) => {
            assert_eq!(id, &unfit_id, "the RequestId of the success");
            assert_eq!(
                prefix,
                &answer.body[..answer.body.len().min(BODY_PREFIX_LEN)]
            );
        }
        (expected, ours) => assert_eq!(expected, &ours, "the typed layer decided otherwise"),
    }
});

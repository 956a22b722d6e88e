//! A whole response through Sign → Envelope over an in-process transport:
//! any status, any bytes in Content-Type, X-TC-RequestId, Date and
//! Content-Length, the body in any chunks. Never a panic, never pending,
//! and the outcome is the one `envelope::decode` and the headers call for;
//! a SignatureExpire answer corrects the signer's clock exactly when its
//! Date parses.

#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, DATE};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::action::header::X_TC_REQUESTID;
use tower_tencentcloud::envelope::decode;
use tower_tencentcloud::sign::{Clock, Credentials, SignLayer};
use tower_tencentcloud::{BODY_PREFIX_LEN, EnvelopeLayer, Error, RequestId};
use tower_tencentcloud_fuzz::{ChunkedBody, ready_now};

#[derive(Arbitrary, Debug)]
struct Answer<'a> {
    status: u16,
    content_type: Option<&'a [u8]>,
    request_id: Option<&'a [u8]>,
    date: Option<&'a [u8]>,
    content_length: Option<&'a [u8]>,
    body: Body<'a>,
    chunk_lengths: Vec<u8>,
    max_body_size: u16,
}

#[derive(Arbitrary, Debug)]
enum Body<'a> {
    Bytes(&'a [u8]),
    /// The API's answer to a stale X-TC-Timestamp, so that Date is read.
    SignatureExpire,
}

const SIGNATURE_EXPIRE: &[u8] = br#"{"Response":{"Error":{"Code":"AuthFailure.SignatureExpire","Message":"expired"},"RequestId":"r-expired"}}"#;

/// The signer's local clock, fixed: sent and received are the same instant.
const LOCAL_NOW: Duration = Duration::from_secs(1_700_000_000);

/// Only values a transport could deliver: others never reach a layer.
fn insert(headers: &mut HeaderMap, name: HeaderName, value: Option<&[u8]>) {
    if let Some(value) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
        headers.insert(name, value);
    }
}

fn media_type_is_streaming(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    ["text/event-stream", "application/octet-stream"]
        .iter()
        .any(|streaming| streaming.eq_ignore_ascii_case(essence))
}

fuzz_target!(|answer: Answer<'_>| {
    let Ok(status) = StatusCode::from_u16(answer.status) else {
        return;
    };
    let mut headers = HeaderMap::new();
    insert(&mut headers, CONTENT_TYPE, answer.content_type);
    insert(&mut headers, X_TC_REQUESTID, answer.request_id);
    insert(&mut headers, DATE, answer.date);
    insert(&mut headers, CONTENT_LENGTH, answer.content_length);
    let body = match answer.body {
        Body::Bytes(bytes) => bytes,
        Body::SignatureExpire => SIGNATURE_EXPIRE,
    };
    let limit = usize::from(answer.max_body_size);

    let transport = tower::service_fn(|_: http::Request<Full<Bytes>>| {
        let mut response = Response::new(ChunkedBody::new(body, &answer.chunk_lengths));
        *response.status_mut() = status;
        *response.headers_mut() = headers.clone();
        std::future::ready(Ok::<_, std::convert::Infallible>(response))
    });
    let clock = Clock::from_source(|| UNIX_EPOCH + LOCAL_NOW);
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(Credentials::new("AKIDfuzz", "fuzz-key")).clock(clock.clone()))
        .layer(EnvelopeLayer::new().max_body_size(limit))
        .service(transport);
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
        .build()
        .expect("a fixed, valid request");
    let outcome = ready_now(client.oneshot(request));

    let header_request_id = RequestId::from_headers(&headers);
    let declared_len = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let decoded = decode(body);
    let envelope_request_id =
        |body_id: Option<&str>| body_id.map(RequestId::from).or(header_request_id.clone());
    let mut expired = false;
    match &outcome {
        Ok(response) if media_type_is_streaming(&headers) => {
            assert!(response.body().is_stream());
            assert_eq!(
                response.extensions().get::<RequestId>(),
                header_request_id.as_ref()
            );
        }
        Ok(response) => {
            assert_eq!(response.status(), status);
            assert_eq!(
                response.body().as_bytes().map(|bytes| &bytes[..]),
                Some(body),
                "the body must pass unchanged"
            );
            assert!(body.len() <= limit);
            let decoded = decoded.expect("success only for an envelope");
            assert!(decoded.is_success());
            assert_eq!(
                response.extensions().get::<RequestId>(),
                envelope_request_id(decoded.request_id()).as_ref()
            );
        }
        Err(Error::Api(err)) => {
            assert!(!media_type_is_streaming(&headers));
            let decoded = decoded.expect("an API error only from an envelope");
            let fields = decoded
                .error()
                .expect("an API error only from Response.Error");
            assert_eq!(err.code().as_str(), fields.code());
            assert_eq!(err.message(), fields.message());
            assert_eq!(err.status(), status);
            assert_eq!(
                err.request_id(),
                envelope_request_id(decoded.request_id()).as_ref()
            );
            expired = fields.code() == "AuthFailure.SignatureExpire";
        }
        Err(Error::NotEnvelope(err)) => {
            assert!(!media_type_is_streaming(&headers));
            assert!(decoded.is_err(), "an envelope reported as none");
            assert_eq!(err.status(), status);
            assert_eq!(err.body_prefix(), &body[..body.len().min(BODY_PREFIX_LEN)]);
        }
        Err(Error::BodyTooLarge(err)) => {
            assert!(!media_type_is_streaming(&headers));
            assert!(body.len() > limit || declared_len > limit as u64);
            assert_eq!(err.limit(), limit);
        }
        Err(other) => panic!("no transport or body failure was scripted: {other:?}"),
    }

    let server_date = headers
        .get(DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok());
    match server_date {
        Some(server_date) if expired => {
            // Date has whole seconds: the clock aims at the middle of one.
            let expected = server_date + Duration::from_millis(500);
            let now = clock.now();
            assert_eq!(
                now.duration_since(SystemTime::UNIX_EPOCH).ok(),
                expected.duration_since(SystemTime::UNIX_EPOCH).ok(),
                "the clock must take the server's Date"
            );
        }
        _ => assert_eq!(clock.offset_millis(), 0, "no usable Date, no correction"),
    }
});

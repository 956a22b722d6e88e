//! The emulator's answers as the API writes them: envelopes, RequestIds,
//! the `Date` header, the gateway's HTML page.

use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, DATE};
use http::{HeaderValue, Response, StatusCode};
use serde::Serialize;

use super::body::EmulatorBody;
use crate::action::header::X_TC_REQUESTID;
use crate::request_id::RequestId;

/// An error the API reports in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiFailure {
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ApiFailure {
    pub(crate) fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    pub(crate) fn missing_parameter(name: &str) -> Self {
        Self::new(
            "MissingParameter",
            format!("The request is missing a required parameter `{name}`."),
        )
    }

    pub(crate) fn invalid_parameter_value(name: &str, why: &str) -> Self {
        Self::new(
            "InvalidParameterValue",
            format!("The value of parameter `{name}` is invalid: {why}."),
        )
    }

    pub(crate) fn internal_error() -> Self {
        Self::new(
            "InternalError",
            "An internal error has occurred. Retry your request, but if the problem persists, \
             contact us with details by filing a ticket.",
        )
    }

    /// The answer of the rate limit to a call of `action` beyond `limit`
    /// calls per second.
    pub(crate) fn request_limit_exceeded(limit: u32, action: &str) -> Self {
        Self::new(
            "RequestLimitExceeded",
            format!(
                "Your current request times exceed the frequency limit `{limit}` for a second \
                 of `{action}`. Please reduce the frequency of calls."
            ),
        )
    }
}

/// A RequestId in the API's form, a random UUID v4.
pub(crate) fn new_request_id(rng: &mut fastrand::Rng) -> RequestId {
    let mut bytes = rng.u128(..).to_be_bytes();
    // Version 4 and the RFC 4122 variant, as a UUID v4 has them.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    RequestId::new(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[derive(Serialize)]
struct Envelope<T> {
    #[serde(rename = "Response")]
    response: T,
}

#[derive(Serialize)]
struct ErrorResponse<'a> {
    #[serde(rename = "Error")]
    error: ErrorFields<'a>,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
}

#[derive(Serialize)]
struct ErrorFields<'a> {
    #[serde(rename = "Code")]
    code: &'a str,
    #[serde(rename = "Message")]
    message: &'a str,
}

#[derive(Serialize)]
struct SuccessResponse<'a, T> {
    #[serde(flatten)]
    fields: &'a T,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
}

/// `{"Response":{"Error":{"Code","Message"},"RequestId"}}`.
pub(crate) fn error_envelope(request_id: &RequestId, failure: &ApiFailure) -> Bytes {
    let envelope = Envelope {
        response: ErrorResponse {
            error: ErrorFields {
                code: &failure.code,
                message: &failure.message,
            },
            request_id: request_id.as_str(),
        },
    };
    to_bytes(&envelope)
}

/// `{"Response":{...fields,"RequestId"}}`; `fields` serializes to an object.
pub(crate) fn success_envelope<T: Serialize>(request_id: &RequestId, fields: &T) -> Bytes {
    let envelope = Envelope {
        response: SuccessResponse {
            fields,
            request_id: request_id.as_str(),
        },
    };
    to_bytes(&envelope)
}

fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    // The emulator's own structs and JSON values always serialize.
    Bytes::from(serde_json::to_vec(value).expect("emulator answers serialize"))
}

/// A JSON answer with HTTP 200, the way the API sends both success and
/// errors. The `Content-Type` is exactly `application/json`: the official
/// SDKs compare it as a string.
pub(crate) fn json(body: EmulatorBody, date: SystemTime) -> Response<EmulatorBody> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(DATE, date_value(date));
    response
}

/// A `text/event-stream` answer, its RequestId in `X-TC-RequestId`.
pub(crate) fn event_stream(
    body: EmulatorBody,
    request_id: &RequestId,
    date: SystemTime,
) -> Response<EmulatorBody> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(DATE, date_value(date));
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        headers.insert(X_TC_REQUESTID, value);
    }
    response
}

const BAD_GATEWAY_PAGE: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n</body>\r\n</html>\r\n";

/// The HTML page the gateway sends when it cannot reach the backend: no
/// envelope, no RequestId.
pub(crate) fn bad_gateway(date: SystemTime) -> Response<EmulatorBody> {
    let mut response = Response::new(EmulatorBody::full(Bytes::from_static(
        BAD_GATEWAY_PAGE.as_bytes(),
    )));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    headers.insert(DATE, date_value(date));
    response
}

fn date_value(date: SystemTime) -> HeaderValue {
    HeaderValue::from_str(&httpdate::fmt_http_date(date)).expect("HTTP dates are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4_and_differ() {
        let mut rng = fastrand::Rng::with_seed(1);
        let first = new_request_id(&mut rng);
        let second = new_request_id(&mut rng);
        assert_ne!(first, second);
        for id in [first, second] {
            let id = id.as_str();
            let groups: Vec<_> = id.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
            assert_eq!(&id[14..15], "4", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
            assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn envelopes_are_the_apis() {
        let id = RequestId::new("6f0c5d7e-0000-4000-8000-000000000000");
        let error = error_envelope(
            &id,
            &ApiFailure::new("InvalidAction", "No \"such\" action."),
        );
        assert_eq!(
            error,
            r#"{"Response":{"Error":{"Code":"InvalidAction","Message":"No \"such\" action."},"RequestId":"6f0c5d7e-0000-4000-8000-000000000000"}}"#
        );

        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Fields {
            total_count: u32,
        }
        let success = success_envelope(&id, &Fields { total_count: 3 });
        assert_eq!(
            success,
            r#"{"Response":{"TotalCount":3,"RequestId":"6f0c5d7e-0000-4000-8000-000000000000"}}"#
        );
    }
}

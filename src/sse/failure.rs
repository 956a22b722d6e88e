//! How a stream fails: an event whose data reports an error, the body
//! failing, an event over the limit; each becomes a [`crate::Error`] that
//! knows the response it came with.

use std::borrow::Cow;

use http::response::Parts;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::EventTooLarge;
use crate::envelope::decode;
use crate::error::{ApiError, Error, LayerError};
use crate::{RequestId, RetryClass};

/// What the errors of one response need to know about it.
#[derive(Debug, Clone)]
pub(crate) struct ResponseHead {
    status: StatusCode,
    request_id: Option<RequestId>,
    headers: HeaderMap,
}

impl ResponseHead {
    /// The RequestId is the extension the envelope layer set, else the
    /// `X-TC-RequestId` header. The headers are not kept: see
    /// [`with_headers`](Self::with_headers).
    pub(crate) fn new(parts: &Parts) -> Self {
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .or_else(|| RequestId::from_headers(&parts.headers));
        Self {
            status: parts.status,
            request_id,
            headers: HeaderMap::new(),
        }
    }

    /// Keeps the headers for the API errors that events report; only
    /// streams have those, so other bodies spare the copy.
    pub(crate) fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// An event over `limit`: the same stream fails the same way again.
    pub(crate) fn too_large(&self, limit: usize) -> Error {
        Error::Layer(
            LayerError::new(EventTooLarge::new(limit), RetryClass::Never)
                .with_response(self.status, self.request_id.clone()),
        )
    }

    /// The error that an event's data reports, if it reports one.
    pub(crate) fn reported_error(&self, data: &[u8]) -> Option<Error> {
        let reported = ReportedError::find(data)?;
        let request_id = reported.request_id.or_else(|| self.request_id.clone());
        let mut err = ApiError::new(self.status, reported.code, reported.message)
            .with_headers(self.headers.clone());
        if let Some(id) = request_id {
            err = err.with_request_id(id);
        }
        tracing::debug!(code = %err.code(), request_id = ?err.request_id(), "error event in a stream");
        Some(Error::Api(err))
    }
}

/// An error that the data of an event reports.
#[derive(Debug, PartialEq, Eq)]
struct ReportedError {
    code: String,
    message: String,
    request_id: Option<RequestId>,
}

impl ReportedError {
    /// Reads the two shapes of the API's streams, in the data's top-level
    /// object:
    /// - `"ErrorMsg": {"Code": 4000, "Msg": "..."}`, as Hunyuan sends: the
    ///   code is an integer (or a string); a code of `0` or `""`, no code,
    ///   or `"ErrorMsg": null` report nothing;
    /// - `"Response": {"Error": {"Code": "...", "Message": "..."}, "RequestId": "..."}`,
    ///   an API 3.0 error envelope in a data line, read by the envelope
    ///   layer's own decoder.
    ///
    /// Anything else is an ordinary event: other JSON, keys nested deeper,
    /// data that is not JSON (`[DONE]`), shapes with fields of other types.
    fn find(data: &[u8]) -> Option<Self> {
        // Most events do not name an error: spare them the JSON parse.
        if !data.windows(6).any(|window| window == b"\"Error") {
            return None;
        }
        let fields: ErrorMsgField<'_> = serde_json::from_slice(data).ok()?;
        if let Some(error) = fields.error_msg {
            let code = match error.code? {
                Number::Integer(0) => return None,
                Number::Integer(code) => code.to_string(),
                Number::Text(code) if code.is_empty() => return None,
                Number::Text(code) => code,
            };
            return Some(Self {
                code,
                message: error.msg.map(Cow::into_owned).unwrap_or_default(),
                request_id: None,
            });
        }
        let envelope = decode(data).ok()?;
        let error = envelope.error()?;
        Some(Self {
            code: error.code().to_owned(),
            message: error.message().to_owned(),
            request_id: envelope.request_id().map(RequestId::from),
        })
    }
}

#[derive(Deserialize)]
struct ErrorMsgField<'a> {
    #[serde(rename = "ErrorMsg", default, borrow)]
    error_msg: Option<ErrorMsg<'a>>,
}

#[derive(Deserialize)]
struct ErrorMsg<'a> {
    #[serde(rename = "Code", default)]
    code: Option<Number>,
    #[serde(rename = "Msg", default, borrow)]
    msg: Option<Cow<'a, str>>,
}

/// Hunyuan documents its codes as integers; a string is taken too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Integer(i64),
    Text(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(data: &str) -> Option<ReportedError> {
        ReportedError::find(data.as_bytes())
    }

    fn reported(code: &str, message: &str, request_id: Option<&str>) -> Option<ReportedError> {
        Some(ReportedError {
            code: code.into(),
            message: message.into(),
            request_id: request_id.map(RequestId::from),
        })
    }

    #[test]
    fn hunyuans_error_msg() {
        assert_eq!(
            find(
                r#"{"Note":"n","Choices":[],"ErrorMsg":{"Msg":"\u670d\u52a1\u5185\u90e8\u5f02\u5e38","Code":4000}}"#
            ),
            reported("4000", "服务内部异常", None)
        );
        assert_eq!(
            find(r#"{"ErrorMsg":{"Code":"FailedOperation.EngineRequestTimeout"}}"#),
            reported("FailedOperation.EngineRequestTimeout", "", None)
        );
    }

    #[test]
    fn an_empty_error_msg_reports_nothing() {
        assert_eq!(find(r#"{"Choices":[],"ErrorMsg":null}"#), None);
        assert_eq!(find(r#"{"ErrorMsg":{"Code":0,"Msg":""}}"#), None);
        assert_eq!(find(r#"{"ErrorMsg":{"Code":"","Msg":"x"}}"#), None);
        assert_eq!(find(r#"{"ErrorMsg":{"Msg":"no code"}}"#), None);
    }

    #[test]
    fn an_error_envelope_in_a_data_line() {
        assert_eq!(
            find(
                r#"{"Response":{"Error":{"Code":"InternalError","Message":"Try \"again\"."},"RequestId":"r-1"}}"#
            ),
            reported("InternalError", "Try \"again\".", Some("r-1"))
        );
        assert_eq!(
            find(r#"{"Response":{"Error":{"Code":"LimitExceeded"}}}"#),
            reported("LimitExceeded", "", None)
        );
    }

    #[test]
    fn ordinary_events_report_nothing() {
        for data in [
            "[DONE]",
            "",
            "Error",
            r#""Error""#,
            r#"{"Choices":[{"Delta":{"Content":"\"Error\": none"}}]}"#,
            r#"{"Choices":[{"ErrorMsg":{"Code":1,"Msg":"nested"}}]}"#,
            r#"{"Response":{"Result":"ok","RequestId":"r"}}"#,
            r#"{"Error":{"Code":"InternalError","Message":"not the API's shape"}}"#,
            r#"{"Response":{"Error":{"Code":7}}}"#,
            r#"{"ErrorMsg":{"Code":1.5}}"#,
            r#"{"ErrorMsg":{"Code":4000,"Msg":"unterminated"#,
        ] {
            assert_eq!(find(data), None, "{data}");
        }
    }

    #[test]
    fn the_head_supplies_status_headers_and_request_id() {
        let (mut parts, ()) = http::Response::builder()
            .status(200)
            .header("x-tc-requestid", "from-header")
            .body(())
            .unwrap()
            .into_parts();
        let head = ResponseHead::new(&parts).with_headers(parts.headers.clone());
        let err = head
            .reported_error(br#"{"ErrorMsg":{"Code":4001,"Msg":"timeout"}}"#)
            .unwrap();
        let api = err.as_api().unwrap();
        assert_eq!((api.code().as_str(), api.message()), ("4001", "timeout"));
        assert_eq!(api.request_id().unwrap(), "from-header");
        assert_eq!(api.headers()["x-tc-requestid"], "from-header");
        assert_eq!(api.status(), StatusCode::OK);

        // The envelope's own RequestId comes first; the extension before the header.
        let err = head
            .reported_error(br#"{"Response":{"Error":{"Code":"X"},"RequestId":"from-body"}}"#)
            .unwrap();
        assert_eq!(err.request_id().unwrap(), "from-body");
        parts.extensions.insert(RequestId::new("from-extension"));
        let err = ResponseHead::new(&parts)
            .reported_error(br#"{"ErrorMsg":{"Code":1}}"#)
            .unwrap();
        assert_eq!(err.request_id().unwrap(), "from-extension");
    }

    #[test]
    fn an_event_over_the_limit_is_the_layers_error() {
        let (parts, ()) = http::Response::builder()
            .header("x-tc-requestid", "r-1")
            .body(())
            .unwrap()
            .into_parts();
        let err = ResponseHead::new(&parts).too_large(10);
        let layer = err.as_layer().expect("Error::Layer");
        assert_eq!(layer.downcast_ref::<EventTooLarge>().unwrap().limit(), 10);
        assert_eq!(err.retry_class(), RetryClass::Never);
        assert_eq!(err.request_id().unwrap(), "r-1");
        assert_eq!(
            err.to_string(),
            "server-sent event exceeds the limit of 10 bytes (HTTP 200, RequestId: r-1)"
        );
    }
}

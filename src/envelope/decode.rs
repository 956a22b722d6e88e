//! Finds `Response.Error` and `Response.RequestId` in a whole body.

use std::borrow::Cow;

use serde::Deserialize;

use super::scan::{Spans, scan};
use crate::RequestId;
use crate::error::{DecodeError, DecodeErrorKind};

/// What an envelope says: success or `Error`, and the RequestId.
///
/// Strings borrow from the body unless they hold escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    request_id: Option<Cow<'a, str>>,
    error: Option<ErrorFields<'a>>,
}

impl<'a> Decoded<'a> {
    /// `Response.RequestId`, if present.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// `Response.Error`, if the call failed.
    pub fn error(&self) -> Option<&ErrorFields<'a>> {
        self.error.as_ref()
    }

    /// `true` when the envelope holds no `Error`.
    pub fn is_success(&self) -> bool {
        self.error.is_none()
    }
}

/// `Response.Error.Code` and `Response.Error.Message`, escapes decoded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorFields<'a> {
    #[serde(rename = "Code", borrow)]
    code: Cow<'a, str>,
    #[serde(rename = "Message", borrow, default)]
    message: Cow<'a, str>,
}

impl ErrorFields<'_> {
    /// `Response.Error.Code`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// `Response.Error.Message`; empty when absent.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Decodes a whole response body as an API 3.0 envelope.
///
/// The body must be one JSON document, valid UTF-8 throughout, whose
/// top-level object has a `Response` member that is an object. Only `Response`'s own `Error` and
/// `RequestId` members count: an `Error` key nested in a payload value is
/// payload. `Response`, `Error` and `RequestId` may each appear once.
///
/// ```
/// use tower_tencentcloud::envelope::decode;
///
/// let ok = decode(br#"{"Response":{"Items":[{"Error":"payload"}],"RequestId":"r-2"}}"#).unwrap();
/// assert!(ok.is_success());
/// assert_eq!(ok.request_id(), Some("r-2"));
/// ```
pub fn decode(body: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let mut spans = Spans::default();
    let scanned = scan(body, &mut spans);
    // The scanner reads structure; UTF-8 is checked here, for all of the body.
    let syntax = match simdutf8::basic::from_utf8(body) {
        Ok(_) => scanned.map_err(|err| format!("at byte {}", err.offset)),
        Err(_) => Err(simdutf8::compat::from_utf8(body)
            .err()
            .map(|err| err.to_string())
            .unwrap_or_default()),
    };
    let mut request_id = None;
    if let Some(span) = spans.request_id.clone() {
        match parse_str(&body[span]) {
            Ok(id) => request_id = Some(id),
            Err(_) => spans.failure = spans.failure.or(Some(DecodeErrorKind::InvalidRequestId)),
        }
    }
    let fail = |kind, detail: String| {
        Err(DecodeError::new(kind, detail)
            .with_request_id(request_id.as_deref().map(RequestId::from)))
    };
    if let Err(detail) = syntax {
        return fail(DecodeErrorKind::Syntax, detail);
    }
    if let Some(kind) = spans.failure {
        return fail(kind, String::new());
    }
    let error = match spans.error {
        None => None,
        Some(span) => match serde_json::from_slice::<ErrorFields<'_>>(&body[span]) {
            Ok(error) => Some(error),
            Err(err) => return fail(DecodeErrorKind::InvalidError, err.to_string()),
        },
    };
    Ok(Decoded { request_id, error })
}

/// A JSON string, borrowed unless it holds escapes.
pub(crate) fn parse_str(raw: &[u8]) -> serde_json::Result<Cow<'_, str>> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_slice::<Text<'_>>(raw).map(|text| text.0)
}

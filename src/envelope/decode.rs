//! Finds `Response.Error` and `Response.RequestId` in a whole body.

use std::borrow::Cow;

use serde::Deserialize;

use super::scan::{ErrorMembers, ErrorSpans, Raw, Spans, scan};
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
    let syntax = scan(body, &mut spans);
    let mut request_id = None;
    if let Some(span) = spans.request_id.clone() {
        match json_str(body, &span) {
            Some(id) => request_id = Some(id),
            None => spans.failure = spans.failure.or(Some(DecodeErrorKind::InvalidRequestId)),
        }
    }
    let fail = |kind, detail: String| {
        Err(DecodeError::new(kind, detail)
            .with_request_id(request_id.as_deref().map(RequestId::from)))
    };
    if let Err(err) = syntax {
        return fail(DecodeErrorKind::Syntax, format!("at byte {}", err.offset));
    }
    if let Some(kind) = spans.failure {
        return fail(kind, String::new());
    }
    let Some(error) = spans.error else {
        return Ok(Decoded {
            request_id,
            error: None,
        });
    };
    let fields = match error {
        ErrorMembers::Fields(spans) => error_fields(body, spans),
        ErrorMembers::Invalid => None,
    };
    match fields {
        Some(error) => Ok(Decoded {
            request_id,
            error: Some(error),
        }),
        None => fail(
            DecodeErrorKind::InvalidError,
            "not an object with a string Code and an optional string Message".into(),
        ),
    }
}

/// `Code` and `Message` as text; `None` if either holds a lone surrogate.
fn error_fields(body: &[u8], spans: ErrorSpans) -> Option<ErrorFields<'_>> {
    let code = json_str(body, &spans.code)?;
    let message = match spans.message {
        Some(message) => json_str(body, &message)?,
        None => Cow::Borrowed(""),
    };
    Some(ErrorFields { code, message })
}

/// The text of a value the scanner has validated: borrowed unless it holds
/// escapes; `None` for anything but a string, or escapes that decode to no
/// text (lone surrogates).
fn json_str<'a>(body: &'a [u8], raw: &Raw) -> Option<Cow<'a, str>> {
    let quoted = body.get(raw.span.clone())?;
    match raw.escaped? {
        true => serde_json::from_slice::<String>(quoted)
            .ok()
            .map(Cow::Owned),
        false => simdutf8::basic::from_utf8(&quoted[1..quoted.len() - 1])
            .ok()
            .map(Cow::Borrowed),
    }
}

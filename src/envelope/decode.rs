//! Finds `Response.Error` and `Response.RequestId` in a whole body.

use std::borrow::Cow;

use serde::Deserialize;

use super::scan::{ErrorMembers, ErrorSpans, Raw, Spans, scan};
use crate::error::{DecodeError, DecodeErrorKind};
use crate::text::Text;
use crate::{Code, RequestId};

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
    let text = |raw: &Raw| json_str(body, raw);
    let (request_id, error) = decode_with(body, text, text, |id| RequestId::from(&**id))?;
    Ok(Decoded {
        request_id,
        error: error.map(|(code, message)| ErrorFields {
            code,
            message: message.unwrap_or(Cow::Borrowed("")),
        }),
    })
}

/// What the envelope layer keeps of an envelope: the RequestId, and the
/// code and message of `Response.Error` if the call failed.
pub(crate) type Owned = (Option<RequestId>, Option<(Code, Text)>);

/// [`decode`] for the envelope layer: the same verdicts, with the texts it
/// keeps made once, owned, rather than borrowed first and copied after.
pub(crate) fn decode_owned(body: &[u8]) -> Result<Owned, DecodeError> {
    let (request_id, error) = decode_with(
        body,
        |raw| owned_str(body, raw),
        |raw| owned_str_with(body, raw, Code::read),
        |id| RequestId::from_text(id.clone()),
    )?;
    Ok((
        request_id.map(RequestId::from_text),
        error.map(|(code, message)| (code, message.unwrap_or_default())),
    ))
}

/// The RequestId, and `Code` with the `Message` if any.
type Found<S, C> = (Option<S>, Option<(C, Option<S>)>);

/// The strings of a whole body that matter; `text` makes the text of a
/// string value (`None` if it has none), `code` that of `Code`, `id` turns
/// a text into the RequestId a failure reports.
#[inline]
fn decode_with<S, C>(
    body: &[u8],
    text: impl Fn(&Raw) -> Option<S>,
    code: impl Fn(&Raw) -> Option<C>,
    id: impl Fn(&S) -> RequestId,
) -> Result<Found<S, C>, DecodeError> {
    let mut spans = Spans::default();
    let syntax = scan(body, &mut spans);
    let mut request_id = None;
    if let Some(span) = spans.request_id.clone() {
        match text(&span) {
            Some(id) => request_id = Some(id),
            None => spans.failure = spans.failure.or(Some(DecodeErrorKind::InvalidRequestId)),
        }
    }
    let fail = |kind, detail: String| {
        Err(DecodeError::new(kind, detail).with_request_id(request_id.as_ref().map(&id)))
    };
    if let Err(err) = syntax {
        return fail(DecodeErrorKind::Syntax, format!("at byte {}", err.offset));
    }
    if let Some(kind) = spans.failure {
        return fail(kind, String::new());
    }
    let Some(error) = spans.error else {
        return Ok((request_id, None));
    };
    let fields = match error {
        ErrorMembers::Fields(spans) => error_fields(spans, text, code),
        ErrorMembers::Invalid => None,
    };
    match fields {
        Some(error) => Ok((request_id, Some(error))),
        None => fail(
            DecodeErrorKind::InvalidError,
            "not an object with a string Code and an optional string Message".into(),
        ),
    }
}

/// `Code` and `Message` as text; `None` if either holds a lone surrogate.
fn error_fields<S, C>(
    spans: ErrorSpans,
    text: impl Fn(&Raw) -> Option<S>,
    code: impl Fn(&Raw) -> Option<C>,
) -> Option<(C, Option<S>)> {
    let code = code(&spans.code)?;
    let message = match spans.message {
        Some(message) => Some(text(&message)?),
        None => None,
    };
    Some((code, message))
}

/// The text of a string value the scanner has validated, as [`json_str`],
/// but owned.
fn owned_str(body: &[u8], raw: &Raw) -> Option<Text> {
    owned_str_with(body, raw, |text| Text::from(text))
}

/// The text of a string value the scanner has validated, made by `make`
/// from the decoded text.
#[inline]
fn owned_str_with<T>(body: &[u8], raw: &Raw, make: impl Fn(&str) -> T) -> Option<T> {
    let quoted = body.get(raw.span.clone())?;
    match raw.escaped? {
        true => serde_json::from_slice::<String>(quoted)
            .ok()
            .map(|text| make(&text)),
        // Within the quotes.
        false => simdutf8::basic::from_utf8(quoted.get(1..quoted.len().checked_sub(1)?)?)
            .ok()
            .map(make),
    }
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

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::Full;
    use tower::{Layer, ServiceExt};

    use super::*;
    use crate::envelope::EnvelopeLayer;
    use crate::envelope::block::forced;

    /// Bodies with a byte outside strings that no JSON token is made of
    /// (#21): DEL and symbols, in payload arrays and objects, in payload
    /// beside `Response`, in `Error`, and at envelope level.
    const NO_TOKEN_BYTES: [&[u8]; 11] = [
        b"{\"Response\":{\"X\":[\x7f]}}",
        b"{\"Response\":{\"Error\":{\"Code\":\"C\",\"X\":[\x7f]}}}",
        b"{\"Response\":{},\"X\":[\x7f]}",
        b"{\"Response\":{\"X\":[1\x7f]}}",
        b"{\"Response\":{\"X\":{\"a\":\x7f}}}",
        b"{\"Response\":{\"X\":\x7f}}",
        b"{\"Response\":{\"X\":[@]}}",
        b"{\"Response\":{\"X\":[$3]}}",
        b"{\"Response\":{\"X\":[<5210]}}",
        b"{\"Response\":{\"X\":[true,\"s\",{\"k\":[null,#]}],\"RequestId\":\"r\"}}",
        b"{\"Response\":{\"X\":[\"a long string that ends past the first block\",1\x7f]}}",
    ];

    #[test]
    fn bytes_no_token_is_made_of_are_syntax_errors_under_every_kernel() {
        for choice in forced::ALL {
            for body in NO_TOKEN_BYTES {
                let outcome = forced::with(choice, || (decode(body), decode_owned(body)));
                let Some((borrowed, owned)) = outcome else {
                    continue;
                };
                let lossy = String::from_utf8_lossy(body);
                let kind = borrowed.map(drop).map_err(|err| err.kind());
                assert_eq!(kind, Err(DecodeErrorKind::Syntax), "{choice:?} {lossy}");
                let kind = owned.map(drop).map_err(|err| err.kind());
                assert_eq!(kind, Err(DecodeErrorKind::Syntax), "{choice:?} {lossy}");
            }
        }
    }

    #[test]
    fn the_layer_answers_not_envelope_to_them_under_every_kernel() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let mut ran = Vec::new();
        for choice in forced::ALL {
            if forced::with(choice, || ()).is_none() {
                continue;
            }
            for body in NO_TOKEN_BYTES {
                let inner = tower::service_fn(move |_: http::Request<()>| async move {
                    let response = http::Response::builder()
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(Full::new(Bytes::from_static(body)))
                        .expect("a response");
                    Ok::<_, std::convert::Infallible>(response)
                });
                let call = EnvelopeLayer::new()
                    .layer(inner)
                    .oneshot(http::Request::new(()));
                // The layer decodes as the future is polled, on this thread.
                let outcome = forced::with(choice, || runtime.block_on(call)).expect("available");
                let lossy = String::from_utf8_lossy(body);
                match outcome {
                    Err(crate::Error::NotEnvelope(err)) => {
                        assert_eq!(err.reason().kind(), DecodeErrorKind::Syntax, "{lossy}");
                    }
                    other => panic!("{choice:?} {lossy}: {:?}", other.map(drop)),
                }
            }
            ran.push(choice);
        }
        assert!(ran.contains(&forced::Choice::Bytewise), "{ran:?}");
        assert!(ran.contains(&forced::Choice::Portable), "{ran:?}");
    }

    #[test]
    fn the_layer_decodes_as_decode_does() {
        for body in [
            r#"{"Response":{"RequestId":"r-1"}}"#,
            r#"{"Response":{"Error":{"Code":"A.B","Message":"m"},"RequestId":"r-2"}}"#,
            r#"{"Response":{"Error":{"Code":"A","Message":"\u4f60\"x\""}}}"#,
            r#"{"Response":{"Error":{"Code":"A"},"RequestId":"\u0072-3"}}"#,
            r#"{"Response":{"Error":{"Code":"A","Message":"\ud800"},"RequestId":"r"}}"#,
            r#"{"Response":{"Error":{"Code":"你好","Message":""}}}"#,
            r#"{"Response":{"RequestId":"r-4"},"#,
            r#"{"Response":{"RequestId":7}}"#,
            r#"{"Other":{}}"#,
        ] {
            let owned = decode_owned(body.as_bytes());
            match decode(body.as_bytes()) {
                Ok(decoded) => {
                    let (request_id, error) = owned.unwrap();
                    assert_eq!(
                        request_id.as_ref().map(RequestId::as_str),
                        decoded.request_id(),
                        "{body}"
                    );
                    let error = error
                        .as_ref()
                        .map(|(code, message)| (code.as_str(), message.as_str()));
                    let expected = decoded
                        .error()
                        .map(|fields| (fields.code(), fields.message()));
                    assert_eq!(error, expected, "{body}");
                }
                Err(err) => assert_eq!(owned.unwrap_err(), err, "{body}"),
            }
        }
    }
}

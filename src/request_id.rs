//! The RequestId of an API call.

use std::fmt;
use std::sync::Arc;

use http::HeaderMap;

use crate::action::header::X_TC_REQUESTID;
use crate::escape::EscapeControl;
use crate::text::Text;

/// The unique id Tencent Cloud gives every request it processes.
///
/// Quote it when contacting support. [`EnvelopeLayer`](crate::EnvelopeLayer)
/// inserts it into the extensions of every successful response, and errors
/// carry it through [`Error::request_id`](crate::Error::request_id).
///
/// Cloning is cheap: the text is shared.
///
/// ```
/// use tower_tencentcloud::RequestId;
///
/// let id = RequestId::new("ed93f3cb-f35e-473f-b9f3-0d451b8b79c6");
/// assert_eq!(id.as_str(), "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6");
/// assert_eq!(id, "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6");
/// assert_eq!(id.to_string(), "ed93f3cb-f35e-473f-b9f3-0d451b8b79c6");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(Text);

impl RequestId {
    /// Wraps an id.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Self(Text::from(id.into()))
    }

    /// Text the crate read out of a response body.
    pub(crate) fn from_text(text: Text) -> Self {
        Self(text)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Reads the `X-TC-RequestId` header, if present, non-empty and visible ASCII.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(X_TC_REQUESTID)?.to_str().ok()?.trim();
        (!value.is_empty()).then(|| Self::new(value))
    }
}

/// The text with its control characters escaped (`\n`, `\u{1b}`) and a
/// backslash doubled, so that one from a hostile body cannot break a log
/// line; [`as_str`](Self::as_str) is the text as it came.
impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        EscapeControl(self.as_str()).fmt(f)
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for RequestId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RequestId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&str> for RequestId {
    fn from(id: &str) -> Self {
        Self(Text::from(id))
    }
}

impl From<String> for RequestId {
    fn from(id: String) -> Self {
        Self::new(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fallback_ignores_empty_and_non_ascii() {
        let mut headers = HeaderMap::new();
        assert_eq!(RequestId::from_headers(&headers), None);
        headers.insert("X-TC-RequestId", " abc ".parse().unwrap());
        assert_eq!(RequestId::from_headers(&headers).unwrap(), "abc");
        headers.insert("X-TC-RequestId", "".parse().unwrap());
        assert_eq!(RequestId::from_headers(&headers), None);
        headers.insert(
            "X-TC-RequestId",
            http::HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        assert_eq!(RequestId::from_headers(&headers), None);
    }
}

//! The RequestId of an API call.

use std::sync::Arc;

use http::HeaderMap;

use crate::action::header::X_TC_REQUESTID;
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

impl_text_newtype!(RequestId);

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

//! Immutable text that clones by reference count.
//!
//! [`Code`](crate::Code), [`RequestId`](crate::RequestId) and the message of
//! [`ApiError`](crate::ApiError) hold it. Text read out of a response body
//! is copied, never a slice of the body: a slice would keep the transport's
//! read buffer alive for as long as a RequestId or an error is kept, which
//! measured slower end to end through hyper (see `benches/end_to_end.rs`).

use std::ops::Range;
use std::sync::Arc;

/// Text that clones by reference count.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Text(Arc<str>);

impl Text {
    /// A copy of `body[range]`; `None` if the range is outside the body or
    /// the bytes are not UTF-8.
    pub(crate) fn in_body(body: &[u8], range: Range<usize>) -> Option<Self> {
        let bytes = body.get(range)?;
        simdutf8::basic::from_utf8(bytes).ok().map(Self::from)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(Arc::from(text))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(Arc::from(text))
    }
}

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Self {
        Self(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_text_outside_the_body_or_of_bytes_that_are_not_utf8() {
        let body = b"ab\xffcd\xe4\xbd\xa0";
        assert_eq!(Text::in_body(body, 0..2).unwrap().as_str(), "ab");
        assert_eq!(Text::in_body(body, 3..5).unwrap().as_str(), "cd");
        assert_eq!(Text::in_body(body, 5..8).unwrap().as_str(), "你");
        assert!(Text::in_body(body, 1..4).is_none());
        assert!(Text::in_body(body, 4..9).is_none());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 3..2;
        assert!(Text::in_body(body, reversed).is_none());
    }
}

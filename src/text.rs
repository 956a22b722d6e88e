//! Immutable shared text: its own allocation, or a slice of a response body.
//!
//! [`Code`](crate::Code), [`RequestId`](crate::RequestId) and the message of
//! [`ApiError`](crate::ApiError) are read out of a body that is already
//! held as [`Bytes`]. Where the JSON string needs no unescaping, its text
//! is a slice of that body: a reference count, no allocation, no copy.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;

/// A body up to this size is shared by the text read out of it; the text
/// of a larger one is copied, so that a RequestId kept for a log line keeps
/// at most this much alive. Copying a few dozen bytes costs nothing next
/// to scanning more JSON than this.
const SHARE_BODY_UP_TO: usize = 4 << 10;

/// Text that clones by reference count.
#[derive(Clone, Debug)]
pub(crate) struct Text(Repr);

#[derive(Clone, Debug)]
enum Repr {
    /// Its own allocation.
    Owned(Arc<str>),
    /// Bytes known to be UTF-8: a `&str` was sliced out of them.
    Shared(Bytes),
}

impl Text {
    /// The text of `body[range]`, bytes the caller expects to be UTF-8:
    /// shared when the body is small enough, copied otherwise; `None` if
    /// the range is outside the body or the bytes are not UTF-8.
    pub(crate) fn in_body(body: &Bytes, range: Range<usize>) -> Option<Self> {
        let bytes = body.get(range.clone())?;
        if body.len() > SHARE_BODY_UP_TO {
            return simdutf8::basic::from_utf8(bytes).ok().map(Self::from);
        }
        // Ids, codes and English messages are ASCII: one quick pass.
        if !bytes.is_ascii() {
            simdutf8::basic::from_utf8(bytes).ok()?;
        }
        Some(Self(Repr::Shared(body.slice(range))))
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(text) => text,
            // Only ever made from bytes checked to be UTF-8, so never the
            // default; checking again is what sharing costs without
            // `unsafe`, and ids and codes are a few dozen bytes.
            Repr::Shared(bytes) => std::str::from_utf8(bytes).unwrap_or_default(),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(text) => text.as_bytes(),
            Repr::Shared(bytes) => bytes,
        }
    }
}

/// Empty, with no allocation.
impl Default for Text {
    fn default() -> Self {
        Self(Repr::Shared(Bytes::new()))
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(Repr::Owned(Arc::from(text)))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(Repr::Owned(Arc::from(text)))
    }
}

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Self {
        Self(Repr::Owned(text))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The order of `str`, which is the order of its bytes.
impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

/// Hashes as `str` does, whichever the representation.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
        state.write_u8(0xff);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn text_in_a_small_body_shares_it() {
        let body = Bytes::from_static(r#"{"RequestId":"r-1","Message":"你好"}"#.as_bytes());
        let text = Text::in_body(&body, 14..17).unwrap();
        assert!(matches!(&text.0, Repr::Shared(bytes) if bytes.as_ptr() == body[14..].as_ptr()));
        assert_eq!(text.as_str(), "r-1");
        let text = Text::in_body(&body, 30..36).unwrap();
        assert!(matches!(text.0, Repr::Shared(_)));
        assert_eq!(text.as_str(), "你好");
    }

    #[test]
    fn text_in_a_large_body_is_copied() {
        let large = Bytes::from(vec![b'a'; SHARE_BODY_UP_TO + 1]);
        let text = Text::in_body(&large, 0..3).unwrap();
        assert!(matches!(text.0, Repr::Owned(_)));
        assert_eq!(text.as_str(), "aaa");
    }

    #[test]
    fn no_text_outside_the_body_or_of_bytes_that_are_not_utf8() {
        let body = Bytes::from_static(b"ab\xffcd");
        assert_eq!(Text::in_body(&body, 0..2).unwrap().as_str(), "ab");
        assert_eq!(Text::in_body(&body, 3..5).unwrap().as_str(), "cd");
        assert!(Text::in_body(&body, 1..4).is_none());
        assert!(Text::in_body(&body, 4..9).is_none());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 3..2;
        assert!(Text::in_body(&body, reversed).is_none());
    }

    #[test]
    fn both_representations_compare_and_hash_alike() {
        let body = Bytes::from_static(b"xr-1x");
        let shared = Text::in_body(&body, 1..4).unwrap();
        let owned = Text::from("r-1");
        assert!(matches!(shared.0, Repr::Shared(_)));
        assert_eq!(shared, owned);
        assert_eq!(shared.cmp(&Text::from("r-2")), Ordering::Less);
        let hasher = std::collections::hash_map::RandomState::new();
        assert_eq!(hasher.hash_one(&shared), hasher.hash_one(&owned));
        assert_eq!(hasher.hash_one(&shared), hasher.hash_one("r-1"));
    }
}

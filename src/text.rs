//! Immutable shared text: its own allocation, or a slice of a response body.
//!
//! [`Code`](crate::Code), [`RequestId`](crate::RequestId) and the message of
//! [`ApiError`](crate::ApiError) are read out of a body that is already
//! held as [`Bytes`]. Where the JSON string needs no unescaping, its text
//! is a slice of that body: a reference count, no allocation, no copy.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use bytes::Bytes;

/// A body up to this size is shared by the text read out of it; the text
/// of a larger one is copied, so that a RequestId kept for a log line does
/// not keep megabytes alive. Copying a few dozen bytes costs nothing next
/// to scanning that much JSON.
const SHARE_BODY_UP_TO: usize = 64 << 10;

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
    /// `part`, sliced out of `body` when it lies within a body small enough
    /// to share, copied otherwise; empty text allocates nothing.
    pub(crate) fn within(body: &Bytes, part: &str) -> Self {
        if part.is_empty() {
            return Self(Repr::Shared(Bytes::new()));
        }
        match slice_of(body, part) {
            Some(shared) if body.len() <= SHARE_BODY_UP_TO => Self(Repr::Shared(shared)),
            _ => Self::from(part),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(text) => text,
            // Only ever made from a `&str`'s bytes, so never the default;
            // checking again is what sharing costs without `unsafe`, and
            // ids and codes are a few dozen ASCII bytes.
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

/// The slice of `body` that `part` borrows, if it borrows from `body`.
fn slice_of(body: &Bytes, part: &str) -> Option<Bytes> {
    let start = (part.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    (end <= body.len()).then(|| body.slice(start..end))
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
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
    fn text_within_a_small_body_shares_it() {
        let body = Bytes::from_static(br#"{"RequestId":"r-1"}"#);
        let part = std::str::from_utf8(&body[14..17]).unwrap();
        let text = Text::within(&body, part);
        assert!(matches!(&text.0, Repr::Shared(bytes) if bytes.as_ptr() == part.as_ptr()));
        assert_eq!(text.as_str(), "r-1");
    }

    #[test]
    fn text_from_elsewhere_or_a_large_body_is_copied() {
        let body = Bytes::from_static(b"r-1");
        let elsewhere = String::from("r-1");
        let text = Text::within(&body, &elsewhere);
        assert!(matches!(text.0, Repr::Owned(_)));
        let large = Bytes::from(vec![b'a'; SHARE_BODY_UP_TO + 1]);
        let part = std::str::from_utf8(&large[..3]).unwrap();
        assert!(matches!(Text::within(&large, part).0, Repr::Owned(_)));
        assert_eq!(Text::within(&large, part).as_str(), "aaa");
        assert_eq!(Text::within(&body, "").as_str(), "");
    }

    #[test]
    fn both_representations_compare_and_hash_alike() {
        let body = Bytes::from_static(b"xr-1x");
        let shared = Text::within(&body, std::str::from_utf8(&body[1..4]).unwrap());
        let owned = Text::from("r-1");
        assert!(matches!(shared.0, Repr::Shared(_)));
        assert_eq!(shared, owned);
        assert_eq!(shared.cmp(&Text::from("r-2")), Ordering::Less);
        let hasher = std::collections::hash_map::RandomState::new();
        assert_eq!(hasher.hash_one(&shared), hasher.hash_one(&owned));
        assert_eq!(hasher.hash_one(&shared), hasher.hash_one("r-1"));
    }
}

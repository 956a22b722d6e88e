//! Immutable text that clones by reference count.
//!
//! [`Code`](crate::Code), [`RequestId`](crate::RequestId) and the message of
//! [`ApiError`](crate::ApiError) hold it. Text read out of a response body
//! is copied, never a slice of the body: a slice would keep the transport's
//! read buffer alive for as long as a RequestId or an error is kept, which
//! measured slower end to end through hyper (see `benches/end_to_end.rs`).

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Text that clones by reference count, or static text the crate knows.
#[derive(Clone, Debug)]
pub(crate) struct Text(Repr);

#[derive(Clone, Debug)]
enum Repr {
    /// Text known when the crate was built, such as well-known error
    /// codes: no allocation.
    Static(&'static str),
    Shared(Arc<str>),
}

impl Text {
    pub(crate) const fn from_static(text: &'static str) -> Self {
        Self(Repr::Static(text))
    }

    pub(crate) fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(text) => text,
            Repr::Shared(text) => text,
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Self::from_static("")
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Self(Repr::Shared(Arc::from(text)))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Self(Repr::Shared(Arc::from(text)))
    }
}

impl From<Arc<str>> for Text {
    fn from(text: Arc<str>) -> Self {
        Self(Repr::Shared(text))
    }
}

/// As text, whichever the representation.
impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as `str` does, whichever the representation.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn both_representations_compare_and_hash_alike() {
        let known = Text::from_static("r-1");
        let read = Text::from("r-1");
        assert_eq!(known, read);
        assert_eq!(known.cmp(&Text::from("r-2")), Ordering::Less);
        let hasher = std::collections::hash_map::RandomState::new();
        assert_eq!(hasher.hash_one(&known), hasher.hash_one(&read));
        assert_eq!(hasher.hash_one(&known), hasher.hash_one("r-1"));
    }
}

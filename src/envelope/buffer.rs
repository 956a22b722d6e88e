//! Gathers a body's data frames: one frame is kept as it came, several are
//! copied once into a buffer sized from what the response announced, as far
//! as an announcement is trusted before the data backs it.

use bytes::{Bytes, BytesMut};

/// An announced size up to this is reserved at once: every real envelope
/// fits, and a peer that announces more than it sends pins no more.
const TRUSTED_ANNOUNCEMENT: usize = 1 << 20;

/// Beyond the trusted size, how far ahead of the data the buffer grows.
const RESERVE_AHEAD: usize = 256 << 10;

/// The body went past the limit.
pub(crate) struct OverLimit;

/// The data read so far.
pub(crate) struct BodyBuffer {
    first: Option<Bytes>,
    rest: BytesMut,
    /// The size the response announced (Content-Length or size hint), capped by the limit.
    expected: usize,
    limit: usize,
}

impl BodyBuffer {
    #[inline]
    pub(crate) fn new(expected: usize, limit: usize) -> Self {
        Self {
            first: None,
            rest: BytesMut::new(),
            expected: expected.min(limit),
            limit,
        }
    }

    fn len(&self) -> usize {
        self.first.as_ref().map_or(0, Bytes::len) + self.rest.len()
    }

    /// Adds a frame's data, refusing it, uncopied, if the total would pass the limit.
    #[inline]
    pub(crate) fn push(&mut self, data: Bytes) -> Result<(), OverLimit> {
        let total = self.len().saturating_add(data.len());
        if total > self.limit {
            return Err(OverLimit);
        }
        if self.len() == 0 {
            self.first = Some(data);
            return Ok(());
        }
        if let Some(first) = self.first.take() {
            let announced = if self.expected <= TRUSTED_ANNOUNCEMENT {
                self.expected
            } else {
                // A large announcement is believed as the data comes in.
                self.expected.min(total.saturating_add(RESERVE_AHEAD))
            };
            self.rest.reserve(announced.max(total));
            self.rest.extend_from_slice(&first);
        }
        self.rest.extend_from_slice(&data);
        Ok(())
    }

    /// The whole body.
    #[inline]
    pub(crate) fn into_bytes(self) -> Bytes {
        match self.first {
            Some(first) => first,
            None => self.rest.freeze(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_is_not_copied() {
        let data = Bytes::from(vec![7u8; 100]);
        let mut buffer = BodyBuffer::new(100, 1000);
        assert!(buffer.push(data.clone()).is_ok());
        let bytes = buffer.into_bytes();
        assert_eq!(bytes.as_ptr(), data.as_ptr());
    }

    #[test]
    fn several_frames_are_joined_in_one_allocation() {
        let mut buffer = BodyBuffer::new(9, 1000);
        for part in ["abc", "", "def", "ghi"] {
            assert!(buffer.push(Bytes::from(part)).is_ok());
        }
        assert_eq!(buffer.rest.capacity(), 9);
        assert_eq!(buffer.into_bytes(), "abcdefghi");
    }

    #[test]
    fn a_large_announcement_is_not_reserved_before_the_data_comes() {
        let mut buffer = BodyBuffer::new(32 << 20, 32 << 20);
        assert!(buffer.push(Bytes::from(vec![b' '; 1024])).is_ok());
        assert!(buffer.push(Bytes::from(vec![b' '; 1024])).is_ok());
        assert!(buffer.rest.capacity() <= 2048 + RESERVE_AHEAD);
    }

    #[test]
    fn the_limit_is_exact() {
        let mut buffer = BodyBuffer::new(0, 5);
        assert!(buffer.push(Bytes::from("abc")).is_ok());
        assert!(buffer.push(Bytes::from("de")).is_ok());
        assert!(buffer.push(Bytes::from("f")).is_err());
        assert_eq!(buffer.into_bytes(), "abcde");
    }
}

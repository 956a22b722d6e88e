//! Incremental framing of `text/event-stream`, as the WHATWG HTML standard
//! defines it ("Parsing an event stream"), fed one chunk at a time.

use bytes::{BufMut, Bytes, BytesMut};

/// The UTF-8 byte order mark, which a stream may start with once.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An event as the stream framed it, before any decoding of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEvent {
    /// Where the event's first line starts, counted in bytes from the
    /// beginning of the stream.
    pub(crate) start: u64,
    /// The `event` field; `None` when absent or empty.
    pub(crate) event: Option<Bytes>,
    /// The `data` lines, joined by `\n`.
    pub(crate) data: Bytes,
    /// The last event ID: set by an `id` field of this event or an earlier
    /// one. `None` while it is empty.
    pub(crate) id: Option<Bytes>,
    /// The `retry` field of this event, in milliseconds.
    pub(crate) retry: Option<u64>,
}

/// An event, or a line, is longer than the parser's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

/// Frames a stream into events, whatever its chunks.
///
/// [`push`](Self::push) a chunk, then call [`next_event`](Self::next_event)
/// until it answers `None`; [`finish`](Self::finish) at the end of the
/// stream. Lines are sliced out of the chunks without copies, unless a line
/// spans chunks.
#[derive(Debug)]
pub(crate) struct Parser {
    max_event_size: usize,
    chunk: Bytes,
    pos: usize,
    /// Bytes of the stream before `chunk`.
    chunk_start: u64,
    /// How many bytes of the BOM the stream has matched; `None` once the
    /// stream has shown whether it starts with one.
    bom: Option<usize>,
    /// The last line ended with CR at the end of a chunk: an LF that starts
    /// the next chunk belongs to that line end.
    skip_lf: bool,
    /// The start of a line that a chunk boundary cut.
    line: BytesMut,
    block: Block,
    last_event_id: Bytes,
    /// Every byte before it belongs to an event already dispatched or to a
    /// line outside any event; while an event is being read, its start.
    boundary: u64,
}

/// The fields of the event being read.
#[derive(Debug, Default)]
struct Block {
    /// A field line has been read since the last blank line.
    open: bool,
    event: Option<Bytes>,
    data: Data,
    retry: Option<u64>,
}

/// The data lines of an event: the first one is kept as the slice it came
/// in; a second one makes a joined copy.
#[derive(Debug, Default)]
enum Data {
    #[default]
    Empty,
    One(Bytes),
    Many(BytesMut),
}

impl Data {
    fn push(&mut self, line: Bytes) {
        *self = match std::mem::take(self) {
            Self::Empty => Self::One(line),
            Self::One(first) => {
                let mut joined = BytesMut::with_capacity(first.len() + 1 + line.len());
                joined.extend_from_slice(&first);
                joined.put_u8(b'\n');
                joined.extend_from_slice(&line);
                Self::Many(joined)
            }
            Self::Many(mut joined) => {
                joined.put_u8(b'\n');
                joined.extend_from_slice(&line);
                Self::Many(joined)
            }
        };
    }

    fn into_bytes(self) -> Option<Bytes> {
        match self {
            Self::Empty => None,
            Self::One(line) => Some(line),
            Self::Many(joined) => Some(joined.freeze()),
        }
    }
}

impl Parser {
    /// A parser that refuses an event (all its lines, line ends included)
    /// or a line outside an event longer than `max_event_size` bytes.
    pub(crate) fn new(max_event_size: usize) -> Self {
        Self {
            max_event_size,
            chunk: Bytes::new(),
            pos: 0,
            chunk_start: 0,
            bom: Some(0),
            skip_lf: false,
            line: BytesMut::new(),
            block: Block::default(),
            last_event_id: Bytes::new(),
            boundary: 0,
        }
    }

    /// Hands the parser the next chunk of the stream. The previous one must
    /// have been read to its end by [`next_event`](Self::next_event).
    pub(crate) fn push(&mut self, chunk: Bytes) {
        debug_assert_eq!(self.pos, self.chunk.len(), "the previous chunk is unread");
        self.chunk_start += self.chunk.len() as u64;
        self.chunk = chunk;
        self.pos = 0;
    }

    /// Everything before this offset of the stream is either events already
    /// dispatched or lines outside any event.
    pub(crate) fn boundary(&self) -> u64 {
        self.boundary
    }

    /// The next event of the chunk; `None` once the chunk is read.
    pub(crate) fn next_event(&mut self) -> Result<Option<RawEvent>, TooLarge> {
        self.skip_bom();
        while self.pos < self.chunk.len() {
            if std::mem::take(&mut self.skip_lf) && self.chunk[self.pos] == b'\n' {
                self.pos += 1;
                self.close_line_outside_block();
                continue;
            }
            let rest = &self.chunk[self.pos..];
            let Some(len) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                // The line goes on in the next chunk.
                let end = self.chunk_start + self.chunk.len() as u64;
                self.check_size(end)?;
                self.line.extend_from_slice(rest);
                self.pos = self.chunk.len();
                break;
            };
            let end = self.pos + len;
            let line = if self.line.is_empty() {
                self.chunk.slice(self.pos..end)
            } else {
                self.line.extend_from_slice(&self.chunk[self.pos..end]);
                self.line.split().freeze()
            };
            self.pos = end + 1;
            if self.chunk[end] == b'\r' {
                match self.chunk.get(self.pos) {
                    Some(b'\n') => self.pos += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            // A line end counts one byte, CR, LF or CRLF alike, so that
            // where a chunk cuts a CRLF changes no verdict.
            self.check_size(self.chunk_start + end as u64 + 1)?;
            let start = self.boundary;
            if let Some(event) = self.line(line, start) {
                return Ok(Some(event));
            }
        }
        Ok(None)
    }

    /// Ends the stream: a line without its line end still counts. Returns
    /// the event that no blank line completed, if it has data; the standard
    /// discards such an event, but its data may still report an error.
    pub(crate) fn finish(&mut self) -> Option<RawEvent> {
        if let Some(matched) = self.bom.take() {
            self.line.extend_from_slice(&BOM[..matched]);
        }
        if !self.line.is_empty() {
            let line = self.line.split().freeze();
            let start = self.boundary;
            // A blank line cannot be pending, so this dispatches nothing.
            self.line(line, start);
        }
        let block = std::mem::take(&mut self.block);
        let data = block.data.into_bytes()?;
        Some(RawEvent {
            start: self.boundary,
            event: block.event,
            data,
            id: self.last_event_id(),
            retry: block.retry,
        })
    }

    fn offset(&self) -> u64 {
        self.chunk_start + self.pos as u64
    }

    fn check_size(&self, end: u64) -> Result<(), TooLarge> {
        if end - self.boundary > self.max_event_size as u64 {
            Err(TooLarge)
        } else {
            Ok(())
        }
    }

    /// Consumes the BOM, however the chunks cut it. Bytes that start like
    /// one but are not are the start of the first line.
    fn skip_bom(&mut self) {
        let Some(mut matched) = self.bom else {
            return;
        };
        while self.pos < self.chunk.len() {
            if self.chunk[self.pos] != BOM[matched] {
                self.line.extend_from_slice(&BOM[..matched]);
                self.bom = None;
                return;
            }
            self.pos += 1;
            matched += 1;
            if matched == BOM.len() {
                self.bom = None;
                self.boundary = self.offset();
                return;
            }
        }
        self.bom = Some(matched);
    }

    fn close_line_outside_block(&mut self) {
        if !self.block.open {
            self.boundary = self.offset();
        }
    }

    /// Interprets one line (its line end removed) that began the event
    /// starting at `start`.
    fn line(&mut self, line: Bytes, start: u64) -> Option<RawEvent> {
        if line.is_empty() {
            let event = self.dispatch(start);
            self.boundary = self.offset();
            return event;
        }
        if line[0] == b':' {
            // A comment: inside an event it is held with the event.
            self.close_line_outside_block();
            return None;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value_start = match line.get(colon + 1) {
                    Some(b' ') => colon + 2,
                    _ => colon + 1,
                };
                (line.slice(..colon), line.slice(value_start..))
            }
            None => (line, Bytes::new()),
        };
        self.block.open = true;
        match &name[..] {
            b"event" => self.block.event = (!value.is_empty()).then_some(value),
            b"data" => self.block.data.push(value),
            b"id" if !value.contains(&0) => self.last_event_id = value,
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // More digits than a u64 holds: ignored, as any invalid value.
                self.block.retry = std::str::from_utf8(&value)
                    .ok()
                    .and_then(|digits| digits.parse().ok());
            }
            _ => {}
        }
        None
    }

    fn dispatch(&mut self, start: u64) -> Option<RawEvent> {
        let block = std::mem::take(&mut self.block);
        let data = block.data.into_bytes()?;
        Some(RawEvent {
            start,
            event: block.event,
            data,
            id: self.last_event_id(),
            retry: block.retry,
        })
    }

    fn last_event_id(&self) -> Option<Bytes> {
        (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events of `chunks`, fed one after another, and the unterminated
    /// one, if any.
    fn parse(chunks: &[&[u8]]) -> (Vec<RawEvent>, Option<RawEvent>) {
        let mut parser = Parser::new(1 << 20);
        let mut events = Vec::new();
        for chunk in chunks {
            parser.push(Bytes::copy_from_slice(chunk));
            while let Some(event) = parser.next_event().unwrap() {
                events.push(event);
            }
        }
        let rest = parser.finish();
        (events, rest)
    }

    fn data(events: &[RawEvent]) -> Vec<&[u8]> {
        events.iter().map(|event| &event.data[..]).collect()
    }

    #[test]
    fn a_field_split_across_chunks() {
        let (events, rest) = parse(&[b"da", b"ta: hel", b"lo\n", b"\n"]);
        assert_eq!(data(&events), [&b"hello"[..]]);
        assert_eq!(rest, None);
    }

    #[test]
    fn lf_crlf_and_cr_line_ends() {
        let (events, _) = parse(&[b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\r\n"]);
        assert_eq!(data(&events), [&b"a"[..], b"b", b"c", b"d"]);
    }

    #[test]
    fn a_cr_that_ends_a_chunk_and_the_lf_that_starts_the_next_are_one_line_end() {
        let (events, _) = parse(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
        // Two line ends would have made a blank line, and two events.
        assert_eq!(data(&events), [&b"a\nb"[..]]);
    }

    #[test]
    fn comments_are_ignored_inside_and_outside_events() {
        let (events, _) = parse(&[b": keep-alive\n\ndata: a\n:note\ndata: b\n\n:\n"]);
        assert_eq!(data(&events), [&b"a\nb"[..]]);
    }

    #[test]
    fn data_lines_join_with_lf_and_an_empty_data_line_counts() {
        let (events, _) = parse(&[b"data: one\ndata\ndata:  two\n\ndata:\n\n"]);
        // `data` without a colon is a field with an empty value; only one
        // space after the colon is removed.
        assert_eq!(data(&events), [&b"one\n\n two"[..], b""]);
    }

    #[test]
    fn a_leading_bom_is_skipped_even_when_split() {
        let (events, _) = parse(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]);
        assert_eq!(data(&events), [&b"a"[..]]);
        // Only one, and only at the start.
        let (events, _) = parse(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: \xEF\xBB\xBF\n\n"]);
        assert_eq!(data(&events), [&b"\xEF\xBB\xBF"[..]]);
    }

    #[test]
    fn bytes_that_start_like_a_bom_are_content() {
        let (events, _) = parse(&[b"\xEF\xBB", b"data: a\n\ndata: b\n\n"]);
        // The first line is the field "\xEF\xBBdata", which is ignored.
        assert_eq!(data(&events), [&b"b"[..]]);
    }

    #[test]
    fn event_id_and_retry_fields() {
        let (events, _) = parse(&[
            b"event: update\nid: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid\nretry: 1x\ndata: c\n\n",
        ]);
        assert_eq!(events[0].event.as_deref(), Some(&b"update"[..]));
        assert_eq!(events[0].id.as_deref(), Some(&b"7"[..]));
        assert_eq!(events[0].retry, Some(1500));
        // The type and retry belong to one event, the id stays.
        assert_eq!(events[1].event, None);
        assert_eq!(events[1].id.as_deref(), Some(&b"7"[..]));
        assert_eq!(events[1].retry, None);
        // `id` with no value empties it; a retry that is not all digits is ignored.
        assert_eq!(events[2].id, None);
        assert_eq!(events[2].retry, None);
    }

    #[test]
    fn an_id_with_nul_is_ignored() {
        let (events, _) = parse(&[b"id: 1\n\nid: a\0b\ndata: x\n\n"]);
        assert_eq!(events[0].id.as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn an_event_without_data_is_not_dispatched() {
        let (events, rest) = parse(&[b"event: ping\n\nid: 3\n\ndata: a\n\n"]);
        assert_eq!(data(&events), [&b"a"[..]]);
        assert_eq!(events[0].event, None);
        assert_eq!(events[0].id.as_deref(), Some(&b"3"[..]));
        assert_eq!(rest, None);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let (events, _) = parse(&[b"foo: bar\ndata: a\nDATA: b\n\n"]);
        assert_eq!(data(&events), [&b"a"[..]]);
    }

    #[test]
    fn an_unterminated_event_is_returned_by_finish() {
        let (events, rest) = parse(&[b"data: a\n\ndata: b\ndata: c"]);
        assert_eq!(data(&events), [&b"a"[..]]);
        assert_eq!(&rest.unwrap().data[..], b"b\nc");
        let (_, rest) = parse(&[b"data: a\n\n:comment"]);
        assert_eq!(rest, None);
    }

    #[test]
    fn a_one_line_event_in_one_chunk_is_not_copied() {
        let chunk = Bytes::from_static(b"data: hello\n\n");
        let mut parser = Parser::new(1024);
        parser.push(chunk.clone());
        let event = parser.next_event().unwrap().unwrap();
        assert_eq!(event.data.as_ptr(), chunk[6..].as_ptr());
    }

    #[test]
    fn the_boundary_follows_events_and_lines_outside_them() {
        let mut parser = Parser::new(1024);
        parser.push(Bytes::from_static(b": hi\ndata: a\n\nevent: x\ndata: b"));
        let first = parser.next_event().unwrap().unwrap();
        assert_eq!(first.start, 5);
        assert_eq!(parser.boundary(), 14);
        assert_eq!(parser.next_event().unwrap(), None);
        // The unfinished event is held back from its first line.
        assert_eq!(parser.boundary(), 14);
        parser.push(Bytes::from_static(b"\n\n"));
        let second = parser.next_event().unwrap().unwrap();
        assert_eq!(second.start, 14);
        assert_eq!(parser.boundary(), 32);
    }

    #[test]
    fn a_long_line_is_refused_whatever_the_chunks() {
        let mut parser = Parser::new(16);
        parser.push(Bytes::from_static(b"data: 0123456789"));
        assert_eq!(parser.next_event(), Ok(None));
        parser.push(Bytes::from_static(b"ab"));
        assert_eq!(parser.next_event(), Err(TooLarge));

        let mut parser = Parser::new(16);
        parser.push(Bytes::from_static(b"data: 0123456789ab\n"));
        assert_eq!(parser.next_event(), Err(TooLarge));
    }

    #[test]
    fn the_limit_counts_one_event_not_the_stream() {
        let mut parser = Parser::new(16);
        for _ in 0..100 {
            parser.push(Bytes::from_static(b"data: 0123\n\n: ping\n"));
            assert!(parser.next_event().unwrap().is_some());
            assert_eq!(parser.next_event(), Ok(None));
        }
        // Many lines that make one event are refused together.
        let mut parser = Parser::new(16);
        parser.push(Bytes::from_static(b"data: 01\ndata: 23\n"));
        assert_eq!(parser.next_event(), Err(TooLarge));
    }
}

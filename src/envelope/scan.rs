//! A validating JSON scanner that finds the spans of `Response`'s own
//! `Error` and `RequestId` members without building any value.
//!
//! It checks the grammar of the whole document (strings, escapes, numbers,
//! literals, brackets, commas, colons) with an explicit stack, so nesting
//! costs heap, never call stack. It accepts what serde_json accepts when it
//! skips a value; the caller checks UTF-8, and outside strings any byte
//! that is not JSON punctuation is a syntax error here.

use std::ops::Range;

use crate::error::DecodeErrorKind;

/// Where the members that matter are, and the first semantic problem.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// The raw JSON value of `Response.RequestId`.
    pub(crate) request_id: Option<Range<usize>>,
    /// The raw JSON value of `Response.Error`.
    pub(crate) error: Option<Range<usize>>,
    /// The first problem found that is not a syntax error.
    pub(crate) failure: Option<DecodeErrorKind>,
}

impl Spans {
    fn record(&mut self, kind: DecodeErrorKind) {
        self.failure.get_or_insert(kind);
    }
}

/// The byte offset of the first syntax error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) offset: usize,
}

type Result<T> = std::result::Result<T, SyntaxError>;

/// Scans a whole document. Spans found before a syntax error stay in
/// `spans`, so that the caller can still report the RequestId.
pub(crate) fn scan(body: &[u8], spans: &mut Spans) -> Result<()> {
    Scanner {
        bytes: body,
        pos: 0,
        stack: Vec::new(),
    }
    .document(spans)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The open containers of the value being skipped: `{` or `[`.
    stack: Vec<u8>,
}

impl Scanner<'_> {
    fn document(&mut self, spans: &mut Spans) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(b'{') {
            self.top_object(spans)?;
        } else {
            self.value()?;
            spans.record(DecodeErrorKind::MissingResponse);
        }
        self.skip_ws();
        if self.pos != self.bytes.len() {
            return Err(self.error());
        }
        Ok(())
    }

    /// The document's object: finds `Response`, skips every other member.
    fn top_object(&mut self, spans: &mut Spans) -> Result<()> {
        let mut seen = false;
        if self.open_members()? {
            loop {
                let key = self.key()?;
                if !self.key_is(key, b"Response")? {
                    self.value()?;
                } else if seen {
                    self.value()?;
                    spans.record(DecodeErrorKind::DuplicateKey);
                } else {
                    seen = true;
                    if self.peek() == Some(b'{') {
                        self.response(spans)?;
                    } else {
                        self.value()?;
                        spans.record(DecodeErrorKind::MissingResponse);
                    }
                }
                if !self.next_member(b'}')? {
                    break;
                }
            }
        }
        if !seen {
            spans.record(DecodeErrorKind::MissingResponse);
        }
        Ok(())
    }

    /// `Response`: notes where `Error` and `RequestId` are, skips the payload.
    fn response(&mut self, spans: &mut Spans) -> Result<()> {
        if !self.open_members()? {
            return Ok(());
        }
        loop {
            let key = self.key()?;
            let slot = if self.key_is(key.clone(), b"Error")? {
                Some(&mut spans.error)
            } else if self.key_is(key, b"RequestId")? {
                Some(&mut spans.request_id)
            } else {
                None
            };
            let start = self.pos;
            self.value()?;
            match slot {
                Some(slot) if slot.is_some() => spans.record(DecodeErrorKind::DuplicateKey),
                Some(slot) => *slot = Some(start..self.pos),
                None => {}
            }
            if !self.next_member(b'}')? {
                return Ok(());
            }
        }
    }

    /// Consumes `{` and blank; `false` when the object is empty (and closed).
    fn open_members(&mut self) -> Result<bool> {
        self.pos += 1;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// After a member or element: `,` (then more) or `close` (then done).
    fn next_member(&mut self, close: u8) -> Result<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.skip_ws();
                Ok(true)
            }
            Some(byte) if byte == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.error()),
        }
    }

    /// A member name and its colon; returns the name's span, quotes included.
    fn key(&mut self) -> Result<Range<usize>> {
        if self.peek() != Some(b'"') {
            return Err(self.error());
        }
        let start = self.pos;
        self.pos += 1;
        self.string()?;
        let span = start..self.pos;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error());
        }
        self.pos += 1;
        self.skip_ws();
        Ok(span)
    }

    /// Whether the quoted name at `span` is `name`, escapes decoded.
    fn key_is(&self, span: Range<usize>, name: &[u8]) -> Result<bool> {
        let quoted = &self.bytes[span.clone()];
        let inner = &quoted[1..quoted.len() - 1];
        if !inner.contains(&b'\\') {
            return Ok(inner == name);
        }
        // Rare: an escaped name. serde_json decodes it, and rejects the
        // lone surrogates that it rejects in any name it reads.
        match serde_json::from_slice::<String>(quoted) {
            Ok(decoded) => Ok(decoded.as_bytes() == name),
            Err(_) => Err(SyntaxError { offset: span.start }),
        }
    }

    /// Skips one value of any depth.
    fn value(&mut self) -> Result<()> {
        debug_assert!(self.stack.is_empty());
        loop {
            // A value starts here.
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    self.pos += 1;
                    self.skip_ws();
                    let close = if open == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                    } else {
                        self.stack.push(open);
                        if open == b'{' {
                            self.key()?;
                        }
                        continue;
                    }
                }
                Some(b'"') => {
                    self.pos += 1;
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                _ => return Err(self.error()),
            }
            // A value ended: close what it ends, or start the next one.
            loop {
                let Some(&open) = self.stack.last() else {
                    return Ok(());
                };
                let close = if open == b'{' { b'}' } else { b']' };
                if self.next_member(close)? {
                    if open == b'{' {
                        self.key()?;
                    }
                    break;
                }
                self.stack.pop();
            }
        }
    }

    /// The rest of a string whose opening quote was consumed.
    fn string(&mut self) -> Result<()> {
        loop {
            self.pos += special_offset(&self.bytes[self.pos..]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape()?;
                }
                // A control character, or the end of input.
                _ => return Err(self.error()),
            }
        }
    }

    fn escape(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 1;
                Ok(())
            }
            Some(b'u') => {
                let digits = self.bytes.get(self.pos + 1..self.pos + 5);
                match digits {
                    Some(digits) if digits.iter().all(u8::is_ascii_hexdigit) => {
                        self.pos += 5;
                        Ok(())
                    }
                    _ => Err(self.error()),
                }
            }
            _ => Err(self.error()),
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.at_least_one_digit()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.at_least_one_digit()?;
        }
        Ok(())
    }

    fn at_least_one_digit(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            _ => Err(self.error()),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self) -> SyntaxError {
        SyntaxError { offset: self.pos }
    }
}

/// The offset of the first `"`, `\` or control character in `bytes`, or
/// its length. Eight bytes at a time: strings are most of a body's bytes.
fn special_offset(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // The lowest flagged byte of each term is exact; higher ones may not
    // be, so only the lowest set bit of the union is used.
    fn zero_bytes(word: u64) -> u64 {
        word.wrapping_sub(ONES) & !word & HIGHS
    }
    let mut offset = 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let special = zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')))
            | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS);
        if special != 0 {
            return offset + (special.trailing_zeros() / 8) as usize;
        }
        offset += 8;
    }
    offset
        + chunks
            .remainder()
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(chunks.remainder().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_offset_finds_the_first_special_byte() {
        assert_eq!(special_offset(b""), 0);
        assert_eq!(special_offset(b"abc"), 3);
        assert_eq!(special_offset(b"abcdefghijk\"l"), 11);
        assert_eq!(special_offset(b"abcdefgh\\"), 8);
        assert_eq!(special_offset(b"ab\x1fcdefgh\""), 2);
        assert_eq!(special_offset("é\"".as_bytes()), 2);
        assert_eq!(special_offset(b"\x7f\x80\xff\x20\"aaaaaaa"), 4);
        for len in 0..20 {
            let mut bytes = vec![b'a'; len];
            bytes.push(b'"');
            assert_eq!(special_offset(&bytes), len);
        }
    }

    fn syntax_ok(body: &str) -> bool {
        scan(body.as_bytes(), &mut Spans::default()).is_ok()
    }

    #[test]
    fn grammar() {
        for ok in [
            "{}",
            "[]",
            "0",
            "-0.5e+3",
            "1E9",
            "\"\\u00e9\\n\"",
            " [ 1 , [ ] , { } ] ",
            "{\"a\":{\"b\":[true,false,null]}}",
        ] {
            assert!(syntax_ok(ok), "{ok}");
        }
        for bad in [
            "",
            "{",
            "[1,]",
            "{,}",
            "{\"a\"}",
            "{\"a\":}",
            "01",
            "1.",
            "1e",
            "-",
            "tru",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"a\u{1}\"",
            "[1 2]",
            "{\"a\":1,}",
            "{} {}",
            "\"abc",
            "{\"a\" 1}",
            "[}",
            "{]",
        ] {
            assert!(!syntax_ok(bad), "{bad:?}");
        }
    }
}

//! A validating JSON scanner that finds the spans of `Response`'s own
//! `Error` and `RequestId` members without building any value.
//!
//! It reads the envelope's own objects (the document, `Response`, `Error`)
//! and every string and scalar among their members byte by byte, exactly as
//! serde_json would accept them. Every array or object it skips goes to the
//! block scanner ([`skip_container`]), which checks it 64 bytes at a time and
//! leaves the spelling of scalars inside it to the caller's deserializer
//! (though not which bytes they are made of).
//! UTF-8 is checked string by string, and only in strings that hold
//! non-ASCII bytes: outside strings any such byte is a syntax error.

use std::ops::Range;

use super::block::{self, Nesting};
use crate::error::DecodeErrorKind;

/// A value's place in the body, and what the scanner learnt reading it.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    /// The raw JSON, quotes included for a string.
    pub(crate) span: Range<usize>,
    /// For a string, whether it holds escapes; `None` for any other value.
    pub(crate) escaped: Option<bool>,
}

/// Where the members that matter are, and the first semantic problem.
#[derive(Debug, Default)]
pub(crate) struct Spans {
    /// The raw JSON value of `Response.RequestId`.
    pub(crate) request_id: Option<Raw>,
    /// `Response.Error`.
    pub(crate) error: Option<ErrorMembers>,
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
    }
    .document(spans)
}

/// Where `Code` and `Message` are in an `Error` object: raw JSON strings.
#[derive(Debug)]
pub(crate) struct ErrorSpans {
    pub(crate) code: Raw,
    pub(crate) message: Option<Raw>,
}

/// What `Response.Error` holds.
#[derive(Debug)]
pub(crate) enum ErrorMembers {
    /// An object with one string `Code` and at most one string `Message`
    /// (other members are ignored), as a serde struct would require.
    Fields(ErrorSpans),
    /// Anything else.
    Invalid,
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
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
                if !self.key_is(&key, b"Response")? {
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
            if self.key_is(&key, b"Error")? {
                if spans.error.is_some() {
                    self.value()?;
                    spans.record(DecodeErrorKind::DuplicateKey);
                } else {
                    spans.error = Some(self.error_members()?);
                }
            } else if self.key_is(&key, b"RequestId")? {
                let raw = self.raw_value()?;
                if spans.request_id.is_some() {
                    spans.record(DecodeErrorKind::DuplicateKey);
                } else {
                    spans.request_id = Some(raw);
                }
            } else {
                self.value()?;
            }
            if !self.next_member(b'}')? {
                return Ok(());
            }
        }
    }

    /// `Response.Error`'s value: notes its `Code` and `Message` as it checks it.
    fn error_members(&mut self) -> Result<ErrorMembers> {
        if self.peek() != Some(b'{') {
            self.value()?;
            return Ok(ErrorMembers::Invalid);
        }
        let (mut code, mut message, mut invalid) = (None, None, false);
        if self.open_members()? {
            loop {
                let key = self.key()?;
                let slot = if self.key_is(&key, b"Code")? {
                    Some(&mut code)
                } else if self.key_is(&key, b"Message")? {
                    Some(&mut message)
                } else {
                    None
                };
                let raw = self.raw_value()?;
                if let Some(slot) = slot {
                    invalid |= slot.is_some() || raw.escaped.is_none();
                    *slot = Some(raw);
                }
                if !self.next_member(b'}')? {
                    break;
                }
            }
        }
        Ok(match code {
            Some(code) if !invalid => ErrorMembers::Fields(ErrorSpans { code, message }),
            _ => ErrorMembers::Invalid,
        })
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
    #[inline(always)]
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

    /// A member name and its colon.
    fn key(&mut self) -> Result<Raw> {
        if self.peek() != Some(b'"') {
            return Err(self.error());
        }
        let raw = self.raw_value()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error());
        }
        self.pos += 1;
        self.skip_ws();
        Ok(raw)
    }

    /// Skips one value, noting where it is and, for a string, whether it is escaped.
    fn raw_value(&mut self) -> Result<Raw> {
        let start = self.pos;
        let escaped = if self.peek() == Some(b'"') {
            self.pos += 1;
            Some(self.string()?)
        } else {
            self.value()?;
            None
        };
        Ok(Raw {
            span: start..self.pos,
            escaped,
        })
    }

    /// Whether the name `key` is `name`, escapes decoded.
    fn key_is(&self, key: &Raw, name: &[u8]) -> Result<bool> {
        let span = key.span.clone();
        let quoted = &self.bytes[span.clone()];
        if key.escaped != Some(true) {
            return Ok(&quoted[1..quoted.len() - 1] == name);
        }
        // Rare: an escaped name. serde_json decodes it, and rejects the
        // lone surrogates that it rejects in any name it reads.
        match serde_json::from_slice::<String>(quoted) {
            Ok(decoded) => Ok(decoded.as_bytes() == name),
            Err(_) => Err(SyntaxError { offset: span.start }),
        }
    }

    /// Skips one value of any depth: arrays and objects in blocks.
    fn value(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'{' | b'[') if block::faster_than_bytes() => {
                self.pos = block::skip_container(self.bytes, self.pos)
                    .map_err(|offset| SyntaxError { offset })?;
                Ok(())
            }
            Some(b'{' | b'[') => self.container_bytewise(),
            Some(b'"') => {
                self.pos += 1;
                self.string().map(drop)
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => Err(self.error()),
        }
    }

    /// Skips an array or object byte by byte, scalars spelt out: for CPUs
    /// without a block kernel.
    fn container_bytewise(&mut self) -> Result<()> {
        let mut nesting = Nesting::default();
        loop {
            // A value starts here.
            match self.peek() {
                Some(open @ (b'{' | b'[')) => {
                    self.pos += 1;
                    self.skip_ws();
                    let object = open == b'{';
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.pos += 1;
                    } else {
                        nesting.push(object);
                        if object {
                            self.payload_key()?;
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
                let Some(object) = nesting.top() else {
                    return Ok(());
                };
                if self.next_member(if object { b'}' } else { b']' })? {
                    if object {
                        self.payload_key()?;
                    }
                    break;
                }
                nesting.pop();
            }
        }
    }

    /// A member name inside a payload value, and its colon: only checked.
    fn payload_key(&mut self) -> Result<()> {
        if self.peek() != Some(b'"') {
            return Err(self.error());
        }
        self.pos += 1;
        self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error());
        }
        self.pos += 1;
        self.skip_ws();
        Ok(())
    }

    /// The rest of a string whose opening quote was consumed; whether it
    /// holds escapes.
    #[inline(always)]
    fn string(&mut self) -> Result<bool> {
        let start = self.pos;
        let mut escaped = false;
        // Every byte read, ORed: over-approximates non-ASCII content.
        let mut seen = 0u64;
        loop {
            while let Some(chunk) = self.bytes.get(self.pos..self.pos + 8) {
                let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
                seen |= word;
                let special = special_bytes(word);
                if special != 0 {
                    self.pos += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                self.pos += 8;
            }
            match self.peek() {
                Some(b'"') => {
                    // Escapes are ASCII: the raw content is UTF-8 exactly
                    // when the decoded one is.
                    if seen & HIGHS != 0
                        && simdutf8::basic::from_utf8(&self.bytes[start..self.pos]).is_err()
                    {
                        return Err(SyntaxError { offset: start });
                    }
                    self.pos += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.pos += 1;
                    self.escape()?;
                }
                // Fewer than eight bytes are left.
                Some(byte) if byte >= 0x20 => {
                    seen |= u64::from(byte);
                    self.pos += 1;
                }
                // A control character, or the end of input.
                _ => return Err(self.error()),
            }
        }
    }

    #[inline(always)]
    fn escape(&mut self) -> Result<()> {
        match escape_len(self.bytes, self.pos) {
            Some(len) => {
                self.pos += len;
                Ok(())
            }
            None => Err(self.error()),
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    #[inline(always)]
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

    #[inline(always)]
    fn at_least_one_digit(&mut self) -> Result<()> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            _ => Err(self.error()),
        }
    }

    #[inline(always)]
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

    #[inline(always)]
    fn skip_ws(&mut self) {
        // Compact JSON has none: one test, then out.
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    fn error(&self) -> SyntaxError {
        SyntaxError { offset: self.pos }
    }
}

/// The length of the escape after the backslash at `pos - 1`, if valid.
#[cold]
fn escape_len(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Some(1),
        b'u' => {
            let digits = bytes.get(pos + 1..pos + 5)?;
            digits.iter().all(u8::is_ascii_hexdigit).then_some(5)
        }
        _ => None,
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is `"`, `\` or a control
/// character. The lowest flagged byte is exact; higher ones may not be, so
/// only the lowest set bit may be used.
fn special_bytes(word: u64) -> u64 {
    fn zero_bytes(word: u64) -> u64 {
        word.wrapping_sub(ONES) & !word & HIGHS
    }
    zero_bytes(word ^ (ONES * u64::from(b'"')))
        | zero_bytes(word ^ (ONES * u64::from(b'\\')))
        | (word.wrapping_sub(ONES * 0x20) & !word & HIGHS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_flags_the_first_special_byte() {
        let first = |bytes: &[u8; 8]| {
            let special = special_bytes(u64::from_le_bytes(*bytes));
            (special != 0).then(|| special.trailing_zeros() / 8)
        };
        assert_eq!(first(b"abcdefgh"), None);
        assert_eq!(first(b"abc\"defg"), Some(3));
        assert_eq!(first(b"\\bcdefgh"), Some(0));
        assert_eq!(first(b"abcdefg\x1f"), Some(7));
        assert_eq!(first(b"\x7f\x80\xff\x20\"aaa"), Some(4));
        assert_eq!(first(b"\x01\"\"\"\"\"\"\""), Some(0));
        for at in 0..8 {
            let mut bytes = *b"zzzzzzzz";
            bytes[at] = b'"';
            assert_eq!(first(&bytes), Some(at as u32));
        }
    }

    #[test]
    fn strings_report_escapes_and_check_utf8() {
        let scan_str = |body: &[u8]| {
            let mut scanner = Scanner {
                bytes: body,
                pos: 1,
            };
            scanner.string().map(|escaped| (escaped, scanner.pos))
        };
        assert_eq!(scan_str(b"\"abc\""), Ok((false, 5)));
        assert_eq!(scan_str(b"\"a\\nc\" "), Ok((true, 6)));
        assert_eq!(scan_str("\"\u{e9}\u{4f60}\"".as_bytes()), Ok((false, 7)));
        assert_eq!(
            scan_str("\"long enough to use words \u{e9}\"".as_bytes()).map(|r| r.0),
            Ok(false)
        );
        assert!(scan_str(b"\"bad \xff utf8\"").is_err());
        assert!(scan_str(b"\"also bad in the words part \xc3\"").is_err());
        assert!(scan_str(b"\"unterminated").is_err());
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

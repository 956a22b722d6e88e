//! Skips one array or object: checks its grammar block by block with
//! bitmasks and returns where it ends.
//!
//! Every token but the first is the successor of another, so the grammar is
//! a rule per kind of token on what may follow it, checked for 64 bytes at
//! once by [`Follow`]. Only two facts need the container stack: whether a
//! comma sits in an object or an array, and whether each closing bracket
//! matches its opener. For those the brackets alone are walked one by one.

use super::BLOCK;
use super::follow::Follow;
use super::nesting::Nesting;
use super::simd::{Kernel, Walk, dispatch};
use super::strings::Strings;

/// Checks the array or object that starts at `start` and returns the
/// offset just past its closing bracket, or the offset of a syntax error.
///
/// Checked: brackets, strings (escapes, control characters, UTF-8),
/// `key : value , …` grammar, and that every byte outside a string is a
/// blank, punctuation or one that may begin or continue a literal or a
/// number (`0-9 + - . E a e f l n r s t u`): no control character, DEL,
/// backslash, non-ASCII byte or other symbol. Not checked: the spelling of
/// scalars made of those bytes (`tru`, `01`, `1.2.3` pass), which the
/// caller's own deserializer will see.
pub(crate) fn skip_container(bytes: &[u8], start: usize) -> Result<usize, usize> {
    debug_assert!(matches!(bytes.get(start), Some(b'{' | b'[')));
    dispatch(SkipContainer { bytes, start })
}

struct SkipContainer<'a> {
    bytes: &'a [u8],
    start: usize,
}

impl Walk for SkipContainer<'_> {
    type Output = Result<usize, usize>;

    #[inline(always)]
    fn run<K: Kernel>(self, kernel: K) -> Self::Output {
        let Self { bytes, start } = self;
        let mut checker = Checker::default();
        let mut base = start;
        while let Some(block) = bytes.get(base..base + BLOCK) {
            let block = block.try_into().expect("a block");
            if let Some(done) = checker.block(kernel, block, base, bytes) {
                return done;
            }
            base += BLOCK;
        }
        let rest = bytes.get(base..).unwrap_or_default();
        if rest.is_empty() {
            return Err(bytes.len());
        }
        // Blanks past the end: they end no string and hold no token.
        let mut padded = [b' '; BLOCK];
        padded[..rest.len()].copy_from_slice(rest);
        checker
            .block(kernel, &padded, base, bytes)
            .unwrap_or(Err(bytes.len()))
    }
}

/// What the blocks read so far tell the next one.
#[derive(Default)]
struct Checker {
    strings: Strings,
    nesting: Nesting,
    // Each rule: the tokens that may follow a kind of token.
    after_brace: Follow,
    after_object_comma: Follow,
    after_bracket: Follow,
    after_colon_or_array_comma: Follow,
    after_key: Follow,
    after_value: Follow,
    /// All ones when the previous block ended inside an array.
    in_array: u64,
    /// Bit 0 set when the previous block ended inside a scalar.
    in_scalar: u64,
    /// Bit 0 set when a key's string runs on into the next block.
    key_carry: u64,
    /// The bytes at the start of the next block that must be hex digits.
    hex_carry: u64,
    /// The first block with a non-ASCII byte.
    non_ascii_from: Option<usize>,
}

impl Checker {
    /// Checks the block at `base` of `bytes`; the outcome once the
    /// container ends or an error shows.
    #[inline(always)]
    fn block<K: Kernel>(
        &mut self,
        kernel: K,
        block: &[u8; BLOCK],
        base: usize,
        bytes: &[u8],
    ) -> Option<Result<usize, usize>> {
        let classes = kernel.classify(block);
        let strings = self.strings.next(classes.backslash, classes.quote, |bits| {
            kernel.prefix_xor(bits)
        });
        let in_string = strings.in_string;
        let outside = !in_string;
        let open_quote = strings.quote & in_string;
        let close_quote = strings.quote & outside;
        let blank = classes.whitespace & outside;
        let brace = classes.brace & outside;
        let bracket = classes.bracket & outside;
        let close = classes.close & outside;
        let colon = classes.colon & outside;
        let comma = classes.comma & outside;
        let scalar = outside & !(blank | brace | bracket | close | colon | comma | close_quote);

        // Outside strings, only what a literal or number is made of may
        // stand between punctuation: control bytes (blanks aside), DEL,
        // backslashes, non-ASCII bytes and other symbols are refused here.
        let mut invalid = (classes.control & in_string) | (scalar & !classes.scalar);

        // The brackets, in order: where the container ends, whether
        // each closer matches, and which bytes are in an array.
        let mut brackets = brace | bracket | close;
        let mut end = None;
        let mut array_now = self.in_array & 1;
        let mut array_bytes = self.in_array;
        while brackets != 0 {
            let at = brackets.trailing_zeros();
            brackets &= brackets - 1;
            // `{` 0x7B, `[` 0x5B, `}` 0x7D, `]` 0x5D: bit 5 tells
            // objects, bit 1 openers.
            let byte = u64::from(block[at as usize & 63]);
            let step = self.nesting.step(byte >> 1 & 1, byte >> 5 & 1);
            invalid |= step.mismatch << at;
            let Some(object) = step.inner else {
                end = Some(at);
                break;
            };
            let array = 1 ^ object;
            array_bytes ^= (array ^ array_now).wrapping_neg() & (!0 << at);
            array_now = array;
        }
        self.in_array = array_now.wrapping_neg();

        let scalar_start = scalar & !(scalar << 1 | self.in_scalar);
        let past_scalar = (scalar << 1 | self.in_scalar) & !scalar;
        self.in_scalar = scalar >> 63;
        let value = open_quote | brace | bracket | scalar_start;
        let object_comma = comma & !array_bytes;

        let next = self.after_brace.next(brace, 0, blank);
        invalid |= next & !(open_quote | close);
        let next_after_comma = self.after_object_comma.next(object_comma, 0, blank);
        invalid |= next_after_comma & !open_quote;
        let keys = open_quote & (next | next_after_comma);
        invalid |= self.after_bracket.next(bracket, 0, blank) & !(value | close);
        let array_comma = comma & array_bytes;
        invalid |= self
            .after_colon_or_array_comma
            .next(colon | array_comma, 0, blank)
            & !value;

        // A key's closing quote: the carry of adding its opening quote
        // to its run of string bytes lands there.
        let (sum, overflow) = in_string.overflowing_add(keys);
        let (sum, carry) = sum.overflowing_add(self.key_carry);
        self.key_carry = u64::from(overflow | carry);
        let key_ends = sum & close_quote;
        invalid |= self.after_key.next(key_ends, 0, blank) & !colon;
        let value_ends = (close_quote & !key_ends) | close;
        invalid |= self.after_value.next(value_ends, past_scalar, blank) & !(comma | close);

        // Escapes: a character JSON allows after the backslash, and four
        // hex digits after `\u`.
        let escaped = strings.escaped & in_string;
        invalid |= escaped & !classes.escapable;
        let u = escaped & classes.letter_u;
        let hex = u << 1 | u << 2 | u << 3 | u << 4 | self.hex_carry;
        let last = u >> 60;
        self.hex_carry = last | last >> 1 | last >> 2 | last >> 3;
        invalid |= hex & !classes.hex_digit;
        if classes.non_ascii != 0 && self.non_ascii_from.is_none() {
            self.non_ascii_from = Some(base);
        }

        let within = match end {
            Some(63) | None => !0,
            Some(at) => (1u64 << (at + 1)) - 1,
        };
        let invalid = invalid & within;
        if invalid != 0 {
            let at = base + invalid.trailing_zeros() as usize;
            return Some(Err(at.min(bytes.len())));
        }
        if let Some(at) = end {
            let end = base + at as usize + 1;
            // Outside strings, non-ASCII bytes were refused above, and the
            // byte before the first block with any is ASCII: whole
            // characters.
            if let Some(from) = self.non_ascii_from
                && simdutf8::basic::from_utf8(&bytes[from..end]).is_err()
            {
                let valid = std::str::from_utf8(&bytes[from..end])
                    .map_or_else(|err| err.valid_up_to(), str::len);
                return Some(Err(from + valid));
            }
            return Some(Ok(end));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::forced::{ALL, Choice, with};
    use super::*;

    /// The outcome under every kernel this CPU has, which must agree.
    fn skip(text: &[u8]) -> Result<usize, usize> {
        let outcomes: Vec<_> = ALL
            .iter()
            .filter(|&&kernel| kernel != Choice::Bytewise)
            .filter_map(|&kernel| with(kernel, || skip_container(text, 0)))
            .collect();
        assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "{outcomes:?}");
        outcomes[0]
    }

    #[test]
    fn finds_the_end_of_the_container_only() {
        assert_eq!(skip(b"[]"), Ok(2));
        assert_eq!(skip(b"{} trailing"), Ok(2));
        assert_eq!(skip(b"[1, {\"a\" : [true]} ] ,"), Ok(20));
        let long = format!("[\"{}\"]xyz", "a".repeat(200));
        assert_eq!(skip(long.as_bytes()), Ok(long.len() - 3));
    }

    #[test]
    fn any_depth_and_a_mismatch_at_any_depth() {
        for depth in [1, 62, 63, 64, 65, 127, 128, 129, 300] {
            let mut text = "[{\"a\":".repeat(depth).into_bytes();
            text.extend_from_slice(b"0");
            text.extend_from_slice(&b"}]".repeat(depth));
            assert_eq!(skip(&text), Ok(text.len()), "depth {depth}");
            // The innermost closer wrong: an error at its offset.
            let at = depth * 6 + 1;
            let mut wrong = text.clone();
            wrong[at] = b']';
            assert_eq!(skip(&wrong), Err(at), "depth {depth}");
        }
    }

    #[test]
    fn refuses_what_json_refuses() {
        for (text, at) in [
            (&b"[1,]"[..], 3),
            (b"{\"a\":1,}", 7),
            (b"{,}", 1),
            (b"{\"a\"}", 4),
            (b"{\"a\":}", 5),
            (b"{\"a\" 1}", 5),
            (b"[1 2]", 3),
            (b"[\"a\":1]", 4),
            (b"[}", 1),
            (b"{]", 1),
            (b"[\"\\x\"]", 3),
            (b"[\"\\u12g4\"]", 6),
            (b"[\"a\x01\"]", 3),
            (b"[\x01]", 1),
            (b"[\\]", 1),
            (b"[\xc3\xa9]", 1),
            (b"[\"\xff\"]", 2),
            (b"[\"unterminated]", 15),
            (b"[\"\\u12", 6),
            (b"[1", 2),
            (b"{\"a\":1 \"b\":2}", 7),
            (b"{\"a\":\"b\":1}", 8),
            (b"[{\"a\":1},2,[3]:4]", 14),
            // Outside strings, bytes no JSON token is made of (#21).
            (b"[\x7f]", 1),
            (b"[1\x7f]", 2),
            (b"{\"a\":\x7f}", 5),
            (b"[@]", 1),
            (b"[$3]", 1),
            (b"[<5210]", 1),
            (b"[1, 2 #]", 6),
            (b"[tr\x7fue]", 3),
            (b"[nul~]", 4),
            (b"[1e5_]", 4),
        ] {
            assert_eq!(skip(text), Err(at), "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn accepts_blanks_escapes_and_utf8_across_blocks() {
        for shift in 0..70 {
            let text = format!(
                "[{}\"{}\\\\\\\"\\u00e9\u{4f60}\"\n,\t{{ \"k\" :\r[ ] }} , 1e5 ]",
                " ".repeat(shift),
                "x".repeat(shift)
            );
            assert_eq!(skip(text.as_bytes()), Ok(text.len()), "shift {shift}");
            // A byte sequence that is not UTF-8, at the same places.
            let mut bad = text.clone().into_bytes();
            let at = bad.iter().position(|&b| b >= 0x80).expect("non-ASCII");
            bad[at + 1] = b'x';
            assert!(skip(&bad).is_err(), "shift {shift}");
        }
    }

    #[test]
    fn scalars_are_not_spelled_out() {
        // The one divergence from serde_json, left to the caller's parser:
        // misspellings made of the bytes scalars are made of.
        assert_eq!(skip(b"[tru, 01, 1.2.3, -, eu, +.E]"), Ok(28));
    }

    #[test]
    fn outside_strings_only_the_bytes_of_literals_and_numbers_pass() {
        let made_of = b"0123456789+-.Eaeflnrstu";
        for byte in 0..=u8::MAX {
            if b"\"{}[]:, \t\n\r".contains(&byte) {
                continue;
            }
            let text = [b'[', byte, b']'];
            let expected = if made_of.contains(&byte) {
                Ok(3)
            } else {
                Err(1)
            };
            assert_eq!(skip(&text), expected, "{byte:#04x}");
        }
    }

    #[test]
    fn every_byte_outside_strings_is_checked_at_every_place() {
        // A byte no token is made of, at every offset of a long array, so
        // that it falls at each place of a block.
        for bad in [0x7f, b'@', b'$', b'<', b'#', b'_', b'x', b'A', 0x01, 0x80] {
            for at in 1..140 {
                let mut text = b"[".to_vec();
                text.extend(std::iter::repeat_n(b' ', at - 1));
                text.push(bad);
                text.extend_from_slice(b" ]");
                assert_eq!(skip(&text), Err(at), "{bad:#x} at {at}");
            }
        }
    }
}

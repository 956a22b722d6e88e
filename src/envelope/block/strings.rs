//! Where strings are: escapes first, then the quotes they leave, then the
//! bytes between quotes (simdjson's first stage, without the index).

const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

/// What one block tells the next about strings.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    /// Bit 0 set when the next block's first byte is escaped.
    next_is_escaped: u64,
    /// All ones when the previous block ended inside a string.
    in_string: u64,
}

/// A block's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StringMasks {
    /// Characters after an escaping backslash.
    pub(crate) escaped: u64,
    /// Quotes that open or close a string.
    pub(crate) quote: u64,
    /// Bytes inside strings: the opening quote included, the closing one not.
    pub(crate) in_string: u64,
}

impl Strings {
    /// The strings of the next block, given its backslashes and quotes.
    /// `prefix_xor` is the kernel's.
    #[inline(always)]
    pub(crate) fn next(
        &mut self,
        backslash: u64,
        quote: u64,
        prefix_xor: impl FnOnce(u64) -> u64,
    ) -> StringMasks {
        let escaped = self.escaped(backslash);
        let quote = quote & !escaped;
        let in_string = prefix_xor(quote) ^ self.in_string;
        // All ones or all zeros, from the last byte.
        self.in_string = ((in_string as i64) >> 63) as u64;
        StringMasks {
            escaped,
            quote,
            in_string,
        }
    }

    /// The characters escaped by backslashes: in a run of backslashes, every
    /// second one escapes the next character (simdjson's escape scanner).
    #[inline(always)]
    ///
    /// Without a branch: whether a block holds a backslash is as
    /// unpredictable as the text.
    fn escaped(&mut self, backslash: u64) -> u64 {
        let backslash = backslash & !self.next_is_escaped;
        let follows_escape = backslash << 1 | self.next_is_escaped;
        let odd_sequence_starts = backslash & !EVEN_BITS & !follows_escape;
        let (sequences_starting_on_even_bits, overflow) =
            odd_sequence_starts.overflowing_add(backslash);
        self.next_is_escaped = u64::from(overflow);
        let invert_mask = sequences_starting_on_even_bits << 1;
        (EVEN_BITS ^ invert_mask) & follows_escape
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::envelope::block::simd::{Kernel, Portable};

    /// Escapes and strings, one byte at a time.
    fn naive(input: &[u8]) -> (Vec<bool>, Vec<bool>) {
        let (mut escaped, mut in_string) = (vec![false; input.len()], vec![false; input.len()]);
        let (mut escaping, mut inside) = (false, false);
        for (i, &byte) in input.iter().enumerate() {
            if escaping {
                escaped[i] = true;
                escaping = false;
            } else if byte == b'\\' {
                escaping = true;
            } else if byte == b'"' {
                inside = !inside;
                // The opening quote is inside, the closing one is not.
                in_string[i] = inside;
                continue;
            }
            in_string[i] = inside;
        }
        (escaped, in_string)
    }

    fn masks(input: &[u8]) -> (Vec<bool>, Vec<bool>) {
        let mut strings = Strings::default();
        let (mut escaped, mut in_string) = (Vec::new(), Vec::new());
        for chunk in input.chunks(64) {
            let (mut backslash, mut quote) = (0u64, 0u64);
            for (i, &byte) in chunk.iter().enumerate() {
                backslash |= u64::from(byte == b'\\') << i;
                quote |= u64::from(byte == b'"') << i;
            }
            let m = strings.next(backslash, quote, |bits| Portable.prefix_xor(bits));
            for i in 0..chunk.len() {
                escaped.push(m.escaped >> i & 1 == 1);
                in_string.push(m.in_string >> i & 1 == 1);
            }
        }
        (escaped, in_string)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn strings_and_escapes_match_a_byte_walk(
            input in prop::collection::vec(prop::sample::select(b"\\\"a".to_vec()), 0..300)
        ) {
            prop_assert_eq!(masks(&input), naive(&input));
        }
    }

    #[test]
    fn a_backslash_run_across_blocks() {
        let mut input = vec![b'a'; 63];
        input.extend_from_slice(b"\\\\\\\"x\"");
        assert_eq!(masks(&input), naive(&input));
    }
}

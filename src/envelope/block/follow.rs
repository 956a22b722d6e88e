//! The token after each token: the next byte that is not blank, found for
//! a whole block of tokens at once.

/// One relation "the token after an X", carried across blocks.
#[derive(Debug, Default)]
pub(crate) struct Follow {
    /// Bit 0 set when an X's successor is still to come in the next block.
    pending: u64,
}

impl Follow {
    /// Where the tokens after `ends` (last bytes of X tokens) and after
    /// `after` (first bytes past X tokens) start, skipping `blank`.
    ///
    /// A successor past a run of blanks is found by adding: a bit at the
    /// start of a run carries through the run to the byte after it.
    #[inline(always)]
    pub(crate) fn next(&mut self, ends: u64, after: u64, blank: u64) -> u64 {
        let after = ends << 1 | after | self.pending;
        // Compact JSON, the common case: the next byte is the next token.
        if blank == 0 {
            self.pending = ends >> 63;
            return after;
        }
        let (past_blanks, overflow) = (after & blank).overflowing_add(blank);
        self.pending = ends >> 63 | u64::from(overflow);
        (after | past_blanks) & !blank
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(text: &str, c: char) -> u64 {
        text.char_indices()
            .filter(|&(_, x)| x == c)
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    #[test]
    fn finds_the_next_token_past_blanks() {
        let text = "a  b c";
        let ends = mask(text, 'a') | mask(text, 'b');
        let blank = mask(text, ' ');
        let next = Follow::default().next(ends, 0, blank);
        assert_eq!(next, mask(text, 'b') | mask(text, 'c'));
    }

    #[test]
    fn carries_into_the_next_block() {
        let mut follow = Follow::default();
        // An X at the last byte, then blanks to the end of the block.
        assert_eq!(follow.next(1 << 63, 0, 0), 0);
        assert_eq!(follow.next(0, 0, 0b11), 0b100);
        let mut follow = Follow::default();
        assert_eq!(follow.next(1 << 60, 0, 0b111 << 61), 0);
        assert_eq!(follow.next(0, 0, 0b1), 0b10);
    }
}

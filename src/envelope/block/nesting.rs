//! The open containers of a value being skipped, as a stack of bits.

/// Levels kept in the word; deeper ones spill into a Vec.
const INLINE: usize = 63;

/// A stack of open containers, bit 1 for an object: a bit each for the
/// first 63 levels (no allocation for any real response), then a Vec.
#[derive(Debug, Default)]
pub(crate) struct Nesting {
    stack: u64,
    depth: usize,
    spill: Vec<bool>,
}

/// What one bracket did to the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// 1 when a closing bracket does not match the innermost opener.
    pub(crate) mismatch: u64,
    /// The innermost open container after the step: 1 for an object, 0 for
    /// an array; `None` when none is left.
    pub(crate) inner: Option<u64>,
}

impl Nesting {
    /// Opens (`open` is 1) or closes (0) a container; `object` is 1 for a
    /// brace. The stack must not be empty when closing.
    ///
    /// Without branches on the data at shallow depths: brackets come in
    /// no order a predictor could learn.
    #[inline(always)]
    pub(crate) fn step(&mut self, open: u64, object: u64) -> Step {
        if self.depth >= INLINE {
            return self.step_deep(open, object);
        }
        debug_assert!(open == 1 || self.depth > 0);
        // The level written by an opener, or read by a closer.
        let level = (self.depth + open as usize).wrapping_sub(1) & 63;
        let mismatch = (1 ^ open) & ((self.stack >> level & 1) ^ object);
        let written = 1u64 << level & open.wrapping_neg();
        self.stack = (self.stack & !written) | (object << level & written);
        self.depth = (self.depth + 2 * open as usize) - 1;
        let inner = match self.depth {
            0 => None,
            depth => Some(self.stack >> (depth - 1) & 1),
        };
        Step { mismatch, inner }
    }

    #[cold]
    fn step_deep(&mut self, open: u64, object: u64) -> Step {
        let mut mismatch = 0;
        if open == 1 {
            self.spill.push(object == 1);
            self.depth += 1;
        } else {
            mismatch = self.level(self.depth - 1) ^ object;
            if self.depth > INLINE {
                self.spill.pop();
            }
            self.depth -= 1;
        }
        Step {
            mismatch,
            inner: Some(self.level(self.depth - 1)),
        }
    }

    fn level(&self, level: usize) -> u64 {
        match level.checked_sub(INLINE) {
            None => self.stack >> level & 1,
            Some(deep) => u64::from(self.spill[deep]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_vec_of_openers_at_any_depth() {
        let mut nesting = Nesting::default();
        let mut reference: Vec<u64> = Vec::new();
        // Up to 200 levels, objects and arrays alternating irregularly.
        for depth in 0..200u64 {
            let object = (depth * 7 / 3) & 1;
            reference.push(object);
            let step = nesting.step(1, object);
            assert_eq!(
                step,
                Step {
                    mismatch: 0,
                    inner: Some(object)
                }
            );
        }
        while let Some(object) = reference.pop() {
            let wrong = nesting_clone_step(&nesting, 1 ^ object);
            assert_eq!(wrong, 1, "a wrong closer at depth {}", reference.len());
            let step = nesting.step(0, object);
            assert_eq!(step.mismatch, 0);
            assert_eq!(step.inner, reference.last().copied());
        }
    }

    /// The mismatch bit a closer of kind `object` would get, without closing.
    fn nesting_clone_step(nesting: &Nesting, object: u64) -> u64 {
        let mut copy = Nesting {
            stack: nesting.stack,
            depth: nesting.depth,
            spill: nesting.spill.clone(),
        };
        copy.step(0, object).mismatch
    }
}

//! The open containers of a value being skipped, as a stack of bits.

/// Levels kept in the word; deeper ones spill into a Vec.
const INLINE: usize = 64;

/// A stack of open containers, bit 1 for an object: the innermost in bit 0
/// of a word that holds the 64 innermost levels (no allocation for any real
/// response); the levels above them spill into a Vec.
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
    /// Without branches on the data at usual depths: brackets come in no
    /// order a predictor could learn.
    #[inline(always)]
    pub(crate) fn step(&mut self, open: u64, object: u64) -> Step {
        if self.depth >= INLINE {
            return self.step_deep(open, object);
        }
        debug_assert!(open == 1 || self.depth > 0);
        let mismatch = (1 ^ open) & (self.stack ^ object) & 1;
        let pushed = self.stack << 1 | object;
        let popped = self.stack >> 1;
        self.stack = if open == 1 { pushed } else { popped };
        self.depth = (self.depth + 2 * open as usize) - 1;
        let inner = (self.depth != 0).then_some(self.stack & 1);
        Step { mismatch, inner }
    }

    /// Opens a container.
    #[inline(always)]
    pub(crate) fn push(&mut self, object: bool) {
        self.step(1, u64::from(object));
    }

    /// Closes the innermost container, whatever it is.
    #[inline(always)]
    pub(crate) fn pop(&mut self) {
        let object = self.stack & 1;
        self.step(0, object);
    }

    /// Whether the innermost open container is an object; `None` when none is open.
    #[inline(always)]
    pub(crate) fn top(&self) -> Option<bool> {
        (self.depth != 0).then_some(self.stack & 1 == 1)
    }

    /// At 64 levels and beyond, the word's outermost level moves to the Vec
    /// on a push and back on a pop.
    #[cold]
    fn step_deep(&mut self, open: u64, object: u64) -> Step {
        let mut mismatch = 0;
        if open == 1 {
            self.spill.push(self.stack >> 63 == 1);
            self.stack = self.stack << 1 | object;
            self.depth += 1;
        } else {
            mismatch = (self.stack ^ object) & 1;
            let outer = self.spill.pop().map_or(0, u64::from);
            self.stack = self.stack >> 1 | outer << 63;
            self.depth -= 1;
        }
        Step {
            mismatch,
            inner: Some(self.stack & 1),
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

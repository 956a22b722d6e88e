//! Byte classification, 64 bytes at a time: the only code in the crate that
//! is `unsafe`, and only to call CPU-specific instructions the running CPU
//! was seen to have, and to load a block that a reference proves readable.
//!
//! Each kernel turns a block into [`Classes`], one bit per byte. AVX-512BW
//! and AVX2 are chosen at run time on x86_64, SSE2 is its baseline, and a
//! portable loop serves everywhere else and is the reference the tests
//! compare the others with.

use super::BLOCK;

/// What each byte of a block is, before strings are known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Classes {
    pub(crate) backslash: u64,
    pub(crate) quote: u64,
    /// Space, tab, line feed, carriage return.
    pub(crate) whitespace: u64,
    pub(crate) colon: u64,
    pub(crate) comma: u64,
    /// `{`
    pub(crate) brace: u64,
    /// `[`
    pub(crate) bracket: u64,
    /// `}` and `]`.
    pub(crate) close: u64,
    /// Below 0x20.
    pub(crate) control: u64,
    /// 0x80 and above.
    pub(crate) non_ascii: u64,
    /// What may follow a backslash: `" \ / b f n r t u`.
    pub(crate) escapable: u64,
    /// `0-9 A-F a-f`
    pub(crate) hex_digit: u64,
    /// `u`
    pub(crate) letter_u: u64,
    /// What may begin or continue a literal or a number, the only tokens
    /// besides strings and punctuation: `0-9 + - . E` and the letters of
    /// `true false null` (`a e f l n r s t u`).
    pub(crate) scalar: u64,
}

/// Whether `byte` may begin or continue a literal or a number.
#[inline(always)]
pub(crate) fn is_scalar_byte(byte: u8) -> bool {
    matches!(
        byte,
        b'0'..=b'9'
            | b'+'
            | b'-'
            | b'.'
            | b'E'
            | b'a'
            | b'e'
            | b'f'
            | b'l'
            | b'n'
            | b'r'
            | b's'
            | b't'
            | b'u'
    )
}

/// The three escape classes of each byte, one at a time.
#[inline(always)]
fn escape_classes(block: &[u8; BLOCK], classes: &mut Classes) {
    for (i, &byte) in block.iter().enumerate() {
        classes.escapable |= u64::from(matches!(
            byte,
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u'
        )) << i;
        classes.hex_digit |= u64::from(byte.is_ascii_hexdigit()) << i;
        classes.letter_u |= u64::from(byte == b'u') << i;
    }
}

/// A way to classify blocks, and the prefix XOR that turns quotes into
/// strings.
pub(crate) trait Kernel: Copy {
    fn classify(self, block: &[u8; BLOCK]) -> Classes;

    /// Bit i of the result is the XOR of bits 0..=i of `bits`.
    #[inline(always)]
    fn prefix_xor(self, mut bits: u64) -> u64 {
        bits ^= bits << 1;
        bits ^= bits << 2;
        bits ^= bits << 4;
        bits ^= bits << 8;
        bits ^= bits << 16;
        bits ^= bits << 32;
        bits
    }
}

/// One byte at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable;

impl Kernel for Portable {
    fn classify(self, block: &[u8; BLOCK]) -> Classes {
        let mut classes = Classes::default();
        for (i, &byte) in block.iter().enumerate() {
            let bit = 1u64 << i;
            let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
            set(&mut classes.backslash, byte == b'\\');
            set(&mut classes.quote, byte == b'"');
            set(
                &mut classes.whitespace,
                matches!(byte, b' ' | b'\t' | b'\n' | b'\r'),
            );
            set(&mut classes.colon, byte == b':');
            set(&mut classes.comma, byte == b',');
            set(&mut classes.brace, byte == b'{');
            set(&mut classes.bracket, byte == b'[');
            set(&mut classes.close, matches!(byte, b'}' | b']'));
            set(&mut classes.control, byte < 0x20);
            set(&mut classes.non_ascii, byte >= 0x80);
            set(&mut classes.scalar, is_scalar_byte(byte));
        }
        escape_classes(block, &mut classes);
        classes
    }
}

/// Runs `walk` with the fastest kernel this CPU has.
///
/// `walk` is generic and inlined into a function compiled for the kernel's
/// instruction set, so that the whole loop, not only the classification,
/// may use it.
#[inline]
pub(crate) fn dispatch<W: Walk>(walk: W) -> W::Output {
    #[cfg(test)]
    if let Some(kernel) = forced::get() {
        return kernel.run(walk);
    }
    #[cfg(target_arch = "x86_64")]
    {
        if x86::Avx512::detect() {
            // SAFETY: the CPU has every feature `x86::avx512` enables.
            return unsafe { x86::avx512(walk) };
        }
        if x86::Avx2::detect() {
            // SAFETY: the CPU has every feature `x86::avx2` enables.
            return unsafe { x86::avx2(walk) };
        }
        #[cfg(target_feature = "sse2")]
        return walk.run(x86::Sse2);
    }
    #[allow(unreachable_code)]
    walk.run(Portable)
}

/// A kernel chosen by a test, for code that reaches `dispatch` indirectly.
#[cfg(test)]
pub(crate) mod forced {
    use std::cell::Cell;

    use super::{Portable, Walk};

    /// The kernels, whether or not this CPU runs them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Choice {
        /// No blocks: payload read byte by byte, as on targets without a
        /// SIMD kernel.
        Bytewise,
        Portable,
        Sse2,
        Avx2,
        Avx512,
    }

    /// Every choice, the byte path first.
    pub(crate) const ALL: [Choice; 5] = [
        Choice::Bytewise,
        Choice::Portable,
        Choice::Sse2,
        Choice::Avx2,
        Choice::Avx512,
    ];

    thread_local! {
        static FORCED: Cell<Option<Choice>> = const { Cell::new(None) };
    }

    pub(crate) fn get() -> Option<Choice> {
        FORCED.get()
    }

    /// Runs `f` with `choice` for every block scan on this thread; `None`
    /// when this CPU lacks the kernel.
    pub(crate) fn with<T>(choice: Choice, f: impl FnOnce() -> T) -> Option<T> {
        if !choice.available() {
            return None;
        }
        let previous = FORCED.replace(Some(choice));
        let out = f();
        FORCED.set(previous);
        Some(out)
    }

    impl Choice {
        fn available(self) -> bool {
            match self {
                Choice::Bytewise | Choice::Portable => true,
                #[cfg(target_arch = "x86_64")]
                Choice::Sse2 => cfg!(target_feature = "sse2"),
                #[cfg(target_arch = "x86_64")]
                Choice::Avx2 => super::x86::Avx2::detect(),
                #[cfg(target_arch = "x86_64")]
                Choice::Avx512 => super::x86::Avx512::detect(),
                #[cfg(not(target_arch = "x86_64"))]
                _ => false,
            }
        }

        pub(super) fn run<W: Walk>(self, walk: W) -> W::Output {
            match self {
                #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
                Choice::Sse2 => walk.run(super::x86::Sse2),
                #[cfg(target_arch = "x86_64")]
                Choice::Avx2 => walk.run(super::x86::Avx2::new().expect("checked by `with`")),
                #[cfg(target_arch = "x86_64")]
                Choice::Avx512 => walk.run(super::x86::Avx512::new().expect("checked by `with`")),
                // Byte by byte is the scanner's business, not a kernel's.
                Choice::Bytewise | Choice::Portable => walk.run(Portable),
                #[cfg(not(target_arch = "x86_64"))]
                _ => unreachable!("not available on this target"),
            }
        }
    }
}

/// A loop over blocks, generic over the kernel.
pub(crate) trait Walk {
    type Output;
    fn run<K: Kernel>(self, kernel: K) -> Self::Output;
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use std::arch::x86_64::*;

    use super::{BLOCK, Classes, Kernel, Walk};

    /// A kernel that runs only where the CPU has `features`: a token type
    /// that proves it, made only by `detect`, and `compile`, which compiles
    /// a walk for exactly those features. Listing them once keeps what is
    /// checked and what is enabled the same.
    macro_rules! detected_kernel {
        (
            $(#[$doc:meta])*
            $token:ident, $compile:ident, $classify:ident, [$($feature:tt),+]
        ) => {
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub(crate) struct $token(());

            impl $token {
                pub(crate) fn detect() -> bool {
                    $(is_x86_feature_detected!($feature))&&+
                }

                #[cfg(test)]
                pub(crate) fn new() -> Option<Self> {
                    Self::detect().then_some(Self(()))
                }
            }

            /// Compiles `walk` for this kernel.
            ///
            /// # Safety
            /// The CPU must have every feature enabled here (`detect`).
            $(#[target_feature(enable = $feature)])+
            pub(super) unsafe fn $compile<W: Walk>(walk: W) -> W::Output {
                walk.run($token(()))
            }

            impl Kernel for $token {
                #[inline(always)]
                fn classify(self, block: &[u8; BLOCK]) -> Classes {
                    // SAFETY: the token exists only where `detect` saw every
                    // feature, those of the classification among them.
                    unsafe { $classify(block) }
                }

                #[inline(always)]
                fn prefix_xor(self, bits: u64) -> u64 {
                    // SAFETY: as above; pclmulqdq is among the features.
                    unsafe { prefix_xor_clmul(bits) }
                }
            }
        };
    }

    detected_kernel!(
        /// Proof that the CPU has AVX-512BW and carry-less multiplication.
        Avx512,
        avx512,
        classify_avx512,
        ["avx512f", "avx512bw", "avx2", "bmi1", "bmi2", "pclmulqdq", "popcnt"]
    );

    detected_kernel!(
        /// Proof that the CPU has AVX2 and carry-less multiplication.
        Avx2,
        avx2,
        classify_avx2,
        ["avx2", "bmi1", "pclmulqdq", "popcnt"]
    );

    /// Part of every x86_64 CPU.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct Sse2;

    #[cfg(target_feature = "sse2")]
    impl Kernel for Sse2 {
        #[inline(always)]
        fn classify(self, block: &[u8; BLOCK]) -> Classes {
            // SAFETY: the cfg above says every CPU this build runs on has sse2.
            unsafe { classify_sse2(block) }
        }
    }

    /// For each low nibble, the blank ending in it, or 0xFF, which no ASCII
    /// byte equals (bytes from 0x80 look up 0 and equal nothing either).
    const BLANKS: [i8; 16] = [
        b' ' as i8,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        -1,
        b'\t' as i8,
        b'\n' as i8,
        -1,
        -1,
        b'\r' as i8,
        -1,
        -1,
    ];

    // The escape classes by two lookups, one per nibble, ANDed: each high
    // nibble that matters has its own bits, and a low nibble's entry holds
    // the bits of the high nibbles it pairs with.
    //   bit 0: `"` `/` (0x2_)   bit 1: `\` (0x5_)    bit 2: `b f n` (0x6_)
    //   bit 3: `r t u` (0x7_)   bit 4: `0-9` (0x3_)  bit 5: `A-F` (0x4_)
    //   bit 6: `a-f` (0x6_)     bit 7: `u` (0x7_)
    const ESCAPABLE: i8 = 0x0f;
    const HEX_DIGIT: i8 = 0x70;
    const LOW_NIBBLE: [i8; 16] = [
        0x10,
        0x70,
        0x7d,
        0x70,
        0x78,
        0xf8u8 as i8,
        0x74,
        0x10,
        0x10,
        0x10,
        0,
        0,
        0x02,
        0,
        0x04,
        0x01,
    ];
    const HIGH_NIBBLE: [i8; 16] = [
        0,
        0,
        0x01,
        0x10,
        0x20,
        0x02,
        0x44,
        0x88u8 as i8,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];

    // The scalar class by one more lookup on the low nibble, ANDed with the
    // high nibble's entry of `HIGH_NIBBLE`: a low nibble's entry holds the
    // bits `HIGH_NIBBLE` gives the high nibbles it pairs with, for
    //   `+ - .` (0x2_, bit 0)   `0-9` (0x3_, bit 4)   `E` (0x4_, bit 5)
    //   `a e f l n` (0x6_, bit 2)   `r s t u` (0x7_, bit 3)
    const SCALAR_LOW_NIBBLE: [i8; 16] = [
        0x10, 0x14, 0x18, 0x18, 0x18, 0x3c, 0x14, 0x10, 0x10, 0x10, 0, 0x01, 0x04, 0x01, 0x05, 0,
    ];

    #[target_feature(enable = "pclmulqdq,sse2")]
    fn prefix_xor_clmul(bits: u64) -> u64 {
        // Carry-less multiplication by all ones XORs every shift of `bits`.
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, bits as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    fn classify_avx512(block: &[u8; BLOCK]) -> Classes {
        // SAFETY: `block` is 64 readable bytes, the width of the load, which
        // has no alignment requirement.
        let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        let eq = |byte: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(byte as i8));
        let blanks = _mm512_broadcast_i32x4(table(BLANKS));
        // `[` and `{`, `]` and `}` differ only in bit 5.
        let folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
        let high = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0f));
        let high = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(table(HIGH_NIBBLE)), high);
        let escape = _mm512_and_si512(
            _mm512_shuffle_epi8(_mm512_broadcast_i32x4(table(LOW_NIBBLE)), v),
            high,
        );
        let scalar = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(table(SCALAR_LOW_NIBBLE)), v);
        Classes {
            backslash: eq(b'\\'),
            quote: eq(b'"'),
            whitespace: _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(blanks, v), v),
            colon: eq(b':'),
            comma: eq(b','),
            brace: eq(b'{'),
            bracket: eq(b'['),
            close: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'}' as i8)),
            control: _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)),
            non_ascii: _mm512_movepi8_mask(v),
            escapable: _mm512_test_epi8_mask(escape, _mm512_set1_epi8(ESCAPABLE)),
            hex_digit: _mm512_test_epi8_mask(escape, _mm512_set1_epi8(HEX_DIGIT)),
            letter_u: _mm512_movepi8_mask(escape),
            scalar: _mm512_test_epi8_mask(scalar, high),
        }
    }

    #[target_feature(enable = "avx2")]
    fn classify_avx2(block: &[u8; BLOCK]) -> Classes {
        let blanks = _mm256_broadcastsi128_si256(table(BLANKS));
        let low_nibble = _mm256_broadcastsi128_si256(table(LOW_NIBBLE));
        let high_nibble = _mm256_broadcastsi128_si256(table(HIGH_NIBBLE));
        let scalar_low = _mm256_broadcastsi128_si256(table(SCALAR_LOW_NIBBLE));
        let mut classes = Classes::default();
        for half in 0..2 {
            // SAFETY: bytes 32 * half .. 32 * half + 32 of `block` are
            // readable; the load has no alignment requirement.
            let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * half).cast()) };
            let bits = |m: __m256i| u64::from(_mm256_movemask_epi8(m) as u32) << (32 * half);
            let eq = |byte: u8| bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(byte as i8)));
            let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
            classes.backslash |= eq(b'\\');
            classes.quote |= eq(b'"');
            classes.whitespace |= bits(_mm256_cmpeq_epi8(_mm256_shuffle_epi8(blanks, v), v));
            classes.colon |= eq(b':');
            classes.comma |= eq(b',');
            classes.brace |= eq(b'{');
            classes.bracket |= eq(b'[');
            classes.close |= bits(_mm256_cmpeq_epi8(folded, _mm256_set1_epi8(b'}' as i8)));
            classes.control |= bits(_mm256_cmpeq_epi8(
                _mm256_min_epu8(v, _mm256_set1_epi8(0x1f)),
                v,
            ));
            classes.non_ascii |= bits(v);
            let high = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0f));
            let high = _mm256_shuffle_epi8(high_nibble, high);
            let escape = _mm256_and_si256(_mm256_shuffle_epi8(low_nibble, v), high);
            let none_of = |class: i8| {
                let masked = _mm256_and_si256(escape, _mm256_set1_epi8(class));
                !bits(_mm256_cmpeq_epi8(masked, _mm256_setzero_si256()))
                    & (0xffff_ffff << (32 * half))
            };
            classes.escapable |= none_of(ESCAPABLE);
            classes.hex_digit |= none_of(HEX_DIGIT);
            classes.letter_u |= bits(escape);
            let scalar = _mm256_and_si256(_mm256_shuffle_epi8(scalar_low, v), high);
            classes.scalar |= !bits(_mm256_cmpeq_epi8(scalar, _mm256_setzero_si256()))
                & (0xffff_ffff << (32 * half));
        }
        classes
    }

    #[target_feature(enable = "sse2")]
    fn classify_sse2(block: &[u8; BLOCK]) -> Classes {
        let mut classes = Classes::default();
        for lane in 0..4 {
            // SAFETY: bytes 16 * lane .. 16 * lane + 16 of `block` are
            // readable; the load has no alignment requirement.
            let v = unsafe { _mm_loadu_si128(block.as_ptr().add(16 * lane).cast()) };
            let bits = |m: __m128i| u64::from(_mm_movemask_epi8(m) as u16) << (16 * lane);
            let eq = |byte: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8));
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            classes.backslash |= bits(eq(b'\\'));
            classes.quote |= bits(eq(b'"'));
            classes.whitespace |= bits(_mm_or_si128(
                _mm_or_si128(eq(b' '), eq(b'\t')),
                _mm_or_si128(eq(b'\n'), eq(b'\r')),
            ));
            classes.colon |= bits(eq(b':'));
            classes.comma |= bits(eq(b','));
            classes.brace |= bits(eq(b'{'));
            classes.bracket |= bits(eq(b'['));
            classes.close |= bits(_mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)));
            let non_ascii = bits(v);
            // Signed: bytes from 0x80 are negative, so below 0x20 too.
            classes.control |= bits(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20))) & !non_ascii;
            classes.non_ascii |= non_ascii;
            // No table lookup before SSSE3: compares. Signed compares are
            // exact here, as bytes from 0x80 are negative and in no range.
            let between = |x: __m128i, low: u8, high: u8| {
                _mm_and_si128(
                    _mm_cmpgt_epi8(x, _mm_set1_epi8(low as i8 - 1)),
                    _mm_cmplt_epi8(x, _mm_set1_epi8(high as i8 + 1)),
                )
            };
            let u = eq(b'u');
            classes.letter_u |= bits(u);
            classes.hex_digit |= bits(_mm_or_si128(
                between(v, b'0', b'9'),
                between(folded, b'a', b'f'),
            ));
            let escapable = [b'"', b'\\', b'/', b'b', b'f', b'n', b'r', b't']
                .into_iter()
                .fold(u, |any, byte| _mm_or_si128(any, eq(byte)));
            classes.escapable |= bits(escapable);
            let scalar = [b'+', b'-', b'.', b'E', b'a', b'l', b'n']
                .into_iter()
                .fold(between(v, b'0', b'9'), |any, byte| {
                    _mm_or_si128(any, eq(byte))
                });
            let scalar = _mm_or_si128(
                scalar,
                _mm_or_si128(between(v, b'e', b'f'), between(v, b'r', b'u')),
            );
            classes.scalar |= bits(scalar);
        }
        classes
    }

    /// A 16-byte table as a vector.
    #[target_feature(enable = "sse2")]
    fn table(bytes: [i8; 16]) -> __m128i {
        let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = bytes;
        _mm_setr_epi8(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::forced::{ALL, Choice, with};
    use super::*;

    /// Classifies with the kernel `choice` names, through `dispatch`.
    fn classify_with(choice: Choice, block: &[u8; BLOCK]) -> Option<(Classes, u64)> {
        struct One<'a>(&'a [u8; BLOCK]);
        impl Walk for One<'_> {
            type Output = (Classes, u64);
            fn run<K: Kernel>(self, kernel: K) -> Self::Output {
                let quotes = kernel.classify(self.0).quote;
                (kernel.classify(self.0), kernel.prefix_xor(quotes))
            }
        }
        with(choice, || dispatch(One(block)))
    }

    fn blocks() -> impl Strategy<Value = [u8; BLOCK]> {
        // Mostly JSON's own bytes, so that every class is dense, and any byte.
        let byte = prop_oneof![
            3 => prop::sample::select(b"{}[]:,\" \\\t\n\r/bfnrtu0aAfFgG9\x1f\x7f\x80\xff+-.eElsx@$<".to_vec()),
            1 => any::<u8>(),
        ];
        prop::array::uniform32(byte.clone()).prop_flat_map(move |a| {
            prop::array::uniform32(byte.clone()).prop_map(move |b| {
                let mut block = [0; BLOCK];
                block[..32].copy_from_slice(&a);
                block[32..].copy_from_slice(&b);
                block
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_kernel_classifies_as_the_portable_one(block in blocks()) {
            let reference = classify_with(Choice::Portable, &block).expect("portable");
            for choice in ALL {
                if let Some(classes) = classify_with(choice, &block) {
                    prop_assert_eq!(classes, reference, "{:?}", choice);
                }
            }
        }
    }

    #[test]
    fn this_cpu_runs_its_kernels() {
        // The x86_64 machines this crate is tested on have AVX2; the
        // fallback must not be what the tests exercise by accident.
        #[cfg(target_arch = "x86_64")]
        assert!(with(Choice::Avx2, || ()).is_some());
        assert!(with(Choice::Portable, || ()).is_some());
    }
}

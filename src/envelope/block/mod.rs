//! The block scanner: skips a payload array or object 64 bytes at a time,
//! with SIMD classification and bitmask grammar, as simdjson's first stage
//! does, and checks it on the way.

mod follow;
mod nesting;
#[allow(unsafe_code)]
mod simd;
mod skip;
mod strings;

pub(crate) use nesting::Nesting;
#[cfg(test)]
pub(crate) use simd::forced;
pub(crate) use skip::skip_container;

/// Whether blocks beat reading byte by byte on this CPU: on every x86_64
/// CPU (SSE2 at least), not with the portable kernel, which is the
/// reference for the others, not a fast path.
#[inline]
pub(crate) fn faster_than_bytes() -> bool {
    #[cfg(test)]
    if let Some(choice) = forced::get() {
        return choice != forced::Choice::Bytewise;
    }
    cfg!(target_arch = "x86_64")
}

/// Bytes per block: one bit each in a `u64`.
const BLOCK: usize = 64;

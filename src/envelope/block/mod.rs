//! The block scanner: skips a payload array or object 64 bytes at a time,
//! with SIMD classification and bitmask grammar, as simdjson's first stage
//! does, and checks it on the way.

mod follow;
mod nesting;
#[allow(unsafe_code)]
mod simd;
mod skip;
mod strings;

#[cfg(test)]
pub(crate) use simd::forced;
pub(crate) use skip::skip_container;

/// Bytes per block: one bit each in a `u64`.
const BLOCK: usize = 64;

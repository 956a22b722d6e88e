//! The sse tests, one binary: each module was a test file of its own.

#[path = "../support/mod.rs"]
mod support;

mod chunking;
mod chunks;
#[cfg(feature = "emulator")]
mod emulator;
mod sse;

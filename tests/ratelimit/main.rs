//! The ratelimit tests, one binary: each module was a test file of its own.

#[cfg(feature = "emulator")]
mod batch;
#[cfg(feature = "emulator")]
mod ratelimit;

//! The project tests, one binary: each module was a test file of its own.

mod architecture;
#[cfg(all(
    feature = "emulator",
    feature = "sign",
    feature = "retry",
    feature = "sse",
    feature = "ratelimit"
))]
mod contract;
mod readme;

//! The stack tests, one binary: each module was a test file of its own.

mod cancellation;
#[cfg(all(feature = "emulator", feature = "reqwest"))]
mod reqwest;

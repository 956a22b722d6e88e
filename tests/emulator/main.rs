//! The emulator tests, one binary: each module was a test file of its own.

#[path = "../support/sdk.rs"]
mod sdk;

#[cfg(feature = "emulator")]
mod cli;
#[cfg(feature = "emulator")]
mod conformance;
#[cfg(feature = "emulator")]
mod emulator;
#[cfg(feature = "emulator")]
mod log;
#[cfg(feature = "emulator")]
mod node;

//! The credentials tests, one binary: each module was a test file of its own.

#[path = "../support/sdk.rs"]
mod sdk;

#[cfg(feature = "emulator")]
mod chain;
#[cfg(feature = "emulator")]
mod credentials;
#[cfg(feature = "emulator")]
mod python;

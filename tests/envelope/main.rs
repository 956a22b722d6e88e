//! The envelope tests, one binary: each module was a test file of its own.

#[path = "../support/mod.rs"]
mod support;

mod attempt_timeout;
mod error_codes;
mod error_display;
mod layer;
mod typed;
mod typed_error;

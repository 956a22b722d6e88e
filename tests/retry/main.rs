//! The retry tests, one binary: each module was a test file of its own.

#[path = "../support/mod.rs"]
mod support;

mod after;
mod retry;

//! The project tests, one binary: each module was a test file of its own.

mod architecture;
mod readme;

//! Shared pieces of the fuzz targets in `fuzz_targets/`: an independent
//! envelope decoder built on serde_json, the crate's own rewriting of
//! misspelt payload scalars that it is judged on, a response body cut into
//! chunks where the fuzzer says, and a poll for futures that must be ready
//! at once.

#![forbid(unsafe_code)]

mod chunked_body;
// The very file the crate's differential tests use (there `#[cfg(test)]`),
// so that the fuzz reference and the unit-test oracle allow the same one
// divergence: std, serde and serde_json only.
#[path = "../../src/envelope/payload_scalars.rs"]
mod payload_scalars;
mod serde_envelope;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub use chunked_body::ChunkedBody;
pub use payload_scalars::neutralize_payload_scalars;
pub use serde_envelope::{Refusal, SerdeVerdict, decode_with_serde};

/// Polls `future` once and returns its output.
///
/// The targets drive the layers over in-process services whose futures and
/// bodies are always ready, so a `Pending` here is a bug: a layer waiting
/// on nothing would hang a real client.
pub fn ready_now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("pending although everything below it is ready"),
    }
}

//! Shared pieces of the fuzz targets in `fuzz_targets/`: the crate's own
//! reference decoder built on serde_json, the crate's own rewriting of
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
// The reference decoder of the crate's differential tests, the same file:
// it reads the crate's items as `super::` and `crate::error::`.
#[path = "../../src/envelope/oracle.rs"]
mod oracle;
mod error {
    pub(crate) use tower_tencentcloud::{DecodeError, DecodeErrorKind};
}

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub use chunked_body::ChunkedBody;
pub use payload_scalars::neutralize_payload_scalars;
use tower_tencentcloud::envelope::{Decoded, ErrorFields};

/// A verdict on a body: its RequestId, and the `Response.Error` fields
/// (`None` on success) or why it is not an envelope.
pub type Verdict = (
    Option<String>,
    Result<Option<(String, String)>, tower_tencentcloud::DecodeErrorKind>,
);

/// serde_json's verdict on `body` under the envelope rules: the crate's
/// reference decoder.
pub fn reference_verdict(body: &[u8]) -> Verdict {
    oracle::decode_with_serde(body)
}

/// The crate's decoder's verdict on `body`.
pub fn scanner_verdict(body: &[u8]) -> Verdict {
    oracle::verdict_of(tower_tencentcloud::envelope::decode(body))
}

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

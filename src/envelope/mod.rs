//! The envelope middleware and its decoder.
//!
//! [`EnvelopeLayer`] makes [`Envelope`] services, whose [`ResponseFuture`]
//! resolves to a response with an [`EnvelopeBody`], in the anatomy of a
//! tower-http middleware. It reads each response body and turns
//! `Response.Error` into [`Error::Api`](crate::Error::Api).
//!
//! [`TypedEnvelopeLayer<T>`] is the same middleware for a caller that wants
//! `Response`'s fields as its own `T`: the verdict and `T` come from one
//! pass over the body.
//!
//! The decoder beneath it, [`decode`], is pure: bytes in, outcome out, no
//! I/O, no tower. `block` is its SIMD scanner for payload containers, the
//! crate's only `unsafe` code.
//!
//! ```
//! use tower_tencentcloud::envelope::decode;
//!
//! let body = br#"{"Response":{"Error":{"Code":"InvalidAction","Message":"No such action."},"RequestId":"r-1"}}"#;
//! let envelope = decode(body).unwrap();
//! let error = envelope.error().unwrap();
//! assert_eq!(error.code(), "InvalidAction");
//! assert_eq!(envelope.request_id(), Some("r-1"));
//! ```

mod block;
mod body;
mod buffer;
mod collect;
mod decode;
mod fields;
mod future;
#[allow(clippy::module_inception)]
mod layer;
#[cfg(test)]
mod oracle;
pub(crate) mod pass_through;
#[cfg(test)]
// Public in the fuzz crate, which includes the file by `#[path]`.
#[allow(unreachable_pub)]
mod payload_scalars;
mod scan;
mod service;
mod typed;

pub use body::EnvelopeBody;
pub use future::ResponseFuture;
pub use layer::{DEFAULT_MAX_BODY_SIZE, EnvelopeLayer};
pub use service::Envelope;
pub use typed::{
    TypedBody, TypedEnvelope, TypedEnvelopeLayer, TypedResponseFuture, decode_response,
};

pub(crate) use decode::decode_owned;
pub use decode::{Decoded, ErrorFields, decode};
pub use fields::from_slice;

//! Tower middleware for Tencent Cloud API 3.0.
mod code;
pub mod envelope;
mod error;
pub mod layer;
mod request_id;
pub mod retry;

pub use code::{Category, Code, RetryClass};
pub use error::{
    ApiError, BODY_PREFIX_LEN, BodyError, BodyTooLarge, BoxError, DecodeError, DecodeErrorKind,
    Error, NotEnvelope, TransportError,
};
pub use layer::{Envelope, EnvelopeBody, EnvelopeLayer};
pub use request_id::{REQUEST_ID_HEADER, RequestId};

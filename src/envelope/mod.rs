//! Pure decoding of API 3.0 envelopes: bytes in, outcome out. No I/O, no tower.
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
mod decode;
mod fields;
#[cfg(test)]
mod oracle;
#[cfg(test)]
mod payload_scalars;
mod scan;

pub(crate) use decode::decode_owned;
pub use decode::{Decoded, ErrorFields, decode};
pub use fields::from_slice;

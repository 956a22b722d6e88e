//! The envelope middleware: reads each response body and turns
//! `Response.Error` into [`Error::Api`](crate::Error::Api).
//!
//! The anatomy of a tower-http middleware: [`EnvelopeLayer`] makes
//! [`Envelope`] services, whose [`ResponseFuture`] resolves to a response
//! with an [`EnvelopeBody`].

mod body;
mod buffer;
mod future;
#[allow(clippy::module_inception)]
mod layer;
pub(crate) mod media_type;
mod service;

pub use body::EnvelopeBody;
pub use future::ResponseFuture;
pub use layer::{DEFAULT_MAX_BODY_SIZE, EnvelopeLayer};
pub use service::Envelope;

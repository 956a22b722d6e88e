//! The typed envelope middleware: the envelope's verdict and the caller's
//! type from one pass over the body.
//!
//! [`TypedEnvelopeLayer<T>`] makes [`TypedEnvelope`] services, whose
//! [`TypedResponseFuture`] resolves to a response with a [`TypedBody<T, _>`]:
//! `Response`'s fields deserialized into `T`. The verdict is the untyped
//! [`Envelope`](crate::Envelope)'s on every response; a success whose
//! fields do not fit `T` is [`Error::Deserialize`](crate::Error::Deserialize).
//!
//! serde_json reads the body once, as a `str` after one UTF-8 check of the
//! whole body: visitors of the crate read the envelope's own members, and
//! a `MapAccess` over `Response` hands every member but `Error` and
//! `RequestId` to `T`, which reads its payload from serde_json directly. An
//! `Error` before `T`'s first member (where Tencent Cloud puts it) decides
//! without running `T`. Where that pass cannot decide as the untyped decoder
//! would (not an envelope, or serde_json stopped inside `T`), the untyped
//! decoder reads the body again and decides: only failures pay twice.
//!
//! Depth: `T` is read by serde_json, which refuses more than 128 levels of
//! nesting (the document and `Response` count as two). A success envelope
//! nested deeper inside `T`'s members is `Error::Deserialize`, where the
//! untyped layer accepts any depth; members `T` ignores are skipped
//! without a limit.
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use serde::Deserialize;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_tencentcloud::{EnvelopeLayer, RequestId};
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "PascalCase")]
//! struct DescribeZones {
//!     total_count: u32,
//!     zone_set: Vec<Zone>,
//! }
//!
//! #[derive(Deserialize)]
//! #[serde(rename_all = "PascalCase")]
//! struct Zone {
//!     zone: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let transport = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
//!     let body = r#"{"Response":{"TotalCount":1,"ZoneSet":[{"Zone":"ap-guangzhou-3"}],"RequestId":"r-1"}}"#;
//!     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from(body))))
//! });
//! let client = ServiceBuilder::new()
//!     .layer(EnvelopeLayer::new().typed::<DescribeZones>())
//!     .service(transport);
//!
//! let response = client.oneshot(http::Request::new(Full::default())).await.unwrap();
//! assert_eq!(response.extensions().get::<RequestId>().unwrap(), "r-1");
//! let zones = response.into_body().into_value().unwrap();
//! assert_eq!(zones.total_count, 1);
//! assert_eq!(zones.zone_set[0].zone, "ap-guangzhou-3");
//! # }
//! ```

mod body;
mod decide;
mod future;
mod layer;
mod members;
#[cfg(test)]
mod oracle;
mod pass;
mod service;

pub use body::TypedBody;
pub use decide::decode_response;
pub use future::TypedResponseFuture;
pub use layer::TypedEnvelopeLayer;
pub use service::TypedEnvelope;

//! Streaming actions: server-sent events checked for errors as they pass.
//!
//! Streaming actions (Hunyuan's `ChatCompletions` with `Stream: true`, and
//! others) answer `text/event-stream`, with the RequestId only in the
//! `X-TC-RequestId` header. A failure after the stream began arrives as the
//! data of an event, which the official SDKs hand over as if it were one
//! more chunk of the answer. [`SseLayer`] frames the stream as it passes
//! and ends the body with [`Error::Api`](crate::Error::Api) at the first
//! event whose data (a JSON object) reports an error in one of two shapes:
//!
//! | shape | `code()` | `message()` | `request_id()` |
//! |---|---|---|---|
//! | `{"ErrorMsg": {"Code": 4000, "Msg": "..."}, ...}` (Hunyuan) | the code as text, `"4000"` (a string code is taken as it is) | `Msg` | the `X-TC-RequestId` header |
//! | `{"Response": {"Error": {"Code": "...", "Message": "..."}, "RequestId": "..."}}` | `Code` | `Message` | `RequestId`, else the header |
//!
//! `"ErrorMsg": null`, a `Code` of `0` or `""`, or none at all, report
//! nothing; keys nested deeper than the top level, a top-level `Error`,
//! data that is not JSON (`[DONE]`), or fields of other types, are ordinary
//! events. The error keeps the response's HTTP status and headers.
//!
//! The body ([`SseBody`]) yields the bytes of the events before the failing
//! one exactly as they came, as slices of the chunks that carried them:
//! events are not copied, only held back until their blank line arrives, so
//! that the bytes of a failing event never reach the caller. Any other
//! response passes through untouched. [`Events`] reads events
//! ([`Event`]: type, data, last event ID, retry time, and
//! [`Event::json`]) rather than bytes.
//!
//! The framing follows the WHATWG HTML standard's event stream parsing:
//! CRLF, LF and CR line ends (also a CR and an LF that chunks split), a
//! leading UTF-8 BOM, comments, multi-line data, the `event`, `data`, `id`
//! and `retry` fields, a field without a colon. An event (or a line outside
//! one) longer than [`SseLayer::max_event_size`] ends the body with
//! [`EventTooLarge`] inside [`Error::Layer`](crate::Error::Layer). A server that
//! closes the stream right after an error event without its final blank
//! line still gets its error reported.
//!
//! # Example
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::{BodyExt, Full};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::sse::SseLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // A transport that answers as Hunyuan does when the model fails midway.
//! let transport = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
//!     let events = "data: {\"Choices\":[{\"Delta\":{\"Content\":\"Hi\"}}]}\n\n\
//!                   data: {\"Choices\":[],\"ErrorMsg\":{\"Code\":4000,\"Msg\":\"internal error\"}}\n\n";
//!     let response = http::Response::builder()
//!         .header("content-type", "text/event-stream")
//!         .header("x-tc-requestid", "6f0c5d7e")
//!         .body(Full::new(Bytes::from(events)))
//!         .unwrap();
//!     Ok::<_, std::convert::Infallible>(response)
//! });
//! let client = ServiceBuilder::new()
//!     .layer(SseLayer::new())
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//!
//! let response = client.oneshot(http::Request::new(Full::default())).await.unwrap();
//! let mut body = response.into_body();
//! let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
//! assert_eq!(first, "data: {\"Choices\":[{\"Delta\":{\"Content\":\"Hi\"}}]}\n\n");
//! let err = body.frame().await.unwrap().unwrap_err();
//! assert_eq!(err.code().unwrap(), "4000");
//! assert_eq!(err.as_api().unwrap().message(), "internal error");
//! assert_eq!(err.request_id().unwrap(), "6f0c5d7e");
//! assert!(body.frame().await.is_none());
//! # }
//! ```

mod body;
mod error;
mod event;
mod events;
mod failure;
mod future;
mod layer;
mod parser;
mod service;

pub use body::SseBody;
pub use error::EventTooLarge;
pub use event::Event;
pub use events::Events;
pub use future::ResponseFuture;
pub use layer::{DEFAULT_MAX_EVENT_SIZE, SseLayer};
pub use service::Sse;

//! Typed errors back from the middleware that boxes them.
//!
//! tower's `Timeout`, `Buffer`, `ConcurrencyLimit` and the like fail with a
//! [`BoxError`](crate::BoxError), where the layers above the envelope layer
//! ([`RetryPolicy`](crate::retry::RetryPolicy), the sign layer) read a typed
//! [`Error`](crate::Error). [`TypedErrorLayer`] sits on top of such
//! middleware and makes each error typed again with
//! [`Error::from_boxed`](crate::Error::from_boxed): a boxed `Error` comes
//! back as it was, anything else (a timeout's `Elapsed`) becomes
//! [`Error::Transport`](crate::Error::Transport), a transient failure.
//!
//! Its future is a named type, so the stack stays `Send` for
//! `tokio::spawn`, which `.map_err(Error::from)` does not:
//!
//! ```
//! use std::time::Duration;
//!
//! use tower::retry::RetryLayer;
//! use tower::timeout::TimeoutLayer;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::retry::RetryPolicy;
//! use tower_tencentcloud::typed_error::TypedErrorLayer;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! # let transport = tower::service_fn(|_: http::Request<String>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(
//! #         r#"{"Response":{"RequestId":"r"}}"#.to_owned(),
//! #     ))
//! # });
//!
//! let client = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .layer(TypedErrorLayer::new())
//!     .layer(TimeoutLayer::new(Duration::from_secs(10))) // each attempt, its body included
//!     .layer(EnvelopeLayer::new())
//!     .service(transport);
//!
//! let request = http::Request::new(String::from("{}"));
//! let response = tokio::spawn(client.oneshot(request)).await.unwrap().unwrap();
//! # let _ = response;
//! # }
//! ```

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::TypedErrorLayer;
pub use service::TypedError;

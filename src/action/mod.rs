//! The vocabulary of an API call, shared by every layer: the `X-TC-*`
//! header names, [`ActionRequest`], the [`ServiceName`] extension, what an
//! action's name says about it, which media types are streams, and the
//! `Deadline` extension that the retry policy and the rate limiter honour.
//!
//! ```
//! use tower_tencentcloud::action::{ActionRequest, header, is_read_only_action};
//!
//! let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones").build()?;
//! let action = header::action(request.headers()).unwrap();
//! assert!(is_read_only_action(action));
//! # Ok::<_, tower_tencentcloud::action::ActionRequestError>(())
//! ```

#[cfg(any(feature = "retry", feature = "ratelimit"))]
mod deadline;
pub mod header;
pub(crate) mod media_type;
mod query;
mod read_only;
mod request;
mod service_name;

#[cfg(any(feature = "retry", feature = "ratelimit"))]
pub use deadline::Deadline;
pub use read_only::is_read_only_action;
pub use request::{ActionRequest, ActionRequestError, ActionRequestErrorKind, DEFAULT_ROOT_DOMAIN};
pub use service_name::ServiceName;

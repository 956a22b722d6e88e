//! [`Idempotent`]: the caller's word that a request may run twice.

/// Marks a request as safe to send more than once.
///
/// Insert it into the request's extensions when replaying the request
/// cannot do harm twice, for instance a write carrying a `ClientToken`.
/// [`RetryPolicy`](crate::retry::RetryPolicy) then retries it after
/// transient failures (`InternalError`, a lost connection...), and
/// [`FailoverLayer`](crate::failover::FailoverLayer) sends it to the next
/// endpoint after a host failure, which both otherwise do only for
/// read-only actions. Also exported as `retry::Idempotent`.
///
/// ```
/// use tower_tencentcloud::action::Idempotent;
///
/// let request = http::Request::builder()
///     .header("X-TC-Action", "RunInstances")
///     .extension(Idempotent)
///     .body(r#"{"ClientToken":"6c3d1f52-create-web-01"}"#.to_owned())
///     .unwrap();
/// assert!(request.extensions().get::<Idempotent>().is_some());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Idempotent;

//! The attempt count reported on the final response.

/// How many attempts a call took, the first one included.
///
/// [`RetryPolicy`](super::RetryPolicy) inserts it into the extensions of the
/// response it returns, next to the [`RequestId`](crate::RequestId) of the
/// attempt that succeeded. An error it returns carries the count, with the
/// reason it stopped, in [`Error::retry_stopped`](crate::Error::retry_stopped).
///
/// ```
/// use tower_tencentcloud::retry::Attempts;
///
/// # let response = http::Response::new(());
/// match response.extensions().get::<Attempts>() {
///     Some(attempts) if attempts.get() > 1 => println!("took {} attempts", attempts.get()),
///     _ => {}
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Attempts(u32);

impl Attempts {
    pub(crate) fn new(attempts: u32) -> Self {
        Self(attempts)
    }

    /// The number of attempts, at least 1.
    pub fn get(self) -> u32 {
        self.0
    }
}
